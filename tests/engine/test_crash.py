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
from bursa.engine.commands import Command, Credit, PlaceOco, PlaceOrder
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


async def test_trigger_orders_survive_a_crash_and_fire_after_it(
    fresh_database_url: str, amqp_url: str
) -> None:
    """Stop orders and OCOs placed (and answered) before a SIGKILL are recovered with their
    locks, triggers, self-trade prevention and OCO links: after the restart the commands
    that cross them fire them exactly as an engine that never stopped would (the reference
    model), each in the command whose trade crossed it, and the log replays to the tables."""
    from tests.engine.reference import Reference
    from tests.engine.test_properties import DEMO, snapshot_summary, stored_trades

    p = 3_000_000  # btcusdt ticks: 30,000.00
    ref: Reference = DEMO.reference()
    count = 0

    def order(member: int, side: str, volume: int, price: int = 0, **more: Any) -> Command:
        nonlocal count
        count += 1
        kind = PlaceOco if "trigger_price" in more and "ord_type" not in more else PlaceOrder
        return kind(
            key=f"trig:{count}",
            member_id=member,
            market="btcusdt",
            side=side,
            volume=volume,
            price=price,
            **more,
        )

    funding_commands: list[Command] = [
        Credit(key=f"trig:fund:{m}:{c}", member_id=m, currency=c, amount=a, deposit_id="d")
        for m in range(1, 5)
        for c, a in (("btc", 10**8), ("usdt", 5 * 10**10))
    ]
    before = [
        *funding_commands,
        order(3, "sell", 100, p),
        order(4, "buy", 100, p),  # the last trade price: p
        order(1, "sell", 200, p - 3, ord_type="stop_limit", trigger_price=p - 1),
        order(2, "buy", 200, ord_type="stop_market", trigger_price=p + 1, stp="cancel_maker"),
        order(1, "sell", 100, p + 5, trigger_price=p - 2),  # an OCO, its stop leg below
        order(2, "sell", 100, p + 2),  # the member's own ask: the stop buy cancels it
        order(3, "sell", 300, p + 4),
    ]
    after = [
        order(4, "buy", 300, p - 3),
        order(3, "sell", 100, p - 1),
        order(4, "buy", 100, p - 1),  # trades at p - 1: a cascade of two fires
        order(3, "sell", 100, p + 1),
        order(4, "buy", 100, p + 1),  # trades at p + 1: the stop buy fires
    ]

    queue = f"bursa.test.engine.{uuid.uuid4().hex[:8]}"
    client = EngineClient(amqp_url, queue=queue)
    await client.start()
    engine = start_engine(fresh_database_url, amqp_url, queue)
    try:

        async def run(commands: list[Command]) -> None:
            for command in commands:
                answer = await asyncio.wait_for(await client.send(command), timeout=60)
                expected = ref.apply(command)
                assert snapshot_summary(answer) == expected.summary(), command

        await run(before)
        waiting = {i for i, o in ref.open.items() if o["state"] == "trigger_wait"}
        assert len(waiting) == 3
        engine.send_signal(signal.SIGKILL)
        engine.wait(timeout=10)
        engine = start_engine(fresh_database_url, amqp_url, queue)
        await run(after)
    finally:
        engine.send_signal(signal.SIGTERM)
        try:
            engine.wait(timeout=20)
        except subprocess.TimeoutExpired:
            engine.kill()
        await client.stop()
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)

    assert set(ref.fired) == waiting  # every trigger fired (the OCO's stop leg included)
    assert len(set(ref.fired.values())) == 2  # in two commands: the two crossing trades
    conn = await asyncpg.connect(fresh_database_url)
    try:
        assert await stored_trades(conn, DEMO) == ref.trades
        rows = await conn.fetch("SELECT id, state, trades_count FROM orders ORDER BY id")
        assert {r["id"]: (r["state"], r["trades_count"]) for r in rows} == {
            i: (o["state"], o["trades"]) for i, o in ref.orders.items()
        }
        fired_in = await conn.fetch(
            "SELECT DISTINCT taker_order_id, seq FROM trades WHERE taker_order_id = ANY($1)",
            list(waiting),
        )
        assert {r["taker_order_id"]: r["seq"] for r in fired_in} == {
            i: seq for i, seq in ref.fired.items() if ref.orders[i]["trades"]
        }
        report = await verify_ledger(conn)
        assert report.ok, [b.describe() for b in report.breaks[:5]]
        currencies, markets = await load_specs(conn)
        replay = await check_replay(conn, currencies, markets)
        assert replay.ok, replay.differences
    finally:
        await conn.close()
