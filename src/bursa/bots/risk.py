"""Risk limits the runner holds every strategy's plan to, whatever the strategy asked.

Pure functions of the plan and what the exchange said this tick, so a limit cannot be
fooled by a strategy's memory and can be tested without an exchange:

- ``max_order_amount``: each new order is clipped to it (down to the market's lot; an
  order left below the market's minimum is dropped); a resting order equal to a clipped
  one is kept rather than replaced, so a clip does not churn orders every tick. Orders on
  another venue (a hedge, a taker, an arbitrage leg) are clipped too, to their venue
  market's lot and minimum;
- ``max_position``: a new order on the target is refused if, filled along with every
  resting order of the same side, it would take the base balance more than this far from
  where the strategy started (buys upwards, sells downwards);
- ``max_open_orders``: resting orders kept plus new resting ones on the target stay within
  it (an immediate-or-cancel order rests nothing); the new orders farthest from the
  reference price (the book's mid, else the middle of the orders) go;
- an order that ``needs_previous`` goes when the order before it went (a taker never
  leaves without its maker);
- ``daily_loss_limit`` is watched by the runner (see ``day_pnl``).

``Ledger`` keeps a strategy's realised profit and position from its fills.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from bursa.bots.config import Risk
from bursa.bots.strategy import Book, Market, NewOrder, OpenOrder, Plan, Side, round_amount


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
    venues: Mapping[str, Market] | None = None,
) -> Checked:
    """``plan`` within ``risk`` (``position``: base balance now minus at the start;
    ``venues``: the rules of the markets of orders with a ``venue``). Orders keep their
    order in the plan; an order for a venue not in ``venues`` is left for the runner to
    refuse."""
    notes: list[str] = []
    cancelled = set(plan.cancel)
    kept = [o for o in open_orders if o.id not in cancelled]
    cancels = list(plan.cancel)
    slots: list[NewOrder | None] = list(plan.place)  # None: dropped
    on_target = [i for i, o in enumerate(plan.place) if o.venue is None]

    if risk.max_order_amount is not None:
        for index, order in enumerate(plan.place):
            rules = market if order.venue is None else (venues or {}).get(order.venue)
            if rules is not None:
                slots[index] = _clipped(order, risk.max_order_amount, rules, notes)
        # A resting order equal to a clipped one stays (no churn from the clip).
        for resting in open_orders:
            if resting.id not in cancelled:
                continue
            same = NewOrder(resting.side, resting.price, resting.remaining)
            for index in on_target:
                if slots[index] == same:
                    slots[index] = None
                    cancels.remove(resting.id)
                    kept.append(resting)
                    break
    if risk.max_position is not None:
        _within_position(slots, on_target, kept, position, risk.max_position, notes)
    if risk.max_open_orders is not None:
        _within_open_orders(slots, on_target, kept, book, risk.max_open_orders, notes)
    for index in range(1, len(slots)):
        follower = slots[index]
        if follower is not None and follower.needs_previous and slots[index - 1] is None:
            notes.append(f"needs_previous: dropped {_describe(follower)} (the order before went)")
            slots[index] = None
    return Checked(
        Plan(place=tuple(o for o in slots if o is not None), cancel=tuple(cancels)), tuple(notes)
    )


def _clipped(order: NewOrder, most: Decimal, rules: Market, notes: list[str]) -> NewOrder | None:
    if order.amount <= most:
        return order
    amount = round_amount(most, rules.amount_precision)
    if amount <= 0 or amount < rules.min_amount:
        notes.append(f"max_order_amount: dropped {_describe(order)} (clip below minimum)")
        return None
    notes.append(f"max_order_amount: clipped {_describe(order)} to {amount}")
    return replace(order, amount=amount)


def _within_position(
    slots: list[NewOrder | None],
    on_target: Sequence[int],
    kept: Sequence[OpenOrder],
    position: Decimal,
    most: Decimal,
    notes: list[str],
) -> None:
    """Drop the target's orders whose fill, with every resting order of their side, would
    take |position| beyond ``most``."""
    exposure = {
        "buy": position + sum((o.remaining for o in kept if o.side == "buy"), Decimal(0)),
        "sell": position - sum((o.remaining for o in kept if o.side == "sell"), Decimal(0)),
    }
    for index in on_target:
        order = slots[index]
        if order is None:
            continue
        after = exposure[order.side] + (order.amount if order.side == "buy" else -order.amount)
        if abs(after) > most and abs(after) > abs(exposure[order.side]):
            notes.append(f"max_position: refused {_describe(order)} (would reach {after})")
            slots[index] = None
            continue
        exposure[order.side] = after


def _within_open_orders(
    slots: list[NewOrder | None],
    on_target: Sequence[int],
    kept: Sequence[OpenOrder],
    book: Book,
    most: int,
    notes: list[str],
) -> None:
    """Keep the new resting orders nearest the reference price that fit beside ``kept``."""
    resting = [i for i in on_target if (order := slots[i]) is not None and not order.ioc]
    room = max(0, most - len(kept))
    if len(resting) <= room:
        return
    wanted = [order for i in resting if (order := slots[i]) is not None]
    middle = reference_price(book, [*kept, *wanted])
    ranked = sorted(
        range(len(resting)),
        key=lambda n: abs(wanted[n].price - middle) if middle is not None else n,
    )
    for n in ranked[room:]:
        notes.append(f"max_open_orders: dropped {_describe(wanted[n])}")
        slots[resting[n]] = None


def day_pnl(
    start_base: Decimal, start_quote: Decimal, base: Decimal, quote: Decimal, mid: Decimal
) -> Decimal:
    """The day's profit or loss on the target market: the change of the account's base and
    quote totals (available + locked) since the day's first tick, the base valued at the
    current mid. Fills and fees both show in it; deposits or other bots on the account
    would too (hence one strategy per account and market)."""
    return (quote - start_quote) + (base - start_base) * mid


@dataclass
class Ledger:
    """A position on one market built from fills, by the average-cost method: a fill that
    adds to the position (or opens one) moves its average price; a fill against it realises
    ``closed amount × (fill price − average price)`` (the sign flipped for a short), and a
    fill that goes through zero opens the rest at its own price. Fees are not counted (a
    trade row does not carry them); ``realised`` is in the market's quote currency."""

    position: Decimal = Decimal(0)  # base: bought minus sold
    average: Decimal = Decimal(0)  # quote per base, of the open position
    realised: Decimal = Decimal(0)

    def add(self, side: Side, price: Decimal, amount: Decimal) -> None:
        signed = amount if side == "buy" else -amount
        held = abs(self.position)
        if self.position == 0 or (self.position > 0) == (signed > 0):
            self.average = (held * self.average + amount * price) / (held + amount)
            self.position += signed
            return
        closed = min(amount, held)
        direction = 1 if self.position > 0 else -1
        self.realised += closed * (price - self.average) * direction
        self.position += signed
        if self.position == 0:
            self.average = Decimal(0)
        elif (self.position > 0) != (direction > 0):  # went through zero
            self.average = price


def _describe(order: NewOrder) -> str:
    where = f" on {order.venue}" if order.venue is not None else ""
    return f"{order.side} {order.amount} @ {order.price}{where}"
