"""Market data over HTTP: trade history, tickers and k-lines from committed trades, books
as committed; all of it the same after a restart."""

import asyncio
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from bursa.engine.commands import BUY, SELL, Credit, PlaceOrder
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.specs import load_specs
from tests.api.test_public import (
    BUYER,
    SAT_PER_BTC,
    SELLER,
    TRADE_FIELDS,
    USDT_SUBUNITS,
    Api,
    api,
    assert_error,
    btc,
    serving,
    usdt,
)

__all__ = ["api"]

HOUR = 3600
PERIODS = (1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 4320, 10080)


async def fund(submit: Any) -> None:
    await submit(
        Credit(key="c1", member_id=SELLER, currency="btc", amount=5 * SAT_PER_BTC, deposit_id="1")
    )
    await submit(
        Credit(
            key="c2",
            member_id=BUYER,
            currency="usdt",
            amount=1_000_000 * USDT_SUBUNITS,
            deposit_id="2",
        )
    )


async def cross(submit: Any, key: str, amount: str, price: str) -> None:
    """One trade: the seller rests, the buyer takes."""
    for member, side in ((SELLER, SELL), (BUYER, BUY)):
        await submit(
            PlaceOrder(
                key=f"{key}-{side}",
                member_id=member,
                market="btcusdt",
                side=side,
                volume=btc(amount),
                price=usdt(price),
            )
        )


async def _submit_ok(runner: EngineRunner, command: Any) -> None:
    result = await runner.submit(command)
    assert result["error"] is None, result


# ---------------------------------------------------------------------- history in time

# (seconds before now, amount, price): trade 1 lies outside the 24-hour window.
HISTORY = [
    (25 * HOUR, "0.1", "50000"),
    (3 * HOUR, "0.2", "51000"),
    (3 * HOUR - 30, "0.1", "49000"),
    (1 * HOUR, "0.3", "52000"),
    (1 * HOUR - 300, "0.1", "50500"),
]


@pytest.fixture
async def history(fresh_database_url: str) -> list[int]:
    """Five trades committed by the engine, then moved back in time (to the ``HISTORY``
    moments) before any candle writer ran: the first writer catches up from the table."""
    runner = EngineRunner(fresh_database_url, InProcessBus(), load_specs)
    await runner.start()
    try:
        await fund(lambda c: _submit_ok(runner, c))
        for index, (_, amount, price) in enumerate(HISTORY):
            await cross(lambda c: _submit_ok(runner, c), f"h{index}", amount, price)
    finally:
        await runner.stop()
    conn = await asyncpg.connect(fresh_database_url)
    try:
        now = int(await conn.fetchval("SELECT extract(epoch FROM now())::bigint"))
        moments = [now - ago for ago, _, _ in HISTORY]
        for trade_id, moment in enumerate(moments, start=1):
            await conn.execute(
                "UPDATE trades SET created_at = to_timestamp($2) WHERE id = $1", trade_id, moment
            )
        assert await conn.fetchval("SELECT count(*) FROM candles") == 0
    finally:
        await conn.close()
    return moments


def expected_candles(moments: list[int], period: int) -> list[list[Any]]:
    """The reference: Peatio's candles of ``HISTORY`` for one period, oldest first."""
    buckets: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    seconds = period * 60
    for moment, (_, amount, price) in zip(moments, HISTORY, strict=True):
        buckets[moment - moment % seconds].append((Decimal(price), Decimal(amount)))
    return [
        [
            start,
            trades[0][0],
            max(p for p, _ in trades),
            min(p for p, _ in trades),
            trades[-1][0],
            sum((a for _, a in trades), Decimal(0)),
        ]
        for start, trades in sorted(buckets.items())
    ]


def numbers(response: Any) -> list[list[Any]]:
    """The k-line body with its numbers read exactly (as decimals, never floats)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    points = json.loads(response.text, parse_float=Decimal, parse_int=Decimal)
    return [[int(p[0]), *p[1:]] for p in points]


async def test_k_lines_of_every_period_after_catching_up(
    history: list[int], fresh_database_url: str, local_keystore: LocalKeyStore
) -> None:
    async with serving(fresh_database_url, local_keystore) as api:
        for period in PERIODS:
            expected = expected_candles(history, period)
            got = numbers(await api.get("/markets/btcusdt/k-line", period=period, limit=100))
            assert got == expected, period
        one = expected_candles(history, 1)
        default = numbers(await api.get("/markets/btcusdt/k-line"))  # period 1, last 30
        assert default == one
        assert numbers(await api.get("/markets/btcusdt/k-line", limit=2)) == one[-2:]
        # time_from: the first ``limit`` from there; both times: the range [from, to], the
        # candle starting at ``time_to`` included (Peatio's).
        assert (
            numbers(await api.get("/markets/btcusdt/k-line", time_from=one[1][0], limit=2))
            == one[1:3]
        )
        assert (
            numbers(
                await api.get(
                    "/markets/btcusdt/k-line", time_from=one[1][0], time_to=one[3][0], limit=1
                )
            )
            == one[1:4]
        )
        assert numbers(await api.get("/markets/btcusdt/k-line", time_to=one[3][0])) == one[:4]
        assert numbers(await api.get("/markets/btcusdt/k-line", time_to=one[3][0] - 1)) == one[:3]
        assert numbers(await api.get("/markets/ethusdt/k-line")) == []


async def test_trade_history_in_time(
    history: list[int], fresh_database_url: str, local_keystore: LocalKeyStore
) -> None:
    async with serving(fresh_database_url, local_keystore) as api:
        newest = (await api.get("/markets/btcusdt/trades")).json()
        assert [t["id"] for t in newest] == [5, 4, 3, 2, 1]
        assert [t["created_at"] for t in newest] == history[::-1]
        for trade in newest:
            assert set(trade) == TRADE_FIELDS
        assert (newest[0]["price"], newest[0]["amount"], newest[0]["total"]) == (
            "50500",
            "0.1",
            "5050",
        )
        oldest = (await api.get("/markets/btcusdt/trades", order_by="asc", limit=2)).json()
        assert [t["id"] for t in oldest] == [1, 2]
        before = (await api.get("/markets/btcusdt/trades", timestamp=history[3])).json()
        assert [t["id"] for t in before] == [3, 2, 1]  # strictly before
        first = await api.get(
            "/markets/btcusdt/trades", timestamp=history[3], order_by="asc", limit=1
        )
        assert [t["id"] for t in first.json()] == [1]
        assert (await api.get("/markets/btcusdt/trades", timestamp=history[0])).json() == []


async def test_tickers_follow_the_trades(
    history: list[int], fresh_database_url: str, local_keystore: LocalKeyStore
) -> None:
    async with serving(fresh_database_url, local_keystore) as api:
        response = await api.get("/markets/btcusdt/tickers")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"at", "ticker"}
        assert isinstance(body["at"], int)
        # Trade 1 is older than 24 hours: only trades 2-5 count, but ``last`` is the latest.
        assert body["ticker"] == {
            "at": body["at"],
            "low": "49000",
            "high": "52000",
            "open": "51000",
            "last": "50500",
            "volume": "35750",  # quote: 10200 + 4900 + 15600 + 5050
            "amount": "0.7",
            "vol": "35750",
            "avg_price": "51071.42",  # 35750 / 0.7, rounded down to the price precision
            "price_change_percent": "-0.98%",
        }
        every = (await api.get("/markets/tickers")).json()
        assert list(every) == ["btcusdt", "ethusdt", "ethbtc", "btcusd"]
        assert every["btcusdt"]["ticker"] == {**body["ticker"], "at": every["btcusdt"]["at"]}
        assert every["ethusdt"]["ticker"] == {
            "at": every["ethusdt"]["at"],
            "low": "0",
            "high": "0",
            "open": "0",
            "last": "0",
            "volume": "0",
            "amount": "0",
            "vol": "0",
            "avg_price": "0",
            "price_change_percent": "+0.00%",
        }

        await cross(api.submit, "now", "0.1", "53000")  # a new trade, committed now
        await api.settle()

        ticker = (await api.get("/markets/btcusdt/tickers")).json()["ticker"]
        assert (ticker["high"], ticker["last"], ticker["volume"], ticker["amount"]) == (
            "53000",
            "53000",
            "41050",
            "0.8",
        )
        assert ticker["price_change_percent"] == "+3.92%"
        trades = (await api.get("/markets/btcusdt/trades", limit=1)).json()
        assert (trades[0]["id"], trades[0]["price"]) == (6, "53000")
        last_candle = numbers(await api.get("/markets/btcusdt/k-line", limit=1))[0]
        assert last_candle[4] == Decimal("53000")


async def test_market_data_survives_a_restart(
    history: list[int], fresh_database_url: str, local_keystore: LocalKeyStore
) -> None:
    paths = [
        ("/markets/btcusdt/trades", {"limit": 1000}),
        ("/markets/btcusdt/k-line", {"period": 60}),
        ("/markets/btcusdt/k-line", {"period": 1, "limit": 5}),
        ("/markets/btcusdt/depth", {}),
        ("/markets/btcusdt/order-book", {}),
    ]

    async def everything(api: Api) -> list[Any]:
        seen = [(await api.get(path, **params)).json() for path, params in paths]
        ticker = (await api.get("/markets/btcusdt/tickers")).json()["ticker"]
        ticker.pop("at")  # when it was computed
        depth = seen[3]
        depth.pop("timestamp")
        return [*seen, ticker]

    async with serving(fresh_database_url, local_keystore) as api:
        await api.submit(
            PlaceOrder(
                key="rest",
                member_id=SELLER,
                market="btcusdt",
                side=SELL,
                volume=btc("0.5"),
                price=usdt("60000"),
            )
        )
        await cross(api.submit, "live", "0.2", "51500")
        await api.settle()
        before = await everything(api)
        sequence = api.runner.committed_seq

    async with serving(fresh_database_url, local_keystore) as again:
        assert again.runner.committed_seq == sequence
        after = await everything(again)

    assert after == before
    assert before[3]["sequence"] == sequence
    assert before[3]["asks"] == [["60000", "0.5"]]
    assert len(before[0]) == 6


# ---------------------------------------------------------------------- a chart reloads


async def test_a_reloaded_chart_gets_the_current_bar(api: Api) -> None:
    """A chart that reloads asks for its window up to the start of the bar it is drawing:
    that bar (still filling) is in the answer, as Peatio's ``time_to`` includes it."""
    await fund(api.submit)
    await cross(api.submit, "t", "0.1", "50000")
    await api.settle()
    traded = (await api.get("/markets/btcusdt/trades", limit=1)).json()[0]["created_at"]
    for period in (1, 5, 60):
        seconds = period * 60
        start = traded - traded % seconds
        window = {"period": period, "time_from": start - 100 * seconds, "time_to": start}
        candles = numbers(await api.get("/markets/btcusdt/k-line", **window))
        assert candles == [
            [start, Decimal(50000), Decimal(50000), Decimal(50000), Decimal(50000), Decimal("0.1")]
        ], period
        # Only ``time_to`` and ``limit``: the last ``limit`` up to that bar, itself included.
        latest = numbers(await api.get("/markets/btcusdt/k-line", period=period, time_to=start))
        assert [c[0] for c in latest] == [start], period
        before = numbers(await api.get("/markets/btcusdt/k-line", period=period, time_to=start - 1))
        assert before == [], period


# ---------------------------------------------------------------------- more than the engine keeps


async def test_trade_history_is_complete_beyond_a_thousand(api: Api) -> None:
    await fund(api.submit)
    count = 1100
    await api.submit(
        PlaceOrder(
            key="big-ask",
            member_id=SELLER,
            market="btcusdt",
            side=SELL,
            volume=btc("0.0001") * count,
            price=usdt("50000"),
        )
    )
    # Offered together: the engine takes them in a few batches.
    await asyncio.gather(
        *(
            api.submit(
                PlaceOrder(
                    key=f"bid{i}",
                    member_id=BUYER,
                    market="btcusdt",
                    side=BUY,
                    volume=btc("0.0001"),
                    price=usdt("50000"),
                )
            )
            for i in range(count)
        )
    )
    await api.settle()

    newest = (await api.get("/markets/btcusdt/trades", limit=1000)).json()
    oldest = (await api.get("/markets/btcusdt/trades", limit=1000, order_by="asc")).json()

    assert [t["id"] for t in newest] == list(range(count, count - 1000, -1))
    assert [t["id"] for t in oldest] == list(range(1, 1001))
    assert {t["id"] for t in newest} | {t["id"] for t in oldest} == set(range(1, count + 1))
    candles = numbers(await api.get("/markets/btcusdt/k-line", period=10080))
    assert sum(c[5] for c in candles) == Decimal("0.11")
    ticker = (await api.get("/markets/btcusdt/tickers")).json()["ticker"]
    assert (ticker["amount"], ticker["volume"], ticker["open"], ticker["last"]) == (
        "0.11",
        "5500",
        "50000",
        "50000",
    )


# ---------------------------------------------------------------------- books as committed


async def test_books_show_only_what_is_committed(api: Api, fresh_database_url: str) -> None:
    await fund(api.submit)
    await cross(api.submit, "t", "0.1", "50000")
    committed = api.runner.committed_seq
    before = (await api.get("/markets/btcusdt/depth")).json()
    assert (before["asks"], before["bids"], before["sequence"]) == ([], [], committed)

    # Hold the engine's next commit: a lock on its command log makes the write wait.
    blocker = await asyncpg.connect(fresh_database_url)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE engine_commands IN ACCESS EXCLUSIVE MODE")
        pending = asyncio.ensure_future(
            api.runner.submit(
                PlaceOrder(
                    key="pending",
                    member_id=SELLER,
                    market="btcusdt",
                    side=SELL,
                    volume=btc("0.3"),
                    price=usdt("55000"),
                )
            )
        )
        for _ in range(50):  # until the engine applied it in memory
            await asyncio.sleep(0.01)
            if api.runner.engine.books["btcusdt"].asks.levels:
                break
        assert api.runner.engine.books["btcusdt"].asks.levels  # applied, not committed

        during = (await api.get("/markets/btcusdt/depth")).json()
        book = (await api.get("/markets/btcusdt/order-book")).json()
        assert (during["asks"], during["sequence"]) == ([], committed)
        assert book["asks"] == []
        assert not pending.done()
    finally:
        await transaction.rollback()
        await blocker.close()

    result = await pending
    after = (await api.get("/markets/btcusdt/depth")).json()
    assert after["asks"] == [["55000", "0.3"]]
    assert after["sequence"] == api.runner.committed_seq == result["seq"] == committed + 1
    book = (await api.get("/markets/btcusdt/order-book")).json()
    assert [(o["price"], o["remaining_volume"]) for o in book["asks"]] == [("55000", "0.3")]


# ---------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/markets/dogeusdt/k-line", {}, 422, "public.market.doesnt_exist"),
        ("/markets/dogeusdt/tickers", {}, 422, "public.market.doesnt_exist"),
        ("/markets/btc$usdt/tickers", {}, 422, "public.market.doesnt_exist"),
        ("/markets/btcusdt/k-line", {"period": 2}, 422, "public.k_line.invalid_period"),
        ("/markets/btcusdt/k-line", {"period": 0}, 422, "public.k_line.invalid_period"),
        ("/markets/btcusdt/k-line", {"period": "1m"}, 422, "public.k_line.non_integer_period"),
        ("/markets/btcusdt/k-line", {"time_from": "x"}, 422, "public.k_line.non_integer_time_from"),
        ("/markets/btcusdt/k-line", {"time_from": ""}, 422, "public.k_line.empty_time_from"),
        ("/markets/btcusdt/k-line", {"time_from": -1}, 422, "public.k_line.invalid_time_from"),
        ("/markets/btcusdt/k-line", {"time_to": "1.5"}, 422, "public.k_line.non_integer_time_to"),
        ("/markets/btcusdt/k-line", {"time_to": ""}, 422, "public.k_line.empty_time_to"),
        ("/markets/btcusdt/k-line", {"time_to": 10**13}, 422, "public.k_line.invalid_time_to"),
        ("/markets/btcusdt/k-line", {"limit": 0}, 422, "public.k_line.invalid_limit"),
        ("/markets/btcusdt/k-line", {"limit": 10001}, 422, "public.k_line.invalid_limit"),
        ("/markets/btcusdt/k-line", {"limit": "ten"}, 422, "public.k_line.non_integer_limit"),
        ("/markets/btcusdt/trades", {"limit": 1001}, 422, "public.trade.invalid_limit"),
        (
            "/markets/btcusdt/trades",
            {"timestamp": "now"},
            422,
            "public.trade.non_integer_timestamp",
        ),
        ("/markets/btcusdt/trades", {"timestamp": -5}, 422, "public.trade.invalid_timestamp"),
        ("/markets/btcusdt/trades", {"order_by": "up"}, 422, "public.trade.invalid_order_by"),
    ],
)
async def test_bad_market_data_requests(
    api: Api, path: str, params: dict[str, Any], status: int, code: str
) -> None:
    assert_error(await api.get(path, **params), status, code)


async def test_k_line_reversed_range_is_empty(api: Api) -> None:
    response = await api.get("/markets/btcusdt/k-line", time_from=2000, time_to=1000)
    assert response.status_code == 200
    assert response.json() == []
