"""``bursa bench deployment``: the multi-process deployment under the same load as
``bursa bench api``, next to the single process, and the engine's takeover time.

On one machine, over loopback: ``bursa engine run`` twice (the first to start is active,
the second stands by on the advisory lock) and ``bursa api`` twice, each replica on its
own port, sharing PostgreSQL, RabbitMQ (a queue of their own) and Redis (API-key nonces).
Members, 2FA, API keys and balances are made through the identity service and the
engine's ``Credit`` command, as ``bench api`` makes them, by an in-process exchange on the
deployment's database that stops before the engines start (the key store's key file is
shared with the replicas so they can check the keys' signatures). The load is ``bench
api``'s own load process, one per replica, the members split between them.

Then the single process (``bench api``'s in-process exchange, as ``bursa up`` serves it)
on another scratch database, same members and seconds, in the same run. Last, the active
engine is killed with SIGKILL under load and the takeover time is measured from the kill
to the first order answered 201.

The replicas run with API-key rate limits lifted, as ``bench api`` lifts them: every
request comes from 127.0.0.1, and the bench measures the exchange, not an operator's
per-client limits.
"""

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import aio_pika
import asyncpg
import orjson

from bursa.bench.api import (
    ORDERS,
    ApiFigures,
    _order,
    _sign,
    orders_load_process,
    run_api_bench,
)
from bursa.bench.local_exchange import MemberKey, free_socket, funded_members, serve_exchange
from bursa.bench.wire import Connection, WireError
from bursa.config.settings import asyncpg_url
from bursa.ledger.verify import verify_ledger

Progress = Callable[[str], None]
MARKET = "btcusdt"
STARTUP_S = 60.0  # the most a process may take to be ready
STOP_S = 10.0  # the most a process may take to stop on SIGTERM
TAKEOVER_LIMIT_S = 60.0  # no 201 within this after the kill: no takeover
DUMMY_SMTP = "smtp://bench:bench@127.0.0.1:2525"  # never used: the bench sends no mail


@dataclass(frozen=True, slots=True)
class DeploymentFigures:
    deployment: ApiFigures  # two API replicas, one engine, one standby
    single: ApiFigures  # one process, as ``bursa up``
    takeover_s: float | None  # SIGKILL of the active engine → first 201; None: none
    takeover_load: ApiFigures | None  # the load around the kill
    ledger_ok: bool  # the deployment's ledger verifies after the takeover
    replicas: int
    members: int
    cores: int

    def as_json(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment.as_json(),
            "single": self.single.as_json(),
            "takeover_s": None if self.takeover_s is None else round(self.takeover_s, 3),
            "takeover_load": None if self.takeover_load is None else self.takeover_load.as_json(),
            "ledger_ok": self.ledger_ok,
            "replicas": self.replicas,
            "members": self.members,
            "cores": self.cores,
        }


@dataclass(slots=True)
class _Role:
    """One process of the deployment and the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _bursa(*args: str) -> list[str]:
    return [sys.executable, "-m", "bursa", *args]


@contextmanager
def _processes() -> Iterator[Callable[[str, list[str], dict[str, str], Path], _Role]]:
    """Starts roles; every one still running is stopped (SIGTERM, then SIGKILL) on the way
    out, so the bench leaves nothing behind."""
    started: list[_Role] = []
    files: list[IO[bytes]] = []

    def start(name: str, argv: list[str], env: dict[str, str], folder: Path) -> _Role:
        log = folder / f"{name}.log"
        out = log.open("wb")
        files.append(out)
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603 - our own command
        role = _Role(name, process, log)
        started.append(role)
        return role

    try:
        yield start
    finally:
        for role in started:
            if role.process.poll() is None:
                role.process.terminate()
        for role in started:
            try:
                role.process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                role.process.kill()
                role.process.wait()
        for out in files:
            out.close()


async def _wait_for(role: _Role, text: str) -> None:
    """Until ``text`` is in the role's output; raises if it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_S
    while text not in role.output():
        if role.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{role.name} did not start:\n{role.output()[-3000:]}")
        await asyncio.sleep(0.1)


async def _wait_serving(role: _Role, port: int) -> None:
    """Until the replica answers HTTP on ``port`` (any status)."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        wire = Connection("127.0.0.1", port, timeout_s=2)
        try:
            await wire.post("/api/v2/peatio/public/timestamp", None, {})
            return
        except WireError:
            if role.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{role.name} did not serve:\n{role.output()[-3000:]}") from None
            await asyncio.sleep(0.1)
        finally:
            await wire.close()


def _merge(results: Sequence[dict[str, Any]]) -> ApiFigures:
    """One figure for the load processes that ran side by side."""
    kinds: dict[str, int] = {}
    for result in results:
        for kind, count in result["kinds"].items():
            kinds[kind] = kinds.get(kind, 0) + count
    return ApiFigures(
        max(result["seconds"] for result in results),
        sum(result["orders"] for result in results),
        sum(result["cancels"] for result in results),
        sum(result["errors"] for result in results),
        sorted(latency for result in results for latency in result["latencies"]),
        kinds,
    )


async def _drive_ports(
    ports: Sequence[int], keys: Sequence[MemberKey], seconds: float
) -> ApiFigures:
    """``bench api``'s load process once per port, the members dealt out between them."""
    context = multiprocessing.get_context("spawn")
    loads = []
    for index, port in enumerate(ports):
        share = list(keys[index :: len(ports)])
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(target=orders_load_process, args=(port, share, seconds, sending))
        process.start()
        loads.append((process, receiving))
    results = [await asyncio.to_thread(receiving.recv) for _, receiving in loads]
    for process, _ in loads:
        await asyncio.to_thread(process.join)
    return _merge(results)


async def _first_201_after(port: int, key: MemberKey, since: float) -> float | None:
    """Seconds from ``since`` (monotonic) to the first order answered 201 on ``port``,
    orders sent one after another (each waits up to the replica's engine timeout)."""
    wire = Connection("127.0.0.1", port, timeout_s=15)
    nonce = 0
    try:
        while time.monotonic() - since < TAKEOVER_LIMIT_S:
            nonce = max(int(time.time() * 1000), nonce + 1)
            body = orjson.dumps(_order("buy", "1000"))  # rests far below the book
            try:
                status, _ = await wire.post(ORDERS, body, _sign(key.kid, key.secret, nonce))
            except WireError:
                status = 0
            if status == 201:
                return time.monotonic() - since
            if status != 503:  # 503: the engine did not answer in time; ask again at once
                await asyncio.sleep(0.01)
    finally:
        await wire.close()
    return None


def _free_port() -> int:
    sock = free_socket()
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


async def run_deployment_bench(
    deployment_url: str,
    single_url: str,
    *,
    amqp_url: str,
    redis_url: str,
    members: int,
    seconds: float,
    takeover_seconds: float,
    progress: Progress,
) -> DeploymentFigures:
    """The figures for ``bursa bench deployment`` (see the module's docstring); both
    databases migrated and demo-seeded, ``amqp_url`` and ``redis_url`` shared servers
    (the bench uses a queue of its own; Redis keys are the API's)."""
    progress(f"single process (bursa up's exchange): {members} members, {seconds:g} s")
    single = await run_api_bench(single_url, members=members, seconds=seconds, progress=progress)
    with tempfile.TemporaryDirectory(prefix="bursa-bench-deployment-") as scratch:
        folder = Path(scratch)
        progress(f"deployment: creating {members} members with 2FA, API keys and balances")
        async with serve_exchange(
            deployment_url,
            app_name="Bursa bench",
            session_ttl=timedelta(minutes=30),
            keys_dir=folder,
            hub_limits=None,
        ) as exchange:
            market = exchange.runner.engine.books[MARKET].spec
            funds = {market.base.code: 1_000, market.quote.code: 100_000_000}
            keys = await funded_members(exchange, members + 1, funds, tag="bench")
        load_keys, probe = keys[:members], keys[members]
        queue = f"bursa.bench.{uuid.uuid4().hex[:12]}"  # durable: deleted after the run
        env = os.environ | {
            "BURSA_DATABASE_URL": deployment_url,
            "BURSA_AMQP_URL": amqp_url,
            "BURSA_ENGINE_QUEUE": queue,
            "BURSA_REDIS_URL": redis_url,
            "BURSA_SMTP_URL": DUMMY_SMTP,
            "BURSA_KEY_FILE": str(folder / "master.key"),
            "BURSA_LOG_LEVEL": "info",
        }
        with _processes() as start:
            progress("deployment: starting the active engine, the standby and 2 API replicas")
            roles: dict[str, _Role] = {}

            def launch(name: str, argv: list[str]) -> None:
                data = folder / name
                data.mkdir()
                roles[name] = start(name, argv, env | {"BURSA_DATA_DIR": str(data)}, folder)

            ports = [_free_port(), _free_port()]
            launch("engine-a", _bursa("engine", "run"))
            for index, port in enumerate(ports):  # replicas start while the engine does
                launch(f"api-{index + 1}", _bursa("bench", "api-replica", "--port", str(port)))
            await _wait_for(roles["engine-a"], "engine ready")  # holds the lock: active
            launch("engine-b", _bursa("engine", "run"))
            for index, port in enumerate(ports):
                await _wait_serving(roles[f"api-{index + 1}"], port)
            await asyncio.sleep(1.0)  # the standby connected and waits on the lock
            if "engine ready" in roles["engine-b"].output():
                raise RuntimeError("both engines say they are active")
            progress(f"deployment: driving orders for {seconds:g} s over {len(ports)} replicas")
            deployment = await _drive_ports(ports, load_keys, seconds)
            progress(f"takeover: SIGKILL of the active engine under {takeover_seconds:g} s of load")
            placed_before = await _last_order_id(deployment_url)
            load = asyncio.create_task(_drive_ports(ports, load_keys, takeover_seconds))
            await _until_orders_after(deployment_url, placed_before)  # the load is under way
            await asyncio.sleep(min(1.0, takeover_seconds / 3))
            roles["engine-a"].process.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            takeover = await _first_201_after(ports[0], probe, killed)
            takeover_load = await load
            await _wait_for(roles["engine-b"], "engine ready")  # the standby took over
        ledger_ok = await _ledger_verifies(deployment_url)
        await _delete_queue(amqp_url, queue)
    return DeploymentFigures(
        deployment,
        single,
        takeover,
        takeover_load,
        ledger_ok,
        len(ports),
        members,
        os.cpu_count() or 1,
    )


async def _last_order_id(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM orders"))
    finally:
        await conn.close()


async def _until_orders_after(url: str, last_id: int) -> None:
    """Until an order newer than ``last_id`` is stored; raises after ``STARTUP_S``."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        if await _last_order_id(url) > last_id:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the load placed no order")
        await asyncio.sleep(0.05)


async def _delete_queue(amqp_url: str, name: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        await channel.queue_delete(name)
    finally:
        await connection.close()


async def _ledger_verifies(url: str) -> bool:
    """Whether the deployment's ledger verifies after the kill and the takeover."""
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        return (await verify_ledger(conn)).ok
    finally:
        await conn.close()
