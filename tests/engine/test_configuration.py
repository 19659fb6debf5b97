"""Configuration through the engine: currencies, markets, trading fees by market and member
group, and members' groups. Each is a logged command, so a restart restores it and a replay
of the log reproduces the same state even when rules changed between trades."""

from decimal import Decimal
from typing import Any

import asyncpg

from bursa.engine.commands import (
    ConfigureCurrency,
    ConfigureMarket,
    Credit,
    PlaceOrder,
    SetMemberGroup,
    SetTradingFee,
)
from bursa.engine.core import Engine
from bursa.engine.replay import check_replay
from bursa.engine.specs import ANY, COIN, CurrencySpec, MarketSpec
from bursa.ledger.verify import verify_ledger
from bursa.trading.specs import load_specs
from tests.engine.test_runner import runner_for

BTC = CurrencySpec("btc", COIN, 8)
USDT = CurrencySpec("usdt", COIN, 8)
BTCUSDT = MarketSpec(
    id="btcusdt",
    base=BTC,
    quote=USDT,
    amount_precision=6,
    price_precision=2,
    min_price=1,
    max_price=0,
    min_amount=1,
    maker_fee=1_000,
    taker_fee=2_000,
)
TS = 1_700_000_000_000_000


def fee(key: str, market: str, group: str, maker: int, taker: int) -> SetTradingFee:
    return SetTradingFee(key=key, market=market, group=group, maker=maker, taker=taker)


def order_fees(engine: Engine, member: int, key: str) -> tuple[int, int]:
    engine.apply(
        Credit(
            key=f"c-{key}", member_id=member, currency="usdt", amount=10**12, deposit_id=f"d-{key}"
        ),
        TS,
    )
    result = engine.apply(
        PlaceOrder(key=key, member_id=member, market="btcusdt", side="buy", volume=1, price=100),
        TS,
    )
    assert result.order is not None, result.error
    return result.order.maker_fee, result.order.taker_fee


def test_the_most_specific_trading_fee_wins_group_before_market() -> None:
    engine = Engine([BTC, USDT], [BTCUSDT])
    assert order_fees(engine, 1, "o1") == (1_000, 2_000)  # no schedule: the market's fees
    steps = [
        (fee("f1", ANY, ANY, 900, 1_900), (900, 1_900)),
        (fee("f2", "btcusdt", ANY, 800, 1_800), (800, 1_800)),
        (fee("f3", ANY, "vip-1", 700, 1_700), (700, 1_700)),
        (fee("f4", "btcusdt", "vip-1", 600, 1_600), (600, 1_600)),
    ]
    assert engine.apply(SetMemberGroup(key="g1", member_id=1, group="vip-1"), TS).ok
    for number, (command, expected) in enumerate(steps):
        assert engine.apply(command, TS).ok
        assert order_fees(engine, 1, f"vip-{number}") == expected
    # Member 2 stays in the default group: the group-free entries apply to them.
    assert order_fees(engine, 2, "plain") == (800, 1_800)
    removed = engine.apply(fee("f5", "btcusdt", "vip-1", -1, -1), TS)
    assert removed.ok and removed.freeze()["previous"] == ["btcusdt", "vip-1", 600, 1_600]
    assert order_fees(engine, 1, "after-removal") == (700, 1_700)


def test_a_configured_market_trades_and_a_disabled_one_keeps_its_book() -> None:
    engine = Engine([BTC, USDT], [BTCUSDT])
    sol = engine.apply(ConfigureCurrency(key="sol", code="sol", type=COIN, precision=9), TS)
    assert sol.freeze()["previous"] is None
    rules: dict[str, Any] = {
        "market": "solusdt",
        "base": "sol",
        "quote": "usdt",
        "amount_precision": 2,
        "price_precision": 3,
        "min_price": 1,
        "max_price": 0,
        "min_amount": 1,
        "maker_fee": 0,
        "taker_fee": 0,
        "state": "enabled",
    }
    assert engine.apply(ConfigureMarket(key="m1", **rules), TS).ok
    engine.apply(Credit(key="c1", member_id=1, currency="sol", amount=10**10, deposit_id="d1"), TS)
    ask = PlaceOrder(key="a", member_id=1, market="solusdt", side="sell", volume=100, price=5)
    assert engine.apply(ask, TS).order is not None
    disabled = engine.apply(ConfigureMarket(key="m2", **{**rules, "state": "disabled"}), TS)
    assert disabled.freeze()["previous"]["tradable"] is True
    assert engine.books["solusdt"].asks.keys  # the resting order stays
    again = PlaceOrder(key="b", member_id=1, market="solusdt", side="sell", volume=100, price=5)
    assert engine.apply(again, TS).error == "market.market.doesnt_exist_or_not_enabled"


async def test_restart_and_replay_reproduce_configuration_changed_between_trades(
    fresh_database_url: str,
) -> None:
    conn = await asyncpg.connect(fresh_database_url)
    runner = runner_for(fresh_database_url)
    await runner.start()
    try:
        market = await conn.fetchrow("SELECT * FROM markets WHERE id = 'btcusdt'")
        rules = {
            "market": "btcusdt",
            "base": "btc",
            "quote": "usdt",
            "amount_precision": market["amount_precision"],
            "price_precision": market["price_precision"],
            "min_price": 1,
            "max_price": 0,
            "min_amount": 1,
            "state": "enabled",
            "position": market["position"],
        }
        for member in (1, 2):
            for currency, amount in (("btc", 10**8), ("usdt", 10**12)):
                await runner.submit(
                    Credit(
                        key=f"c{member}{currency}",
                        member_id=member,
                        currency=currency,
                        amount=amount,
                        deposit_id=f"d{member}{currency}",
                    )
                )

        async def cross(tag: str) -> None:
            for member, side in ((1, "sell"), (2, "buy")):
                placed = await runner.submit(
                    PlaceOrder(
                        key=f"{tag}-{side}",
                        member_id=member,
                        market="btcusdt",
                        side=side,
                        volume=1000,
                        price=3_000_000,
                    )
                )
                assert placed["error"] is None

        await cross("before")
        changed = await runner.submit(
            ConfigureMarket(key="rules-1", maker_fee=3_000, taker_fee=4_000, **rules)
        )
        assert changed["error"] is None and changed["previous"]["maker_fee"] != 3_000
        await cross("market-fees")
        assert (await runner.submit(fee("fee-1", ANY, "vip-2", 0, 500)))["error"] is None
        assert (await runner.submit(SetMemberGroup(key="g-2", member_id=2, group="vip-2")))[
            "error"
        ] is None
        await cross("group-fees")

        stored = await conn.fetchrow(
            "SELECT maker_fee, taker_fee FROM markets WHERE id = 'btcusdt'"
        )
        assert (stored["maker_fee"], stored["taker_fee"]) == (Decimal("0.003"), Decimal("0.004"))
        assert await conn.fetchval(
            "SELECT taker FROM trading_fees WHERE market_id = 'any' AND \"group\" = 'vip-2'"
        ) == Decimal("0.0005")
        fees = await conn.fetch("SELECT maker_fee, taker_fee FROM orders ORDER BY id")
        assert [(r["maker_fee"], r["taker_fee"]) for r in fees][-2:] == [
            (Decimal("0.003"), Decimal("0.004")),  # member 1: default group, the market's
            (Decimal("0"), Decimal("0.0005")),  # member 2: vip-2
        ]
    finally:
        await runner.stop()

    restarted = runner_for(fresh_database_url)
    await restarted.start()
    try:
        assert restarted.engine.fees == {(ANY, "vip-2"): (0, 500)}
        assert restarted.engine.member_groups == {2: "vip-2"}
        assert restarted.engine.markets["btcusdt"].maker_fee == 3_000
    finally:
        await restarted.stop()
    try:
        assert (await verify_ledger(conn)).ok
        currencies, markets = await load_specs(conn)
        report = await check_replay(conn, currencies, markets)
        assert report.ok, report.differences
    finally:
        await conn.close()
