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
OrderFacts = dict[int, Facts]  # by order id: every order a result names


def _orders_of(result: Result) -> list[Order]:
    """Every order a result names: its order, its orders, and its items' (a bulk's)."""
    found: list[Order] = []
    if result.order is not None:
        found.append(result.order)
    if result.orders is not None:
        found.extend(result.orders)
    if result.items is not None:
        for item in result.items:
            found.extend(_orders_of(item))
    return found


def order_facts(
    results: list[Result | None], journal: Journal, books: Mapping[str, Book]
) -> list[OrderFacts | None]:
    """Per result, the facts of the orders it names (None without any, or for None: a
    caller who did not ask); call before ``freeze``."""
    named = [_orders_of(r) if r is not None else [] for r in results]
    wanted: dict[int, Order] = {o.id: o for orders in named for o in orders}
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
    return [{o.id: facts[o.id] for o in orders} if orders else None for orders in named]


def _completed(order: dict[str, Any], facts: OrderFacts) -> dict[str, Any]:
    found = facts.get(order["id"])
    return order if found is None else order | found


def answer(snapshot: dict[str, Any], facts: OrderFacts | None) -> dict[str, Any]:
    """The committed snapshot for the caller, each of its orders completed with ``facts``."""
    if facts is None:
        return snapshot
    done = dict(snapshot)
    if snapshot.get("order") is not None:
        done["order"] = _completed(snapshot["order"], facts)
    if snapshot.get("orders") is not None:
        done["orders"] = [_completed(o, facts) for o in snapshot["orders"]]
    if snapshot.get("items") is not None:
        done["items"] = [answer(item, facts) for item in snapshot["items"]]
    return done
