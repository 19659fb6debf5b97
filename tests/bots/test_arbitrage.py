"""The ``arbitrage`` strategy on hand-made views: it trades only when the gap pays both fees
and the margin, in either direction, and never more than the cap, the levels, the
balances and the lots allow."""

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bursa.bots import plugins
from bursa.bots.config import MarketRef, StrategyConfig
from bursa.bots.strategies.arbitrage import Arbitrage, ArbitrageParams
from bursa.bots.strategy import (
    Balance,
    Book,
    BookSide,
    Level,
    Market,
    NewOrder,
    OpenOrder,
    Plan,
    View,
)

D = Decimal
TARGET = Market("btcusd", "btc", "usd", amount_precision=4, price_precision=2)
SOURCE = Market("btcusdt", "btc", "usdt", amount_precision=3, price_precision=2)
KEY = "src/btcusdt"
RICH = {"btc": Balance(D(10)), "usd": Balance(D(100000)), "usdt": Balance(D(100000))}


def book(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> Book:
    def side(levels: list[tuple[str, str]]) -> BookSide:
        return BookSide(tuple(Level(D(p), D(a)) for p, a in levels))

    return Book(asks=side(asks), bids=side(bids))


def arbitrage(**fields: Any) -> Arbitrage:
    params = {"fee_target": "0.001", "fee_source": "0.001", "margin": "0.005", "max_amount": 1}
    config = StrategyConfig(
        id="arb",
        type="arbitrage",
        target=MarketRef(account_id="bursa", market_id="btcusd"),
        sources=(MarketRef(account_id="src", market_id="btcusdt"),),
    )
    return Arbitrage(config, ArbitrageParams.model_validate(params | fields))


def view(
    target: Book,
    source: Book | None,
    *,
    balances: dict[str, Balance] = RICH,
    source_balances: dict[str, Balance] = RICH,
    source_market: Market = SOURCE,
    open_orders: tuple[OpenOrder, ...] = (),
) -> View:
    return View(
        TARGET,
        target,
        balances,
        open_orders,
        sources={KEY: source} if source is not None else {},
        venues={KEY: source_market},
        venue_balances={KEY: source_balances},
    )


def buy_source_sell_target(
    amount: str, ask: str = "100", bid: str = "101.01"
) -> tuple[NewOrder, ...]:
    return (
        NewOrder("buy", D(ask), D(amount), venue=KEY, ioc=True),
        NewOrder("sell", D(bid), D(amount), ioc=True, needs_previous=True),
    )


async def test_it_trades_only_past_fees_and_margin() -> None:
    # buy on the source at 100 (fee 0.001: 100.1), sell on the target (fee 0.002):
    # 101 × 0.998 − 100.1 = 0.698 = 0.00698 × 100, exactly the threshold: no trade
    strategy = arbitrage(fee_target="0.002", margin="0.00698")
    source = book([("100", "0.5")], [("99", "1")])
    at_threshold = book([("102", "1")], [("101", "1")])
    assert await strategy.tick(view(at_threshold, source)) == Plan()
    # 101.01 × 0.998 − 100.1 = 0.70798 > 0.698: trade, the buy first, the sell after it
    above = book([("102", "1")], [("101.01", "1")])
    plan = await strategy.tick(view(above, source))
    assert plan.place == buy_source_sell_target("0.5")
    # fees alone can eat the gap: 101.01 × 0.994 − 100 × 1.006 = −0.19606
    costly = arbitrage(fee_target="0.006", fee_source="0.006", margin="0")
    assert await costly.tick(view(above, source)) == Plan()


async def test_it_trades_the_other_way_too() -> None:
    # buy on the target at 100, sell on the source at 102: 102 × 0.999 − 100.1 = 1.798 > 0.5
    target = book([("100", "0.3")], [("99", "1")])
    source = book([("103", "1")], [("102", "0.4")])
    plan = await arbitrage().tick(view(target, source))
    assert plan.place == (
        NewOrder("buy", D("100"), D("0.3"), ioc=True),
        NewOrder("sell", D("102"), D("0.3"), venue=KEY, ioc=True, needs_previous=True),
    )


async def test_never_both_directions_in_one_tick() -> None:
    # crossed books pay both ways: target bid 104 over the source ask 100 (gain ≈ 3.8)
    # beats source bid 101 over the target ask 100 (gain ≈ 0.8)
    target = book([("100", "1")], [("104", "1")])
    source = book([("100", "1")], [("101", "1")])
    plan = await arbitrage(max_amount="0.1").tick(view(target, source))
    assert plan.place == buy_source_sell_target("0.1", bid="104")


async def test_the_amount_is_the_least_of_levels_cap_balances_and_lots() -> None:
    source = book([("100", "0.5")], [("99", "1")])
    target = book([("102", "1")], [("101.01", "0.3")])
    strategy = arbitrage(margin="0")
    assert (await strategy.tick(view(target, source))).place == buy_source_sell_target("0.3")
    capped = arbitrage(margin="0", max_amount="0.2")
    assert (await capped.tick(view(target, source))).place == buy_source_sell_target("0.2")
    # 15 usdt available (the locked part does not count) buys 15 / 100.1 = 0.14985…:
    # 0.149 on the source's coarser lot
    poor = {"btc": Balance(D(0)), "usdt": Balance(D(15), locked=D(1000))}
    plan = await strategy.tick(view(target, source, source_balances=poor))
    assert plan.place == buy_source_sell_target("0.149")
    # the target sells only the 0.1237 btc it has available: 0.123 on both lots
    little = {"btc": Balance(D("0.1237"), locked=D(5)), "usd": Balance(D(0))}
    plan = await strategy.tick(view(target, source, balances=little))
    assert plan.place == buy_source_sell_target("0.123")
    # below a market's minimum, or nothing to sell: no trade
    strict = Market("btcusdt", "btc", "usdt", 3, 2, min_amount=D("0.31"))
    assert await strategy.tick(view(target, source, source_market=strict)) == Plan()
    empty = {"usd": Balance(D(100000))}
    assert await strategy.tick(view(target, source, balances=empty)) == Plan()


async def test_nothing_on_one_sided_or_missing_books() -> None:
    strategy = arbitrage()
    mine = (OpenOrder("9", "buy", D(1), D(1)),)
    for target, source in (
        (book([("90", "1")], []), book([("100", "1")], [])),  # asks only on both
        (book([], [("110", "1")]), book([], [("100", "1")])),  # bids only on both
        (book([("90", "1")], []), Book()),  # no source levels at all
        (Book(), book([("100", "1")], [("99", "1")])),
    ):
        assert await strategy.tick(view(target, source)) == Plan()
    wide = book([("100", "1")], [("110", "1")])
    assert await strategy.tick(view(wide, None, open_orders=mine)) == Plan(cancel=("9",))
    # a one-sided target still trades the way its side allows
    one_sided = book([], [("110", "1")])
    plan = await strategy.tick(view(one_sided, book([("100", "1")], [])))
    assert [(o.side, o.venue) for o in plan.place] == [("buy", KEY), ("sell", None)]


def test_params_and_config_refuse_what_cannot_work() -> None:
    for fields in (
        {"fee_target": "-0.001"},
        {"fee_source": "1"},
        {"margin": "-0.01"},
        {"max_amount": "0"},
        {"max_amount": None},
    ):
        with pytest.raises(ValidationError):
            arbitrage(**fields)
    params = ArbitrageParams.model_validate({"fee_target": 0, "fee_source": 0, "max_amount": 1})
    alone = StrategyConfig(
        id="a", type="arbitrage", target=MarketRef(account_id="x", market_id="btcusd")
    )
    with pytest.raises(ValueError, match="sources"):
        Arbitrage(alone, params)
    itself = alone.model_copy(update={"sources": (alone.target,)})
    with pytest.raises(ValueError, match="other than its target"):
        Arbitrage(itself, params)
    assert plugins.load("arbitrage") is Arbitrage
