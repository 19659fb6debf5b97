"""``copy``: the first source's book mirrored onto the target (Arke's orderback, no hedge).

The ``levels`` best levels of each side of the source book are copied: an ask at
``price × (1 + spread_asks)``, a bid at ``price × (1 − spread_bids)``, each of
``amount × ratio`` capped at ``max_amount_per_order``. Levels that land on the same target
price after rounding are merged into one order. Each side is capped in total, best level
first (the last one cut to what is left, the rest dropped):

- ``max_total_asks``: the asks' total amount, in **base** (what the asks sell);
- ``max_total_bids``: the bids' total cost ``Σ price × amount``, in **quote** (what the
  bids lock).

Crossing is prevented the simple way: no bid at or above the lowest ask this strategy
places (only a crossed or stale source book could cause one, since the spreads are not
negative; the asks are kept, the bids dropped). The target's other orders are not looked at.
Without a source book (or with an empty one) nothing is quoted and open orders are
cancelled.

**Not in this slice:** Arke's orderback also hedges — when an order here fills, it places
the opposite trade on the source. This strategy only quotes; a fill leaves the position open.

Prices are rounded outward (asks up, bids down) to the market's tick, amounts down to its
lot, and an order below the market's minimum is dropped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bursa.bots.strategies.fixed import MAX_LEVELS
from bursa.bots.strategies.market_making import source_key
from bursa.bots.strategy import (
    Book,
    BookSide,
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

if TYPE_CHECKING:
    from bursa.bots.config import StrategyConfig


class CopyParams(BaseModel):
    """``params:`` of a ``copy`` strategy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: Annotated[PlainInt, Field(ge=1, le=MAX_LEVELS)] = 5
    spread_asks: NotNegative = Decimal(0)  # fraction added to the source's ask prices
    spread_bids: Annotated[NotNegative, Field(lt=1)] = Decimal(0)  # taken off its bid prices
    ratio: Positive = Decimal(1)  # target amount per source amount
    max_amount_per_order: Positive | None = None  # base
    max_total_asks: Positive | None = None  # base
    max_total_bids: Positive | None = None  # quote
    side: Literal["asks", "bids", "both"] = "both"


def _side(params: CopyParams, market: Market, levels: BookSide, side: Side) -> list[NewOrder]:
    """One side's orders, best first, merged by price and within its total cap."""
    spread = params.spread_asks if side == "sell" else -params.spread_bids
    merged: dict[Decimal, Decimal] = {}  # price → amount, in best-first order
    for level in levels.levels[: params.levels]:
        price = round_price(level.price * (1 + spread), side, market.price_precision)
        amount = level.amount * params.ratio
        if params.max_amount_per_order is not None:
            amount = min(amount, params.max_amount_per_order)
        if price > 0 and amount > 0:
            merged[price] = merged.get(price, Decimal(0)) + amount
    cap = params.max_total_asks if side == "sell" else params.max_total_bids
    orders: list[NewOrder] = []
    for price, wanted in merged.items():
        amount = wanted
        if params.max_amount_per_order is not None:
            amount = min(amount, params.max_amount_per_order)
        room = None if cap is None else cap if side == "sell" else cap / price
        if room is not None and room < amount:
            amount = room
        amount = round_amount(amount, market.amount_precision)
        if amount <= 0 or amount < market.min_amount:
            if room is not None and room < wanted:
                break  # the cap is spent: farther levels would be cut to nothing too
            continue
        orders.append(NewOrder(side, price, amount))
        if cap is not None:
            cap -= amount if side == "sell" else amount * price
    return orders


def desired_orders(params: CopyParams, market: Market, source: Book) -> tuple[NewOrder, ...]:
    """The mirrored ladder: asks first, each side best first."""
    asks = _side(params, market, source.asks, "sell") if params.side != "bids" else []
    bids = _side(params, market, source.bids, "buy") if params.side != "asks" else []
    if asks:
        lowest_ask = min(order.price for order in asks)
        bids = [order for order in bids if order.price < lowest_ask]
    return tuple(asks + bids)


class Copy(Strategy[CopyParams]):
    """Keeps the source's mirrored book (``desired_orders``) on the target market."""

    Params = CopyParams

    def __init__(self, config: StrategyConfig, params: CopyParams) -> None:
        super().__init__(config, params)
        if not config.sources:
            raise ValueError("copy needs the book to copy in sources")

    async def tick(self, view: View) -> Plan:
        key = source_key(self)
        source = view.sources.get(key) if key is not None else None
        if source is None:
            return reconcile((), view.open_orders)
        return reconcile(desired_orders(self.params, view.market, source), view.open_orders)
