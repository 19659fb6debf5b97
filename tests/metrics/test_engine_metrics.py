"""The engine's metrics on a real runner and PostgreSQL: commands by kind and result (ok,
refused, duplicate), batches, commit and answer latency, the inbox, the sequence; and
``bursa engine run --metrics-port`` as an operator watches it: the active engine at 1, a
standby at 0 and ready, the standby at 1 once it took over."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import aio_pika
import httpx
import pytest
from prometheus_client import REGISTRY

from bursa.engine.commands import Credit, PlaceOrder
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.trading.specs import load_specs
from tests.metrics.scrape import parse, value

BTC = 10**8


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def commands(kind: str, result: str) -> float:
    return sample("bursa_engine_commands_total", kind=kind, result=result)


async def test_commands_batches_and_latency_are_counted(fresh_database_url: str) -> None:
    runner = EngineRunner(fresh_database_url, InProcessBus(), load_specs, batch_wait_ms=1.0)
    await runner.start()
    try:
        assert sample("bursa_engine_active") == 1
        counted = {
            (kind, result): commands(kind, result)
            for kind in ("credit", "place_order")
            for result in ("ok", "refused", "duplicate")
        }
        batches = sample("bursa_engine_batch_size_count")
        batched = sample("bursa_engine_batch_size_sum")
        commits = sample("bursa_engine_commit_seconds_count")
        answers = sample("bursa_engine_command_seconds_count")
        credit = Credit(key="m1", member_id=1, currency="btc", amount=BTC, deposit_id="d1")
        too_big = PlaceOrder(  # 5 BTC for sale, 1 held: the engine refuses it
            key="o1", member_id=1, market="btcusdt", side="sell", volume=5_000_000, price=10
        )
        # Offered at once: one batch, in which the second credit repeats the first.
        futures = [runner.offer(c) for c in (credit, credit, too_big)]
        assert sample("bursa_engine_queue_depth") == 3
        first, again, refused = await asyncio.gather(*futures)
        assert first == again and first["error"] is None
        assert refused["error"] is not None
        assert (await runner.submit(credit)) == first  # a later batch: a repeat too

        def added(kind: str, result: str) -> float:
            return commands(kind, result) - counted[kind, result]

        assert added("credit", "ok") == 1
        assert added("credit", "duplicate") == 2
        assert added("place_order", "refused") == 1
        assert added("place_order", "ok") == 0
        assert sample("bursa_engine_batch_size_count") - batches == 2
        assert sample("bursa_engine_batch_size_sum") - batched == 4
        assert sample("bursa_engine_commit_seconds_count") - commits == 2
        assert sample("bursa_engine_command_seconds_count") - answers == 4
        assert sample("bursa_engine_command_seconds_bucket", le="10.0") - answers == 4
        assert sample("bursa_engine_queue_depth") == 0
        assert sample("bursa_engine_sequence") == runner.committed_seq > 0
        assert time.time() - sample("bursa_engine_last_commit_timestamp_seconds") < 30
    finally:
        await runner.stop()
    assert sample("bursa_engine_active") == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def engine_process(
    database_url: str, amqp_url: str, queue: str, port: int, by_env: bool
) -> Iterator[subprocess.Popen[bytes]]:
    """``bursa engine run`` serving its metrics on ``port`` (given by the option, or by
    ``BURSA_METRICS_PORT``); stopped at the end."""
    env = os.environ | {
        "BURSA_DATABASE_URL": database_url,
        "BURSA_AMQP_URL": amqp_url,
        "BURSA_ENGINE_QUEUE": queue,
        "BURSA_LOG_LEVEL": "warning",
    }
    arguments = [sys.executable, "-m", "bursa", "engine", "run"]
    if by_env:
        env["BURSA_METRICS_PORT"] = str(port)
    else:
        arguments += ["--metrics-port", str(port)]
    process = subprocess.Popen(arguments, env=env, stdout=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a standby waits for the lock, deaf to SIGTERM
            process.kill()
            process.wait()


async def engine_active(port: int, want: float, seconds: float = 60) -> dict[str, int]:
    """Wait until the engine on ``port`` shows ``bursa_engine_active`` as ``want``: then
    the statuses of its health paths, with its role's gauge."""
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                metrics = await http.get("/metrics")
                samples = parse(metrics.text)
                if value(samples, "bursa_engine_active") == want:
                    return {
                        "role_up": int(value(samples, "bursa_role_up", role="engine")),
                        "ready": (await http.get("/health/ready")).status_code,
                        "alive": (await http.get("/health/alive")).status_code,
                    }
            assert time.monotonic() < deadline, f"bursa_engine_active never became {want}"
            await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_engine_run_exports_active_and_standby(
    fresh_database_url: str, amqp_url: str
) -> None:
    queue = f"bursa.test.metrics.{uuid.uuid4().hex[:8]}"
    first_port, second_port = free_port(), free_port()
    try:
        with engine_process(fresh_database_url, amqp_url, queue, first_port, by_env=False) as one:
            healthy = {"role_up": 1, "ready": 200, "alive": 200}
            assert await engine_active(first_port, 1) == healthy
            with engine_process(fresh_database_url, amqp_url, queue, second_port, by_env=True):
                # The standby is up and ready (to take over), and says it is not active.
                assert await engine_active(second_port, 0) == healthy
                one.send_signal(signal.SIGTERM)
                assert one.wait(timeout=15) == 0
                assert await engine_active(second_port, 1, seconds=20) == healthy
    finally:
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
