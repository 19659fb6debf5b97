"""The built-in ``market_making``, ``copy`` and ``microtrades`` strategies on hand-made views."""

import logging
import random
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bursa.bots import assist
from bursa.bots.config import MarketRef, StrategyConfig
from bursa.bots.strategies.copy import Copy, CopyParams
from bursa.bots.strategies.market_making import MarketMaking, MarketMakingParams
from bursa.bots.strategies.microtrades import Microtrades, MicrotradesParams
from bursa.bots.strategy import (
    Balance,
    Book,
    BookSide,
    Fill,
    Level,
    Market,
    NewOrder,
    OpenOrder,
    Plan,
    Side,
    Trade,
    View,
)

D = Decimal
BTCUSD = Market("btcusd", "btc", "usd", amount_precision=4, price_precision=2)
SOURCE = "src/btcusdt"
SOURCE_MARKET = Market("btcusdt", "btc", "usdt", amount_precision=3, price_precision=2)


def config(kind: str, *, sources: bool = True) -> StrategyConfig:
    return StrategyConfig(
        id="s",
        type=kind,
        target=MarketRef(account_id="bursa", market_id="btcusd"),
        sources=(MarketRef(account_id="src", market_id="btcusdt"),) if sources else (),
    )


def book(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> Book:
    def side(levels: list[tuple[str, str]]) -> BookSide:
        return BookSide(tuple(Level(D(p), D(a)) for p, a in levels))

    return Book(asks=side(asks), bids=side(bids))


def view(
    *,
    target: Book | None = None,
    source: Book | None = None,
    base: str = "0",
    quote: str = "1000000",
    market: Market = BTCUSD,
    open_orders: tuple[OpenOrder, ...] = (),
    fills: tuple[Fill, ...] = (),
    trades: tuple[Trade, ...] = (),
    now: float = 0.0,
) -> View:
    return View(
        market,
        target or Book(),
        {"btc": Balance(D(base)), "usd": Balance(D(quote))},
        open_orders,
        {SOURCE: source} if source is not None else {},
        venues={SOURCE: SOURCE_MARKET},
        fills=fills,
        trades=trades,
        now=now,
    )


def sides(plan: Plan) -> tuple[list[NewOrder], list[NewOrder]]:
    asks = [o for o in plan.place if o.side == "sell"]
    bids = [o for o in plan.place if o.side == "buy"]
    return asks, bids


# ---------------------------------------------------------------------- market_making

MID_100 = book([("100.1", "1")], [("99.9", "1")])


def mm(**fields: Any) -> MarketMaking:
    base: dict[str, Any] = {
        "spread": "0.02",
        "amount": "0.5",
        "levels": 2,
        "step": "0.01",
        "max_position": "2",
        "target_inventory": "1",
    }
    params = MarketMakingParams.model_validate(base | fields)
    return MarketMaking(config("market_making", sources=params.reference == "source"), params)


async def test_mm_flat_quotes_a_symmetric_ladder_around_the_source_mid() -> None:
    plan = await mm().tick(view(source=MID_100, base="1"))
    assert plan.place == (
        NewOrder("sell", D("101.00"), D("0.5")),
        NewOrder("sell", D("102.00"), D("0.5")),
        NewOrder("buy", D("99.00"), D("0.5")),
        NewOrder("buy", D("98.00"), D("0.5")),
    )


async def test_mm_long_lowers_both_quotes_and_shrinks_the_bids() -> None:
    # q = 2 − 1 = 1, u = 1/2, h = 1: centre 100 − 1·½·1 = 99.5; bids ½ × 0.5
    asks, bids = sides(await mm().tick(view(source=MID_100, base="2")))
    assert asks == [
        NewOrder("sell", D("100.50"), D("0.5")),
        NewOrder("sell", D("101.50"), D("0.5")),
    ]
    assert bids == [NewOrder("buy", D("98.50"), D("0.25")), NewOrder("buy", D("97.50"), D("0.25"))]


async def test_mm_short_raises_both_quotes_and_shrinks_the_asks() -> None:
    # q = −0.5, u = −1/4: centre 100.25; asks ¾ × 0.5 = 0.375, the second cut to the 0.5 held
    asks, bids = sides(await mm().tick(view(source=MID_100, base="0.5")))
    assert asks == [
        NewOrder("sell", D("101.25"), D("0.375")),
        NewOrder("sell", D("102.25"), D("0.125")),
    ]
    assert bids == [NewOrder("buy", D("99.25"), D("0.5")), NewOrder("buy", D("98.25"), D("0.5"))]


async def test_mm_never_quotes_past_max_position() -> None:
    # q = 2.2 ≥ max_position 2: no bids at all; asks at centre 100 − 1 = 99
    asks, bids = sides(await mm().tick(view(source=MID_100, base="3.2")))
    assert bids == []
    assert [a.price for a in asks] == [D("100.00"), D("101.00")]
    # q = 1.8 without skew: the bids' room is 0.2, the first level is cut, the rest dropped
    asks, bids = sides(await mm(skew=0).tick(view(source=MID_100, base="2.8")))
    assert bids == [NewOrder("buy", D("99.00"), D("0.2"))]
    assert [a.price for a in asks] == [D("101.00"), D("102.00")]
    # short by more than max_position: no asks
    asks, bids = sides(await mm(target_inventory="4").tick(view(source=MID_100, base="1.5")))
    assert asks == []
    assert bids != []


async def test_mm_bids_fit_the_quote_held() -> None:
    _, bids = sides(await mm().tick(view(source=MID_100, base="1", quote="78.9")))
    assert bids == [NewOrder("buy", D("99.00"), D("0.5")), NewOrder("buy", D("98.00"), D("0.3"))]


async def test_mm_rounds_outward_and_drops_what_is_below_the_minimum() -> None:
    odd = book([("100.007", "1")], [("100.001", "1")])  # mid 100.004
    strategy = mm(spread="0.0001", amount="0.12345", levels=1, skew=0)
    asks, bids = sides(await strategy.tick(view(source=odd, base="1")))
    assert asks == [NewOrder("sell", D("100.01"), D("0.1234"))]  # 100.009 up
    assert bids == [NewOrder("buy", D("99.99"), D("0.1234"))]  # 99.999 down
    strict = Market("btcusd", "btc", "usd", 4, 2, min_amount=D("0.2"))
    assert (await strategy.tick(view(source=odd, base="1", market=strict))).place == ()


async def test_mm_on_the_target_mid_and_without_a_reference() -> None:
    strategy = mm(reference="target")
    plan = await strategy.tick(view(target=MID_100, base="1"))
    assert [o.price for o in plan.place] == [D("101.00"), D("102.00"), D("99.00"), D("98.00")]
    mine = (OpenOrder("7", "sell", D("101.00"), D("0.5")),)
    one_sided = book([("100.1", "1")], [])
    assert await strategy.tick(view(target=one_sided, open_orders=mine)) == Plan(cancel=("7",))
    assert await mm().tick(view(open_orders=mine)) == Plan(cancel=("7",))  # no source book


async def test_mm_on_the_target_mid_leaves_its_own_quotes_out() -> None:
    """Its own best quotes do not move its reference: the mid is the rest of the book's."""
    strategy = mm(reference="target", levels=1)
    own = (
        OpenOrder("1", "sell", D("100.05"), D("0.5")),
        OpenOrder("2", "buy", D("99.95"), D("0.5")),
    )
    target = book([("100.05", "0.5"), ("101", "1")], [("99.95", "0.5"), ("99", "1")])
    plan = await strategy.tick(view(target=target, base="1", open_orders=own))
    assert [o.price for o in plan.place] == [D("101.00"), D("99.00")]  # around 100, not 100.00
    assert set(plan.cancel) == {"1", "2"}
    shared = book([("101", "0.7")], [("99", "1")])  # 0.5 of the best ask is its own
    mine = (OpenOrder("3", "sell", D("101"), D("0.5")),)
    plan = await strategy.tick(view(target=shared, base="1", open_orders=mine))
    assert [o.price for o in plan.place if o.side == "buy"] == [D("99.00")]


async def test_mm_keeps_what_is_already_open() -> None:
    open_orders = (
        OpenOrder("1", "sell", D("101.00"), D("0.5")),
        OpenOrder("2", "buy", D("50.00"), D("0.5")),
    )
    plan = await mm(levels=1).tick(view(source=MID_100, base="1", open_orders=open_orders))
    assert plan == Plan(place=(NewOrder("buy", D("99.00"), D("0.5")),), cancel=("2",))


async def test_mm_avellaneda_stoikov_from_supplied_estimates() -> None:
    model = {"model": "avellaneda_stoikov", "gamma": "0.1", "horizon": 60, "levels": 1}
    estimates = {"sigma": "0.5", "k": "1.5"}
    # γσ²τ = 1.5, (2/γ)·ln(1 + γ/k) = 1.29077…: h = 1.39539…
    flat = await mm(**model, **estimates).tick(view(source=MID_100, base="1"))
    assert flat.place == (
        NewOrder("sell", D("101.40"), D("0.5")),
        NewOrder("buy", D("98.60"), D("0.5")),
    )
    # q = 1: r = 100 − 1·1.5 = 98.5; the bids still shrink by skew × |u|
    long = await mm(**model, **estimates).tick(view(source=MID_100, base="2"))
    assert long.place == (
        NewOrder("sell", D("99.90"), D("0.5")),
        NewOrder("buy", D("97.10"), D("0.25")),
    )
    # no estimate: the fixed spread and the linear skew
    fallback = await mm(**model).tick(view(source=MID_100, base="2"))
    assert [o.price for o in fallback.place] == [D("100.50"), D("98.50")]


def test_mm_params_refuse_what_cannot_work() -> None:
    for fields in (
        {"levels": 3, "step": "0"},
        {"skew": "1.5"},
        {"max_position": "0"},
        {"spread": "1.9", "step": "0.1"},
        {"model": "avellaneda_stoikov"},  # no gamma, no horizon
        {"sigma": "0.5"},  # no k
        {"reference": "elsewhere"},
    ):
        with pytest.raises(ValidationError):
            mm(**fields)
    params = MarketMakingParams.model_validate({"spread": "0.02", "amount": "1", "max_position": 1})
    with pytest.raises(ValueError, match="sources"):
        MarketMaking(config("market_making", sources=False), params)


NOW = 1_700_000_000
AS_MODEL = {"model": "avellaneda_stoikov", "gamma": "0.1", "horizon": 60, "levels": 1}


def trades(n: int, *, k: float = 2.0, seed: int = 5, every: int = 10) -> tuple[Trade, ...]:
    """``n`` trades ``every`` s up to NOW, a walk around 100 of steps Exp(k) (so the fill
    rate thins out with distance, as the model assumes)."""
    rng = random.Random(seed)
    price, found = 100.0, []
    for i in range(n):
        step = rng.expovariate(k)
        price += step if rng.random() < 0.5 else -step
        found.append(Trade(D(f"{price:.2f}"), D("0.1"), NOW - every * (n - i)))
    return tuple(found)


def live_view(found: tuple[Trade, ...], now: int = NOW, base: str = "1") -> View:
    return view(target=MID_100, base=base, trades=found, now=now)


def suggested(found: tuple[Trade, ...], model: assist.Model) -> tuple[Decimal, Decimal]:
    """The (ask, bid) ``bursa bots suggest`` shows for these trades and the book, flat."""
    estimates = assist.estimate(
        found, assist.Book(((D("99.9"), D(1)),), ((D("100.1"), D(1)),)), NOW
    )
    quote = assist.suggest(
        estimates, gamma=0.1, horizon=60, inventory=D(0), price_precision=2, model=model
    )
    assert quote.ask is not None and quote.bid is not None
    return quote.ask, quote.bid


async def test_mm_estimates_sigma_and_k_live_from_the_market_s_trades() -> None:
    strategy = mm(reference="target", **AS_MODEL)
    assert strategy.wants_trades is True
    assert mm(**AS_MODEL, sigma="0.5", k="1.5").wants_trades is False
    assert mm().wants_trades is False
    assert MarketMaking.wants_trades is False
    found = trades(100)
    plan = await strategy.tick(live_view(found))
    estimate = strategy.estimate
    assert estimate is not None
    assert estimate.sigma == pytest.approx(0.2488, abs=1e-4)
    assert estimate.k == pytest.approx(2.034, abs=1e-3)
    # the quotes of A–S with these σ and k: the same as suggest's, and as the static path's
    ask, bid = plan.place
    assert (ask.price, bid.price) == suggested(found, "as")
    assert (ask.price, bid.price) == (D("100.67"), D("99.33"))  # not spread's 101 / 99
    static = mm(reference="target", **AS_MODEL, sigma=D(estimate.sigma), k=D(estimate.k))
    assert await static.tick(live_view(())) == plan
    # long 1: the reservation price moves down by q·γ·σ²·τ = 0.3714 as the model says
    long_plan = await strategy.tick(live_view(found, base="2"))
    assert [o.price for o in long_plan.place] == [D("100.30"), D("98.96")]


async def test_mm_glft_live_uses_a_too() -> None:
    strategy = mm(reference="target", model="glft", gamma="0.1", levels=1)
    assert strategy.wants_trades is True
    found = trades(100)
    plan = await strategy.tick(live_view(found))
    assert tuple(o.price for o in plan.place) == suggested(found, "glft")
    estimate = strategy.estimate
    assert estimate is not None
    assert estimate.a is not None
    static = mm(
        reference="target",
        model="glft",
        gamma="0.1",
        levels=1,
        sigma=D(estimate.sigma),
        k=D(estimate.k),
        a=D(estimate.a),
    )
    assert static.wants_trades is False
    assert await static.tick(live_view(())) == plan


async def test_mm_quotes_its_spread_until_the_estimate_is_usable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bursa.bots.strategies.market_making")
    strategy = mm(reference="target", **AS_MODEL)
    for n in range(3):  # 12 trades: fewer than assist.MIN_TRADES
        plan = await strategy.tick(live_view(trades(12), now=NOW + 60 * n))
        assert [o.price for o in plan.place] == [D("101.00"), D("99.00")]
    why = [r.getMessage() for r in caplog.records if "no usable estimate" in r.getMessage()]
    assert len(why) == 1  # said once
    assert "only 12 trade(s)" in why[0]
    assert "spread 0.02" in why[0]
    plan = await strategy.tick(live_view(trades(100), now=NOW + 180))
    assert [o.price for o in plan.place] != [D("101.00"), D("99.00")]


async def test_mm_refreshes_at_most_every_refresh_seconds_and_keeps_the_last_usable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bursa.bots.strategies.market_making")
    strategy = mm(reference="target", refresh=120, **AS_MODEL)
    first = await strategy.tick(live_view(trades(100)))
    wider = trades(100, k=1.0, seed=9)  # larger steps: a smaller k, a wider spread
    assert await strategy.tick(live_view(wider, now=NOW + 119)) == first  # not yet
    second = await strategy.tick(live_view(wider, now=NOW + 120))
    assert second.place[0].price > first.place[0].price
    assert second.place[1].price < first.place[1].price
    changes = [r.getMessage() for r in caplog.records if "live estimate" in r.getMessage()]
    assert len(changes) == 2
    assert "σ = 0.248791 per √s, k = 2.03378 per price unit" in changes[0]
    assert "spread 1.33" in changes[0]
    # too few trades later: the last usable estimate stays, no fallback to spread
    assert await strategy.tick(live_view(trades(5), now=NOW + 240)) == second
    assert len([r for r in caplog.records if "live estimate" in r.getMessage()]) == 2


def test_mm_model_params_refuse_what_cannot_work() -> None:
    for fields in (
        {"model": "glft"},  # no gamma
        {"model": "glft", "gamma": "0.1", "sigma": "0.5", "k": "1"},  # no a
        {**AS_MODEL, "sigma": "0.5", "k": "1", "a": "0.2"},  # a is GLFT's
        {**AS_MODEL, "refresh": "0"},
    ):
        with pytest.raises(ValidationError):
            mm(**fields)


# ---------------------------------------------------------------------- copy

SOURCE_BOOK = book(
    [("100.004", "1"), ("100.5", "2"), ("101", "3"), ("102", "4")],
    [("99.996", "1"), ("99.5", "2"), ("99", "3"), ("98", "4")],
)


def copy(**fields: Any) -> Copy:
    base: dict[str, Any] = {
        "levels": 3,
        "spread_asks": "0.01",
        "spread_bids": "0.01",
        "ratio": "0.5",
        "max_amount_per_order": "1.2",
    }
    return Copy(config("copy"), CopyParams.model_validate(base | fields))


async def test_copy_mirrors_the_best_levels_spread_outward() -> None:
    plan = await copy().tick(view(source=SOURCE_BOOK))
    assert plan.place == (
        NewOrder("sell", D("101.01"), D("0.5")),  # 101.00404 up
        NewOrder("sell", D("101.51"), D("1.0")),  # 101.505 up
        NewOrder("sell", D("102.01"), D("1.2")),  # 1.5 capped per order
        NewOrder("buy", D("98.99"), D("0.5")),  # 98.99604 down
        NewOrder("buy", D("98.50"), D("1.0")),  # 98.505 down
        NewOrder("buy", D("98.01"), D("1.2")),
    )


async def test_copy_caps_each_side_in_total() -> None:
    plan = await copy(max_total_asks="2", max_total_bids="100").tick(view(source=SOURCE_BOOK))
    asks, bids = sides(plan)
    assert [a.amount for a in asks] == [D("0.5"), D("1.0"), D("0.5")]  # 2 base
    # 100 quote: 0.5 × 98.99 = 49.495, then 50.505 / 98.50 → 0.5127, then nothing is left
    assert bids == [NewOrder("buy", D("98.99"), D("0.5")), NewOrder("buy", D("98.50"), D("0.5127"))]
    assert sum(b.price * b.amount for b in bids) <= 100


async def test_copy_respects_the_market_minimum_and_precision() -> None:
    strict = Market("btcusd", "btc", "usd", 2, 0, min_amount=D("0.6"))
    plan = await copy(spread_asks=0, spread_bids=0).tick(view(source=SOURCE_BOOK, market=strict))
    # 100.004 and 100.5 both round up to 101 and merge with 101 (capped at 1.2); the 0.5
    # bid at 99.996 → 99 merges with 99; 99.5 → 99 too
    assert plan.place == (NewOrder("sell", D(101), D("1.2")), NewOrder("buy", D(99), D("1.2")))
    small = await copy(ratio="0.05").tick(view(source=SOURCE_BOOK, market=strict))
    assert small.place == ()  # merged, 0.05 + 0.1 + 0.15 is still below 0.6


async def test_copy_never_crosses_itself() -> None:
    crossed = book([("100", "1")], [("101", "1"), ("99", "1")])
    plan = await copy(spread_asks=0, spread_bids=0).tick(view(source=crossed))
    assert plan.place == (NewOrder("sell", D(100), D("0.5")), NewOrder("buy", D(99), D("0.5")))


async def test_copy_one_side_and_no_source() -> None:
    asks, bids = sides(await copy(side="asks").tick(view(source=SOURCE_BOOK)))
    assert len(asks) == 3
    assert bids == []
    mine = (OpenOrder("3", "buy", D(1), D(1)),)
    assert await copy().tick(view(open_orders=mine)) == Plan(cancel=("3",))
    with pytest.raises(ValueError, match="sources"):
        Copy(config("copy", sources=False), CopyParams())


TARGET = "bursa/btcusd"


def fill(side: Side, amount: str, venue: str = TARGET, n: int = 1) -> Fill:
    return Fill(f"t{n}", venue, f"o{n}", side, D("100"), D(amount), 1_700_000_000)


async def test_copy_hedges_a_target_fill_on_the_source() -> None:
    strategy = copy(hedge=True, levels=1)
    # the target bought 0.5 and sold 0.2 (net +0.3): sell 0.3 on the source at its best bid
    # 99.996 × (1 − 0.01) = 98.99604, rounded up to 99.00 (never past the bound); a fill of
    # an earlier hedge on the source is not a target fill
    fills = (fill("buy", "0.5"), fill("sell", "0.2", n=2), fill("sell", "0.3", SOURCE, n=3))
    plan = await strategy.tick(view(source=SOURCE_BOOK, fills=fills))
    assert plan.place[0] == NewOrder("sell", D("99.00"), D("0.3"), venue=SOURCE, ioc=True)
    assert plan.place[1:] == (  # the mirrored book as before
        NewOrder("sell", D("101.01"), D("0.5")),
        NewOrder("buy", D("98.99"), D("0.5")),
    )
    assert strategy.unhedged == 0
    # a target sell is bought back at the best ask 100.004 × 1.002 = 100.204008 → 100.20
    plan = await copy(hedge=True, hedge_slippage="0.002").tick(
        view(source=SOURCE_BOOK, fills=(fill("sell", "1.25"),))
    )
    assert plan.place[0] == NewOrder("buy", D("100.20"), D("1.25"), venue=SOURCE, ioc=True)
    # no hedge unless asked
    plan = await copy(levels=1).tick(view(source=SOURCE_BOOK, fills=fills))
    assert all(order.venue is None for order in plan.place)


async def test_copy_keeps_what_is_below_the_source_lot_for_the_next_hedge() -> None:
    strategy = copy(hedge=True, levels=1)  # the source's lot is 0.001
    for _ in range(2):
        plan = await strategy.tick(view(source=SOURCE_BOOK, fills=(fill("buy", "0.0004"),)))
        assert all(order.venue is None for order in plan.place)
    assert strategy.unhedged == D("0.0008")
    plan = await strategy.tick(view(source=SOURCE_BOOK, fills=(fill("buy", "0.0004"),)))
    assert plan.place[0] == NewOrder("sell", D("99.00"), D("0.001"), venue=SOURCE, ioc=True)
    assert strategy.unhedged == D("0.0002")
    # a sell of 0.0012 brings it to −0.001: bought back at once, at 100.004 × 1.01 =
    # 101.00404 rounded down to 101.00
    plan = await strategy.tick(view(source=SOURCE_BOOK, fills=(fill("sell", "0.0012"),)))
    assert plan.place[0] == NewOrder("buy", D("101.00"), D("0.001"), venue=SOURCE, ioc=True)
    assert strategy.unhedged == 0


async def test_copy_holds_the_hedge_while_the_source_has_no_price() -> None:
    strategy = copy(hedge=True)
    asks_only = book([("100", "1")], [])
    plan = await strategy.tick(view(source=asks_only, fills=(fill("buy", "0.4"),)))
    assert all(order.side == "sell" and order.venue is None for order in plan.place)
    assert strategy.unhedged == D("0.4")
    plan = await strategy.tick(view(source=SOURCE_BOOK))
    assert plan.place[0] == NewOrder("sell", D("99.00"), D("0.4"), venue=SOURCE, ioc=True)


# ---------------------------------------------------------------------- microtrades


def micro(seed: int = 7, **fields: Any) -> Microtrades:
    base: dict[str, Any] = {
        "min_amount": "0.001",
        "max_amount": "0.01",
        "counterparty_account": "maker2",
        "seed": seed,
    }
    return Microtrades(
        config("microtrades", sources=False), MicrotradesParams.model_validate(base | fields)
    )


WIDE = book([("99.10", "1")], [("99.00", "1")])


TAKER_VENUE = "maker2/btcusd"


async def test_microtrades_stay_strictly_inside_the_spread() -> None:
    strategy = micro()
    seen_sides = set()
    for _ in range(200):
        plan = await strategy.tick(view(target=WIDE))
        order, _taker = plan.place
        assert D("99.00") < order.price < D("99.10")
        assert order.price == order.price.quantize(D("0.01"))
        assert D("0.001") <= order.amount <= D("0.01")
        assert order.amount == order.amount.quantize(D("0.0001"))
        seen_sides.add(order.side)
    assert seen_sides == {"buy", "sell"}


async def test_microtrades_are_deterministic_by_seed() -> None:
    async def run(strategy: Microtrades) -> list[Plan]:
        return [await strategy.tick(view(target=WIDE)) for _ in range(5)]

    assert await run(micro(seed=1)) == await run(micro(seed=1))
    assert await run(micro(seed=1)) != await run(micro(seed=2))
    params = MicrotradesParams.model_validate(
        {"min_amount": "1", "max_amount": "1", "counterparty_account": "x"}
    )
    one = Microtrades(config("microtrades"), params, rng=random.Random(3))
    two = Microtrades(config("microtrades"), params, rng=random.Random(3))
    assert await run(one) == await run(two)


async def test_microtrades_do_nothing_without_room_inside_the_spread() -> None:
    strategy = micro()
    for target in (
        book([("99.01", "1")], [("99.00", "1")]),  # one tick
        book([("99.00", "1")], [("99.00", "1")]),  # locked
        book([("98.00", "1")], [("99.00", "1")]),  # crossed
        book([("99.10", "1")], []),  # one side only
        Book(),
    ):
        assert await strategy.tick(view(target=target)) == Plan()
    off_grid = book([("99.011", "1")], [("99.001", "1")])  # only 99.01 fits strictly inside
    order, _taker = (await strategy.tick(view(target=off_grid))).place
    assert order.price == D("99.01")


async def test_microtrades_amounts_fit_the_lot_and_the_minimum() -> None:
    lots = await micro(min_amount="0.00005", max_amount="0.0001").tick(view(target=WIDE))
    assert [o.amount for o in lots.place] == [D("0.0001"), D("0.0001")]
    assert await micro(min_amount="0.00002", max_amount="0.00008").tick(view(target=WIDE)) == Plan()
    strict = Market("btcusd", "btc", "usd", 4, 2, min_amount=D("0.02"))
    assert await micro().tick(view(target=WIDE, market=strict)) == Plan()


async def test_microtrades_ignore_and_cancel_their_own_leftover() -> None:
    mine = (OpenOrder("5", "sell", D("99.01"), D("0.005")),)
    target = book([("99.01", "0.005"), ("99.10", "1")], [("99.00", "1")])
    plan = await micro().tick(view(target=target, open_orders=mine))
    assert plan.cancel == ("5",)
    order, _taker = plan.place
    assert D("99.00") < order.price < D("99.10")
    one_tick_without_it = book([("99.01", "0.005"), ("99.02", "1")], [("99.00", "1")])
    plan = await micro().tick(view(target=one_tick_without_it, open_orders=mine))
    assert plan.cancel == ("5",)
    assert len(plan.place) == 2  # 99.01 is free once its own order goes


async def test_microtrades_plan_the_maker_then_the_counterparty_s_taker() -> None:
    strategy = micro()
    assert strategy.counterparty_account == "maker2"
    assert strategy.venues() == (TAKER_VENUE,)  # no sources: the counterparty's venue only
    sides_seen = set()
    for _ in range(20):
        maker, taker = (await strategy.tick(view(target=WIDE))).place
        assert maker.venue is None
        assert not maker.ioc
        assert not maker.needs_previous
        opposite: Side = "sell" if maker.side == "buy" else "buy"
        assert taker == NewOrder(
            opposite, maker.price, maker.amount, TAKER_VENUE, ioc=True, needs_previous=True
        )
        sides_seen.add(maker.side)
    assert sides_seen == {"buy", "sell"}
    params = MicrotradesParams.model_validate(
        {"min_amount": "1", "max_amount": "1", "counterparty_account": "x"}
    )
    with_source = Microtrades(config("microtrades"), params)
    assert with_source.venues() == ("x/btcusd",)  # a source is read, not traded on


async def test_microtrades_refusals() -> None:
    with pytest.raises(ValueError, match="another account"):
        micro(counterparty_account="bursa")
    refused: tuple[dict[str, Any], ...] = (
        {"min_amount": "2", "max_amount": "1"},
        {"min_amount": "0"},
        {"counterparty_account": ""},
    )
    for fields in refused:
        with pytest.raises(ValidationError):
            micro(**fields)
