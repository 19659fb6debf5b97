"""``bursa bench api``: authenticated order placement and cancellation over real HTTP.

The bench process runs the exchange as ``bursa up`` does (engine, candle writer, the API in
uvicorn) on a database it is given; a separate load process signs requests with the members'
API keys and drives ``POST market/orders`` and ``POST market/orders/{id}/cancel`` for a fixed
duration, so the figures include HMAC checks, nonces, the permission table, validation, the
engine's batch commit and the read-back of each order. Members, 2FA and API keys are set
up through the identity service itself; balances through the engine's ``Credit`` command.

API-key rate limits are lifted for the run (an unlimited limiter): the bench measures the
exchange, not the limits an operator sets for one client.
"""

import asyncio
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

from bursa.bench.local_exchange import MemberKey, funded_members, serve_exchange
from bursa.bench.wire import Connection, WireError

MARKET = "btcusdt"
ORDERS = "/api/v2/peatio/market/orders"
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ApiFigures:
    seconds: float
    orders: int  # placements answered 201
    cancels: int  # cancellations answered 201
    errors: int  # any other answer, or no answer
    latencies_ms: list[float]  # of every request, sorted
    error_kinds: dict[str, int]  # "status code" -> count

    def percentile(self, share: float) -> float:
        if not self.latencies_ms:
            return 0.0
        return self.latencies_ms[
            min(len(self.latencies_ms) - 1, int(len(self.latencies_ms) * share))
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "orders_per_s": round(self.orders / self.seconds, 1),
            "requests_per_s": round((self.orders + self.cancels + self.errors) / self.seconds, 1),
            "orders": self.orders,
            "cancels": self.cancels,
            "errors": self.errors,
            "p50_ms": round(self.percentile(0.50), 2),
            "p95_ms": round(self.percentile(0.95), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "seconds": round(self.seconds, 2),
            "error_kinds": self.error_kinds,
        }


def _order(side: str, price: str) -> dict[str, str]:
    return {"market": MARKET, "side": side, "volume": "0.001", "ord_type": "limit", "price": price}


def _sign(kid: str, secret: str, nonce: int) -> dict[str, str]:
    stamp = str(nonce)
    signature = hmac.new(secret.encode(), (stamp + kid).encode(), hashlib.sha256).hexdigest()
    return {"X-Auth-Apikey": kid, "X-Auth-Nonce": stamp, "X-Auth-Signature": signature}


async def _drive(port: int, keys: list[MemberKey], seconds: float) -> dict[str, Any]:
    """The load: one loop per key, each on its own connection, until the time is up (see
    ``worker``)."""
    latencies: list[float] = []
    counts = {"orders": 0, "cancels": 0, "errors": 0}
    kinds: dict[str, int] = {}  # what the errors were: status and first error code

    def failed(status: int | None, answer: bytes) -> None:
        counts["errors"] += 1
        if status is None:
            kind = "no answer"
        else:
            try:
                kind = f"{status} {orjson.loads(answer)['errors'][0]}"
            except (ValueError, KeyError, IndexError, TypeError):
                kind = str(status)
        kinds[kind] = kinds.get(kind, 0) + 1

    nonces = {key.kid: 0 for key in keys}
    stop_at = time.monotonic() + seconds

    async def call(wire: Connection, key: MemberKey, path: str, body: dict[str, str] | None) -> Any:
        """One signed POST; the order it answers, or None (counted as an error)."""
        nonces[key.kid] = max(int(time.time() * 1000), nonces[key.kid] + 1)
        headers = _sign(key.kid, key.secret, nonces[key.kid])
        sent = time.perf_counter()
        try:
            status, answer = await wire.post(
                path, orjson.dumps(body) if body is not None else None, headers
            )
        except WireError:
            failed(None, b"")
            return None
        latencies.append((time.perf_counter() - sent) * 1000)
        if status != 201:
            failed(status, answer)
            return None
        return orjson.loads(answer)

    async def worker(index: int, key: MemberKey) -> None:
        """Per round: an order at the mid price (members alternate sides, so these
        trade), then an order far from it that rests, then its cancellation."""
        side, away = ("buy", "29000") if index % 2 else ("sell", "31000")
        wire = Connection("127.0.0.1", port)
        try:
            while time.monotonic() < stop_at:
                for price in ("30000", away):
                    order = await call(wire, key, ORDERS, _order(side, price))
                    if order is not None:
                        counts["orders"] += 1
                resting = order is not None and order["state"] == "wait"
                if resting and await call(wire, key, f"{ORDERS}/{order['id']}/cancel", None):
                    counts["cancels"] += 1
        finally:
            await wire.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i, key) for i, key in enumerate(keys)))
    elapsed = time.perf_counter() - started
    return counts | {"latencies": latencies, "seconds": elapsed, "kinds": kinds}


def _load_process(port: int, keys: list[MemberKey], seconds: float, out: Any) -> None:
    out.send(uvloop.run(_drive(port, keys, seconds)))


async def run_api_bench(
    database_url: str, *, members: int, seconds: float, progress: Progress
) -> ApiFigures:
    """The exchange on ``database_url`` (migrated, demo-seeded) under load from another
    process for ``seconds``."""
    async with serve_exchange(
        database_url,
        app_name="Bursa bench",
        session_ttl=timedelta(minutes=30),
        hub_limits=None,  # no websockets here: a hub would only take the exchange's time
    ) as exchange:
        progress(f"creating {members} members with 2FA, API keys and balances")
        market = exchange.runner.engine.books[MARKET].spec
        funds = {market.base.code: 1_000, market.quote.code: 100_000_000}
        keys = await funded_members(exchange, members, funds, tag="bench")
        progress(f"driving orders for {seconds:g} s from a separate process")
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        load = context.Process(
            target=_load_process, args=(exchange.port, list(keys), seconds, sending)
        )
        load.start()
        result: dict[str, Any] = await asyncio.to_thread(receiving.recv)
        await asyncio.to_thread(load.join)
    return ApiFigures(
        result["seconds"],
        result["orders"],
        result["cancels"],
        result["errors"],
        sorted(result["latencies"]),
        result["kinds"],
    )
