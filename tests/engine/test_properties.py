"""Property-based tests of the matching engine against a simple reference model.

Hypothesis generates command streams over a few members and markets, with prices and
amounts in narrow ranges so that orders cross often, and with invalid commands mixed in
(bad amounts and prices, over-precise decimals, unknown markets, currencies and orders,
other members' orders, insufficient funds, repeated idempotency keys), and trigger
orders, OCOs, amends and bulk commands with trigger prices in the traded range so that
they fire. The engine must agree with ``reference.Reference`` command by command (outcome,
and the state of every order it ever named) and batch by batch (trades, balances, open
orders, books, withdrawal holds), keep its invariants after every batch (``TriggerWatch``
after every command: a trigger fires once, in the command whose trade crossed it, never
while its price is uncrossed; an OCO never trades on both legs), replay deterministically,
and, through the real ``EngineRunner`` on PostgreSQL, keep the ledger consistent, replay
from its command log and recover after a restart.
"""

import asyncio
import itertools
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

import asyncpg
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bursa.engine.commands import (
    Adjust,
    AmendOrder,
    BulkOrders,
    CancelAll,
    CancelOrder,
    Command,
    Credit,
    HoldWithdrawal,
    PlaceOco,
    PlaceOrder,
    ReleaseWithdrawal,
    SettleWithdrawal,
    Transfer,
)
from bursa.engine.core import Engine, trade_postings
from bursa.engine.replay import check_replay
from bursa.engine.runner import EngineRunner
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.state import HELD, Order, Result
from bursa.engine.units import OverPrecise, to_units
from bursa.events.bus import InProcessBus
from bursa.ledger.verify import verify_ledger
from bursa.trading.seeds import DEMO_SEEDS
from bursa.trading.specs import load_specs
from tests.conftest import SERVER_URL, database_url
from tests.engine.reference import (
    ABOVE,
    BELOW,
    BUY,
    CANCEL_BOTH,
    CANCEL_MAKER,
    CANCEL_TAKER,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP_LIMIT,
    STOP_MARKET,
    TRIGGER_WAIT,
    Outcome,
    Reference,
    RefMarket,
    TradeRow,
    parse_units,
)
from tests.engine.reference import CHART as REFERENCE_CHART

# ---------------------------------------------------------------------- the universes


@dataclass(frozen=True)
class MarketGen:
    """A market and the ranges its generated orders mostly stay in."""

    market: RefMarket
    prices: tuple[int, int]  # ticks
    volumes: tuple[int, int]  # lots


@dataclass(frozen=True)
class Universe:
    currencies: dict[str, tuple[str, int]]  # code -> (type, precision)
    markets: tuple[MarketGen, ...]  # tradable, orders are generated for them
    closed: tuple[RefMarket, ...]  # known to the engine, not tradable
    credits: dict[str, tuple[int, int]]  # deposit amounts, smallest units

    def ref_markets(self) -> list[RefMarket]:
        return [g.market for g in self.markets] + list(self.closed)

    def reference(self) -> Reference:
        return Reference(
            {c: p for c, (_, p) in self.currencies.items()},
            self.ref_markets(),
            {c: t for c, (t, _) in self.currencies.items()},
        )

    def engine(self) -> Engine:
        currencies = {c: CurrencySpec(c, t, p) for c, (t, p) in self.currencies.items()}
        markets = [
            MarketSpec(
                id=m.id,
                base=currencies[m.base],
                quote=currencies[m.quote],
                amount_precision=m.amount_precision,
                price_precision=m.price_precision,
                min_price=m.min_price,
                max_price=m.max_price,
                min_amount=m.min_amount,
                maker_fee=m.maker_fee,
                taker_fee=m.taker_fee,
                tradable=m.tradable,
            )
            for m in self.ref_markets()
        ]
        return Engine(list(currencies.values()), markets)


CURRENCIES = {"btc": ("coin", 8), "eth": ("coin", 18), "usdt": ("coin", 8), "usd": ("fiat", 2)}


def _market(id: str, base: str, quote: str, ap: int, pp: int, **rules: Any) -> RefMarket:
    return RefMarket(
        id=id,
        base=base,
        quote=quote,
        base_precision=CURRENCIES[base][1],
        quote_precision=CURRENCIES[quote][1],
        amount_precision=ap,
        price_precision=pp,
        **rules,
    )


# In memory the rules can be anything the engine accepts: a price ceiling, a maker fee
# above the taker fee, a zero fee, fee amounts that need rounding, a closed market.
MEMORY = Universe(
    currencies=CURRENCIES,
    markets=(
        MarketGen(
            _market(
                "btcusdt",
                "btc",
                "usdt",
                6,
                2,
                min_price=9_995,
                max_price=10_005,
                min_amount=100,
                maker_fee=1_000,
                taker_fee=2_000,
            ),
            prices=(9_995, 10_005),
            volumes=(100, 700),
        ),
        MarketGen(
            _market(
                "ethbtc",
                "eth",
                "btc",
                4,
                4,
                min_price=500,
                max_price=0,
                min_amount=10,
                maker_fee=2_500,
                taker_fee=700,
            ),
            prices=(500, 508),
            volumes=(10, 90),
        ),
        MarketGen(
            _market(
                "btcusd",
                "btc",
                "usd",
                2,
                0,
                min_price=98,
                max_price=0,
                min_amount=1,
                maker_fee=0,
                taker_fee=3_333,
            ),
            prices=(98, 103),
            volumes=(1, 30),
        ),
    ),
    closed=(
        _market(
            "ethusdt",
            "eth",
            "usdt",
            4,
            2,
            min_price=1,
            max_price=0,
            min_amount=10,
            maker_fee=1_000,
            taker_fee=2_000,
            tradable=False,
        ),
    ),
    credits={
        "btc": (2 * 10**7, 15 * 10**7),
        "eth": (10**16, 10**17),
        "usdt": (5 * 10**6, 6 * 10**7),
        "usd": (2_000, 20_000),
    },
)


def _demo_universe() -> Universe:
    """The demo seeds' currencies and markets (what the database holds), read as text."""
    seeds = yaml.safe_load(DEMO_SEEDS.read_text())
    currencies = {c["id"]: (c["type"], c["precision"]) for c in seeds["currencies"]}

    def units(text: str, places: int) -> int:
        value = parse_units(text, places)
        assert value is not None, text
        return value

    markets = {}
    for row in seeds["markets"]:
        ap, pp = row["amount_precision"], row["price_precision"]
        markets[row["id"]] = RefMarket(
            id=row["id"],
            base=row["base_unit"],
            quote=row["quote_unit"],
            base_precision=currencies[row["base_unit"]][1],
            quote_precision=currencies[row["quote_unit"]][1],
            amount_precision=ap,
            price_precision=pp,
            min_price=units(row["min_price"], pp),
            max_price=units(row["max_price"], pp),
            min_amount=units(row["min_amount"], ap),
            maker_fee=units(row["maker_fee"], 6),
            taker_fee=units(row["taker_fee"], 6),
        )
    assert set(markets) == {"btcusdt", "ethusdt", "ethbtc", "btcusd"}
    return Universe(
        currencies=currencies,
        markets=(
            MarketGen(markets["btcusdt"], prices=(3_000_000, 3_000_006), volumes=(100, 700)),
            MarketGen(markets["ethusdt"], prices=(200_000, 200_005), volumes=(10, 70)),
            MarketGen(markets["ethbtc"], prices=(650, 655), volumes=(10, 70)),
            MarketGen(markets["btcusd"], prices=(30_000, 30_004), volumes=(1, 8)),
        ),
        closed=(),
        credits={
            "btc": (2 * 10**7, 15 * 10**7),
            "eth": (10**16, 10**17),
            "usdt": (5 * 10**9, 5 * 10**10),
            "usd": (3 * 10**5, 3 * 10**6),
        },
    )


DEMO = _demo_universe()

# ---------------------------------------------------------------------- generated operations

CLIENT_IDS = ("a", "b", "c")
WITHDRAWAL_IDS = ("w0", "w1", "w2")


@dataclass(frozen=True)
class SameKey:
    """``command`` sent under the key of an earlier command (content may differ)."""

    command: Command
    pick: int


@dataclass(frozen=True)
class Resend:
    """An earlier command sent again, unchanged (a client's retry)."""

    pick: int


@dataclass(frozen=True)
class CancelOwn:
    """Cancel one of the member's open orders, by id or by client id (resolved when sent)."""

    member_id: int
    pick: int
    by_client_id: bool


@dataclass(frozen=True)
class DecimalOrder:
    """A limit order as an API receives it: decimal text, converted at the edge."""

    member_id: int
    market: str
    side: str
    volume: str
    price: str
    time_in_force: str


@dataclass(frozen=True)
class DecimalCredit:
    member_id: int
    currency: str
    amount: str


@dataclass(frozen=True)
class AmendOwn:
    """Amend one of the member's open orders (resolved when sent): ``price`` 0 keeps it;
    ``volume`` is "keep" (0), "same", "less" or "more" by ``delta`` lots."""

    member_id: int
    pick: int
    by_client_id: bool
    price: int
    volume: str
    delta: int
    resting: bool  # pick among plain resting limit orders (else among all open ones)


@dataclass(frozen=True)
class CancelPick:
    """A bulk cancel item naming one of the member's open orders (resolved when sent)."""

    pick: int
    by_client_id: bool


@dataclass(frozen=True)
class BulkOp:
    member_id: int
    cancels: tuple[Any, ...]  # CancelPick or a raw item
    places: tuple[Any, ...]  # raw items


Op = Command | SameKey | Resend | CancelOwn | DecimalOrder | DecimalCredit | AmendOwn | BulkOp


def weighted(*choices: tuple[int, Any]) -> st.SearchStrategy[Any]:
    """One of ``choices`` (strategies or plain values) by integer weight; shrinks to the
    first, which is always the common, valid case."""
    strategies = [c if isinstance(c, st.SearchStrategy) else st.just(c) for _, c in choices]
    bounds = list(itertools.accumulate(w for w, _ in choices))
    index = st.integers(0, bounds[-1] - 1)

    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        return draw(strategies[bisect_right(bounds, draw(index))])

    return pick()


def decimal_text(units: int, places: int, extra_digit: int) -> str:
    """``units`` of ``10**-places`` as plain decimal text, with one more decimal digit:
    over-precise unless ``extra_digit`` is 0."""
    return format(Decimal(units * 10 + extra_digit).scaleb(-(places + 1)), "f")


_OPS: dict[tuple[int, int, tuple[str, ...]], st.SearchStrategy[Op]] = {}


def op_strategy(u: Universe, count: int, active: tuple[MarketGen, ...]) -> st.SearchStrategy[Op]:
    """Operations by members 1..``count``; orders go to the ``active`` markets (a scenario
    trades in a few markets only, so that their books fill up). Built once per key:
    building strategies is much slower than drawing from them."""
    key = (id(u), count, tuple(g.market.id for g in active))
    if key not in _OPS:
        _OPS[key] = _op_strategy(u, st.integers(1, count), active)
    return _OPS[key]


def _order_entry(
    members: st.SearchStrategy[int],
    active: tuple[MarketGen, ...],
    place_order: Callable[[MarketGen], st.SearchStrategy[Command]],
) -> tuple[st.SearchStrategy[Command], st.SearchStrategy[Op], st.SearchStrategy[Op]]:
    """OCOs, amends and bulk commands: (OCO and amend commands, amends of the member's own
    orders, bulk commands)."""

    def place_oco(gen: MarketGen) -> st.SearchStrategy[Command]:
        m = gen.market
        lo, hi = gen.prices
        prices = st.integers(lo, hi)
        sides = weighted((30, BUY), (30, SELL), (1, "bid"))
        stop_price = weighted((3, 0), (2, prices), (1, st.sampled_from([m.min_price - 1])))
        volume = weighted((40, st.integers(*gen.volumes)), (1, st.just(0)))
        client_id = weighted((7, None), (2, st.sampled_from(CLIENT_IDS)))
        stp = weighted((30, CANCEL_TAKER), (6, CANCEL_MAKER), (6, CANCEL_BOTH))
        in_order = weighted((8, True), (1, False))

        @st.composite
        def build(draw: st.DrawFn) -> Command:
            side, a, b = draw(sides), draw(prices), draw(prices)
            if draw(in_order):  # sell: price above the trigger; buy: below
                low, high = sorted((a, b))
                a, b = (high, low) if side == SELL else (low, high)
            return PlaceOco(
                key="",
                member_id=draw(members),
                market=m.id,
                side=side,
                volume=draw(volume),
                price=a,
                trigger_price=b,
                stop_price=draw(stop_price),
                client_id=draw(client_id),
                stp=draw(stp),
            )

        return build()

    def amend_own(gen: MarketGen) -> st.SearchStrategy[AmendOwn]:
        lo, hi = gen.prices
        return st.builds(
            AmendOwn,
            members,
            st.integers(0, 10),
            st.booleans(),
            weighted((4, 0), (4, st.integers(lo, hi)), (1, st.sampled_from([-1, 1]))),
            weighted((4, "keep"), (5, "less"), (3, "more"), (1, "same")),
            st.integers(1, max(1, gen.volumes[0])),
            weighted((5, True), (1, False)),
        )

    amend_order = st.builds(
        AmendOrder,
        key=st.just(""),
        member_id=members,
        order_id=weighted((5, st.integers(1, 40)), (1, None)),
        client_id=weighted((3, None), (1, st.sampled_from(CLIENT_IDS))),
        price=weighted((1, 0), (1, st.integers(1, 10**6))),
        volume=weighted((1, 0), (1, st.integers(1, 100))),
    )

    def bulk_item(order: Command) -> dict[str, Any]:
        item = asdict(order)
        del item["key"], item["member_id"]
        return item

    places = st.one_of(*(place_order(g) for g in active))
    malformation = weighted((20, "none"), (1, "unknown"), (1, "missing"), (1, "type"))

    @st.composite
    def bulk_place(draw: st.DrawFn) -> Any:
        item = bulk_item(draw(places))
        how = draw(malformation)
        if how == "unknown":
            return item | {"colour": "red"}
        if how == "missing":
            return {k: v for k, v in item.items() if k != "volume"}
        if how == "type":
            return item | {"volume": str(item["volume"])}
        return item

    bulk_cancel = weighted(
        (6, st.builds(CancelPick, st.integers(0, 10), st.booleans())),
        (2, st.builds(lambda i: {"order_id": i}, st.integers(1, 40))),
        (1, st.builds(lambda c: {"client_id": c}, st.sampled_from(CLIENT_IDS))),
        (1, st.sampled_from([{"id": 1}, {"order_id": "1"}, {"order_id": 1, "client_id": "a"}])),
    )
    too_many = st.builds(
        lambda member, kind: BulkOp(
            member,
            tuple({"order_id": 10**6} for _ in range(101)) if kind else (),
            () if kind else tuple({"market": "x", "side": BUY, "volume": 1} for _ in range(101)),
        ),
        members,
        st.booleans(),
    )
    bulk = weighted(
        (
            30,
            st.builds(
                BulkOp,
                members,
                st.lists(bulk_cancel, max_size=3).map(tuple),
                st.lists(bulk_place(), max_size=4).map(tuple),
            ),
        ),
        (1, too_many),
    )

    return (
        weighted((6, st.one_of(*(place_oco(g) for g in active))), (1, amend_order)),
        st.one_of(*(amend_own(g) for g in active)),
        bulk,
    )


def _op_strategy(
    u: Universe, members: st.SearchStrategy[int], active: tuple[MarketGen, ...]
) -> st.SearchStrategy[Op]:
    currencies = sorted(u.currencies)
    some_currency = weighted((30, st.sampled_from(currencies)), (1, "doge"))
    market_names = [g.market.id for g in u.markets]
    other_markets = [m.id for m in u.closed] + ["dogeusd"]
    credit_hi = {c: hi for c, (_, hi) in u.credits.items()}

    def place_order(gen: MarketGen) -> st.SearchStrategy[Command]:
        m = gen.market
        lo, hi = gen.prices
        bad = [(1, st.sampled_from([0, -lo, m.min_price - 1]))]
        if m.max_price:
            bad.append((1, st.sampled_from([m.max_price + 1, m.max_price + 2])))
        # Buyers bid in the upper part of the range, sellers ask in the lower part, so
        # most orders cross something.
        third = (hi - lo) // 3
        limit_price = {
            BUY: weighted((40, st.integers(lo + third, hi)), *bad),
            SELL: weighted((40, st.integers(lo, hi - third)), *bad),
        }
        market_price = weighted((40, 0), (1, st.integers(lo, hi)))
        limit_tif = weighted((40, ""), (3, GTC), (6, IOC), (8, FOK), (1, "GTD"))
        market_tif = weighted((12, ""), (3, IOC), (4, FOK), (1, GTC))
        sides = weighted((30, BUY), (30, SELL), (1, "bid"))
        types = weighted((50, LIMIT), (10, MARKET), (10, STOP_LIMIT), (7, STOP_MARKET), (1, "stop"))
        # Trigger prices in the traded range, so that triggers do fire (or are refused as
        # crossed already); a few on limit and market orders, which refuse them.
        trigger_price = weighted((30, st.integers(lo, hi)), *bad)
        no_trigger = weighted((60, 0), (1, st.integers(lo, hi)))
        condition = weighted((12, ""), (3, ABOVE), (3, BELOW), (1, "sideways"))
        no_condition = weighted((60, ""), (1, ABOVE))
        triggers = {
            True: st.tuples(trigger_price, condition),
            False: st.tuples(no_trigger, no_condition),
        }
        market = weighted((60, m.id), (1, st.sampled_from(other_markets)))
        volume = weighted(
            (40, st.integers(*gen.volumes)), (1, st.sampled_from([0, -1, m.min_amount - 1]))
        )
        post_only = weighted((10, False), (1, True))
        client_id = weighted((7, None), (2, st.sampled_from(CLIENT_IDS)))
        stp = weighted((30, CANCEL_TAKER), (6, CANCEL_MAKER), (6, CANCEL_BOTH), (1, "no"))

        @st.composite
        def build(draw: st.DrawFn) -> Command:
            side, ord_type = draw(sides), draw(types)
            if ord_type in (MARKET, STOP_MARKET):
                price, tif = draw(market_price), draw(market_tif)
            else:
                price, tif = draw(limit_price.get(side, limit_price[BUY])), draw(limit_tif)
            trigger, when = draw(triggers[ord_type in (STOP_LIMIT, STOP_MARKET)])
            return PlaceOrder(
                key="",
                member_id=draw(members),
                market=draw(market),
                side=side,
                volume=draw(volume),
                price=price,
                ord_type=ord_type,
                time_in_force=tif,
                post_only=draw(post_only),
                client_id=draw(client_id),
                stp=draw(stp),
                trigger_price=trigger,
                trigger_condition=when,
            )

        return build()

    cancel_order = st.builds(
        CancelOrder,
        key=st.just(""),
        member_id=members,
        order_id=weighted((5, st.integers(1, 40)), (1, None)),
        client_id=weighted((1, None), (1, st.sampled_from(CLIENT_IDS))),
    )
    cancel_own = st.builds(CancelOwn, members, st.integers(0, 10), st.booleans())
    cancel_all = st.builds(
        CancelAll,
        key=st.just(""),
        member_id=members,
        market=weighted((3, None), (4, st.sampled_from(market_names + other_markets))),
        side=weighted((2, None), (6, st.sampled_from([BUY, SELL])), (1, "ask")),
    )
    credit_amount = {
        c: weighted((20, st.integers(lo, hi)), (1, st.sampled_from([0, -lo])))
        for c, (lo, hi) in (u.credits | {"doge": (1, 100)}).items()
    }

    @st.composite
    def credit(draw: st.DrawFn) -> Command:
        currency = draw(some_currency)
        amount = draw(credit_amount[currency])
        kind = draw(weighted((6, "none"), (3, "some"), (1, "bad")))
        if kind == "none":
            fee = 0
        elif kind == "some":
            fee = draw(st.integers(1, max(1, amount // 100)))
        else:
            fee = draw(st.sampled_from([-1, amount, amount + 1]))
        return Credit(
            key="",
            member_id=draw(members),
            currency=currency,
            amount=amount,
            fee=fee,
            deposit_id=draw(st.sampled_from(["d0", "d1", "d2"])),
        )

    hold_amount = {
        c: weighted(
            (8, st.integers(1, hi // 2)),
            (3, st.integers(1, 50)),  # below some settle fees
            (1, st.sampled_from([0, -1])),
        )
        for c, hi in (credit_hi | {"doge": 100}).items()
    }

    @st.composite
    def hold(draw: st.DrawFn) -> Command:
        currency = draw(some_currency)
        return HoldWithdrawal(
            key="",
            member_id=draw(members),
            currency=currency,
            amount=draw(hold_amount[currency]),
            withdrawal_id=draw(st.sampled_from(WITHDRAWAL_IDS)),
        )

    release = st.builds(
        ReleaseWithdrawal, key=st.just(""), withdrawal_id=st.sampled_from(WITHDRAWAL_IDS)
    )
    settle = st.builds(
        SettleWithdrawal,
        key=st.just(""),
        withdrawal_id=st.sampled_from(WITHDRAWAL_IDS),
        fee=weighted((6, 0), (3, st.integers(1, 1000)), (1, st.sampled_from([-1, 10**20]))),
    )
    adjust_amount = {
        c: weighted((12, st.integers(-hi, hi)), (1, 0))
        for c, hi in (credit_hi | {"doge": 100}).items()
    }

    @st.composite
    def adjust(draw: st.DrawFn) -> Command:
        currency = draw(some_currency)
        return Adjust(
            key="",
            member_id=draw(members),
            currency=currency,
            amount=draw(adjust_amount[currency]),
            reason=draw(weighted((12, "correction"), (1, st.sampled_from(["", "  "])))),
        )

    # Transfer legs by the kinds of account they join; a few are refused on purpose
    # (asset to member is unbalanced, locked accounts and another type's codes are refused).
    chart = {
        t: {kind: code for code, kind in kinds.items()} for t, kinds in REFERENCE_CHART.items()
    }
    leg_kinds = weighted(
        (6, ("main", "main")),
        (3, ("revenue", "main")),
        (3, ("main", "revenue")),
        (2, ("expense", "asset")),
        (1, ("asset", "main")),
        (1, ("main", "locked")),
        (1, ("main", "other_type")),
    )

    @st.composite
    def transfer_leg(draw: st.DrawFn) -> dict[str, Any]:
        currency = draw(some_currency)
        kind_of = u.currencies.get(currency, ("coin", 0))[0]
        other = "fiat" if kind_of == "coin" else "coin"
        amount = draw(weighted((12, st.integers(1, credit_hi.get(currency, 100))), (1, 0)))
        ends = []
        for kind in draw(leg_kinds):
            code = chart[other]["main"] if kind == "other_type" else chart[kind_of][kind]
            member_kind = kind in ("main", "locked", "other_type")
            member = draw(weighted((20, members), (1, st.none())) if member_kind else st.none())
            ends.append((code, member))
        (src, src_member), (dst, dst_member) = ends
        return {
            "currency": currency,
            "amount": amount,
            "src": src,
            "src_member": src_member,
            "dst": dst,
            "dst_member": dst_member,
        }

    transfer = st.builds(
        Transfer,
        key=st.just(""),
        reference=st.sampled_from(["t1", "t2"]),
        legs=st.lists(transfer_leg(), min_size=1, max_size=3),
    )

    extra_digit = weighted((1, 0), (1, st.integers(1, 9)))

    def decimal_order(gen: MarketGen) -> st.SearchStrategy[DecimalOrder]:
        m = gen.market
        volumes, prices = st.integers(*gen.volumes), st.integers(*gen.prices)
        price_digit = weighted((3, 0), (1, st.integers(1, 9)))

        @st.composite
        def build(draw: st.DrawFn) -> DecimalOrder:
            return DecimalOrder(
                member_id=draw(members),
                market=m.id,
                side=draw(st.sampled_from([BUY, SELL])),
                volume=decimal_text(draw(volumes), m.amount_precision, draw(extra_digit)),
                price=decimal_text(draw(prices), m.price_precision, draw(price_digit)),
                time_in_force=draw(st.sampled_from(["", IOC])),
            )

        return build()

    credit_units = {c: st.integers(lo, hi) for c, (lo, hi) in u.credits.items()}

    @st.composite
    def decimal_credit(draw: st.DrawFn) -> DecimalCredit:
        currency = draw(st.sampled_from(currencies))
        places = u.currencies[currency][1]
        text = decimal_text(draw(credit_units[currency]), places, draw(extra_digit))
        return DecimalCredit(draw(members), currency, text)

    oco_or_amend, amend_mine, bulk = _order_entry(members, active, place_order)
    plain = weighted(
        (60, st.one_of(*(place_order(g) for g in active))),
        (7, oco_or_amend),
        (4, cancel_order),
        (3, cancel_all),
        (5, credit()),
        (3, hold()),
        (3, release),
        (3, settle),
        (2, adjust()),
        (2, transfer),
    )
    return weighted(
        (85, plain),
        (6, cancel_own),
        (8, amend_mine),
        (5, bulk),
        (3, st.one_of(*(decimal_order(g) for g in active))),
        (1, decimal_credit()),
        (3, st.builds(Resend, st.integers(0, 200))),
        (2, st.builds(SameKey, plain, st.integers(0, 200))),
    )


@dataclass(frozen=True)
class Scenario:
    members: int
    batches: tuple[tuple[Op, ...], ...]  # the first one funds the members


@st.composite
def scenarios(draw: st.DrawFn, u: Universe, max_batches: int) -> Scenario:
    """Funding, then batches of operations (nested lists: they shrink well, and a batch
    boundary is as likely anywhere as a command)."""
    count = draw(st.integers(3, 5))
    funding: list[Op] = []
    for member in range(1, count + 1):
        for currency in sorted(u.credits):
            amount = draw(weighted((7, st.integers(*u.credits[currency])), (1, 0)))
            if amount:
                funding.append(
                    Credit(
                        key="",
                        member_id=member,
                        currency=currency,
                        amount=amount,
                        deposit_id=f"fund-{member}",
                    )
                )
    active = draw(st.lists(st.sampled_from(u.markets), min_size=1, max_size=2, unique=True))
    ops = op_strategy(u, count, tuple(g for g in u.markets if g in active))
    batch = st.lists(ops, min_size=1, max_size=12).map(tuple)
    batches = draw(st.lists(batch, min_size=2, max_size=max_batches))
    return Scenario(count, (tuple(funding), *batches))


# ---------------------------------------------------------------------- running them


class Harness:
    """Turns generated operations into commands, keeps the reference in step, and counts
    what entered and left the platform (for conservation)."""

    def __init__(self, u: Universe) -> None:
        self.universe = u
        self.ref = u.reference()
        self.markets = {m.id: m for m in u.ref_markets()}
        self.sent: list[tuple[Command, int]] = []  # every command given to the engine, with ts
        self.history: list[Command] = []
        self.count = 0
        self.inflow: dict[str, int] = defaultdict(int)  # credits - sent out + adjustments
        self.fees: dict[str, int] = defaultdict(int)  # deposit and withdrawal fees, transfers
        self.expenses: dict[str, int] = defaultdict(int)  # transfers from and to expenses
        self.held: dict[str, tuple[str, int]] = {}  # withdrawal id -> (currency, amount)

    def command(self, op: Op) -> Command | None:
        """The command ``op`` stands for, or None if nothing reaches the engine."""
        self.count += 1
        key = f"k{self.count}"
        command: Command
        if isinstance(op, Resend):
            return self.history[op.pick % len(self.history)] if self.history else None
        if isinstance(op, SameKey):
            earlier = self.history[op.pick % len(self.history)].key if self.history else key
            command = replace(op.command, key=earlier)
        elif isinstance(op, CancelOwn):
            mine = sorted(
                (o for o in self.ref.open.values() if o["member"] == op.member_id),
                key=lambda o: o["id"],
            )
            if not mine:
                command = CancelOrder(key=key, member_id=op.member_id, client_id="none-such")
            else:
                order = mine[op.pick % len(mine)]
                if op.by_client_id and order["client_id"] is not None:
                    command = CancelOrder(
                        key=key, member_id=op.member_id, client_id=order["client_id"]
                    )
                else:
                    command = CancelOrder(key=key, member_id=op.member_id, order_id=order["id"])
        elif isinstance(op, AmendOwn):
            command = self.amend(op, key)
        elif isinstance(op, BulkOp):
            cancels = [self.cancel_item(c, op.member_id) for c in op.cancels]
            command = BulkOrders(
                key=key, member_id=op.member_id, place=list(op.places), cancel=cancels
            )
        elif isinstance(op, DecimalOrder):
            m = self.markets[op.market]
            volume: int | None
            price: int | None
            try:
                volume = to_units(op.volume, m.amount_precision)
                price = to_units(op.price, m.price_precision)
            except OverPrecise:
                volume = price = None
            expected = (
                parse_units(op.volume, m.amount_precision),
                parse_units(op.price, m.price_precision),
            )
            if None in expected:
                assert volume is None, f"{op}: the edge accepted an over-precise amount"
                return None
            assert (volume, price) == expected, op
            assert volume is not None and price is not None  # for mypy: expected has no None
            command = PlaceOrder(
                key=key,
                member_id=op.member_id,
                market=op.market,
                side=op.side,
                volume=volume,
                price=price,
                time_in_force=op.time_in_force,
            )
        elif isinstance(op, DecimalCredit):
            places = self.universe.currencies[op.currency][1]
            try:
                amount: int | None = to_units(op.amount, places)
            except OverPrecise:
                amount = None
            assert amount == parse_units(op.amount, places), op
            if amount is None:
                return None
            command = Credit(
                key=key,
                member_id=op.member_id,
                currency=op.currency,
                amount=amount,
                deposit_id=f"dec-{self.count}",
            )
        else:
            command = replace(op, key=key)
        self.history.append(command)
        return command

    def mine(self, member: int) -> list[dict[str, Any]]:
        """The member's open orders in the reference (resting or waiting), oldest first."""
        return sorted(
            (o for o in self.ref.open.values() if o["member"] == member), key=lambda o: o["id"]
        )

    def cancel_item(self, item: Any, member: int) -> Any:
        if not isinstance(item, CancelPick):
            return item
        mine = self.mine(member)
        if not mine:
            return {"client_id": "none-such"}
        order = mine[item.pick % len(mine)]
        if item.by_client_id and order["client_id"] is not None:
            return {"client_id": order["client_id"]}
        return {"order_id": order["id"]}

    def amend(self, op: AmendOwn, key: str) -> Command:
        mine = self.mine(op.member_id)
        resting = [o for o in mine if o["type"] == LIMIT and o["oco"] is None]
        if op.resting and resting:
            mine = resting
        if not mine:
            return AmendOrder(key=key, member_id=op.member_id, order_id=10**6, price=1)
        order = mine[op.pick % len(mine)]
        volume = {
            "keep": 0,
            "same": order["volume"],
            "less": max(1, order["volume"] - op.delta),
            "more": order["volume"] + op.delta,
        }[op.volume]
        if op.by_client_id and order["client_id"] is not None:
            return AmendOrder(
                key=key,
                member_id=op.member_id,
                client_id=order["client_id"],
                price=op.price,
                volume=volume,
            )
        return AmendOrder(
            key=key, member_id=op.member_id, order_id=order["id"], price=op.price, volume=volume
        )

    def expect(self, command: Command) -> tuple[bool, Outcome]:
        """(whether the key was seen before, the reference's outcome)."""
        repeated = command.key in self.ref.results
        return repeated, self.ref.apply(command)

    def applied(self, command: Command, ok: bool) -> None:
        """Count a newly applied command's money flows (the engine said ``ok``)."""
        if not ok:
            return
        if isinstance(command, Credit):
            self.inflow[command.currency] += command.amount
            self.fees[command.currency] += command.fee
        elif isinstance(command, HoldWithdrawal):
            self.held[command.withdrawal_id] = (command.currency, command.amount)
        elif isinstance(command, SettleWithdrawal):
            currency, amount = self.held[command.withdrawal_id]
            self.inflow[currency] -= amount - command.fee
            self.fees[currency] += command.fee
        elif isinstance(command, Adjust):
            self.inflow[command.currency] += command.amount
        elif isinstance(command, Transfer):
            flows = {1: self.inflow, 3: self.fees, 4: self.expenses}
            for leg in command.legs:
                for code, amount in ((leg["src"], -leg["amount"]), (leg["dst"], leg["amount"])):
                    if code // 100 in flows:
                        flows[code // 100][leg["currency"]] += amount


class Ledger:
    """The engine's postings, summed as the database would (credit - debit)."""

    def __init__(self) -> None:
        self.postings: list[tuple[Any, ...]] = []
        self.by_class: dict[tuple[str, int], int] = defaultdict(int)  # (currency, 1..4)
        # (member, currency, main or locked): liability accounts always belong to a member.
        self.liability: dict[tuple[int, str, str], int] = defaultdict(int)
        self.trades: list[TradeRow] = []
        self.trade_fees: dict[str, int] = defaultdict(int)

    def add(self, journal: Any, engine: Engine) -> None:
        postings = list(journal.postings)
        for trade in journal.trades:
            spec = engine.books[trade.market].spec
            postings.extend(trade_postings(trade, spec))
            self.trades.append(trade_row(trade))
            buyer_fee, seller_fee = (
                (trade.taker_fee_amount, trade.maker_fee_amount)
                if trade.taker_side == BUY
                else (trade.maker_fee_amount, trade.taker_fee_amount)
            )
            self.trade_fees[spec.base.code] += buyer_fee
            self.trade_fees[spec.quote.code] += seller_fee
        for posting in postings:
            _, code, currency, member, _, _, debit, credit, _ = posting
            assert debit >= 0 and credit >= 0, posting
            self.by_class[(currency, code // 100)] += credit - debit
            if code // 100 == 2:
                kind = "main" if code in (201, 202) else "locked"
                self.liability[(member, currency, kind)] += credit - debit
        self.postings.extend(postings)


def trade_row(t: Any) -> TradeRow:
    return (
        t.id,
        t.market,
        t.price,
        t.volume,
        t.total,
        t.maker_order_id,
        t.taker_order_id,
        t.maker_id,
        t.taker_id,
        t.taker_side,
        t.maker_fee_amount,
        t.taker_fee_amount,
    )


def outcome_of(result: Result) -> Outcome:
    """The engine's result, right after ``apply``, as the reference states outcomes."""
    o, a = result.order, result.account
    return Outcome(
        seq=result.seq,
        error=result.error,
        order=None
        if o is None
        else (
            o.id,
            o.state,
            o.volume,
            o.locked,
            o.origin_locked,
            o.funds_received,
            o.trades_count,
            o.oco_id,
        ),
        orders=None
        if result.orders is None
        else tuple(sorted((x.id, x.state, x.volume, x.locked) for x in result.orders)),
        account=None if a is None else (a.member_id, a.currency, a.balance, a.locked),
        items=None if result.items is None else tuple(outcome_of(i) for i in result.items),
    )


def result_orders(result: Result) -> list[Order]:
    """The live orders a result names (its items' included), before it is frozen."""
    found = ([] if result.order is None else [result.order]) + list(result.orders or [])
    for item in result.items or []:
        found.extend(result_orders(item))
    return found


def snapshot_summary(snapshot: dict[str, Any]) -> tuple[Any, ...]:
    """A committed result (what a runner's caller hears) in ``Outcome.summary`` form."""
    order, orders, items = snapshot.get("order"), snapshot.get("orders"), snapshot.get("items")
    return (
        snapshot["seq"],
        snapshot["error"],
        None if order is None else order["id"],
        None if orders is None else tuple(sorted(o["id"] for o in orders)),
        None if items is None else tuple(snapshot_summary(i) for i in items),
    )


def engine_order_state(o: Order) -> tuple[Any, ...]:
    """An engine order as ``Reference.order_state`` states it."""
    return (
        o.id,
        o.ord_type,
        o.state,
        o.price,
        o.trigger_price,
        o.trigger_condition,
        o.origin_volume,
        o.volume,
        o.locked,
        o.funds_received,
        o.trades_count,
        o.client_id,
        o.oco_id,
    )


def _met(condition: str, trigger: int, last: int) -> bool:
    return last >= trigger if condition == ABOVE else last <= trigger


class TriggerWatch:
    """Every order the engine named, watched command by command, for what must hold of
    trigger orders and OCOs whatever the reference says."""

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.left_wait: dict[int, int] = {}  # trigger order id -> seq it left trigger_wait
        self.taker_seqs: dict[int, set[int]] = defaultdict(set)  # order id -> seqs as taker
        self.traded: set[int] = set()  # ids of orders with a trade

    def after(self, engine: Engine, result: Result, trades: list[Any]) -> None:
        """Check the engine after one applied command (``trades``: the ones it made)."""
        seq = engine.seq
        for order in result_orders(result):
            self.orders[order.id] = order
        for t in trades:
            assert t.seq == seq, t
            self.taker_seqs[t.taker_order_id].add(seq)
            self.traded.update((t.maker_order_id, t.taker_order_id))
        for order in self.orders.values():
            if order.ord_type not in (STOP_LIMIT, STOP_MARKET):
                continue
            book = engine.books[order.market]
            if order.state == TRIGGER_WAIT:
                # Never left and came back; never waiting while its price is crossed.
                assert order.id not in self.left_wait, order.view()
                last = book.last_price()
                assert not (last and _met(order.trigger_condition, order.trigger_price, last))
                continue
            self.left_wait.setdefault(order.id, seq)
            # A trigger order takes liquidity once at most: in the command that fired it,
            # after a trade of that command crossed its trigger.
            seqs = self.taker_seqs.get(order.id, set())
            assert seqs <= {self.left_wait[order.id]}, (order.view(), seqs)
            if seqs and self.left_wait[order.id] == seq:
                first = min(t.id for t in trades if t.taker_order_id == order.id)
                assert any(
                    t.id < first
                    and t.market == order.market
                    and _met(order.trigger_condition, order.trigger_price, t.price)
                    for t in trades
                ), order.view()
        for order in self.orders.values():
            if order.oco_id is None or order.ord_type != LIMIT:
                continue
            stop = self.orders[order.oco_id]
            # Never both legs trade; the limit leg's first trade cancels the stop leg at once.
            assert not (order.id in self.traded and stop.id in self.traded), order.view()
            if order.trades_count:
                assert stop.state == "cancel", (order.view(), stop.view())
            if stop.state not in (TRIGGER_WAIT, "cancel") or stop.trades_count:
                assert order.state == "cancel" and order.trades_count == 0, order.view()


def balances(engine: Engine) -> dict[tuple[int, str], tuple[int, int]]:
    return {
        (member, currency): (a.balance, a.locked)
        for member, accounts in engine.balances.items()
        for currency, a in accounts.items()
        if a.balance or a.locked
    }


def open_orders(engine: Engine) -> dict[int, tuple[Any, ...]]:
    return {
        i: (o.member_id, o.market, o.side, o.price, o.volume, o.locked)
        for i, o in engine.open_orders.items()
    }


def holds(engine: Engine) -> dict[str, tuple[Any, ...]]:
    return {w: (h.member_id, h.currency, h.amount, h.state) for w, h in engine.holds.items()}


def full_state(engine: Engine) -> dict[str, Any]:
    """Everything observable about an engine, for comparing two of them."""
    return {
        "accounts": {
            (m, c): (a.balance, a.locked)
            for m, accounts in engine.balances.items()
            for c, a in accounts.items()
        },
        "orders": {
            i: (
                o.view(),
                o.member_id,
                o.time_in_force,
                o.post_only,
                o.origin_locked,
                o.maker_fee,
                o.taker_fee,
                o.seq,
                o.created_at,
                o.updated_at,
            )
            for i, o in engine.open_orders.items()
        },
        "books": {
            market: (
                book.bids.keys,
                book.asks.keys,
                book.bids.depth(10**6),
                book.asks.depth(10**6),
                [trade_row(t) for t in book.recent_trades],
            )
            for market, book in engine.books.items()
        },
        "holds": {
            w: (h.member_id, h.currency, h.amount, h.state, h.seq, h.updated_at)
            for w, h in engine.holds.items()
        },
        "results": {k: (r.seq, r.error) for k, r in engine.results.items()},
        "counters": (engine.seq, engine.next_order_id, engine.next_trade_id),
    }


def compare_with_reference(engine: Engine, h: Harness, trades: list[TradeRow]) -> None:
    ref = h.ref
    assert trades == ref.trades
    assert balances(engine) == ref.balances_view()
    assert open_orders(engine) == ref.open_orders_view(triggers=True)
    assert holds(engine) == ref.holds_view()
    assert (engine.seq, engine.next_order_id, engine.next_trade_id) == (
        ref.seq,
        ref.next_order_id,
        ref.next_trade_id,
    )
    for market, book in engine.books.items():
        for side, book_side in ((BUY, book.bids), (SELL, book.asks)):
            expected = ref.book(market, side)
            assert [o.id for o in book_side.orders_by_priority(10**6)] == [
                o["id"] for o in expected
            ]
            depth: dict[int, int] = {}
            for o in expected:
                depth[o["price"]] = depth.get(o["price"], 0) + o["volume"]
            assert book_side.depth(10**6) == list(depth.items())


def check_invariants(engine: Engine, h: Harness, ledger: Ledger) -> None:
    """What must hold after every batch, whatever the commands were."""
    accounts = balances(engine)
    for key, (balance, locked) in accounts.items():
        assert balance >= 0 and locked >= 0, (key, balance, locked)

    # Locked funds are exactly what open orders and held withdrawals hold.
    holdings: dict[tuple[int, str], int] = defaultdict(int)
    for order in engine.open_orders.values():
        spec = engine.books[order.market].spec
        assert order.volume > 0 and order.state in ("wait", TRIGGER_WAIT)
        if order.state == TRIGGER_WAIT and order.oco_id is not None:
            assert order.locked == 0  # an OCO's stop leg: its limit leg holds the funds
        elif order.side == BUY:
            price = order.trigger_price if order.ord_type == STOP_MARKET else order.price
            assert order.locked >= price * order.volume * spec.quote_per_tick_lot
            holdings[(order.member_id, spec.quote.code)] += order.locked
        else:
            assert order.locked == order.volume * spec.base_per_lot
            holdings[(order.member_id, spec.base.code)] += order.locked
    for hold in engine.holds.values():
        if hold.state == HELD:
            holdings[(hold.member_id, hold.currency)] += hold.amount
    locked_by_account = {key: lk for key, (_, lk) in accounts.items() if lk}
    assert locked_by_account == {key: amount for key, amount in holdings.items() if amount}

    # No book is crossed.
    for book in engine.books.values():
        bid, ask = book.bids.best_price(), book.asks.best_price()
        assert bid is None or ask is None or bid < ask, (book.spec.id, bid, ask)

    # Conservation: what members hold plus the fees taken, less expenses, is what came
    # in, less what was sent out, plus adjustments and transfers to assets.
    held: dict[str, int] = defaultdict(int)
    for (_, currency), (balance, lk) in accounts.items():
        held[currency] += balance + lk
    for currency in engine.currencies:
        fees = h.fees[currency] + ledger.trade_fees[currency]
        assert held[currency] + fees - h.expenses[currency] == h.inflow[currency], currency

    # The postings balance (assets = liabilities + revenues - expenses) and every
    # account's balance and locked equal its liability postings.
    for currency in engine.currencies:
        totals = [ledger.by_class[(currency, cls)] for cls in (1, 2, 3, 4)]
        assert totals[0] == totals[1] + totals[2] - totals[3], (currency, totals)
        assert totals[2] == h.fees[currency] + ledger.trade_fees[currency], currency
        assert totals[3] == h.expenses[currency], currency
    for (member, currency, kind), amount in ledger.liability.items():
        balance, lk = accounts.get((member, currency), (0, 0))
        assert amount == (balance if kind == "main" else lk), (member, currency, kind)
    for (member, currency), (balance, lk) in accounts.items():
        assert ledger.liability[(member, currency, "main")] == balance
        assert ledger.liability[(member, currency, "locked")] == lk


T0 = 1_767_225_600_000_000  # 2026-01-01, microseconds


def run_in_memory(u: Universe, scenario: Scenario, *, check: bool) -> tuple[Engine, Harness]:
    """Run ``scenario`` through an ``Engine`` batch by batch; with ``check``, compare every
    outcome, every order the engine named and every batch's state with the reference and
    check the invariants."""
    engine, h, ledger, watch = u.engine(), Harness(u), Ledger(), TriggerWatch()
    ts = T0
    for batch in scenario.batches:
        for op in batch:
            command = h.command(op)
            if command is None:
                continue
            ts += 1
            repeated, expected = h.expect(command)
            made = len(engine.journal.trades)
            result = engine.apply(command, ts)
            h.sent.append((command, ts))
            if repeated:
                assert outcome_of(result).summary() == expected.summary(), command
            else:
                h.applied(command, result.ok)
                if check:
                    assert outcome_of(result) == expected, command
                    watch.after(engine, result, engine.journal.trades[made:])
                    assert {
                        i: engine_order_state(o) for i, o in watch.orders.items()
                    } == h.ref.orders_view(), command
        journal = engine.end_batch()
        for order in journal.orders.values():
            if check:
                assert watch.orders.get(order.id, order) is order, order.view()
        ledger.add(journal, engine)
        if check:
            compare_with_reference(engine, h, ledger.trades)
            check_invariants(engine, h, ledger)
    return engine, h


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(MEMORY, max_batches=10))
def test_engine_agrees_with_the_reference_model(scenario: Scenario) -> None:
    run_in_memory(MEMORY, scenario, check=True)


@settings(max_examples=100, deadline=None)
@given(scenario=scenarios(MEMORY, max_batches=10))
def test_replay_gives_the_same_state(scenario: Scenario) -> None:
    engine, h = run_in_memory(MEMORY, scenario, check=False)
    # The same commands at the same times, one batch each this time.
    again = MEMORY.engine()
    for command, ts in h.sent:
        again.apply(command, ts)
        again.end_batch()
    assert full_state(again) == full_state(engine)


# ---------------------------------------------------------------------- through PostgreSQL


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _units(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    assert scaled == int(scaled), (value, places)
    return int(scaled)


async def stored_trades(conn: asyncpg.Connection, u: Universe) -> list[TradeRow]:
    """The trades table, back in engine integers (fees in the payer's currency)."""
    markets = {m.id: m for m in u.ref_markets()}
    rows = []
    for r in await conn.fetch("SELECT * FROM trades ORDER BY id"):
        m = markets[r["market_id"]]
        buyer_p, seller_p = m.base_precision, m.quote_precision
        maker_p, taker_p = (seller_p, buyer_p) if r["taker_type"] == BUY else (buyer_p, seller_p)
        rows.append(
            (
                r["id"],
                r["market_id"],
                _units(r["price"], m.price_precision),
                _units(r["amount"], m.amount_precision),
                _units(r["total"], m.quote_precision),
                r["maker_order_id"],
                r["taker_order_id"],
                r["maker_id"],
                r["taker_id"],
                r["taker_type"],
                _units(r["maker_fee_amount"], maker_p),
                _units(r["taker_fee_amount"], taker_p),
            )
        )
    return rows


def recovered_state(engine: Engine) -> dict[str, Any]:
    """What a restart must bring back."""
    return {
        "balances": balances(engine),
        "orders": {
            i: (o.view(), o.member_id, o.time_in_force, o.post_only, o.origin_locked)
            for i, o in engine.open_orders.items()
        },
        "holds": holds(engine),
        "counters": (engine.seq, engine.next_order_id, engine.next_trade_id),
        "priority": {
            market: [[o.id for o in side.orders_by_priority(10**6)] for side in (b.bids, b.asks)]
            for market, b in engine.books.items()
        },
    }


@dataclass
class DbRun:
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


async def run_through_runner(url: str, scenario: Scenario, h: Harness) -> DbRun:
    run = DbRun()
    runner = EngineRunner(url, InProcessBus(), load_specs)
    await runner.start()
    conn = await asyncpg.connect(url)
    try:
        for batch in scenario.batches:
            commands, expected = [], []
            for op in batch:
                command = h.command(op)
                if command is not None:
                    commands.append(command)
                    expected.append(h.expect(command))
            # Tasks start in creation order, so the inbox gets the commands in this order.
            answers = await asyncio.gather(*(runner.submit(c) for c in commands))
            for command, (repeated, outcome), answer in zip(
                commands, expected, answers, strict=True
            ):
                assert snapshot_summary(answer) == outcome.summary(), command
                run.answers.setdefault(command.key, answer)
                if not repeated:
                    h.applied(command, answer["error"] is None)
            report = await verify_ledger(conn)
            assert report.ok, [b.describe() for b in report.breaks]
            engine = runner.engine
            assert balances(engine) == h.ref.balances_view()
            assert open_orders(engine) == h.ref.open_orders_view(triggers=True)
            assert holds(engine) == h.ref.holds_view()
        assert await stored_trades(conn, h.universe) == h.ref.trades
        run.state = recovered_state(runner.engine)
    finally:
        await runner.stop()
        await conn.close()
    return run


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # No shrinking: every attempt costs a database, so shrinking would run for minutes. The
    # in-memory properties shrink whatever the engine itself gets wrong.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(scenario=scenarios(DEMO, max_batches=10))
async def test_runner_keeps_the_ledger_replays_and_recovers(
    template_database: str, scenario: Scenario
) -> None:
    name = f"bursa_prop_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    url = database_url(name)
    try:
        h = Harness(DEMO)
        run = await run_through_runner(url, scenario, h)

        conn = await asyncpg.connect(url)
        try:
            currencies, markets = await load_specs(conn)
            report = await check_replay(conn, currencies, markets)
            assert report.ok, report.differences
            assert report.commands == h.ref.seq
        finally:
            await conn.close()

        restarted = EngineRunner(url, InProcessBus(), load_specs)
        await restarted.start()
        try:
            assert recovered_state(restarted.engine) == run.state
            # Keys survive the restart: a retry is answered with the first result.
            for command in h.history[-5:]:
                assert await restarted.submit(command) == run.answers[command.key]
            assert restarted.engine.seq == h.ref.seq
        finally:
            await restarted.stop()
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
