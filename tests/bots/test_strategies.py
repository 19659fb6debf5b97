"""The built-in ``market_making``, ``copy`` and ``microtrades`` strategies on hand-made views."""

import random
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bursa.bots.config import MarketRef, StrategyConfig
from bursa.bots.strategies.copy import Copy, CopyParams
from bursa.bots.strategies.market_making import MarketMaking, MarketMakingParams
from bursa.bots.strategies.microtrades import Microtrades, MicrotradesParams
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
BTCUSD = Market("btcusd", "btc", "usd", amount_precision=4, price_precision=2)
SOURCE = "src/btcusdt"


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
) -> View:
    return View(
        market,
        target or Book(),
        {"btc": Balance(D(base)), "usd": Balance(D(quote))},
        open_orders,
        {SOURCE: source} if source is not None else {},
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


async def test_microtrades_stay_strictly_inside_the_spread() -> None:
    strategy = micro()
    seen_sides = set()
    for _ in range(200):
        plan = await strategy.tick(view(target=WIDE))
        (order,) = plan.place
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
    (order,) = (await strategy.tick(view(target=off_grid))).place
    assert order.price == D("99.01")


async def test_microtrades_amounts_fit_the_lot_and_the_minimum() -> None:
    lots = await micro(min_amount="0.00005", max_amount="0.0001").tick(view(target=WIDE))
    assert [o.amount for o in lots.place] == [D("0.0001")]
    assert await micro(min_amount="0.00002", max_amount="0.00008").tick(view(target=WIDE)) == Plan()
    strict = Market("btcusd", "btc", "usd", 4, 2, min_amount=D("0.02"))
    assert await micro().tick(view(target=WIDE, market=strict)) == Plan()


async def test_microtrades_ignore_and_cancel_their_own_leftover() -> None:
    mine = (OpenOrder("5", "sell", D("99.01"), D("0.005")),)
    target = book([("99.01", "0.005"), ("99.10", "1")], [("99.00", "1")])
    plan = await micro().tick(view(target=target, open_orders=mine))
    assert plan.cancel == ("5",)
    (order,) = plan.place
    assert D("99.00") < order.price < D("99.10")
    one_tick_without_it = book([("99.01", "0.005"), ("99.02", "1")], [("99.00", "1")])
    plan = await micro().tick(view(target=one_tick_without_it, open_orders=mine))
    assert plan.cancel == ("5",)
    assert len(plan.place) == 1  # 99.01 is free once its own order goes


async def test_microtrades_pairing_and_refusals() -> None:
    strategy = micro()
    assert strategy.counterparty_account == "maker2"
    order = NewOrder("buy", D("99.05"), D("0.002"))
    assert Microtrades.taker_for(order) == NewOrder("sell", D("99.05"), D("0.002"))
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
