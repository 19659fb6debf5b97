"""``fixed``: a ladder of orders around a fixed price (Arke's ``fixedprice``).

It keeps ``levels`` orders of ``amount`` on each side asked for. The best ask sits at
``price × (1 + spread/2)`` and the best bid at ``price × (1 − spread/2)`` (``spread`` is the
whole gap, as a fraction of ``price``); each further level is ``step × price`` farther out.
Prices are rounded away from ``price`` to the market's tick and amounts down to its lot, so
rounding never narrows the spread nor grows an order. Useful to give a new (or a test)
market a book that does not move.
"""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bursa.bots.strategy import (
    Market,
    NewOrder,
    NotNegative,
    Plan,
    Positive,
    Side,
    Strategy,
    View,
    reconcile,
    round_amount,
    round_price,
)
from bursa.plain_input import PlainInt

MAX_LEVELS = 50


class FixedParams(BaseModel):
    """``params:`` of a ``fixed`` strategy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    price: Positive
    spread: Positive  # the gap between best ask and best bid, a fraction of price
    amount: Positive  # of each order, in the base currency
    levels: Annotated[PlainInt, Field(ge=1, le=MAX_LEVELS)] = 1
    step: NotNegative = Decimal(0)  # between levels, a fraction of price
    side: Literal["asks", "bids", "both"] = "both"

    @model_validator(mode="after")
    def _ladder_fits(self) -> "FixedParams":
        if self.levels > 1 and self.step == 0:
            raise ValueError("step must be positive when there is more than one level")
        if self.spread / 2 + (self.levels - 1) * self.step >= 1:
            raise ValueError("spread/2 + (levels - 1) × step must stay below 1 (bids above 0)")
        return self


def desired_orders(params: FixedParams, market: Market) -> tuple[NewOrder, ...]:
    """The ladder ``params`` asks for on ``market``: asks first, each side best first.
    A level whose amount rounds to less than the market's minimum is left out."""
    amount = round_amount(params.amount, market.amount_precision)
    if amount <= 0 or amount < market.min_amount:
        return ()
    sides: list[tuple[Side, int]] = []
    if params.side in ("asks", "both"):
        sides.append(("sell", 1))
    if params.side in ("bids", "both"):
        sides.append(("buy", -1))
    orders: list[NewOrder] = []
    for side, sign in sides:
        for level in range(params.levels):
            offset = params.spread / 2 + level * params.step
            price = round_price(params.price * (1 + sign * offset), side, market.price_precision)
            if price > 0:
                orders.append(NewOrder(side, price, amount))
    return tuple(orders)


class Fixed(Strategy[FixedParams]):
    """Keeps the ladder of ``desired_orders`` on the target market."""

    Params = FixedParams

    async def tick(self, view: View) -> Plan:
        return reconcile(desired_orders(self.params, view.market), view.open_orders)
