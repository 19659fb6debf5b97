"""``microtrades``: small trades inside the target's spread, so its candles keep moving.

Each tick picks, at random, a side, a price on the market's tick **strictly** between the
best bid and the best ask, and an amount between ``min_amount`` and ``max_amount`` (on the
market's lot, at least its minimum), and returns a plan placing that one maker order from
the target account — and cancelling whatever this strategy still has open (a previous one
that was not taken). Nothing rests at that price, so the order does not trade on placing.

**The runner completes the trade:** after placing the plan's order it places
``Microtrades.taker_for(order)`` (the opposite side, same price and amount) from
``counterparty_account``, another of the operator's accounts, which takes it. ``NewOrder``
has no account field, so the pairing lives in the runner, not in the plan.

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
    """One random maker order per tick inside the spread (see the module's doc)."""

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
        """The account the runner places ``taker_for`` each placed order from."""
        return self.params.counterparty_account

    @staticmethod
    def taker_for(order: NewOrder) -> NewOrder:
        """The counterparty's order that takes ``order``: opposite side, same price and
        amount."""
        return NewOrder("sell" if order.side == "buy" else "buy", order.price, order.amount)

    async def tick(self, view: View) -> Plan:
        cancel = tuple(order.id for order in view.open_orders)
        bid = best_of_others(view.book.bids, view.open_orders, "buy")
        ask = best_of_others(view.book.asks, view.open_orders, "sell")
        if bid is None or ask is None or bid >= ask:
            return Plan(cancel=cancel)
        order = pick_order(self.params, view.market, bid, ask, self.rng)
        return Plan(place=(order,) if order is not None else (), cancel=cancel)
