"""Ranger's websocket over a real uvicorn server, engine runner and PostgreSQL: Rango's
protocol answers, public trades, order books rebuilt exactly from ob-snap and ob-inc,
private streams reaching only their owner, and the hub's limits."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bursa.api.deps import EngineView
from bursa.api.ranger_hub import RESYNC, TOO_SLOW, Limits, RangerHub
from bursa.events.bus import BOOK, Event, InProcessBus
from tests.api.members import AGENT, MARKET, Caller, Exchange, exchange  # noqa: F401
from tests.api.test_peatio_market import traders

DEPTH = "/api/v2/peatio/public/markets/btcusdt/depth"


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free port: its websocket base URL for Ranger."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            ws="websockets-sansio",
            forwarded_allow_ips="*",  # sessions are bound to the address they began from
            timeout_graceful_shutdown=1,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/api/v2/ranger"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def ranger(exchange: Exchange) -> AsyncIterator[str]:
    """The exchange's app served by uvicorn on a free port: its websocket base URL."""
    async with served(exchange.app) as url:
        yield url


async def receive(ws: ClientConnection) -> Any:
    text = await asyncio.wait_for(ws.recv(), 5)
    return text if text == "pong" else orjson.loads(text)


async def ask(ws: ClientConnection, message: Any) -> Any:
    await ws.send(message if isinstance(message, str) else orjson.dumps(message).decode())
    return await receive(ws)


def cookie_of(member: Caller) -> dict[str, str]:
    cookies = "; ".join(f"{name}={value}" for name, value in member.client.cookies.items())
    return AGENT | {"Cookie": cookies, "X-Forwarded-For": "203.0.113.9"}


async def order(member: Caller, side: str, volume: str, price: str) -> dict[str, Any]:
    placed = await member.post(
        f"{MARKET}/orders", {"market": "btcusdt", "side": side, "volume": volume, "price": price}
    )
    assert placed.status_code == 201, placed.text
    found: dict[str, Any] = placed.json()
    return found


class Book:
    """A client's copy of a book, from one ob-snap and the ob-inc after it."""

    def __init__(self, snap: dict[str, Any]) -> None:
        self.sequence: int = snap["sequence"]
        self.sides = {side: dict(map(tuple, snap[side])) for side in ("asks", "bids")}

    def apply(self, inc: dict[str, Any]) -> None:
        assert inc["sequence"] == self.sequence + 1, "a gap in the increments"
        self.sequence = inc["sequence"]
        side = "asks" if "asks" in inc else "bids"
        price, volume = inc[side]
        if volume == "":
            del self.sides[side][price]
        else:
            self.sides[side][price] = volume

    def depth(self) -> dict[str, list[list[str]]]:
        return {
            "asks": [[p, v] for p, v in sorted(self.sides["asks"].items(), key=_price)],
            "bids": [
                [p, v] for p, v in sorted(self.sides["bids"].items(), key=_price, reverse=True)
            ],
        }


def _price(level: tuple[str, str]) -> float:
    return float(level[0])


async def follow(ws: ClientConnection, book: Book, want: dict[str, Any]) -> None:
    """Apply increments until ``book`` is ``want`` (trades on the way are skipped)."""
    while book.depth() != want:
        message = await receive(ws)
        if "btcusdt.ob-inc" in message:
            book.apply(message["btcusdt.ob-inc"])


async def test_streams_from_the_query_and_from_messages(ranger: str) -> None:
    url = f"{ranger}/public/?stream=btcusdt.trades,btcusdt.ob-inc&stream=ethusdt.trades"
    async with connect(url) as ws:
        snap = await receive(ws)
        assert snap == {"btcusdt.ob-snap": {"asks": [], "bids": [], "sequence": 1}}
        subscribed = await ask(ws, {"event": "subscribe", "streams": ["global.tickers"]})
        assert subscribed == {
            "success": {
                "message": "subscribed",
                "streams": ["btcusdt.ob-inc", "btcusdt.trades", "ethusdt.trades", "global.tickers"],
            }
        }
        gone = await ask(ws, {"event": "unsubscribe", "streams": ["ethusdt.trades"]})
        assert gone == {
            "success": {
                "message": "unsubscribed",
                "streams": ["btcusdt.ob-inc", "btcusdt.trades", "global.tickers"],
            }
        }
        assert await ask(ws, "ping") == "pong"
        bad = await ask(ws, "{not json")
        assert bad["error"].startswith("Could not parse message: ")
        assert await ask(ws, {"event": "dance", "streams": ["x"]}) == {
            "error": "Could not parse Type: Invalid event"
        }
        assert await ask(ws, {"event": "subscribe"}) == {"error": "No streams provided"}
        assert await ask(ws, {"event": "subscribe", "streams": []}) == {
            "error": "No streams provided"
        }
        await ws.send("x" * 513)
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


async def test_trades_and_the_book_rebuilt_from_snapshot_and_increments(
    exchange: Exchange,
    ranger: str,
) -> None:
    alice, bob = await traders(exchange)
    async with connect(f"{ranger}/public?stream=btcusdt.ob-inc,btcusdt.trades") as early:
        ticks = await connect(f"{ranger}/public?stream=global.tickers")
        book = Book((await receive(early))["btcusdt.ob-snap"])
        asks = [await order(alice, "sell", "0.1", p) for p in ("30000", "30010", "30020")]
        await order(alice, "sell", "0.05", "30000")  # same level: volume changes
        await order(bob, "buy", "0.2", "29000")
        # A client joining now must continue exactly where its snapshot stands.
        async with connect(f"{ranger}/public?stream=btcusdt.ob-inc") as late:
            late_book = Book((await receive(late))["btcusdt.ob-snap"])
            cancelled = await alice.post(f"{MARKET}/orders/{asks[1]['id']}/cancel")
            assert cancelled.status_code == 201, cancelled.text
            await order(bob, "buy", "0.12", "30000")  # takes 0.12 of the 0.15 at 30000

            trades = []
            while len(trades) < 2:
                message = await receive(early)
                if "btcusdt.trades" in message:
                    trades.extend(message["btcusdt.trades"]["trades"])
                else:
                    book.apply(message["btcusdt.ob-inc"])
            assert [(t["price"], t["amount"], t["taker_type"]) for t in trades] == [
                ("30000", "0.1", "buy"),
                ("30000", "0.02", "buy"),
            ]
            assert set(trades[0]) == {"tid", "taker_type", "date", "price", "amount"}

            depth = (await alice.get(DEPTH)).json()
            want = {"asks": depth["asks"], "bids": depth["bids"]}
            assert want == {
                "asks": [["30000", "0.03"], ["30020", "0.1"]],
                "bids": [["29000", "0.2"]],
            }
            await asyncio.wait_for(follow(early, book, want), 5)
            await asyncio.wait_for(follow(late, late_book, want), 5)
            assert late_book.sequence == book.sequence

    # global.tickers: every few seconds (0.2 s here), every value a string. (Tickers add
    # up candles, which no candle writer counts in this test: their values are zero.)
    async with ticks:
        tickers = (await receive(ticks))["global.tickers"]
    assert set(tickers) >= {"btcusdt", "ethusdt"}
    assert set(tickers["btcusdt"]) == {
        "at",
        "avg_price",
        "high",
        "last",
        "low",
        "open",
        "price_change_percent",
        "volume",
        "amount",
    }
    assert all(isinstance(v, str) for v in tickers["btcusdt"].values())
    assert tickers["btcusdt"]["price_change_percent"] == "+0.00%"


async def test_private_streams_reach_only_their_owner(
    exchange: Exchange,
    ranger: str,
) -> None:
    alice, bob = await traders(exchange)
    carol = await exchange.member("carol@example.com")
    streams = "?stream=order,trade,balance"
    async with (
        connect(f"{ranger}/private{streams}", additional_headers=cookie_of(alice)) as a_ws,
        connect(f"{ranger}/private{streams}", additional_headers=bob._headers(False)) as b_ws,
        connect(f"{ranger}/private{streams}", additional_headers=cookie_of(carol)) as c_ws,
    ):
        ask_ = await order(alice, "sell", "0.5", "30000.5")
        bid = await order(bob, "buy", "0.2", "31000")

        async def until_trade(ws: ClientConnection) -> list[Any]:
            seen = []
            while not seen or "trade" not in seen[-1]:
                seen.append(await receive(ws))
            return seen

        a_seen = await until_trade(a_ws)
        b_seen = await until_trade(b_ws)
        a_orders = [m["order"] for m in a_seen if "order" in m]
        assert {o["id"] for o in a_orders} == {ask_["id"]}
        assert a_orders[0]["state"] == "wait"
        assert a_orders[0]["side"] == "sell"
        assert a_orders[0]["kind"] == "ask"
        assert a_orders[0]["price"] == "30000.5"
        assert a_seen[-1]["trade"] | {"id": 0, "created_at": 0} == {
            "id": 0,
            "price": "30000.5",
            "amount": "0.2",
            "total": "6000.1",
            "market": "btcusdt",
            "side": "sell",
            "taker_type": "buy",
            "created_at": 0,
            "order_id": ask_["id"],
        }
        assert {"currency": "btc", "balance": "0.5", "locked": "0.5"} in [
            m["balance"] for m in a_seen if "balance" in m
        ]
        b_orders = [m["order"] for m in b_seen if "order" in m]
        assert {o["id"] for o in b_orders} == {bid["id"]}
        assert b_seen[-1]["trade"]["side"] == "buy"
        assert b_seen[-1]["trade"]["order_id"] == bid["id"]
        assert b_orders[-1]["state"] == "done"
        assert b_orders[-1]["executed_volume"] == "0.2"
        assert b_orders[-1]["avg_price"] == "30000.5"
        # Everything was delivered by now; carol traded nothing: her first frame is "pong".
        assert await ask(c_ws, "ping") == "pong"


async def test_private_upgrade_needs_a_member(exchange: Exchange, ranger: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ranger}/private?stream=order"):
            pass
    assert refused.value.response.status_code == 401
    alice = await exchange.member("alice@example.com")
    foreign = cookie_of(alice) | {"Origin": "https://evil.example"}
    with pytest.raises(InvalidStatus) as cross:
        async with connect(f"{ranger}/private?stream=order", additional_headers=foreign):
            pass
    assert cross.value.response.status_code == 403
    # Public streams need no one.
    async with connect(f"{ranger}/public") as ws:
        assert await ask(ws, "ping") == "pong"


async def test_a_slow_client_is_dropped_without_delaying_the_others() -> None:
    # Publishing needs no engine: the hub is driven directly.
    hub = RangerHub(cast(EngineView, None), InProcessBus(), Limits(outbox=4, per_ip=2, streams=2))
    slow, fast = hub.connect("10.0.0.1", None), hub.connect("10.0.0.1", None)
    assert slow is not None and fast is not None
    assert hub.connect("10.0.0.1", None) is None  # per address
    assert hub.connect("10.0.0.2", None) is not None
    for conn in (slow, fast):
        assert hub.subscribe(conn, ["btcusdt.trades"]) is None
    assert hub.subscribe(fast, ["a.trades", "b.trades"]) == (
        "Too many streams: at most 2 per connection"
    )
    got = []
    for n in range(10):
        hub.publish("btcusdt.trades", {"n": n})
        got.append(orjson.loads(fast.outbox.get_nowait()))  # the fast one keeps up
    assert got == [{"btcusdt.trades": {"n": n}} for n in range(10)]
    assert slow.closed.is_set()
    assert (slow.close_code, slow.close_reason) == (TOO_SLOW, "too slow")
    assert not fast.closed.is_set()
    hub.disconnect(slow)
    assert hub.connect("10.0.0.1", None) is not None  # its place is free again
    with contextlib.suppress(asyncio.QueueEmpty):
        fast.outbox.get_nowait()


async def test_a_hub_that_falls_behind_the_bus_makes_its_clients_start_over(
    exchange: Exchange,
) -> None:
    bus = InProcessBus()
    hub = RangerHub(exchange.runner, bus, Limits(backlog=3))
    await hub.start()
    try:
        conn = hub.connect("10.0.0.1", None)
        assert conn is not None
        hub.subscribe(conn, ["btcusdt.ob-inc"])
        snap = orjson.loads(conn.outbox.get_nowait())
        assert snap["btcusdt.ob-snap"]["sequence"] == 1
        # Four events at once: one more than the hub may hold back.
        levels = {"market": "btcusdt", "levels": [["sell", 3_000_000, 100_000]]}
        bus.publish([Event(BOOK, 10**9 + n, levels) for n in range(4)])
        await asyncio.wait_for(conn.closed.wait(), 5)
        assert (conn.close_code, conn.close_reason) == (RESYNC, "resync")
        hub.disconnect(conn)
        # A new client gets a fresh book and the hub follows the bus again.
        again = hub.connect("10.0.0.1", None)
        assert again is not None
        hub.subscribe(again, ["btcusdt.ob-inc"])
        assert orjson.loads(again.outbox.get_nowait())["btcusdt.ob-snap"]["asks"] == []
    finally:
        await hub.stop()
