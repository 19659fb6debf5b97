"""``bursa bench ws``: many websocket clients following a busy market.

The bench process runs the engine and the Ranger hub (in uvicorn, as ``bursa up`` does)
on a database it is given, and places crossing orders on btcusdt through the engine at a
fixed rate. A separate process opens ``clients`` real websocket connections, each
subscribed to ``btcusdt.trades`` and ``btcusdt.ob-inc``, and counts what arrives.

What is measured:

* ``messages_per_s``: frames delivered to all clients together during the load (every
  ``trades`` and ``ob-inc`` frame each client received), divided by the load's duration.
* ``p50_ms`` / ``p99_ms``: for every ``trades`` frame every client received, the time from
  the commit of the batch holding the trade to the frame reaching the client's code. The
  commit time is stamped in the bench process by a bus tap, which the runner calls right
  after the batch's database commit, before the hub sees the events; the client stamps
  the frame when its websocket library hands it over. Both use the wall clock of the same
  machine. The delay therefore covers the hub's dispatch, the server's websocket writes,
  the kernel, and the client's parsing of the frames before it.

The server is served as ``bursa up`` serves it (``ws_protocol``: frames written straight
from the hub, one socket write per client per batch). The clients are as light as a
correct client gets (websockets' sans-io protocol on bare asyncio protocols) and their
process never collects garbage while counting: with the asyncio client and its garbage
collector, the measuring process itself made most of the tail. Load runs for ``warmup``
seconds before counting starts: the first full garbage collection after a thousand
connections arrive (2 to 3 seconds after them) collects what their handshakes left and
pauses the server for about 100-130 ms, once; later full collections take about a
millisecond. The figure is for a server that has settled, as a long-running one has; a
reconnection storm costs one such pause.

Slow clients are disconnected by the hub (``dropped``), as in production.
"""

import asyncio
import contextlib
import gc
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

import orjson
import uvloop
from fastapi import FastAPI
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from bursa.api.ranger import routes as ranger
from bursa.api.ranger.hub import Limits, RangerHub
from bursa.bench.local_exchange import free_socket, serving
from bursa.bench.workload import funding
from bursa.engine.commands import BUY, SELL, PlaceOrder
from bursa.engine.runner import EngineRunner
from bursa.engine.units import to_units
from bursa.events.bus import TRADE, Event, InProcessBus
from bursa.trading.specs import load_specs

MARKET = "btcusdt"
STREAMS = f"{MARKET}.trades,{MARKET}.ob-inc"
TRADES_PREFIX = f'{{"{MARKET}.trades"'
SELLER, BUYER = 1, 2
DRAIN_S = 1.0  # after the load, time for the last frames to arrive


@dataclass(frozen=True, slots=True)
class WsFigures:
    clients: int
    connected: int
    seconds: float
    trades: int
    messages: int
    dropped: int  # connections closed by the server during the run (too slow)
    delays_ms: list[float]  # commit → client, of every trades frame, sorted

    def percentile(self, share: float) -> float:
        if not self.delays_ms:
            return 0.0
        return self.delays_ms[min(len(self.delays_ms) - 1, int(len(self.delays_ms) * share))]

    def as_json(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "messages_per_s": round(self.messages / self.seconds, 1),
            "p50_ms": round(self.percentile(0.50), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "connected": self.connected,
            "dropped": self.dropped,
            "trades": self.trades,
            "messages": self.messages,
            "seconds": round(self.seconds, 2),
        }


def _now_us() -> int:
    return time.time_ns() // 1000


class _Client(asyncio.Protocol):
    """One websocket client, as light as a correct one gets: websockets' sans-io protocol
    (handshake, frame parsing, answering pings and closes) on a bare asyncio protocol. A
    frame counts as received when this code parses it."""

    def __init__(self, url: str, on_frame: Callable[[str], None]) -> None:
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.on_frame = on_frame
        self.opened: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.lost = asyncio.Event()
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    self.on_frame(bytes(event.data).decode())
            elif not self.opened.done():  # the handshake's response
                self.opened.set_result(self.protocol.state is State.OPEN)
        self._flush()

    def _flush(self) -> None:
        out = self.protocol.data_to_send()
        if self.transport is not None and out:
            self.transport.write(b"".join(out))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(False)
        self.lost.set()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def _clients(url: str, count: int, pipe: Connection) -> None:
    """Open ``count`` connections, say ready, count frames until told to stop, then turn
    the trade receipts into delays with the commit times the bench process sends."""
    received: list[tuple[int, int]] = []  # (trade id, receipt µs)
    counts = {"messages": 0, "dropped": 0, "connected": 0}
    counting = False
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    def on_frame(text: str) -> None:
        if not counting:
            return  # the snapshot, before the load
        counts["messages"] += 1
        if text.startswith(TRADES_PREFIX):
            at = _now_us()
            for trade in orjson.loads(text)[f"{MARKET}.trades"]["trades"]:
                received.append((trade["tid"], at))

    async def open_one() -> _Client | None:
        client = _Client(url, on_frame)
        with contextlib.suppress(OSError, TimeoutError):
            await loop.create_connection(lambda: client, host, port)
            if await asyncio.wait_for(client.opened, 60):
                return client
        client.close()
        return None

    opened: list[_Client] = []
    for start in range(0, count, 100):  # not every handshake at once
        batch = await asyncio.gather(*(open_one() for _ in range(min(100, count - start))))
        opened.extend(client for client in batch if client is not None)
    counts["connected"] = len(opened)
    await asyncio.sleep(0.5)  # every snapshot in
    # The measuring process must not pause: its full collections (of the receipts it
    # piles up) took 130-150 ms and showed up as the server's p99. It makes no cycles.
    gc.collect()
    gc.freeze()
    gc.disable()
    pipe.send(counts["connected"])
    await asyncio.to_thread(pipe.recv)  # the warm-up is over
    counting = True
    pipe.send("counting")
    commits: dict[int, int] = await asyncio.to_thread(pipe.recv)
    counts["dropped"] = sum(
        1 for c in opened if c.protocol.close_code not in (None, 1000) or c.lost.is_set()
    )
    for client in opened:
        client.close()
    delays = [(at - commits[tid]) / 1000 for tid, at in received if tid in commits]
    pipe.send(counts | {"delays": delays})


def _client_process(url: str, count: int, pipe: Connection) -> None:
    uvloop.run(_clients(url, count, pipe))


async def _load(runner: EngineRunner, rate: int, seconds: float, tag: str) -> int:
    """Crossing orders for ``seconds``, ``rate`` pairs a second: a sell of two lots at one
    of ten prices above the mid, then a buy of one lot that takes the best ask. Half of
    each sell rests, so every pair moves one or two levels (``ob-inc``) and trades once.
    Returns the pairs placed."""
    spec = runner.engine.books[MARKET].spec
    volume = to_units(Decimal("0.001"), spec.amount_precision)
    mid = to_units(Decimal("30000"), spec.price_precision)
    tick = to_units(Decimal("1"), spec.price_precision)
    step_s = 0.01
    per_step = rate * step_s
    pending: list[asyncio.Future[dict[str, Any]]] = []
    placed, due = 0, 0.0
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        due = rate * elapsed + per_step
        while placed < due:
            price = mid + (placed % 10) * tick
            pending.append(
                runner.offer(
                    PlaceOrder(
                        key=f"ws:{tag}:{placed}:s",
                        member_id=SELLER,
                        market=MARKET,
                        side=SELL,
                        volume=2 * volume,
                        price=price,
                    )
                )
            )
            pending.append(
                runner.offer(
                    PlaceOrder(
                        key=f"ws:{tag}:{placed}:b",
                        member_id=BUYER,
                        market=MARKET,
                        side=BUY,
                        volume=volume,
                        price=mid + 10 * tick,
                    )
                )
            )
            placed += 1
        await asyncio.sleep(step_s)
    await asyncio.gather(*pending)
    return placed


async def run_ws_bench(
    database_url: str,
    *,
    clients: int,
    seconds: float,
    rate: int,
    warmup: float = 5.0,
    outbox: int = 256,
) -> WsFigures:
    """The engine and the hub on ``database_url`` (migrated, demo-seeded), ``clients``
    connections in another process, ``rate`` crossing pairs a second for ``warmup``
    seconds (not counted), then for ``seconds``."""
    bus = InProcessBus()
    runner = EngineRunner(database_url, bus, load_specs)
    commits: dict[int, int] = {}

    def stamp(events: list[Event]) -> None:
        now = _now_us()
        for event in events:
            if event.topic == TRADE:
                commits[event.data["id"]] = now

    bus.tap(stamp)
    await runner.start()
    hub = RangerHub(runner, bus, Limits(outbox=outbox, per_ip=clients + 10))
    await hub.start()
    app = FastAPI()
    app.state.ranger = hub
    app.include_router(ranger.router)
    sock = free_socket()
    port = sock.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = None
    try:
        async with serving(app, sock, backlog=clients + 100):
            try:
                await asyncio.gather(*(runner.submit(c) for c in funding(2)))
                url = f"ws://127.0.0.1:{port}{ranger.PREFIX}/public?stream={STREAMS}"
                process = context.Process(target=_client_process, args=(url, clients, theirs))
                process.start()
                connected: int = await asyncio.to_thread(ours.recv)
                if warmup:
                    await _load(runner, rate, warmup, "warm-up")
                    await asyncio.sleep(DRAIN_S)
                ours.send("start")
                await asyncio.to_thread(ours.recv)  # counting
                began = time.perf_counter()
                pairs = await _load(runner, rate, seconds, "run")
                elapsed = time.perf_counter() - began
                await asyncio.sleep(DRAIN_S)
                ours.send(commits)
                result: dict[str, Any] = await asyncio.to_thread(ours.recv)
                await asyncio.to_thread(process.join)
            finally:  # the clients go before the server waits for their connections
                if process is not None and process.is_alive():
                    process.kill()
    finally:
        await hub.stop()
        await runner.stop()
    return WsFigures(
        clients=clients,
        connected=connected,
        seconds=elapsed,
        trades=pairs,
        messages=result["messages"],
        dropped=result["dropped"],
        delays_ms=sorted(result["delays"]),
    )
