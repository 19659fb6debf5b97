"""``<market>.kline-<period>`` over a real websocket: candles seeded from trades committed
before the subscription, moved by the trades after it, equal to the REST k-line's."""

import asyncio
import json
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import connect

from bursa.db.session import create_engine, create_session_factory
from bursa.trading.candles import CandleWriter
from tests.api.members import Exchange, exchange  # noqa: F401
from tests.api.test_peatio_market import traders
from tests.api.test_ranger import order, ranger  # noqa: F401

KLINE = "/api/v2/peatio/public/markets/btcusdt/k-line"


def exact(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


async def test_kline_streams_follow_trades_as_the_rest_k_line_counts_them(
    exchange: Exchange,
    ranger: str,
) -> None:
    alice, bob = await traders(exchange)
    # A trade before anyone listens: the candle must be seeded with it.
    await order(alice, "sell", "0.1", "30000")
    await order(bob, "buy", "0.1", "30000")
    streams = "btcusdt.kline-1m,btcusdt.kline-1w,btcusdt.kline-7m,btcusdt.trades"
    async with connect(f"{ranger}/public?stream={streams}") as ws:
        await order(alice, "sell", "0.2", "30100")
        await order(bob, "buy", "0.05", "30100")
        await order(alice, "sell", "0.1", "29900")  # crosses nothing: bob's bid is filled
        await order(bob, "buy", "0.25", "30100")  # takes 0.1 at 29900, then 0.15 at 30100
        last: dict[str, list[Any]] = {}
        trades = 0

        async def take() -> Any:
            raw: str | bytes = await asyncio.wait_for(ws.recv(), 5)
            if raw == "pong":
                return raw
            message = exact(raw)
            if "btcusdt.trades" in message:
                return len(message["btcusdt.trades"]["trades"])
            ((stream, candle),) = message.items()
            assert stream in ("btcusdt.kline-1m", "btcusdt.kline-1w")  # 7m is no period
            last[stream] = candle
            return 0

        while trades < 3 or len(last) < 2 or last["btcusdt.kline-1w"][5] != Decimal("0.4"):
            trades += await take()
        # The candles of one batch are queued together: all of them are in before a pong.
        await ws.send("ping")
        while await take() != "pong":
            pass
    week = last["btcusdt.kline-1w"]
    assert week[0] % (7 * 86400) == 0
    assert week[1:] == [30000, 30100, 29900, 30100, Decimal("0.4")]
    # What the REST k-line shows once the candle writer counted the same trades.
    database = create_engine(exchange.database_url, pool_size=1)
    try:
        await CandleWriter(create_session_factory(database)).catch_up()
    finally:
        await database.dispose()
    for stream, period in (("btcusdt.kline-1m", 1), ("btcusdt.kline-1w", 10080)):
        candle = last[stream]
        response = await alice.get(KLINE, period=period, time_from=int(candle[0]), limit=1)
        assert response.status_code == 200, response.text
        assert exact(response.text) == [candle], stream
