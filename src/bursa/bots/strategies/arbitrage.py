"""``arbitrage``: buy where it is cheap and sell where it is dear, between the target market
and the first source (another market, on the same or another exchange or account), when the
gap pays both taker fees and a margin.

For each direction — buy at the best ask of one venue, sell at the best bid of the other —
with ``fee_buy``/``fee_sell`` the taker fees of the buying and selling venues
(``fee_target``, ``fee_source``), it trades only when::

    bid × (1 − fee_sell) − ask × (1 + fee_buy) > margin × ask

strictly. In numbers, with both fees 0.001 and a margin of 0.005: an ask of 100 and a bid
of 101 give 101 × 0.999 − 100 × 1.001 = 100.899 − 100.1 = 0.799 > 0.5: trade; a bid of
100.7 gives 100.5993 − 100.1 = 0.4993: no trade (about 100.701 is where it starts to pay).
If both directions pay (a crossed book), only the one that pays more for what it spends
goes.

The trade is two IOC legs in one plan: first the **buy** at the best ask (where it is
cheap), then the **sell** at the best bid (where it is dear), the sell ``needs_previous``
so it never goes out without the buy. IOC prices are the worst accepted: a leg takes the
best level or better and rests nothing. The amount is the least of

- the two best levels' amounts (the ask's and the bid's: nothing deeper is walked);
- ``max_amount`` (base, the cap of one trade);
- what the buying venue's **available** quote pays at ``ask × (1 + fee_buy)``;
- the selling venue's **available** base (a spot account sells only what it holds);

rounded down to the coarser of the two markets' lots, and refused below either market's
minimum. Balances are ``View.balances`` for the target and ``View.venue_balances`` for
the source, in each market's own currency codes (``View.venues``). A direction needs an
ask on its buying venue and a bid on its selling one, so a one-sided book trades at most
one way; without the source's book or rules nothing trades. One trade per tick;
the strategy rests nothing, so any open order of its own on the target is cancelled.

It is stateless: the sell goes out once the buy is placed, whatever the buy filled, so a
leg that fills partly or not at all (the book moved) leaves the venues' inventories apart
by the difference, which the next ticks' balances see (a sell never exceeds what is held).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from bursa.bots.strategy import (
    Balance,
    Book,
    Market,
    NewOrder,
    NotNegative,
    Plan,
    Positive,
    Strategy,
    View,
    round_amount,
)

if TYPE_CHECKING:
    from bursa.bots.config import StrategyConfig

Fee = Annotated[NotNegative, Field(lt=1)]


class ArbitrageParams(BaseModel):
    """``params:`` of an ``arbitrage`` strategy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fee_target: Fee  # taker fee on the target market, a fraction
    fee_source: Fee  # taker fee on the source market, a fraction
    margin: NotNegative = Decimal(0)  # the least gain, a fraction of what the buy costs
    max_amount: Positive  # base, one trade's cap


@dataclass(frozen=True, slots=True)
class Venue:
    """One side of the arbitrage as a tick sees it: its key (None: the target), rules,
    book, balances and taker fee."""

    key: str | None
    market: Market
    book: Book
    balances: Mapping[str, Balance]
    fee: Decimal

    def available(self, unit: str) -> Decimal:
        balance = self.balances.get(unit)
        return balance.available if balance is not None else Decimal(0)


def gain(ask: Decimal, fee_buy: Decimal, bid: Decimal, fee_sell: Decimal) -> Decimal:
    """What one unit bought at ``ask`` and sold at ``bid`` leaves, after both fees."""
    return bid * (1 - fee_sell) - ask * (1 + fee_buy)


def trade(params: ArbitrageParams, buy: Venue, sell: Venue) -> tuple[NewOrder, NewOrder] | None:
    """The two legs buying on ``buy`` and selling on ``sell``, or None when it does not pay
    (see the module's doc) or no amount fits."""
    if not (buy.book.asks.levels and sell.book.bids.levels):
        return None
    ask, bid = buy.book.asks.levels[0], sell.book.bids.levels[0]
    if gain(ask.price, buy.fee, bid.price, sell.fee) <= params.margin * ask.price:
        return None
    amount = min(
        ask.amount,
        bid.amount,
        params.max_amount,
        buy.available(buy.market.quote_unit) / (ask.price * (1 + buy.fee)),
        sell.available(sell.market.base_unit),
    )
    amount = round_amount(amount, min(buy.market.amount_precision, sell.market.amount_precision))
    if amount <= 0 or amount < buy.market.min_amount or amount < sell.market.min_amount:
        return None
    return (
        NewOrder("buy", ask.price, amount, venue=buy.key, ioc=True),
        NewOrder("sell", bid.price, amount, venue=sell.key, ioc=True, needs_previous=True),
    )


class Arbitrage(Strategy[ArbitrageParams]):
    """Buys on one venue and sells on the other when the gap pays (see the module's doc)."""

    Params = ArbitrageParams

    def __init__(self, config: StrategyConfig, params: ArbitrageParams) -> None:
        super().__init__(config, params)
        if not config.sources:
            raise ValueError("arbitrage needs the other market in sources")
        if config.sources[0] == config.target:
            raise ValueError("arbitrage needs a source other than its target")

    def venues(self) -> tuple[str, ...]:
        """The other market: one leg trades there."""
        return (str(self.config.sources[0]),)

    async def tick(self, view: View) -> Plan:
        cancel = tuple(order.id for order in view.open_orders)
        key = str(self.config.sources[0])
        rules, book = view.venues.get(key), view.sources.get(key)
        if rules is None or book is None:
            return Plan(cancel=cancel)
        p = self.params
        target = Venue(None, view.market, view.book, view.balances, p.fee_target)
        source = Venue(key, rules, book, view.venue_balances.get(key, {}), p.fee_source)
        options: list[tuple[Decimal, tuple[NewOrder, NewOrder]]] = []
        for buy, sell in ((source, target), (target, source)):
            legs = trade(p, buy, sell)
            if legs is not None:
                bought, sold = legs
                per_quote = gain(bought.price, buy.fee, sold.price, sell.fee) / bought.price
                options.append((per_quote, legs))
        if not options:
            return Plan(cancel=cancel)
        _, best = max(options, key=lambda option: option[0])
        return Plan(place=best, cancel=cancel)
