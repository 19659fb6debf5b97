"""Ranger's websocket over a real uvicorn server, engine runner and PostgreSQL: Rango's
protocol answers, public trades, order books rebuilt exactly from ob-snap and ob-inc,
private streams reaching only their owner, and the hub's limits."""

import asyncio
import base64
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bursa.api.deps import EngineView
from bursa.api.ranger import protocol as ws_protocol
from bursa.api.ranger.custody import custody_streams
from bursa.api.ranger.hub import RESYNC, TOO_SLOW, Limits, RangerHub
from bursa.custody import crediting
from bursa.events.bus import BOOK, Event, InProcessBus
from bursa.events.listener import BusListener
from bursa.events.relay import BusSink, Relay
from bursa.trading import deposits as deposit_records
from tests.api.members import AGENT, MARKET, Caller, Exchange, exchange  # noqa: F401
from tests.api.test_peatio_market import traders
from tests.events.test_relay import KEYS, VERIFIER

DEPTH = "/api/v2/peatio/public/markets/btcusdt/depth"


@contextlib.asynccontextmanager
async def served(app: Any, ws: Any = ws_protocol.PROTOCOL) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free port (with Bursa's websocket protocol, as
    ``bursa up``, unless ``ws`` names another): its websocket base URL for Ranger."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            ws=ws,
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

            trades: list[dict[str, Any]] = []
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
            seen: list[Any] = []
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


async def raw_upgrade(ranger: str, headers: bytes) -> int:
    """The status answering a private upgrade sent with ``headers`` as raw bytes (a client
    library would encode them as UTF-8)."""
    where = urlsplit(ranger)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        writer.write(
            f"GET {where.path}/private?stream=order HTTP/1.1\r\nHost: {where.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n".encode()
            + headers
            + b"\r\n"
        )
        status = await asyncio.wait_for(reader.readline(), 5)
        return int(status.split()[1])
    finally:
        writer.close()


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
    # An API-key nonce ending in "²" (headers are read as Latin-1) is refused, not a 500.
    nonce = b"X-Auth-Apikey: 0123456789abcdef\r\nX-Auth-Nonce: 1700000000000\xb2\r\n"
    assert await raw_upgrade(ranger, nonce + b"X-Auth-Signature: 00\r\n") == 422
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


def _hub_app(hub: RangerHub) -> Any:
    from fastapi import FastAPI

    from bursa.api.ranger import routes as ranger_api

    app = FastAPI()
    app.state.ranger = hub
    app.include_router(ranger_api.router)
    return app


async def _subscribers(hub: RangerHub, stream: str, count: int) -> list[Any]:
    for _ in range(500):
        found = list(hub._public.get(stream, ()))
        if len(found) == count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} subscribers of {stream} expected")


async def _stalled_client(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket upgrade by hand, on a small receive buffer, that then never reads."""
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status
    reader._transport.pause_reading()  # type: ignore[attr-defined]
    return reader, writer


async def test_direct_writes_drop_a_client_that_stops_reading() -> None:
    """Served as ``bursa up`` serves (frames written straight from the hub): a client
    that stops reading is dropped once its unsent bytes pass the limit, and one that
    reads gets every frame, in order."""
    hub = RangerHub(cast(EngineView, None), InProcessBus(), Limits(buffer_bytes=64 * 1024))
    payload = "x" * 20_000  # 60 MB in all: more than the sockets' buffers hold
    async with served(_hub_app(hub)) as url:
        stream_url = f"{url}/public?stream=btcusdt.trades"
        _, stalled = await _stalled_client(stream_url)
        async with connect(stream_url, max_queue=None) as reader:
            conns = await _subscribers(hub, "btcusdt.trades", 2)
            assert all(conn.direct is not None for conn in conns)
            got: list[int] = []

            async def read_all() -> None:
                while len(got) < 3000:
                    got.append(orjson.loads(await reader.recv())["btcusdt.trades"]["n"])

            reading = asyncio.create_task(read_all())
            for n in range(3000):
                hub.publish("btcusdt.trades", {"n": n, "pad": payload})
                hub.write_staged()
                if n % 50 == 0:
                    await asyncio.sleep(0.001)
            await asyncio.wait_for(reading, 20)
            assert got == list(range(3000))
            dropped = [c for c in conns if c.closed.is_set()]
            assert [(c.close_code, c.close_reason) for c in dropped] == [(TOO_SLOW, "too slow")]
        stalled.close()


async def test_a_server_without_direct_writes_uses_the_outbox() -> None:
    hub = RangerHub(cast(EngineView, None), InProcessBus())
    async with (
        served(_hub_app(hub), ws="websockets-sansio") as url,
        connect(f"{url}/public?stream=btcusdt.trades") as ws,
    ):
        (conn,) = await _subscribers(hub, "btcusdt.trades", 1)
        assert conn.direct is None
        assert await ask(ws, "ping") == "pong"
        hub.publish("btcusdt.trades", {"n": 1})
        assert await receive(ws) == {"btcusdt.trades": {"n": 1}}


async def test_deposit_and_withdraw_streams_follow_the_event_api(
    exchange: Exchange, ranger: str
) -> None:
    """A member's deposits reach their ``deposit`` stream through the real outbox, relay
    and verified listener, and nobody else's connection."""
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    sessions = exchange.app.state.session_factory
    bus = InProcessBus()
    listener = BusListener(bus, custody_streams(exchange.hub, sessions), VERIFIER)
    relay = Relay(exchange.database_url, BusSink(bus), KEYS, poll_s=0.02)
    await listener.start()
    await relay.start()
    try:
        async with (
            connect(
                f"{ranger}/private?stream=deposit", additional_headers=cookie_of(alice)
            ) as mine,
            connect(
                f"{ranger}/private?stream=deposit", additional_headers=cookie_of(bob)
            ) as theirs,
        ):
            async with sessions() as session:
                async with session.begin():
                    row, _ = await deposit_records.create(
                        session,
                        tid="TIDSTREAM001",
                        member_id=alice.id,
                        uid=alice.uid,
                        currency_id="usd",
                        type="fiat",
                        amount=Decimal("40"),
                        fee=Decimal(0),
                        transfer_type="wire",
                    )
                    await crediting.created(session, row)
                await crediting.accept(session, exchange.runner.submit, "TIDSTREAM001")
            created = await receive(mine)
            updated = await receive(mine)
            assert created["deposit"]["state"] == "submitted"
            assert updated["deposit"] | {
                "created_at": "",
                "updated_at": "",
                "completed_at": "",
            } == {
                "tid": "TIDSTREAM001",
                "uid": alice.uid,
                "currency": "usd",
                "amount": "40",
                "state": "accepted",
                "created_at": "",
                "updated_at": "",
                "completed_at": "",
            }
            assert "user" not in updated["deposit"]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(theirs.recv(), 0.5)
    finally:
        await relay.stop()
        await listener.stop()
