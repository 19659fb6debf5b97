"""The engine as a separate process, killed with SIGKILL under load and restarted.

What a member must be able to rely on: a command whose result they received is in the log
exactly once with that result; a command that was not answered is either absent or whole
(the ledger verifies, and replaying the log reproduces the stored state).
"""

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from collections import Counter
from typing import Any

import aio_pika
import asyncpg
import pytest

from bursa.bench.workload import commands, funding
from bursa.engine.amqp import EngineClient
from bursa.engine.persistence import load_json
from bursa.engine.replay import check_replay
from bursa.ledger.verify import verify_ledger
from bursa.trading.specs import load_specs

pytestmark = pytest.mark.slow

MEMBERS = 40
COMMANDS = 3000
KILLS = 3


def start_engine(database_url: str, amqp_url: str, queue: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "BURSA_DATABASE_URL": database_url,
        "BURSA_AMQP_URL": amqp_url,
        "BURSA_ENGINE_QUEUE": queue,
        "BURSA_LOG_LEVEL": "warning",
        "BURSA_ENGINE_MAX_BATCH": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bursa", "engine", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_sigkill_under_load_loses_nothing_acknowledged(
    fresh_database_url: str, amqp_url: str
) -> None:
    queue = f"bursa.test.engine.{uuid.uuid4().hex[:8]}"
    stream = funding(MEMBERS) + list(commands(COMMANDS, members=MEMBERS, seed=7, prefix="crash:"))
    rng = random.Random(42)
    kill_at = sorted(rng.sample(range(len(stream) // 5, len(stream)), KILLS))

    client = EngineClient(amqp_url, queue=queue)
    await client.start()
    engine = start_engine(fresh_database_url, amqp_url, queue)
    answered: dict[str, dict[str, Any]] = {}
    futures: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
    kills = 0
    in_flight_at_kills: list[int] = []
    try:
        for index, command in enumerate(stream):
            if kills < KILLS and index == kill_at[kills]:
                await asyncio.sleep(rng.uniform(0.05, 0.4))  # let the engine be mid-batch
                in_flight_at_kills.append(sum(1 for _, f in futures if not f.done()))
                engine.send_signal(signal.SIGKILL)
                engine.wait(timeout=10)
                assert engine.returncode == -signal.SIGKILL
                kills += 1
                engine = start_engine(fresh_database_url, amqp_url, queue)
            futures.append((command.key, await client.send(command)))
            if index % 50 == 49:
                await asyncio.sleep(0.01)
        for key, future in futures:
            answered[key] = await asyncio.wait_for(future, timeout=120)
    finally:
        engine.send_signal(signal.SIGTERM)
        try:
            engine.wait(timeout=20)
        except subprocess.TimeoutExpired:
            engine.kill()
        stderr = engine.stderr.read().decode() if engine.stderr else ""
        await client.stop()
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)

    assert kills == KILLS
    assert sum(in_flight_at_kills) > 0, "no kill interrupted work in flight"
    assert engine.returncode == 0, stderr
    assert len(answered) == len(stream)

    conn = await asyncpg.connect(fresh_database_url)
    try:
        rows = await conn.fetch("SELECT seq, idempotency_key, result FROM engine_commands")
        counts = Counter(row["idempotency_key"] for row in rows)
        duplicated = [key for key, n in counts.items() if n > 1]
        assert duplicated == [], f"applied more than once: {duplicated[:5]}"
        stored = {row["idempotency_key"]: load_json(row["result"]) for row in rows}
        missing = [key for key in answered if key not in stored]
        assert missing == [], f"acknowledged but not in the log: {missing[:5]}"
        differing = [key for key, result in answered.items() if stored[key] != result]
        assert differing == [], f"answer differs from the log: {differing[:5]}"
        assert sorted(row["seq"] for row in rows) == list(range(1, len(rows) + 1))

        report = await verify_ledger(conn)
        assert report.ok, [b.describe() for b in report.breaks[:5]]
        currencies, markets = await load_specs(conn)
        replay = await check_replay(conn, currencies, markets)
        assert replay.ok, replay.differences
    finally:
        await conn.close()
