"""``bursa bench ws-orders``: orders placed over the private Ranger websocket.

The bench process serves the exchange as ``bursa bench api`` does (``serve_exchange``:
engine runner, API and Ranger in uvicorn with Ranger's direct writes, on a database it is
given) and makes one member per connection with 2FA, a read+trade API key and balances. A
separate load process opens the private connections, each authorized by its signed
API-key headers at the upgrade (as the gateway authorizes it), and keeps ``pipeline``
order requests in flight on each: every answer sends the next request.

What is measured, after a second of warm-up, for ``seconds``:

* ``orders_per_s``: placements answered with an order (``result``), over the time.
* ``p50_ms`` / ``p99_ms``: from the moment the load process writes a request to the
  moment it parses its answer, which the server sends only after the engine's batch
  committed it to PostgreSQL.
* With ``bulk`` N, every request is a ``bulk`` of N placements (one engine command, one
  answer): ``orders_per_s`` counts the placements, the latencies the requests.
* ``server_cpu_us_per_order`` / ``client_cpu_us_per_order``: CPU time of the exchange
  process (engine, API, websockets; PostgreSQL runs elsewhere) and of the load process
  per order: figures that depend less on what else the machine runs than rates do.

Orders: limit orders of 0.001 BTC at 30,000 USDT; even connections sell, odd ones buy, so
orders trade against each other's and the book stays small. Order-entry rate limits are
lifted (an unlimited limiter), as ``bench api`` does.
"""

import asyncio
import contextlib
import gc
import hashlib
import hmac
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import uvloop
from websockets.client import ClientProtocol
from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from bursa.bench.local_exchange import MemberKey, funded_members, serve_exchange

MARKET = "btcusdt"
WARMUP_S = 1.0
COUNTING, COUNTED = "counting", "counted"  # the load tells the bench when it counts
DRAIN_S = 5.0  # the most the load waits for the answers still in flight at the end
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class WsOrderFigures:
    connections: int
    pipeline: int
    bulk: int  # placements per request (0: single ``order`` requests)
    seconds: float
    orders: int  # answered with the placed order
    errors: int  # answered with errors, or never answered
    latencies_ms: list[float]  # of every answered request (a bulk is one), sorted
    error_kinds: dict[str, int]
    server_cpu_s: float
    client_cpu_s: float

    def percentile(self, share: float) -> float:
        if not self.latencies_ms:
            return 0.0
        return self.latencies_ms[
            min(len(self.latencies_ms) - 1, int(len(self.latencies_ms) * share))
        ]

    def as_json(self) -> dict[str, Any]:
        per_order = max(self.orders, 1)
        return {
            "orders_per_s": round(self.orders / self.seconds, 1),
            "p50_ms": round(self.percentile(0.50), 2),
            "p95_ms": round(self.percentile(0.95), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "orders": self.orders,
            "errors": self.errors,
            "connections": self.connections,
            "pipeline": self.pipeline,
            "bulk": self.bulk,
            "seconds": round(self.seconds, 2),
            "server_cpu_us_per_order": round(self.server_cpu_s / per_order * 1e6, 1),
            "client_cpu_us_per_order": round(self.client_cpu_s / per_order * 1e6, 1),
            "error_kinds": self.error_kinds,
        }


def _signed(kid: str, secret: str, nonce: int) -> dict[str, str]:
    stamp = str(nonce)
    signature = hmac.new(secret.encode(), (stamp + kid).encode(), hashlib.sha256).hexdigest()
    return {"X-Auth-Apikey": kid, "X-Auth-Nonce": stamp, "X-Auth-Signature": signature}


class _Trader(asyncio.Protocol):
    """One private connection placing orders: websockets' sans-io protocol on a bare
    asyncio protocol (the lightest correct client), ``pipeline`` requests in flight."""

    def __init__(
        self, url: str, headers: dict[str, str], side: str, bulk: int, load: "_Load"
    ) -> None:
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.headers = headers
        self.load = load
        order = {"market": MARKET, "side": side, "volume": "0.001", "price": "30000"}
        if bulk:
            self.event = "bulk"
            self.params = orjson.dumps({"orders": [order] * bulk}).decode()
        else:
            self.event = "order"
            self.params = orjson.dumps(order).decode()
        self.sent: dict[int, float] = {}  # request id -> perf_counter at the write
        self.opened: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        request = self.protocol.connect()
        request.headers.update(Headers(self.headers))
        self.protocol.send_request(request)
        self._flush()

    def send_orders(self, count: int) -> None:
        now = time.perf_counter()
        for _ in range(count):
            rid = self.load.next_id()
            self.sent[rid] = now
            text = f'{{"event":"{self.event}","id":{rid},"params":{self.params}}}'
            self.protocol.send_text(text.encode())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        answered = 0
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    self.load.answer(self, orjson.loads(event.data))
                    answered += 1
            elif not self.opened.done():
                self.opened.set_result(self.protocol.state is State.OPEN)
        if answered and self.load.sending:
            self.send_orders(answered)
        else:
            self._flush()

    def _flush(self) -> None:
        out = self.protocol.data_to_send()
        if self.transport is not None and out:
            self.transport.write(b"".join(out))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(False)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Load:
    """The load's counts: answers are counted once the warm-up is over."""

    def __init__(self) -> None:
        self.sending = True
        self.counting = False
        self._next = 0
        self.orders = 0
        self.errors = 0
        self.kinds: dict[str, int] = {}
        self.latencies: list[float] = []
        self.in_flight = 0
        self.drained = asyncio.Event()  # set once nothing is in flight after the load

    def next_id(self) -> int:
        self._next += 1
        self.in_flight += 1
        return self._next

    def answer(self, trader: _Trader, frame: dict[str, Any]) -> None:
        rid = frame.get("id")
        sent = trader.sent.pop(rid, None) if isinstance(rid, int) else None
        if sent is not None:
            self.in_flight -= 1
            if not self.sending and not self.in_flight:
                self.drained.set()
        if sent is None or not self.counting:
            return
        self.latencies.append((time.perf_counter() - sent) * 1000)
        result = frame.get("result")
        if result is not None and trader.event == "bulk":  # each placement in its place
            for item in result["orders"]:
                self._count(item.get("errors"))
        else:
            self._count(frame.get("errors") if result is None else None)

    def _count(self, errors: list[str] | None) -> None:
        if errors is None:
            self.orders += 1
        else:
            self.errors += 1
            kind = str((errors or ["no code"])[0])
            self.kinds[kind] = self.kinds.get(kind, 0) + 1


def _factory(trader: _Trader) -> Callable[[], _Trader]:
    return lambda: trader


async def _drive(
    ws_url: str, keys: list[MemberKey], seconds: float, pipeline: int, bulk: int, out: Any
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    load = _Load()
    traders: list[_Trader] = []
    url = f"{ws_url}/private"
    parts = parse_uri(url)
    for index, key in enumerate(keys):
        nonce = int(time.time() * 1000) + index
        side = "sell" if index % 2 == 0 else "buy"
        trader = _Trader(url, _signed(key.kid, key.secret, nonce), side, bulk, load)
        await loop.create_connection(_factory(trader), parts.host, parts.port)
        if not await asyncio.wait_for(trader.opened, 30):
            raise RuntimeError(f"the private upgrade of key {key.kid} was refused")
        traders.append(trader)
    gc.collect()
    gc.freeze()
    gc.disable()  # the load makes no cycles; a collection would show as the server's tail
    for trader in traders:
        trader.send_orders(pipeline)
    await asyncio.sleep(WARMUP_S)
    load.counting = True
    out.send(COUNTING)
    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    load.counting = False
    out.send(COUNTED)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    load.sending = False
    if load.in_flight:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(load.drained.wait(), DRAIN_S)
    for trader in traders:
        trader.close()
    if load.in_flight:  # never answered, even after the drain
        load.kinds["no answer"] = load.in_flight
        load.errors += load.in_flight
    return {
        "orders": load.orders,
        "errors": load.errors,
        "kinds": load.kinds,
        "latencies": load.latencies,
        "seconds": elapsed,
        "client_cpu_s": cpu,
    }


def _load_process(
    ws_url: str, keys: list[MemberKey], seconds: float, pipeline: int, bulk: int, out: Any
) -> None:
    out.send(uvloop.run(_drive(ws_url, keys, seconds, pipeline, bulk, out)))


async def run_ws_orders_bench(
    database_url: str,
    *,
    connections: int,
    pipeline: int,
    seconds: float,
    progress: Progress,
    bulk: int = 0,
) -> WsOrderFigures:
    """The exchange on ``database_url`` (migrated, demo-seeded), ``connections`` private
    websockets in another process each keeping ``pipeline`` requests in flight: single
    orders, or bulk requests of ``bulk`` placements each."""
    async with serve_exchange(
        database_url, app_name="Bursa bench", session_ttl=timedelta(minutes=30)
    ) as exchange:
        progress(f"creating {connections} members with 2FA, API keys and balances")
        market = exchange.runner.engine.books[MARKET].spec
        funds = {market.base.code: 10_000, market.quote.code: 1_000_000_000}
        keys = await funded_members(exchange, connections, funds, tag="wsorders")
        progress(
            f"placing orders over {connections} websockets ({pipeline} in flight each) "
            f"for {seconds:g} s from a separate process"
        )
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        load = context.Process(
            target=_load_process,
            args=(exchange.ws, list(keys), seconds, pipeline, bulk, sending),
        )
        load.start()
        try:
            server_cpu = 0.0
            result: Any = None
            while not isinstance(result, dict):  # counting, counted, then the figures
                result = await asyncio.to_thread(receiving.recv)
                if result == COUNTING:
                    server_cpu = time.process_time()
                elif result == COUNTED:
                    server_cpu = time.process_time() - server_cpu
            await asyncio.to_thread(load.join)
        finally:
            if load.is_alive():
                load.kill()
    return WsOrderFigures(
        connections=connections,
        pipeline=pipeline,
        bulk=bulk,
        seconds=result["seconds"],
        orders=result["orders"],
        errors=result["errors"],
        latencies_ms=sorted(result["latencies"]),
        error_kinds=result["kinds"],
        server_cpu_s=server_cpu,
        client_cpu_s=result["client_cpu_s"],
    )
