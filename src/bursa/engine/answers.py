"""What the runner tells a command's caller beyond the result the command log keeps.

A result names its order by ``Order.view()`` (state, volumes, trades count). The caller
also gets, in that same dictionary, the rest of what the order table holds once the batch
commits: its terms (fees, time in force, post-only), its times, its market's precisions and,
when every trade of the order is in this batch, what it traded (``traded_volume`` in lots,
``traded_total`` in quote units) — all taken at the end of the batch, as the snapshot is.
The API answers placements and cancellations from these instead of reading the order back.

Only the first answer carries them: a repeated idempotency key answers the stored snapshot,
whose order has none of these keys (the caller then reads the order).
"""

from collections.abc import Mapping
from typing import Any

from bursa.engine.state import Book, Journal, Order, Result

Facts = dict[str, Any]


def order_facts(
    results: list[Result | None], journal: Journal, books: Mapping[str, Book]
) -> list[Facts | None]:
    """Per result, the facts of its order (None without one, or for None: a caller who
    did not ask); call before ``freeze``."""
    wanted: dict[int, Order] = {
        r.order.id: r.order for r in results if r is not None and r.order is not None
    }
    if not wanted:
        return [None] * len(results)
    traded: dict[int, list[int]] = {}  # order id -> [trades, volume, total] in this batch
    for trade in journal.trades:
        for order_id in (trade.maker_order_id, trade.taker_order_id):
            if order_id in wanted:
                sums = traded.setdefault(order_id, [0, 0, 0])
                sums[0] += 1
                sums[1] += trade.volume
                sums[2] += trade.total
    facts: dict[int, Facts] = {}
    for order_id, order in wanted.items():
        spec = books[order.market].spec
        found: Facts = {
            "time_in_force": order.time_in_force,
            "post_only": order.post_only,
            "maker_fee": order.maker_fee,
            "taker_fee": order.taker_fee,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "price_precision": spec.price_precision,
            "amount_precision": spec.amount_precision,
            "quote_precision": spec.quote.precision,
        }
        count, volume, total = traded.get(order_id, (0, 0, 0))
        if count == order.trades_count:  # all of them: the averages are the order's
            found |= {"traded_volume": volume, "traded_total": total}
        facts[order_id] = found
    return [facts[r.order.id] if r is not None and r.order is not None else None for r in results]


def answer(snapshot: dict[str, Any], facts: Facts | None) -> dict[str, Any]:
    """The committed snapshot for the caller, its order completed with ``facts``."""
    if facts is None or snapshot.get("order") is None:
        return snapshot
    return snapshot | {"order": snapshot["order"] | facts}
