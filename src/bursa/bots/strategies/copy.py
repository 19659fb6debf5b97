"""``copy``: the first source's book mirrored onto the target (Arke's orderback), and the
target's fills hedged on the source when asked.

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

**Hedge** (``hedge: true``; off by default, and it needs a source account with keys: the
runner checks). When an order here fills, the same amount is traded back on the first
source: a buy filled on the target is sold there, a sell bought back. The hedge is one IOC
order per tick on the source venue for the net of the tick's target fills, at the
source's best opposite price moved by ``hedge_slippage`` (a fraction, default 0.01) — a
target buy of 0.3 with the source's best bid at 100 and 1 % slippage sells 0.3 at 99 or
better — rounded to the source's tick (never past that bound) and its amount down to the
source's lot. What does not make a lot, or is below the source's minimum, is the
**unhedged remainder**: kept in the strategy's memory (``Copy.unhedged``, signed base,
positive = to sell on the source) and added to the next hedge, so e.g. three fills of
0.00004 on a source with a 0.0001 lot make one hedge of 0.0001 and keep 0.00002. The
remainder also holds everything while the source has no opposite price or its rules are
unknown. A hedge counts as done once planned: the part an IOC does not fill (the price
ran past the slippage) is not retried, and the remainder lives only as long as the
process.

Prices are rounded outward (asks up, bids down) to the market's tick, amounts down to its
lot, and an order below the market's minimum is dropped.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

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

log = logging.getLogger(__name__)


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
    hedge: StrictBool = False  # trade the target's fills back on the first source
    hedge_slippage: Annotated[NotNegative, Field(lt=1)] = Decimal("0.01")  # of its best price


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


def hedge_order(
    unhedged: Decimal, slippage: Decimal, venue: str, rules: Market, source: Book
) -> NewOrder | None:
    """The IOC order on the source that trades back ``unhedged`` (signed base: positive is
    sold), or None when the source has no opposite price or no lot fits."""
    side: Side = "sell" if unhedged > 0 else "buy"
    best = source.bids.best if side == "sell" else source.asks.best
    if best is None:
        return None
    bound = best * (1 - slippage) if side == "sell" else best * (1 + slippage)
    price = round_price(bound, side, rules.price_precision)
    amount = round_amount(abs(unhedged), rules.amount_precision)
    if price <= 0 or amount <= 0 or amount < rules.min_amount:
        return None
    return NewOrder(side, price, amount, venue=venue, ioc=True)


class Copy(Strategy[CopyParams]):
    """Keeps the source's mirrored book (``desired_orders``) on the target market and, with
    ``hedge``, trades its fills back on the source (``hedge_order``)."""

    Params = CopyParams

    def __init__(self, config: StrategyConfig, params: CopyParams) -> None:
        super().__init__(config, params)
        if not config.sources:
            raise ValueError("copy needs the book to copy in sources")
        self.unhedged = Decimal(0)  # base still to trade back on the source (+: to sell)

    def venues(self) -> tuple[str, ...]:
        """The source, when it hedges there."""
        return (str(self.config.sources[0]),) if self.params.hedge else ()

    def _hedge(self, view: View) -> NewOrder | None:
        """This tick's hedge; what it leaves stays in ``unhedged``."""
        target = str(self.config.target)
        for fill in view.fills:
            if fill.venue == target:
                self.unhedged += fill.amount if fill.side == "buy" else -fill.amount
        if self.unhedged == 0:
            return None
        venue = str(self.config.sources[0])
        rules, source = view.venues.get(venue), view.sources.get(venue)
        if rules is None or source is None:
            log.warning(
                "%s: %s base unhedged: no book or rules of %s to hedge on",
                self.config.id,
                self.unhedged,
                venue,
            )
            return None
        order = hedge_order(self.unhedged, self.params.hedge_slippage, venue, rules, source)
        if order is None:
            log.debug(
                "%s: %s base unhedged, below a lot of %s", self.config.id, self.unhedged, venue
            )
            return None
        self.unhedged -= order.amount if order.side == "sell" else -order.amount
        log.info(
            "%s: hedge %s %s at %s or better on %s (%s left unhedged)",
            self.config.id,
            order.side,
            order.amount,
            order.price,
            venue,
            self.unhedged,
        )
        return order

    async def tick(self, view: View) -> Plan:
        hedge = self._hedge(view) if self.params.hedge else None
        key = source_key(self)
        source = view.sources.get(key) if key is not None else None
        mirrored = desired_orders(self.params, view.market, source) if source is not None else ()
        plan = reconcile(mirrored, view.open_orders)
        if hedge is None:
            return plan
        return Plan(place=(hedge, *plan.place), cancel=plan.cancel)
