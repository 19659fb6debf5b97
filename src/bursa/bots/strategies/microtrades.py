"""``microtrades``: small trades inside the target's spread, so its candles keep moving.

Each tick picks, at random, a side, a price on the market's tick **strictly** between the
best bid and the best ask, and an amount between ``min_amount`` and ``max_amount`` (on the
market's lot, at least its minimum), and returns a plan of two orders — and the cancels of
whatever this strategy still has open (a maker that was not taken):

1. the **maker** on the target market, from the target account. Nothing rests at that
   price, so it does not trade on placing;
2. its **taker** from ``counterparty_account`` (another of the operator's accounts) on the
   same market, venue ``"counterparty/market_id"``: the opposite side, same price and
   amount, immediate-or-cancel and ``needs_previous`` — it goes out only if the maker was
   placed, and rests nothing if someone else took the maker first.

``venues()`` names the counterparty's venue (besides any sources), so the runner lets the
taker through.

The spread is the book's without this strategy's own orders (they are being cancelled).
Nothing is done when the book lacks a side, is crossed or locked, or its spread is one tick
(no price strictly inside), or when no amount fits. Randomness comes from a
``random.Random`` seeded by ``seed`` (or handed in), so a test — or a replay — is
deterministic; it is for variety, not security.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from bursa.bots.strategy import (
    BookSide,
    Market,
    NewOrder,
    OpenOrder,
    Plan,
    Positive,
    Side,
    Strategy,
    View,
)
from bursa.plain_input import PlainInt

if TYPE_CHECKING:
    from bursa.bots.config import StrategyConfig


class MicrotradesParams(BaseModel):
    """``params:`` of a ``microtrades`` strategy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_amount: Positive  # base
    max_amount: Positive  # base
    counterparty_account: Annotated[
        str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    ]
    seed: PlainInt | None = None

    @model_validator(mode="after")
    def _ordered(self) -> MicrotradesParams:
        if self.min_amount > self.max_amount:
            raise ValueError("min_amount is above max_amount")
        return self


def _steps(value: Decimal, precision: int, rounding: str) -> int:
    """``value`` in whole units of ``10^-precision``, rounded as asked."""
    return int(value.scaleb(precision).to_integral_value(rounding=rounding))


def pick_order(
    params: MicrotradesParams, market: Market, bid: Decimal, ask: Decimal, rng: random.Random
) -> NewOrder | None:
    """A random maker order strictly inside ``(bid, ask)``, or None when none fits."""
    low = _steps(bid, market.price_precision, ROUND_FLOOR) + 1  # first tick above the bid
    high = _steps(ask, market.price_precision, ROUND_CEILING) - 1  # last tick below the ask
    smallest = max(params.min_amount, market.min_amount)
    fewest = max(_steps(smallest, market.amount_precision, ROUND_CEILING), 1)
    most = _steps(params.max_amount, market.amount_precision, ROUND_FLOOR)
    if low > high or fewest > most:
        return None
    price = Decimal(rng.randint(low, high)).scaleb(-market.price_precision)
    amount = Decimal(rng.randint(fewest, most)).scaleb(-market.amount_precision)
    side: Side = rng.choice(("buy", "sell"))
    return NewOrder(side, price, amount)


def best_of_others(levels: BookSide, own: Iterable[OpenOrder], side: Side) -> Decimal | None:
    """The best price of ``levels`` once this strategy's own orders (about to be cancelled)
    are taken out of it."""
    mine: dict[Decimal, Decimal] = {}
    for order in own:
        if order.side == side:
            mine[order.price] = mine.get(order.price, Decimal(0)) + order.remaining
    for level in levels.levels:
        if level.amount > mine.get(level.price, Decimal(0)):
            return level.price
    return None


class Microtrades(Strategy[MicrotradesParams]):
    """One random maker order per tick inside the spread, and the counterparty's taker (see
    the module's doc)."""

    Params = MicrotradesParams

    def __init__(
        self,
        config: StrategyConfig,
        params: MicrotradesParams,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(config, params)
        if params.counterparty_account == config.target.account_id:
            raise ValueError("counterparty_account must be another account than the target's")
        self.rng = rng if rng is not None else random.Random(params.seed)  # noqa: S311

    @property
    def counterparty_account(self) -> str:
        """The account the takers are placed from."""
        return self.params.counterparty_account

    @property
    def counterparty_venue(self) -> str:
        """The takers' venue: the target market on the counterparty's account."""
        return f"{self.params.counterparty_account}/{self.config.target.market_id}"

    def venues(self) -> tuple[str, ...]:
        return (self.counterparty_venue,)

    def taker_for(self, order: NewOrder) -> NewOrder:
        """The counterparty's order that takes ``order``: opposite side, same price and
        amount, IOC, and only if ``order`` was placed."""
        side: Side = "sell" if order.side == "buy" else "buy"
        return NewOrder(
            side, order.price, order.amount, self.counterparty_venue, ioc=True, needs_previous=True
        )

    async def tick(self, view: View) -> Plan:
        cancel = tuple(order.id for order in view.open_orders)
        bid = best_of_others(view.book.bids, view.open_orders, "buy")
        ask = best_of_others(view.book.asks, view.open_orders, "sell")
        if bid is None or ask is None or bid >= ask:
            return Plan(cancel=cancel)
        order = pick_order(self.params, view.market, bid, ask, self.rng)
        if order is None:
            return Plan(cancel=cancel)
        return Plan(place=(order, self.taker_for(order)), cancel=cancel)
