"""``bursa bench bots``: what one bot process sustains against Bursa, and how fast a copy
follows its source.

Two exchanges run as ``bursa up`` runs one (engine, candle writer, Ranger hub, the API in
uvicorn), each in a process of its own on a scratch database it is given: the **source**
and the **target**. The bots run in a third process: the real ``Runner`` of
``bursa bots run`` (on asyncio's loop, as that command) reading a real bots' file, with
API keys from its environment. This process only orchestrates, drives and watches.

**Throughput.** On the source, an engine-level mover shifts the best ask of three demo
markets ``MOVES_PER_S`` times a second (a walk up and down a narrow band, a tick of the
mid a step), so every source mid keeps moving. On the target, ``accounts`` members each
run one ``market_making`` strategy per such market, quoting ``levels`` levels a side
around the source's mid: each tick finds the mid moved and replaces its orders. The
figure is the orders placed plus cancelled per second across all strategies (the
runner's own counters) over ``seconds``, after ``warmup``; errors are the runner's
warnings (refusals, skipped ticks) in that window. The CPU each process used in the
window, and the machine's, tell which one was the limit.

**Delay.** One ``copy`` strategy mirrors the source's btcusdt onto the target's (three
levels, no spread, ratio 1), woken by the source's Ranger feed (``min_period``, when the
runner has it). A driver here places, ``rate`` times a second, a new best level on the
source (asks and bids in turn, each at a price not used before) and takes the time its
201 comes back; a watcher here follows the target's public ``ob-inc``
(``RangerFeed``/``LocalBook``) and takes the time that price appears. Delay = appearance −
source ack, so it holds the source's Ranger fan-out, the bot's tick (its reads, its
cancels, its placement) and the target's fan-out to the watcher. A change not mirrored
``DRAIN_S`` after the last one is counted missed (a later change on the same side may
replace it before the bot ticks: the copy follows the book, not every order).
"""

import asyncio
import contextlib
import logging
import multiprocessing
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvloop

from bursa.bots.config import StrategyConfig, read_config
from bursa.bots.drivers.opendax import ApiKey, ExchangeError, OpenDaxClient
from bursa.bots.drivers.ranger_client import RangerFeed
from bursa.bots.runner import Runner
from bursa.bots.status import default_status_path
from bursa.engine.commands import (
    BUY,
    SELL,
    CancelAll,
    CancelOrder,
    Command,
    PlaceOrder,
)
from bursa.engine.runner import EngineRunner
from bursa.engine.specs import MarketSpec
from bursa.engine.units import to_units
from bursa.formats import decimal_text

D = Decimal
Phase = Callable[[str], None]
Tick = Callable[[float, float], None]


@dataclass(frozen=True, slots=True)
class Quote:
    """How the bench quotes a demo market: around ``mid``, orders of ``amount`` of
    ``base``."""

    base: str
    mid: Decimal
    amount: Decimal


# The demo markets whose tick is fine enough for the mover's band (ethbtc's tick, 0.0001,
# is 0.14% of its price: wider than the band its mid could walk in).
MARKETS = {
    "btcusdt": Quote("btc", D("30000"), D("0.001")),
    "ethusdt": Quote("eth", D("2000"), D("0.01")),
    "btcusd": Quote("btc", D("30000"), D("0.01")),
}
MOVES_PER_S = 50  # source mid moves a second, per market, while throughput is measured
MOVER_WIDTH = D("0.01")  # the mover's bid and lowest ask, this fraction from the mid
MOVER_TICKS = 2  # ticks the mover's ask moves a step (the mid: one)
# The band the mid walks in, a fraction of it: well inside the quotes' half-spread
# (``QUOTE_SPREAD`` / 2), so that two accounts quoting mids read at different moments
# never cross each other's orders.
MOVER_BAND = D("0.0005")
QUOTE_SPREAD = D("0.002")
BOT_PERIOD = D("0.02")  # the throughput strategies' period (and min_period): back to back
COPY_PERIOD = D("1")  # the copy's period; a source change wakes it after COPY_MIN_PERIOD
COPY_MIN_PERIOD = D("0.05")
COPY_MARKET = "btcusdt"
COPY_LEVELS = 3
LADDER = ((D("30100"), D("29900")), (D("30101"), D("29899")), (D("30102"), D("29898")))
DRIVER_AMOUNT = D("0.01")
# The driver's new best levels: asks from here down, bids from here up, a cent a change,
# always inside the ladder's spread and never crossing each other.
DRIVER_ASKS_FROM, DRIVER_BIDS_FROM = D("30060"), D("29940")
FRESH_PRICES = 5000  # driver prices a side before one comes again
DRAIN_S = 2.0  # after the last change, for the last mirrors to appear
READY_S = 60.0  # most seconds a process or a first mirror may take to be ready
FUNDS = {"btc": 100, "eth": 10_000, "usdt": 10_000_000, "usd": 10_000_000}  # per member


class BenchError(RuntimeError):
    """A process of the bench failed, or the bots never became ready."""


# ---------------------------------------------------------------------- figures


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * share))]


@dataclass(frozen=True, slots=True)
class Throughput:
    seconds: float
    accounts: int
    strategies: int
    levels: int
    placed: int
    cancelled: int
    ticks: int
    errors: int
    bot_cpu: float  # of one core, over the window
    target_cpu: float
    source_cpu: float
    machine_busy: float | None  # share of all cores busy over the window (Linux), any process
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def orders_per_s(self) -> float:
        return (self.placed + self.cancelled) / self.seconds if self.seconds else 0.0

    @property
    def bot_cpu_ms_per_order(self) -> float:
        """The bot process's CPU per order placed or cancelled (its reads, feeds and status
        file included): 1000 / this is what it would sustain with a core of its own."""
        orders = self.placed + self.cancelled
        return self.bot_cpu * self.seconds * 1000 / orders if orders else 0.0


@dataclass(frozen=True, slots=True)
class Delays:
    rate: float  # source changes a second
    changes: int
    delays_ms: list[float]  # appearance − source ack, sorted
    missed: int
    errors: int
    min_period: Decimal | None  # None: the runner has none, the copy ticks every period
    period: Decimal
    error_kinds: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BotsFigures:
    throughput: Throughput
    delays: Delays
    cores: int
    load_average: float  # one minute, when the bench started

    @property
    def errors(self) -> int:
        return self.throughput.errors + self.delays.errors

    def as_json(self) -> dict[str, Any]:
        t, d = self.throughput, self.delays
        return {
            "orders_per_s": round(t.orders_per_s, 1),
            "placed": t.placed,
            "cancelled": t.cancelled,
            "ticks": t.ticks,
            "strategies": t.strategies,
            "accounts": t.accounts,
            "levels": t.levels,
            "seconds": round(t.seconds, 2),
            "bot_cpu": round(t.bot_cpu, 2),
            "target_cpu": round(t.target_cpu, 2),
            "source_cpu": round(t.source_cpu, 2),
            "machine_busy": None if t.machine_busy is None else round(t.machine_busy, 2),
            "bot_cpu_ms_per_order": round(t.bot_cpu_ms_per_order, 2),
            "changes": d.changes,
            "mirrored": len(d.delays_ms),
            "missed": d.missed,
            "delay_p50_ms": round(_percentile(d.delays_ms, 0.50), 1),
            "delay_p99_ms": round(_percentile(d.delays_ms, 0.99), 1),
            "delay_max_ms": round(max(d.delays_ms, default=0.0), 1),
            "rate": d.rate,
            "min_period": None if d.min_period is None else decimal_text(d.min_period),
            "period": decimal_text(d.period),
            "errors": self.errors,
            "error_kinds": _merged(t.error_kinds, d.error_kinds),
            "cores": self.cores,
            "load_average": round(self.load_average, 2),
        }


def _merged(*kinds: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for one in kinds:
        for kind, count in one.items():
            total[kind] = total.get(kind, 0) + count
    return total


def has_min_period() -> bool:
    """Whether this runner wakes a strategy early on a source change (``min_period``)."""
    return "min_period" in StrategyConfig.model_fields


# ---------------------------------------------------------------------- an exchange


@dataclass(frozen=True, slots=True)
class Served:
    """An exchange process as the orchestrator sees it."""

    host: str
    ws: str
    keys: tuple[ApiKey, ...]  # one per member, in order
    pipe: Connection
    process: Any  # multiprocessing's SpawnProcess

    async def ask(self, *command: Any) -> Any:
        """Send ``command``; its answer."""
        self.pipe.send(command)
        return await _receive(self.pipe, self.process, f"the exchange at {self.host}", READY_S)


def _exchange_process(url: str, members: int, pipe: Connection) -> None:
    uvloop.run(_exchange(url, members, pipe))


async def _exchange(url: str, members: int, pipe: Connection) -> None:
    """Bursa on ``url`` with ``members`` funded members holding API keys; tells its port and
    keys, then answers the orchestrator's commands (``_Mover``'s, ``cpu``) until ``stop``."""
    # The exchange's stack is imported here, in its own process: the bot process imports
    # this module too, and carries only what ``bursa bots run`` carries.
    from argon2 import PasswordHasher

    from bursa.bench.local_exchange import funded_members, serve_exchange
    from bursa.identity import passwords

    # The members' passwords are made and thrown away: the cheapest hashing keeps set-up
    # short (API keys, which the bots use, are checked by HMAC, not by this hash).
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    try:
        async with serve_exchange(url, app_name="Bursa bench", graceful_shutdown_s=1) as exchange:
            made = await funded_members(exchange, members, FUNDS, tag="bench-bots")
            pipe.send(("ready", exchange.port, [tuple(member) for member in made]))
            await _answer(exchange.runner, made[0].id, pipe)
    except Exception as exc:  # told to the orchestrator, which stops the bench
        with contextlib.suppress(OSError):
            pipe.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise


async def _answer(runner: EngineRunner, mover_id: int, pipe: Connection) -> None:
    """The orchestrator's commands, until ``stop``; the mover trades as ``mover_id``."""
    specs = {market: runner.engine.books[market].spec for market in MARKETS}
    mover: _Mover | None = None
    try:
        while True:
            asked = await asyncio.to_thread(pipe.recv)
            if asked[0] == "stop":
                break
            if asked[0] == "cpu":
                pipe.send(time.process_time())
            elif asked[0] == "move":
                mover = _Mover(runner, specs, mover_id, float(asked[1]))
                mover.start()
                pipe.send("moving")
            elif asked[0] == "still":
                if mover is not None:
                    await mover.stop()
                    mover = None
                pipe.send("still")
    finally:
        if mover is not None:
            await mover.stop()


class _Mover:
    """Moves the mid of each of ``MARKETS`` on this exchange through the engine (no HTTP:
    the source's work is set-up, not what is measured): a resting bid ``MOVER_WIDTH`` under
    the mid, and an ask replaced ``rate`` times a second, ``MOVER_TICKS`` ticks up or down
    each time (the mid: one tick), walking up and back down within ``MOVER_BAND``."""

    def __init__(
        self, runner: EngineRunner, specs: dict[str, MarketSpec], member_id: int, rate: float
    ) -> None:
        self.runner = runner
        self.specs = specs
        self.member_id = member_id
        self.rate = rate
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="bench-mover")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        await self.runner.submit(
            CancelAll(key=f"bench-bots:still:{time.time_ns()}", member_id=self.member_id)
        )

    def _order(self, market: str, key: str, side: str, price: Decimal) -> PlaceOrder:
        spec = self.specs[market]
        return PlaceOrder(
            key=key,
            member_id=self.member_id,
            market=market,
            side=side,
            volume=to_units(MARKETS[market].amount, spec.amount_precision),
            price=to_units(price, spec.price_precision),
            client_id=key,
        )

    def _tick(self, market: str) -> Decimal:
        return D(1).scaleb(-self.specs[market].price_precision)

    async def _run(self) -> None:
        run = time.time_ns()
        first = []
        for market, quote in MARKETS.items():
            bid = (quote.mid * (1 - MOVER_WIDTH)).quantize(self._tick(market))
            first.append(self._order(market, f"mv-{run}-{market}-bid", BUY, bid))
        await asyncio.gather(*(self.runner.submit(c) for c in first))
        step = 0
        started = time.monotonic()
        while True:
            commands: list[Command] = []
            for market, quote in MARKETS.items():
                tick = self._tick(market)
                swing = max(1, int(quote.mid * MOVER_BAND / tick))  # steps one way
                leg = step % (2 * swing)
                walked = leg if leg < swing else 2 * swing - leg
                ask = (quote.mid * (1 + MOVER_WIDTH)).quantize(tick) + walked * MOVER_TICKS * tick
                commands.append(self._order(market, f"mv-{run}-{market}-{step}", SELL, ask))
                if step:
                    last = f"mv-{run}-{market}-{step - 1}"
                    commands.append(
                        CancelOrder(key=f"{last}-x", member_id=self.member_id, client_id=last)
                    )
            await asyncio.gather(*(self.runner.submit(c) for c in commands))
            step += 1
            await asyncio.sleep(max(0.0, started + step / self.rate - time.monotonic()))


async def _receive(pipe: Connection, process: Any, who: str, within_s: float) -> Any:
    """The next answer of ``process`` on ``pipe``; ``BenchError`` if it failed, died or
    kept silent ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while not await asyncio.to_thread(pipe.poll, 0.2):
        if not process.is_alive():
            raise BenchError(f"{who} stopped (exit code {process.exitcode})")
        if time.monotonic() > deadline:
            raise BenchError(f"{who} did not answer within {within_s:g} s")
    answer = await asyncio.to_thread(pipe.recv)
    if isinstance(answer, tuple) and answer and answer[0] == "failed":
        raise BenchError(f"{who} failed: {answer[1]}")
    return answer


# ---------------------------------------------------------------------- the bot process


class _Warnings(logging.Handler):
    """Counts the bots' warnings and errors (refusals, skipped ticks), by kind: the
    message with its numbers and ids blanked."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.kinds: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().split(": ", 1)[-1]
        kind = re.sub(r"[0-9a-f]{6,}|\d+(\.\d+)?", "#", message)[:120]
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


def _counters(runner: Runner, warnings: _Warnings) -> dict[str, Any]:
    statuses = [strategy.status for strategy in runner.strategies.values()]
    return {
        "placed": sum(s.placed for s in statuses),
        "cancelled": sum(s.cancelled for s in statuses),
        "ticks": sum(s.ticks for s in statuses),
        "kinds": dict(warnings.kinds),
        "cpu": time.process_time(),
        "at": time.monotonic(),
    }


def _bot_process(config_text: str, environ: dict[str, str], pipe: Connection) -> None:
    asyncio.run(_bot(config_text, environ, pipe))  # as ``bursa bots run``


async def _bot(config_text: str, environ: dict[str, str], pipe: Connection) -> None:
    """``bursa bots run`` on ``config_text`` (its status file included), answering
    ``mark`` with the counters until ``stop``; then the runner cancels its orders."""
    warnings = _Warnings()
    bots_log = logging.getLogger("bursa.bots")
    bots_log.addHandler(warnings)
    bots_log.propagate = False  # counted, not printed over the orchestrator's progress
    try:
        with tempfile.TemporaryDirectory(prefix="bursa-bench-bots-") as folder:
            path = Path(folder) / "bench-bots.yml"
            path.write_text(config_text, encoding="utf-8")
            config = read_config(path, environ=environ)
            bots_log.setLevel(config.log_level.upper())
            runner = Runner(config, status_path=default_status_path(path), environ=environ)
            async with runner:
                running = asyncio.create_task(runner.run(signals=False))
                pipe.send(("ready",))
                while True:
                    command = await asyncio.to_thread(pipe.recv)
                    if running.done():
                        running.result()  # raises what stopped it
                    if command == "stop":
                        break
                    pipe.send(_counters(runner, warnings))
                runner.stop()
                outcome = await running
            pipe.send(("stopped", outcome.clean, outcome.problems, _counters(runner, warnings)))
    except Exception as exc:
        with contextlib.suppress(OSError):
            pipe.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise


class _Bot:
    """The bot process as the orchestrator drives it."""

    def __init__(self, config_text: str, environ: dict[str, str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(
            target=_bot_process, args=(config_text, environ, theirs), daemon=True
        )

    async def start(self) -> None:
        self.process.start()
        await self._answer(READY_S)

    async def _answer(self, wait_s: float = READY_S) -> Any:
        return await _receive(self.pipe, self.process, "the bot process", wait_s)

    async def mark(self) -> dict[str, Any]:
        self.pipe.send("mark")
        found: dict[str, Any] = await self._answer()
        return found

    async def stop(self) -> tuple[bool, list[str], dict[str, Any]]:
        """Stop the runner (it cancels its orders); clean, problems, final counters."""
        self.pipe.send("stop")
        _, clean, problems, counters = await self._answer(READY_S)
        await asyncio.to_thread(self.process.join, 10)
        return bool(clean), list(problems), counters

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()


# ---------------------------------------------------------------------- bots' files


def _account(name: str, host: str, keyed: bool) -> list[str]:
    lines = [f"  - id: {name}", "    driver: bursa", f"    host: {host}"]
    if keyed:
        lines += [
            f"    key_env: BENCH_{name.upper()}_KEY",
            f"    secret_env: BENCH_{name.upper()}_SECRET",
        ]
    return lines


def _environ(names_and_keys: list[tuple[str, ApiKey]]) -> dict[str, str]:
    environ = {}
    for name, key in names_and_keys:
        environ[f"BENCH_{name.upper()}_KEY"] = key.kid
        environ[f"BENCH_{name.upper()}_SECRET"] = key.secret
    return environ


def _periods(period: Decimal, min_period: Decimal) -> list[str]:
    lines = [f"    period: {decimal_text(period)}"]
    if has_min_period():
        lines.append(f"    min_period: {decimal_text(min(min_period, period))}")
    return lines


def throughput_config(source: str, target: str, accounts: int, levels: int) -> str:
    """A bots' file: ``accounts`` target accounts, each with one ``market_making`` ladder of
    ``levels`` a side per demo market around the source's mid (read from its feed)."""
    lines = ["log_level: warning", "accounts:", *_account("source", source, keyed=False)]
    for n in range(accounts):
        lines += _account(f"bot{n}", target, keyed=True)
    lines.append("strategies:")
    for n in range(accounts):
        for market, quote in MARKETS.items():
            lines += [
                f"  - id: mm-{n}-{market}",
                "    type: market_making",
                *_periods(BOT_PERIOD, BOT_PERIOD),
                "    params:",
                f"      spread: {decimal_text(QUOTE_SPREAD)}",
                f"      levels: {levels}",
                "      step: 0.001",
                f"      amount: {decimal_text(quote.amount)}",
                "      max_position: 1000",
                f"      target_inventory: {FUNDS[quote.base]}",  # funded: flat, no skew
                "      skew: 0",
                f"    target: {{account_id: bot{n}, market_id: {market}}}",
                f"    sources: [{{account_id: source, market_id: {market}}}]",
            ]
    return "\n".join(lines) + "\n"


def copy_config(source: str, target: str) -> str:
    """A bots' file: the source's ``COPY_MARKET`` mirrored onto the target's, as it is."""
    lines = [
        "log_level: warning",
        "accounts:",
        *_account("source", source, keyed=False),
        *_account("mirror", target, keyed=True),
        "strategies:",
        "  - id: copy",
        "    type: copy",
        *_periods(COPY_PERIOD, COPY_MIN_PERIOD),
        "    params:",
        f"      levels: {COPY_LEVELS}",
        f"    target: {{account_id: mirror, market_id: {COPY_MARKET}}}",
        f"    sources: [{{account_id: source, market_id: {COPY_MARKET}}}]",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- driving and watching


@dataclass(slots=True)
class _Change:
    side: str  # of the level on the book: asks or bids
    ack: float | None = None  # wall clock, when the source's 201 came back
    seen: float | None = None  # wall clock, when the target's book showed the price


class _Watcher:
    """The target's public book (Ranger ``ob-inc``); notes when each expected price
    appears on its side."""

    def __init__(self, ws: str) -> None:
        self.feed = RangerFeed(ws, [COPY_MARKET], trades=False)
        self.feed.on_book_change = self._changed
        self.expected: dict[Decimal, _Change] = {}
        self.unseen: set[Decimal] = set()

    def expect(self, price: Decimal, side: str) -> _Change:
        change = self.expected[price] = _Change(side)
        self.unseen.add(price)
        return change

    def shows(self, price: Decimal, side: str) -> bool:
        book = self.feed.books[COPY_MARKET]
        return book.synced and price in (book.asks if side == "asks" else book.bids)

    def _changed(self, market: str) -> None:
        now = time.time()
        for price in list(self.unseen):
            change = self.expected[price]
            if self.shows(price, change.side):
                change.seen = now
                self.unseen.discard(price)


async def _until(check: Callable[[], bool], what: str, within_s: float = READY_S) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise BenchError(f"{what} did not happen within {within_s:g} s")
        await asyncio.sleep(0.05)


async def _drive(
    client: OpenDaxClient,
    watcher: _Watcher,
    *,
    rate: float,
    seconds: float,
    tick: Tick,
    errors: dict[str, int],
) -> int:
    """New best levels on the source, asks and bids in turn, ``rate`` a second for
    ``seconds``; each side's previous one is cancelled once the new one is acknowledged.
    Returns the changes made."""
    previous: dict[str, int | str] = {}
    started = time.monotonic()
    step = 0
    while (elapsed := time.monotonic() - started) < seconds:
        tick(elapsed, seconds)
        side = "sell" if step % 2 == 0 else "buy"
        fresh = D(step // 2 % FRESH_PRICES) / 100
        price = DRIVER_ASKS_FROM - fresh if side == "sell" else DRIVER_BIDS_FROM + fresh
        change = watcher.expect(price, "asks" if side == "sell" else "bids")
        try:
            order = await client.place(COPY_MARKET, side, DRIVER_AMOUNT, price)
            change.ack = time.time()
            if side in previous:
                await client.cancel(previous[side])
            previous[side] = order.id
        except ExchangeError as exc:
            kind = f"driver: {exc}"
            errors[kind] = errors.get(kind, 0) + 1
        step += 1
        await asyncio.sleep(max(0.0, started + step / rate - time.monotonic()))
    for order_id in previous.values():
        with contextlib.suppress(ExchangeError):
            await client.cancel(order_id)
    return step


# ---------------------------------------------------------------------- the bench


async def _serve(url: str, members: int) -> Served:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_exchange_process, args=(url, members, theirs), daemon=True)
    process.start()
    try:
        _, port, made = await _receive(ours, process, "an exchange process", READY_S)
    except BenchError:
        process.kill()
        raise
    keys = tuple(ApiKey(kid, secret) for _, kid, secret in made)
    host = f"http://127.0.0.1:{port}"
    return Served(host, f"ws://127.0.0.1:{port}/api/v2/ranger", keys, ours, process)


async def _shut(served: Served) -> None:
    with contextlib.suppress(OSError, EOFError):
        served.pipe.send(("stop",))
    await asyncio.to_thread(served.process.join, 20)
    if served.process.is_alive():
        served.process.kill()


async def _cpu(served: Served) -> float:
    found: float = await served.ask("cpu")
    return found


async def _throughput(
    source: Served,
    target: Served,
    *,
    accounts: int,
    levels: int,
    seconds: float,
    warmup: float,
    phase: Phase,
    tick: Tick,
) -> Throughput:
    phase("throughput: moving the source's mids, starting the bot process")
    await source.ask("move", MOVES_PER_S)
    names = [(f"bot{n}", target.keys[n]) for n in range(accounts)]
    bot = _Bot(throughput_config(source.host, target.host, accounts, levels), _environ(names))
    try:
        await bot.start()
        phase(f"throughput: warming up ({warmup:g} s)")
        await _sleep(warmup, tick)
        first = await bot.mark()
        cpu = (await _cpu(target), await _cpu(source))
        machine = _cpu_times()
        phase(f"throughput: {accounts * len(MARKETS)} strategies, measuring ({seconds:g} s)")
        await _sleep(seconds, tick)
        last = await bot.mark()
        cpu_after = (await _cpu(target), await _cpu(source))
        machine_busy = _busy(machine, _cpu_times())
        phase("throughput: stopping the bots (they cancel their orders)")
        clean, problems, _ = await bot.stop()
    finally:
        bot.kill()
        await source.ask("still")
    elapsed = last["at"] - first["at"]
    kinds = _new_kinds(first["kinds"], last["kinds"])
    for problem in problems if not clean else []:
        kinds[problem] = kinds.get(problem, 0) + 1
    return Throughput(
        seconds=elapsed,
        accounts=accounts,
        strategies=accounts * len(MARKETS),
        levels=levels,
        placed=last["placed"] - first["placed"],
        cancelled=last["cancelled"] - first["cancelled"],
        ticks=last["ticks"] - first["ticks"],
        errors=sum(kinds.values()),
        bot_cpu=(last["cpu"] - first["cpu"]) / elapsed,
        target_cpu=(cpu_after[0] - cpu[0]) / elapsed,
        source_cpu=(cpu_after[1] - cpu[1]) / elapsed,
        machine_busy=machine_busy,
        error_kinds=kinds,
    )


def _new_kinds(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}


def _cpu_times() -> tuple[int, int] | None:
    """The machine's (busy, all) CPU time so far, from ``/proc/stat`` (None elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _busy(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


async def _sleep(seconds: float, tick: Tick) -> None:
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        tick(elapsed, seconds)
        await asyncio.sleep(min(0.25, seconds - elapsed))
    tick(seconds, seconds)


async def _delays(
    source: Served,
    target: Served,
    *,
    mirror: ApiKey,
    rate: float,
    seconds: float,
    phase: Phase,
    tick: Tick,
) -> Delays:
    phase("delay: a ladder on the source, starting the copy")
    driver = OpenDaxClient(source.host, source.keys[0])
    ladder = []
    for ask, bid in LADDER:
        ladder.append(await driver.place(COPY_MARKET, "sell", DRIVER_AMOUNT, ask))
        ladder.append(await driver.place(COPY_MARKET, "buy", DRIVER_AMOUNT, bid))
    watcher = _Watcher(target.ws)
    bot = _Bot(copy_config(source.host, target.host), _environ([("mirror", mirror)]))
    errors: dict[str, int] = {}
    try:
        async with watcher.feed:
            await bot.start()
            worst_ask, worst_bid = LADDER[-1]
            await _until(
                lambda: watcher.shows(worst_ask, "asks") and watcher.shows(worst_bid, "bids"),
                "the copy of the source's ladder on the target",
            )
            first = await bot.mark()
            phase(f"delay: {rate:g} source changes a second ({seconds:g} s)")
            changes = await _drive(
                driver, watcher, rate=rate, seconds=seconds, tick=tick, errors=errors
            )
            with contextlib.suppress(BenchError):
                await _until(lambda: not watcher.unseen, "every mirror", DRAIN_S)
            last = await bot.mark()
            phase("delay: stopping the copy")
            clean, problems, _ = await bot.stop()
    finally:
        bot.kill()
        for order in ladder:
            with contextlib.suppress(ExchangeError):
                await driver.cancel(order.id)
        await driver.close()
    kinds = _merged(errors, _new_kinds(first["kinds"], last["kinds"]))
    for problem in problems if not clean else []:
        kinds[problem] = kinds.get(problem, 0) + 1
    delays = sorted(
        (c.seen - c.ack) * 1000
        for c in watcher.expected.values()
        if c.seen is not None and c.ack is not None
    )
    acked = sum(1 for c in watcher.expected.values() if c.ack is not None)
    return Delays(
        rate=rate,
        changes=changes,
        delays_ms=delays,
        missed=acked - len(delays),
        errors=sum(kinds.values()),
        min_period=COPY_MIN_PERIOD if has_min_period() else None,
        period=COPY_PERIOD,
        error_kinds=kinds,
    )


async def run_bots_bench(
    source_url: str,
    target_url: str,
    *,
    seconds: float,
    warmup: float = 3.0,
    accounts: int = 4,
    levels: int = 5,
    rate: float = 10.0,
    phase: Phase = lambda _: None,
    tick: Tick = lambda _done, _total: None,
) -> BotsFigures:
    """Both measurements on two databases (migrated, demo-seeded, otherwise empty): the
    source exchange on ``source_url``, the target on ``target_url``."""
    load = os.getloadavg()[0]
    phase("starting the source and target exchanges (members, API keys, funds)")
    source, target = await asyncio.gather(_serve(source_url, 1), _serve(target_url, accounts + 1))
    try:
        throughput = await _throughput(
            source,
            target,
            accounts=accounts,
            levels=levels,
            seconds=seconds,
            warmup=warmup,
            phase=phase,
            tick=tick,
        )
        delays = await _delays(
            source,
            target,
            mirror=target.keys[accounts],
            rate=rate,
            seconds=seconds,
            phase=phase,
            tick=tick,
        )
    finally:
        await asyncio.gather(_shut(source), _shut(target))
    return BotsFigures(throughput, delays, os.cpu_count() or 1, load)
