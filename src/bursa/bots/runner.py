"""Running a bots' file: each enabled strategy ticks as its own task until stopped.

A tick reads everything afresh from the exchange — the market's rules, the book (Ranger's
when synced, else REST ``depth``), balances and the strategy's own open orders — so a
restart or a reconnect never places an order twice: what is already open is seen and kept.
The strategy answers a ``Plan``; the runner holds it to the strategy's ``risk`` limits
(``bursa.bots.risk``), cancels, then places. A refused order is logged and the strategy goes
on; an unreachable exchange (after the driver's retries) skips the tick.

Which orders are the strategy's: on a ``bursa`` account every order the bot places carries a
``client_id`` ``bot.<strategy id>.<random>``, and only those are read, kept or cancelled (a
person may trade by hand on the same account). Peatio (``opendax`` driver) has no client
ids, so there the strategy owns *every* open order of its account on its target market.
Either way positions and the daily P&L are read from the account's balances, so a file
gives each account and market to one strategy only (``ownership_problems``).

The day's P&L (``daily_loss_limit``) is the change of the account's base and quote totals
since the strategy's first tick of the UTC day, the base valued at the current mid: below
−limit, the strategy cancels its orders and places nothing more until the next UTC day.

Stopping: SIGINT/SIGTERM end the ticks and cancel each strategy's open orders unless its
``on_stop`` is ``keep``. The kill switch — the file ``kill_switch.file`` appearing (looked
for every second) or SIGUSR1 — cancels every strategy's orders whatever ``on_stop`` says.
A status file (JSON) tells each strategy's counters after every tick.
"""

import asyncio
import contextlib
import json
import logging
import os
import random
import signal
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import httpx

from bursa.bots import risk
from bursa.bots.config import AccountConfig, BotsConfig, ConfiguredStrategy, credentials
from bursa.bots.drivers.opendax import ApiKey, ExchangeError, OpenDaxClient, Order
from bursa.bots.drivers.opendax import Market as MarketRow
from bursa.bots.drivers.ranger_client import RangerFeed
from bursa.bots.strategy import (
    Balance,
    Book,
    BookSide,
    Level,
    Market,
    OpenOrder,
    Strategy,
    View,
)
from bursa.formats import decimal_text

log = logging.getLogger(__name__)

RANGER_PATH = "/api/v2/ranger"
BOOK_DEPTH = 50  # levels of each side a strategy sees
KILL_POLL_S = 1.0
STOP_GRACE_S = 15.0  # for a tick under way to finish before it is cut short
MARKER = "bot"

State = Literal["starting", "running", "halted", "stopped", "killed"]


class RunnerError(ValueError):
    """The file cannot be run as it is (an unsupported driver, a shared target…)."""


def ownership_problems(config: BotsConfig) -> list[str]:
    """Why ``config`` cannot run: two enabled strategies on one account and market (their
    orders, positions and P&L would mix), or a target on a driver the runner lacks."""
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for entry in config.strategies:
        strategy = entry.config
        if not strategy.enabled:
            continue
        target = (strategy.target.account_id, strategy.target.market_id)
        if target in seen:
            problems.append(
                f'strategy "{strategy.id}": target {strategy.target} is already the target of '
                f'strategy "{seen[target]}" (one strategy per account and market)'
            )
        seen.setdefault(target, strategy.id)
        if strategy.type == "microtrades":  # its maker order needs the counterparty's taker
            problems.append(
                f'strategy "{strategy.id}": bots run does not yet take microtrades\' orders'
                " from the counterparty account"
            )
        for ref in (strategy.target, *strategy.sources):
            driver = config.accounts[ref.account_id].driver
            if driver == "ccxt":
                problems.append(
                    f'strategy "{strategy.id}": account "{ref.account_id}" uses driver ccxt, '
                    "which bots run does not support yet"
                )
    return problems


def default_status_path(config_path: Path) -> Path:
    """``bots.yml`` → ``bots.status.json`` in the same folder."""
    return config_path.with_name(f"{config_path.stem}.status.json")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------- one account


class Exchange:
    """One account: its REST client, an optional Ranger feed for its books, and the
    markets' rules (read once, again after a failure)."""

    def __init__(self, account: AccountConfig, key: ApiKey | None, markets: set[str]) -> None:
        low, high = account.delay
        self.account = account
        self.marks_orders = account.driver == "bursa"  # Bursa takes client ids
        source = account.source_address
        self.client = OpenDaxClient(
            str(account.host),
            key,
            delay=random.uniform(float(low), float(high)),  # noqa: S311
            transport=httpx.AsyncHTTPTransport(local_address=str(source)) if source else None,
        )
        ws = account.ws or (account.ws_url or "") + RANGER_PATH
        self.feed = RangerFeed(ws, sorted(markets), trades=False) if markets else None
        self._markets: dict[str, MarketRow] = {}
        self._drain: asyncio.Task[None] | None = None

    async def start(self, use_feed: bool) -> None:
        if use_feed and self.feed is not None:
            await self.feed.__aenter__()
            self._drain = asyncio.create_task(self._drain_events(self.feed))

    async def close(self) -> None:
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
        if self.feed is not None:
            await self.feed.__aexit__()
        await self.client.close()

    async def _drain_events(self, feed: RangerFeed) -> None:
        """Feed events are not needed (books are read from ``feed.books``), but must not
        pile up; a feed that stops leaves the books unsynced, and ``depth`` is used."""
        while True:
            try:
                await feed.next_event(wait_s=60)
            except TimeoutError:
                continue
            except ExchangeError as exc:
                log.warning("%s: ranger refused (%s); books from REST", self.account.id, exc)
                return

    async def market(self, market_id: str) -> MarketRow:
        if market_id not in self._markets:
            self._markets = {m.id: m for m in await self.client.markets()}
        found = self._markets.get(market_id)
        if found is None:
            raise ExchangeError(422, "bots.unknown_market", message=f"no market {market_id}")
        return found

    async def book(self, market_id: str) -> Book:
        local = self.feed.books.get(market_id) if self.feed is not None else None
        if local is not None and local.synced:
            return _book_of(local.ask_levels(BOOK_DEPTH), local.bid_levels(BOOK_DEPTH))
        depth = await self.client.depth(market_id, limit=BOOK_DEPTH)
        return _book_of(depth.asks, depth.bids)


def _book_of(asks: list[tuple[Decimal, Decimal]], bids: list[tuple[Decimal, Decimal]]) -> Book:
    return Book(
        BookSide(tuple(Level(p, v) for p, v in asks)), BookSide(tuple(Level(p, v) for p, v in bids))
    )


# ---------------------------------------------------------------------- one strategy


@dataclass
class Status:
    """A strategy's counters, as the status file shows them."""

    id: str
    target: str
    state: State = "starting"
    ticks: int = 0
    open_orders: int = 0
    placed: int = 0  # since the start
    cancelled: int = 0
    base_balance: str | None = None  # total (available + locked)
    position: str | None = None  # base balance now − at the start
    day_pnl: str | None = None  # when daily_loss_limit is set
    last_tick: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None


@dataclass
class _Day:
    day: date
    base: Decimal
    quote: Decimal


class StrategyRunner:
    """One strategy: ``step`` is one period's work (see the module's docstring)."""

    def __init__(
        self, entry: ConfiguredStrategy, strategy: Strategy[Any], exchanges: Mapping[str, Exchange]
    ) -> None:
        self.config = entry.config
        self.strategy = strategy
        self.exchange = exchanges[self.config.target.account_id]
        self.exchanges = exchanges
        self.market_id = self.config.target.market_id
        self.status = Status(self.config.id, str(self.config.target))
        self.prefix = f"{MARKER}.{self.config.id}"
        self.start_base: Decimal | None = None
        self.day: _Day | None = None
        self.halted_on: date | None = None

    # ------------------------------------------------------------------ orders

    def _mine(self, order: Order) -> bool:
        if not self.exchange.marks_orders:
            return True
        return (order.client_id or "").rpartition(".")[0] == self.prefix

    def client_id(self) -> str | None:
        """A fresh marker for a new order (None where the exchange takes none). Strategy
        ids are at most 64 characters and client ids too: a long id is cut."""
        if not self.exchange.marks_orders:
            return None
        return f"{self.prefix[:51]}.{random.getrandbits(48):012x}"

    async def own_orders(self) -> list[Order]:
        """The strategy's open orders, read from the exchange (never from memory)."""
        found = await self.exchange.client.open_orders(self.market_id)
        return [order for order in found if self._mine(order)]

    async def cancel_own(self) -> bool:
        """Cancel every open order of the strategy; True when none is left."""
        client = self.exchange.client
        for _ in range(3):
            try:
                if not self.exchange.marks_orders:
                    await client.cancel_all(self.market_id)
                else:
                    for order in await self.own_orders():
                        try:
                            await client.cancel(order.id)
                            self.status.cancelled += 1
                        except ExchangeError as exc:  # filled or cancelled meanwhile
                            log.debug("%s: cancel %s: %s", self.config.id, order.id, exc)
                left = await self.own_orders()
            except ExchangeError as exc:
                self._error(f"cancelling: {exc}")
                continue
            self.status.open_orders = len(left)
            if not left:
                return True
        return False

    # ------------------------------------------------------------------ a period

    async def step(self) -> None:
        """Read, tick, limit, cancel, place; errors are recorded, never raised (except a
        bug of the runner's own)."""
        try:
            await self._step()
        except ExchangeError as exc:
            self._error(f"tick skipped: {exc}")
        except Exception as exc:  # a strategy plugin's bug must not stop the others
            log.exception("%s: tick failed", self.config.id)
            self._error(f"tick failed: {type(exc).__name__}: {exc}")
        self.status.ticks += 1
        self.status.last_tick = _now()

    async def _step(self) -> None:
        today = datetime.now(UTC).date()
        if self.halted_on is not None:
            if self.halted_on == today:
                await self.cancel_own()
                return
            self.halted_on = None
            self.status.state = "running"
        row = await self.exchange.market(self.market_id)
        market = Market(
            row.id,
            row.base_unit,
            row.quote_unit,
            row.amount_precision,
            row.price_precision,
            row.min_amount,
        )
        mine = await self.own_orders()
        balances = await self.exchange.client.balances()
        book = await self.exchange.book(self.market_id)
        sources = {
            str(ref): await self.exchanges[ref.account_id].book(ref.market_id)
            for ref in self.config.sources
        }
        open_orders = tuple(
            OpenOrder(str(o.id), "buy" if o.side == "buy" else "sell", o.price, o.remaining_volume)
            for o in mine
            if o.price is not None
        )
        view = View(
            market,
            book,
            {c: Balance(b.balance, b.locked) for c, b in balances.items()},
            open_orders,
            sources,
        )

        base = _total(balances, row.base_unit)
        quote = _total(balances, row.quote_unit)
        if self.start_base is None:
            self.start_base = base
        position = base - self.start_base
        self.status.base_balance = _text(base)
        self.status.position = _text(position)
        self.status.state = "running"
        if await self._losing_too_much(today, base, quote, book, open_orders):
            return

        plan = await self.strategy.tick(view)
        checked = risk.apply_limits(
            plan,
            self.config.risk,
            market=market,
            book=book,
            open_orders=open_orders,
            position=position,
        )
        for note in checked.notes:
            log.debug("%s: %s", self.config.id, note)
        ids = {o.id for o in open_orders}
        cancelled = placed = 0
        for order_id in checked.plan.cancel:
            if order_id not in ids:  # a strategy cancels only its own orders
                log.warning("%s: asked to cancel %s, not one of its own", self.config.id, order_id)
                continue
            log.debug("%s: cancel %s", self.config.id, order_id)
            try:
                await self.exchange.client.cancel(order_id)
                cancelled += 1
            except ExchangeError as exc:
                self._error(f"cancel {order_id}: {exc}")
        for new in checked.plan.place:
            log.debug("%s: place %s %s @ %s", self.config.id, new.side, new.amount, new.price)
            try:
                await self.exchange.client.place(
                    self.market_id, new.side, new.amount, new.price, client_id=self.client_id()
                )
                placed += 1
            except ExchangeError as exc:
                self._error(f"place {new.side} {new.amount} @ {new.price}: {exc}")
        self.status.placed += placed
        self.status.cancelled += cancelled
        self.status.open_orders = len(open_orders) - cancelled + placed
        log.info(
            "%s: placed %d, cancelled %d, open %d, position %s %s",
            self.config.id,
            placed,
            cancelled,
            self.status.open_orders,
            decimal_text(position),
            row.base_unit,
        )

    async def _losing_too_much(
        self,
        today: date,
        base: Decimal,
        quote: Decimal,
        book: Book,
        open_orders: tuple[OpenOrder, ...],
    ) -> bool:
        limit = self.config.risk.daily_loss_limit
        if limit is None:
            return False
        if self.day is None or self.day.day != today:
            self.day = _Day(today, base, quote)
        mid = risk.reference_price(book, open_orders)
        if mid is None:
            return False
        pnl = risk.day_pnl(self.day.base, self.day.quote, base, quote, mid)
        self.status.day_pnl = _text(pnl)
        if pnl >= -limit:
            return False
        log.warning(
            "%s: the day's P&L %s is below -%s: cancelling and halting until tomorrow (UTC)",
            self.config.id,
            decimal_text(pnl),
            decimal_text(limit),
        )
        self.halted_on = today
        self.status.state = "halted"
        await self.cancel_own()
        return True

    def _error(self, message: str) -> None:
        log.warning("%s: %s", self.config.id, message)
        self.status.last_error = message
        self.status.last_error_at = _now()


def _total(balances: Mapping[str, Any], currency: str) -> Decimal:
    found = balances.get(currency)
    return Decimal(0) if found is None else found.balance + found.locked


# ---------------------------------------------------------------------- the whole file


@dataclass
class Outcome:
    killed: bool = False
    clean: bool = True  # every order that was to be cancelled was
    problems: list[str] = field(default_factory=list)


class Runner:
    """Every enabled strategy of ``config``; ``async with`` opens the accounts, ``run``
    ticks until stopped. Credentials come from ``environ`` (the process's by default)."""

    def __init__(
        self,
        config: BotsConfig,
        *,
        status_path: Path | None = None,
        environ: Mapping[str, str] | None = None,
        use_feeds: bool = True,
    ) -> None:
        problems = ownership_problems(config)
        if problems:
            raise RunnerError("\n".join(problems))
        self.config = config
        self.status_path = status_path
        self.use_feeds = use_feeds
        self.stop_requested = asyncio.Event()
        self.kill_requested = asyncio.Event()
        enabled = [s for s in config.strategies if s.config.enabled]
        markets: dict[str, set[str]] = {}
        for entry in enabled:
            for ref in (entry.config.target, *entry.config.sources):
                markets.setdefault(ref.account_id, set()).add(ref.market_id)
        self.exchanges: dict[str, Exchange] = {}
        for account_id, names in markets.items():
            account = config.accounts[account_id]
            found = credentials(account, environ)
            key = None if found is None else ApiKey(found.key, found.secret)
            self.exchanges[account_id] = Exchange(account, key, names)
        self.strategies = {
            entry.config.id: StrategyRunner(entry, entry.build(), self.exchanges)
            for entry in enabled
        }

    async def __aenter__(self) -> "Runner":
        for exchange in self.exchanges.values():
            await exchange.start(self.use_feeds)
        return self

    async def __aexit__(self, *_: object) -> None:
        for exchange in self.exchanges.values():
            await exchange.close()

    # ------------------------------------------------------------------ control

    def stop(self) -> None:
        self.stop_requested.set()

    def kill(self) -> None:
        self.kill_requested.set()
        self.stop_requested.set()

    def _signals(self, install: bool) -> None:
        loop = asyncio.get_running_loop()
        for number, action in (
            (signal.SIGINT, self.stop),
            (signal.SIGTERM, self.stop),
            (signal.SIGUSR1, self.kill),
        ):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                if install:
                    loop.add_signal_handler(number, action)
                else:
                    loop.remove_signal_handler(number)

    async def _watch_kill_file(self, path: Path) -> None:
        while not self.stop_requested.is_set():
            if await asyncio.to_thread(path.exists):
                log.warning("kill switch %s: cancelling every strategy's orders", path)
                self.kill()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), KILL_POLL_S)

    async def _loop(self, runner: StrategyRunner) -> None:
        period = float(runner.config.period)
        jitter = float(runner.config.period_random_delay)
        while not self.stop_requested.is_set():
            await runner.step()
            self.write_status()
            pause = period + random.uniform(0, jitter)  # noqa: S311
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), pause)

    async def run(self, *, signals: bool = True) -> Outcome:
        """Tick until a signal, ``stop``/``kill`` or the kill switch file; then cancel what
        ``on_stop`` (or the kill switch) says. A kill switch file present at the start is
        refused: remove it first, so that a restarted bot does not trade by surprise."""
        kill_file = self.config.kill_switch
        if kill_file is not None and await asyncio.to_thread(kill_file.exists):
            raise RunnerError(f"the kill switch file {kill_file} exists: remove it to start")
        if signals:
            self._signals(install=True)
        tasks = [
            asyncio.create_task(self._loop(runner), name=f"bot-{name}")
            for name, runner in self.strategies.items()
        ]
        watcher = (
            asyncio.create_task(self._watch_kill_file(kill_file)) if kill_file is not None else None
        )
        try:
            await self.stop_requested.wait()
            if tasks:
                _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
                for task in late:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
            if signals:
                self._signals(install=False)
        return await self._wind_down()

    async def _wind_down(self) -> Outcome:
        killed = self.kill_requested.is_set()
        outcome = Outcome(killed=killed)
        for name, runner in self.strategies.items():
            cancel = killed or runner.config.on_stop == "cancel"
            if cancel and not await runner.cancel_own():
                outcome.clean = False
                outcome.problems.append(f"{name}: open orders may remain")
            runner.status.state = "killed" if killed else "stopped"
        self.write_status()
        return outcome

    # ------------------------------------------------------------------ status

    def snapshot(self) -> dict[str, Any]:
        return {
            "config": self.config.source,
            "updated_at": _now(),
            "pid": os.getpid(),
            "strategies": [asdict(r.status) for r in self.strategies.values()],
        }

    def write_status(self) -> None:
        """The status file, replaced whole (a reader never sees half of it)."""
        if self.status_path is None:
            return
        temporary = self.status_path.with_name(self.status_path.name + ".tmp")
        try:
            temporary.write_text(json.dumps(self.snapshot(), indent=2) + "\n", encoding="utf-8")
            temporary.replace(self.status_path)
        except OSError as exc:
            log.warning("status file %s: %s", self.status_path, exc.strerror)


def read_status(path: Path) -> dict[str, Any]:
    """A status file as ``Runner.write_status`` wrote it."""
    found = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(found, dict) or not isinstance(found.get("strategies"), list):
        raise ValueError(f"{path}: not a bots status file")
    return found
