"""Risk limits the runner holds every strategy's plan to, whatever the strategy asked.

Pure functions of the plan and what the exchange said this tick, so a limit cannot be
fooled by a strategy's memory and can be tested without an exchange:

- ``max_order_amount``: each new order is clipped to it (down to the market's lot; an
  order left below the market's minimum is dropped); a resting order equal to a clipped
  one is kept rather than replaced, so a clip does not churn orders every tick;
- ``max_position``: a new order is refused if, filled along with every resting order of
  the same side, it would take the base balance more than this far from where the
  strategy started (buys upwards, sells downwards);
- ``max_open_orders``: resting orders kept plus new ones stay within it; the new orders
  farthest from the reference price (the book's mid, else the middle of the orders) go;
- ``daily_loss_limit`` is watched by the runner (see ``day_pnl``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bursa.bots.config import Risk
from bursa.bots.strategy import Book, Market, NewOrder, OpenOrder, Plan, round_amount


@dataclass(frozen=True, slots=True)
class Checked:
    """The plan as it may be carried out, and a line for each order changed or refused."""

    plan: Plan
    notes: tuple[str, ...] = ()


def reference_price(book: Book, orders: Iterable[NewOrder | OpenOrder]) -> Decimal | None:
    """The book's mid; else the middle between the lowest sell and highest buy given; else
    the best price of the one side there is."""
    if book.asks.best is not None and book.bids.best is not None:
        return (book.asks.best + book.bids.best) / 2
    listed = list(orders)
    sells = [o.price for o in listed if o.side == "sell"]
    buys = [o.price for o in listed if o.side == "buy"]
    if sells and buys:
        return (min(sells) + max(buys)) / 2
    return min(sells) if sells else (max(buys) if buys else None)


def apply_limits(
    plan: Plan,
    risk: Risk,
    *,
    market: Market,
    book: Book,
    open_orders: Sequence[OpenOrder],
    position: Decimal,
) -> Checked:
    """``plan`` within ``risk`` (``position``: base balance now minus at the start)."""
    notes: list[str] = []
    cancelled = set(plan.cancel)
    kept = [o for o in open_orders if o.id not in cancelled]
    wanted = list(plan.place)

    cancels = list(plan.cancel)
    if risk.max_order_amount is not None:
        wanted = _clipped(wanted, risk.max_order_amount, market, notes)
        # A resting order equal to a clipped one stays (no churn from the clip).
        for resting in open_orders:
            same = NewOrder(resting.side, resting.price, resting.remaining)
            if resting.id in cancelled and same in wanted:
                wanted.remove(same)
                cancels.remove(resting.id)
                kept.append(resting)
    if risk.max_position is not None:
        wanted = _within_position(wanted, kept, position, risk.max_position, notes)
    if risk.max_open_orders is not None:
        room = max(0, risk.max_open_orders - len(kept))
        if len(wanted) > room:
            middle = reference_price(book, [*kept, *wanted])
            ranked = sorted(
                range(len(wanted)),
                key=lambda i: abs(wanted[i].price - middle) if middle is not None else i,
            )
            keep = set(ranked[:room])
            for index, order in enumerate(wanted):
                if index not in keep:
                    notes.append(f"max_open_orders: dropped {_describe(order)}")
            wanted = [order for index, order in enumerate(wanted) if index in keep]
    return Checked(Plan(place=tuple(wanted), cancel=tuple(cancels)), tuple(notes))


def _clipped(
    orders: list[NewOrder], most: Decimal, market: Market, notes: list[str]
) -> list[NewOrder]:
    result = []
    for order in orders:
        if order.amount <= most:
            result.append(order)
            continue
        amount = round_amount(most, market.amount_precision)
        if amount <= 0 or amount < market.min_amount:
            notes.append(f"max_order_amount: dropped {_describe(order)} (clip below minimum)")
            continue
        notes.append(f"max_order_amount: clipped {_describe(order)} to {amount}")
        result.append(NewOrder(order.side, order.price, amount))
    return result


def _within_position(
    orders: list[NewOrder],
    kept: Sequence[OpenOrder],
    position: Decimal,
    most: Decimal,
    notes: list[str],
) -> list[NewOrder]:
    """Orders whose fill, with every resting order of their side, keeps |position| ≤ most."""
    exposure = {
        "buy": position + sum((o.remaining for o in kept if o.side == "buy"), Decimal(0)),
        "sell": position - sum((o.remaining for o in kept if o.side == "sell"), Decimal(0)),
    }
    result = []
    for order in orders:
        after = exposure[order.side] + (order.amount if order.side == "buy" else -order.amount)
        if abs(after) > most and abs(after) > abs(exposure[order.side]):
            notes.append(f"max_position: refused {_describe(order)} (would reach {after})")
            continue
        exposure[order.side] = after
        result.append(order)
    return result


def day_pnl(
    start_base: Decimal, start_quote: Decimal, base: Decimal, quote: Decimal, mid: Decimal
) -> Decimal:
    """The day's profit or loss on the target market: the change of the account's base and
    quote totals (available + locked) since the day's first tick, the base valued at the
    current mid. Fills and fees both show in it; deposits or other bots on the account
    would too (hence one strategy per account and market)."""
    return (quote - start_quote) + (base - start_base) * mid


def _describe(order: NewOrder) -> str:
    return f"{order.side} {order.amount} @ {order.price}"
