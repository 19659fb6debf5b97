"""``bursa bench engine``: throughput of the engine, in memory and through PostgreSQL.

In memory, the seeded workload is applied as fast as one core allows (batches of 5,000,
journal handed over and dropped) and commands/s and trades/s are reported. With
``persist``, the same workload goes through ``EngineRunner`` into a real PostgreSQL: the
load is offered open-loop (as fast as possible with a bounded number in flight, or at a
fixed ``rate``), and each command's ack latency (submit to answer after commit) is kept.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bursa.bench.workload import BENCH_CURRENCIES, BENCH_MARKETS, commands, export_jsonl, funding
from bursa.engine.commands import Command
from bursa.engine.core import Engine
from bursa.engine.memory import GcPolicy
from bursa.engine.runner import EngineRunner, SpecsLoader
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.events.bus import InProcessBus

Progress = Callable[[int, int], None]


@dataclass
class EngineFigures:
    commands: int
    trades: int
    seconds: float
    ack_p50_ms: float | None = None
    ack_p99_ms: float | None = None
    offered_rate: int | None = None
    batches: int | None = None

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.seconds

    @property
    def trades_per_s(self) -> float:
        return self.trades / self.seconds

    def as_json(self) -> dict[str, float | int | None]:
        figures: dict[str, float | int | None] = {
            "commands": self.commands,
            "trades": self.trades,
            "seconds": round(self.seconds, 3),
            "commands_per_s": round(self.commands_per_s),
            "trades_per_s": round(self.trades_per_s),
        }
        if self.ack_p50_ms is not None:
            figures |= {
                "ack_p50_ms": round(self.ack_p50_ms, 2),
                "ack_p99_ms": round(self.ack_p99_ms or 0, 2),
                "offered_rate": self.offered_rate,
                "batches": self.batches,
            }
        return figures


def workload(count: int, members: int, seed: int, export: Path | None) -> list[Command]:
    stream = list(commands(count, members=members, seed=seed, prefix=f"bench{seed}:"))
    if export is not None:
        export_jsonl(funding(members) + stream, export)
    return stream


def run_in_memory(stream: list[Command], members: int, progress: Progress) -> EngineFigures:
    engine = Engine(BENCH_CURRENCIES, BENCH_MARKETS)
    for command in funding(members):
        engine.apply(command, 0)
    engine.end_batch()
    gc_policy = GcPolicy()
    gc_policy.start()
    apply = engine.apply
    trades = 0
    step = 5000
    started = time.perf_counter()
    for start in range(0, len(stream), step):
        ts = time.time_ns() // 1000
        for command in stream[start : start + step]:
            apply(command, ts)
        trades += len(engine.end_batch().trades)
        gc_policy.after_batch()
        progress(min(start + step, len(stream)), len(stream))
    return EngineFigures(len(stream), trades, time.perf_counter() - started)


async def _bench_specs(
    conn: asyncpg.Connection,
) -> tuple[list[CurrencySpec], list[MarketSpec]]:
    return list(BENCH_CURRENCIES), list(BENCH_MARKETS)


async def run_persisted(
    database_url: str,
    stream: list[Command],
    members: int,
    *,
    rate: int | None,
    in_flight: int,
    progress: Progress,
    max_batch: int = 5000,
    load_specs: SpecsLoader | None = None,
) -> EngineFigures:
    """Drive ``stream`` through a real runner on ``database_url`` (an empty, migrated DB)."""
    runner = EngineRunner(
        database_url, InProcessBus(), load_specs or _bench_specs, max_batch=max_batch
    )
    await runner.start()
    try:
        await asyncio.gather(*(runner.submit(c) for c in funding(members)))
        latencies: list[float] = []
        trades_before = runner.engine.next_trade_id
        # Unanswered commands and when each was offered. One callback for all of them (no
        # closure per command): the generator runs in the engine's process, so what it
        # costs is taken from the engine.
        pending: dict[asyncio.Future[dict[str, Any]], float] = {}
        room = asyncio.Event()
        clock = time.perf_counter

        def record(future: asyncio.Future[dict[str, Any]]) -> None:
            latencies.append(clock() - pending.pop(future))
            if len(pending) < in_flight:
                room.set()

        started = time.perf_counter()
        for index, command in enumerate(stream):
            if rate:
                delay = started + index / rate - time.perf_counter()
                if delay > 0.0005:
                    await asyncio.sleep(delay)
            while len(pending) >= in_flight:
                room.clear()
                await room.wait()
            future = runner.offer(command)
            pending[future] = clock()
            future.add_done_callback(record)
            if index % 5000 == 4999:
                progress(index + 1, len(stream))
                await asyncio.sleep(0)
        await asyncio.gather(*pending)  # its callbacks run after ``record``: all recorded
        seconds = time.perf_counter() - started
        progress(len(stream), len(stream))
        latencies.sort()
        return EngineFigures(
            len(stream),
            runner.engine.next_trade_id - trades_before,
            seconds,
            ack_p50_ms=latencies[len(latencies) // 2] * 1000,
            ack_p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            offered_rate=rate,
            batches=runner.batches,
        )
    finally:
        await runner.stop()
