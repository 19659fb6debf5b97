"""Running a bots' file: each enabled strategy ticks as its own task until stopped.

A tick reads everything afresh from the exchanges (``bursa.bots.exchange``) — the market's
rules, the book, balances, the strategy's own open orders, its sources' books, the rules
and balances of its venues, its new fills (``bursa.bots.fills``) and (for a strategy that
``wants_trades``) the target's public trades — so a restart or a reconnect never places an
order twice: what is already open is seen and kept. The strategy answers a ``Plan``; the
runner holds it to the strategy's ``risk`` limits (``bursa.bots.risk``), cancels, then
places in the plan's order. A refused order is logged and the strategy goes on; an
unreachable exchange (after the driver's retries) skips the tick (an unreachable venue
only leaves that venue out of the view). Which orders are the strategy's, and which files
can run, is ``bursa.bots.ownership``'s.

Venues: an order with ``venue`` goes to that account and market, which must be one of the
strategy's ``venues()`` (else it is refused); ``ioc`` sends it immediate-or-cancel, and
``needs_previous`` skips it unless the order before it in the plan was placed.

Realised P&L and inventory come from the fills by the average-cost method
(``risk.Ledger``), one ledger per market: ``inventory`` and ``realised_pnl`` (in the quote
currency) are the target's, a venue's fills count on that venue's own market
(``venue_positions``); fees are not counted. ``position`` is the balance's change instead.

The day's P&L (``daily_loss_limit``) is the change of the account's base and quote totals
since the strategy's first tick of the UTC day, the base valued at the current mid: below
−limit, the strategy cancels its orders and places nothing more until the next UTC day.

Timing: a strategy ticks every ``period`` (plus up to ``period_random_delay``); a change of
one of its sources' books on a Ranger feed wakes it early, but never sooner than
``min_period`` after its previous tick ended. (Its own fills do not wake it: a microtrade's taker
would make it trade again at once; they are read at the next tick.)

Stopping: SIGINT/SIGTERM end the ticks and cancel each strategy's open orders (on the
target and on its venues) unless its ``on_stop`` is ``keep``. The kill switch — the file
``kill_switch.file`` appearing (looked for every second) or SIGUSR1 — cancels every
strategy's orders whatever ``on_stop`` says. The status file (``bursa.bots.status``) tells
each strategy's counters after every tick.
"""

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bursa.bots import risk
from bursa.bots.assist import Trade
from bursa.bots.config import BotsConfig, ConfiguredStrategy, credentials
from bursa.bots.drivers.opendax import ApiKey, ExchangeError, Order
from bursa.bots.exchange import Exchange, market_rules
from bursa.bots.fills import START_SLACK_S, BoundedSet, FillReader, Place
from bursa.bots.metrics import ERRORS, ORDERS_CANCELLED, ORDERS_PLACED, show
from bursa.bots.ownership import RunnerError, ownership_problems, split_venue
from bursa.bots.status import (
    Status,
    money_text,
    now_text,
    optional_text,
    snapshot,
    write_status,
)
from bursa.bots.strategy import (
    Balance,
    Book,
    Fill,
    Market,
    NewOrder,
    OpenOrder,
    Strategy,
    View,
)
from bursa.errors import Refusal
from bursa.formats import decimal_text

log = logging.getLogger(__name__)

TRADES_LIMIT = 1000  # public trades a strategy that wants them sees
KILL_POLL_S = 1.0
STOP_GRACE_S = 15.0  # for a tick under way to finish before it is cut short
ORDERS_KEPT = 100_000  # order ids known as the strategy's
MARKER = "bot"


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
        self.wake = asyncio.Event()  # set when a source's book changes
        for ref in self.config.sources:
            source = exchanges.get(ref.account_id)
            if source is not None:
                source.watch(ref.market_id, self.wake)
        self.target = Place(
            str(self.config.target),
            self.config.target.account_id,
            self.market_id,
            self.exchange,
            is_target=True,
        )
        self.venues = tuple(strategy.venues())
        self.places = {self.target.key: self.target}
        for venue in self.venues:
            parts = split_venue(venue)
            found = exchanges.get(parts[0]) if parts is not None else None
            if parts is not None and found is not None and venue != self.target.key:
                self.places[venue] = Place(venue, parts[0], parts[1], found, is_target=False)
        since = int(time.time()) - START_SLACK_S
        self.readers = [
            FillReader(place, since) for place in self.places.values() if place.exchange.has_key
        ]
        self.known = BoundedSet(ORDERS_KEPT)  # (account id, order id) of the strategy's orders
        self.pending: list[Fill] = []  # read, not yet handed to ``tick``
        self.ledgers: dict[str, risk.Ledger] = {}
        self.quote_decimals: dict[str, int] = {}  # decimals of a market's quote amounts
        self.venues_seen = False

    # ------------------------------------------------------------------ orders

    def _mine(self, place: Place, order: Order) -> bool:
        if place.exchange.marks_orders:
            return (order.client_id or "").rpartition(".")[0] == self.prefix
        return place.is_target or (place.account_id, str(order.id)) in self.known

    def client_id(self, exchange: Exchange | None = None) -> str | None:
        """A fresh marker for a new order on ``exchange`` (the target's by default; None
        where the exchange takes none). Strategy ids are at most 64 characters and client
        ids too: a long id is cut."""
        if not (exchange or self.exchange).marks_orders:
            return None
        return f"{self.prefix[:51]}.{random.getrandbits(48):012x}"

    def _remember(self, account_id: str, order_ids: Iterable[int | str]) -> None:
        for order_id in order_ids:
            self.known.add((account_id, str(order_id)))

    def _ours(self, account_id: str, order_id: str) -> bool:
        return (account_id, order_id) in self.known

    async def _open_on(self, place: Place) -> list[Order]:
        found = await place.exchange.client.open_orders(place.market_id)
        return [order for order in found if self._mine(place, order)]

    async def own_orders(self) -> list[Order]:
        """The strategy's open orders on the target, read from the exchange (never from
        memory)."""
        return await self._open_on(self.target)

    async def cancel_own(self) -> bool:
        """Cancel every open order of the strategy, on the target and on its venues (where
        it has keys); True when none is left."""
        clean = True
        for place in self.places.values():
            if place.exchange.has_key and not await self._cancel_on(place):
                clean = False
        return clean

    async def _cancel_on(self, place: Place) -> bool:
        client = place.exchange.client
        whole_market = place.is_target and not place.exchange.marks_orders
        for _ in range(3):
            try:
                if whole_market:
                    await client.cancel_all(place.market_id)
                else:
                    for order in await self._open_on(place):
                        try:
                            await client.cancel(order.id)
                            self.status.cancelled += 1
                            ORDERS_CANCELLED.labels(self.config.id).inc()
                        except ExchangeError as exc:  # filled or cancelled meanwhile
                            log.debug("%s: cancel %s: %s", self.config.id, order.id, exc)
                left = await self._open_on(place)
            except ExchangeError as exc:
                self._error(f"cancelling on {place.key}: {exc}")
                continue
            if place.is_target:
                self.status.open_orders = len(left)
            if not left:
                return True
        return False

    async def _place(self, new: NewOrder) -> bool:
        """Place ``new`` where it belongs; False when it was refused."""
        described = _describe(new)
        place = self.target if new.venue is None else self.places.get(new.venue)
        if place is None or (new.venue is not None and new.venue not in self.venues):
            self._error(f"refused {described}: not one of the strategy's venues")
            return False
        if not place.exchange.has_key:
            self._error(f"refused {described}: account {place.account_id} has no API key")
            return False
        log.debug("%s: place %s", self.config.id, described)
        try:
            order = await place.exchange.client.place(
                place.market_id,
                new.side,
                new.amount,
                new.price,
                client_id=self.client_id(place.exchange),
                time_in_force="ioc" if new.ioc else None,
            )
        except ExchangeError as exc:
            self._error(f"place {described}: {exc}")
            return False
        self._remember(place.account_id, [order.id])
        return True

    # ------------------------------------------------------------------ reading

    async def _venues(
        self, target_balances: Mapping[str, Balance]
    ) -> tuple[dict[str, Market], dict[str, Mapping[str, Balance]]]:
        """The rules and balances of each venue; a venue that cannot be read is left out
        (and told), not the whole tick."""
        rules: dict[str, Market] = {}
        balances: dict[str, Mapping[str, Balance]] = {}
        by_account: dict[str, Mapping[str, Balance]] = {self.target.account_id: target_balances}
        for place in self.places.values():
            if place.is_target:
                continue
            try:
                row = await place.exchange.market(place.market_id)
                rules[place.key] = market_rules(row)
                self.quote_decimals[place.key] = row.price_precision + row.amount_precision
                if not place.exchange.has_key:
                    continue
                if place.account_id not in by_account:
                    found = await place.exchange.client.balances()
                    by_account[place.account_id] = {
                        c: Balance(b.balance, b.locked) for c, b in found.items()
                    }
                balances[place.key] = by_account[place.account_id]
                if not self.venues_seen and place.exchange.marks_orders:
                    # Orders left open by an earlier run: their fills are this strategy's.
                    self._remember(place.account_id, (o.id for o in await self._open_on(place)))
            except ExchangeError as exc:
                self._error(f"venue {place.key} left out: {exc}")
        self.venues_seen = True
        return rules, balances

    async def _read_fills(self) -> None:
        """New fills into ``pending`` (oldest first) and the ledgers."""
        for reader in self.readers:
            try:
                fills = await reader.read(self._ours)
            except ExchangeError as exc:
                self._error(f"fills of {reader.place.key} not read: {exc}")
                continue
            for fill in fills:
                log.debug(
                    "%s: filled %s %s @ %s on %s (order %s)",
                    self.config.id,
                    fill.side,
                    fill.amount,
                    fill.price,
                    fill.venue,
                    fill.order_id,
                )
                self.ledgers.setdefault(fill.venue, risk.Ledger()).add(
                    fill.side, fill.price, fill.amount
                )
                self.pending.append(fill)
                self.status.fills += 1
        self.pending.sort(key=lambda fill: fill.at)

    async def _public_trades(self) -> tuple[Trade, ...]:
        found = await self.exchange.client.public_trades(self.market_id, limit=TRADES_LIMIT)
        return tuple(Trade(t.price, t.amount, t.created_at, t.taker_type) for t in reversed(found))

    def _show_ledgers(self) -> None:
        target = self.ledgers.get(self.target.key, risk.Ledger())
        places = self.quote_decimals.get(self.target.key)
        self.status.inventory = decimal_text(target.position)
        self.status.realised_pnl = money_text(target.realised, places)
        self.status.venue_positions = {
            key: {
                "inventory": decimal_text(ledger.position),
                "realised_pnl": money_text(ledger.realised, self.quote_decimals.get(key)),
            }
            for key, ledger in self.ledgers.items()
            if key != self.target.key
        }

    # ------------------------------------------------------------------ a period

    async def step(self) -> None:
        """Read, tick, limit, cancel, place; errors are recorded, never raised (except a
        bug of the runner's own)."""
        try:
            await self._step()
        except ExchangeError as exc:
            self._error(f"tick skipped: {exc} — {_next_step(exc)}")
        except Exception as exc:  # a strategy plugin's bug must not stop the others
            log.exception("%s: tick failed", self.config.id)
            self._error(f"tick failed: {type(exc).__name__}: {exc}")
        self.status.ticks += 1
        self.status.last_tick = now_text()
        show(self.status)

    async def _step(self) -> None:
        today = datetime.now(UTC).date()
        if self.halted_on is not None:
            if self.halted_on == today:
                await self.cancel_own()
                return
            self.halted_on = None
            self.status.state = "running"
        row = await self.exchange.market(self.market_id)
        market = market_rules(row)
        self.quote_decimals[self.target.key] = row.price_precision + row.amount_precision
        self.status.base_unit, self.status.quote_unit = row.base_unit, row.quote_unit
        mine = await self.own_orders()
        self._remember(self.target.account_id, (o.id for o in mine))
        raw_balances = await self.exchange.client.balances()
        balances = {c: Balance(b.balance, b.locked) for c, b in raw_balances.items()}
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
        venues, venue_balances = await self._venues(balances)
        await self._read_fills()
        self._show_ledgers()
        trades = await self._public_trades() if self.strategy.wants_trades else ()

        base = _total(raw_balances, row.base_unit)
        quote = _total(raw_balances, row.quote_unit)
        if self.start_base is None:
            self.start_base = base
        position = base - self.start_base
        self.status.base_balance = optional_text(base)
        self.status.position = optional_text(position)
        self.status.state = "running"
        if await self._losing_too_much(today, base, quote, book, open_orders):
            return

        fills, self.pending = tuple(self.pending), []  # handed once, whatever tick does
        view = View(
            market,
            book,
            balances,
            open_orders,
            sources,
            venues,
            venue_balances,
            fills,
            trades,
            time.time(),
        )
        plan = await self.strategy.tick(view)
        checked = risk.apply_limits(
            plan,
            self.config.risk,
            market=market,
            book=book,
            open_orders=open_orders,
            position=position,
            venues=venues,
        )
        for note in checked.notes:
            log.debug("%s: %s", self.config.id, note)
        ids = {o.id for o in open_orders}
        cancelled = placed = resting = 0
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
        previous_placed = False
        for new in checked.plan.place:
            if new.needs_previous and not previous_placed:
                log.debug(
                    "%s: skip %s: the order before was not placed", self.config.id, _describe(new)
                )
                previous_placed = False
                continue
            previous_placed = await self._place(new)
            if previous_placed:
                placed += 1
                resting += new.venue is None and not new.ioc
        self.status.placed += placed
        self.status.cancelled += cancelled
        ORDERS_PLACED.labels(self.config.id).inc(placed)
        ORDERS_CANCELLED.labels(self.config.id).inc(cancelled)
        self.status.open_orders = len(open_orders) - cancelled + resting
        log.info(
            "%s: placed %d, cancelled %d, open %d, fills %d, position %s %s, inventory %s %s, "
            "realised P&L %s %s",
            self.config.id,
            placed,
            cancelled,
            self.status.open_orders,
            len(fills),
            decimal_text(position),
            row.base_unit,
            self.status.inventory,
            row.base_unit,
            self.status.realised_pnl,
            row.quote_unit,
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
        self.status.day_pnl = optional_text(pnl)
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
        ERRORS.labels(self.config.id).inc()
        self.status.last_error = message
        self.status.last_error_at = now_text()


def _next_step(exc: ExchangeError) -> str:
    """What the runner does after a skipped tick, and what the operator may do."""
    if exc.kind in (Refusal.UNAUTHENTICATED, Refusal.FORBIDDEN):
        return "check the account's API key; retrying next tick"
    return "retrying next tick"


def _total(balances: Mapping[str, Any], currency: str) -> Decimal:
    found = balances.get(currency)
    return Decimal(0) if found is None else found.balance + found.locked


def _describe(order: NewOrder) -> str:
    flags = " ioc" * order.ioc + " (needs the previous)" * order.needs_previous
    where = f" on {order.venue}" if order.venue is not None else ""
    return f"{order.side} {order.amount} @ {order.price}{flags}{where}"


# ---------------------------------------------------------------------- the whole file


@dataclass
class Outcome:
    killed: bool = False
    clean: bool = True  # every order that was to be cancelled was
    problems: list[str] = field(default_factory=list)


class Runner:
    """Every enabled strategy of ``config``; ``async with`` opens the accounts (every
    account a strategy targets, reads or places orders on), ``run`` ticks until stopped.
    Credentials come from ``environ`` (the process's by default)."""

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
        built = [(entry, entry.build()) for entry in config.strategies if entry.config.enabled]
        markets: dict[str, set[str]] = {}  # books read, by account
        for entry, strategy in built:
            for ref in (entry.config.target, *entry.config.sources):
                markets.setdefault(ref.account_id, set()).add(ref.market_id)
            for venue in strategy.venues():
                parts = split_venue(venue)
                if parts is not None:
                    markets.setdefault(parts[0], set())
        self.exchanges: dict[str, Exchange] = {}
        for account_id, names in markets.items():
            account = config.accounts[account_id]
            found = credentials(account, environ)
            key = None if found is None else ApiKey(found.key, found.secret)
            self.exchanges[account_id] = Exchange(account, key, names)
        self.strategies = {
            entry.config.id: StrategyRunner(entry, strategy, self.exchanges)
            for entry, strategy in built
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

    async def _pause(self, seconds: float, wake: asyncio.Event | None = None) -> bool:
        """Wait ``seconds``, or less if stopping or (with ``wake``) woken; True if woken."""
        waits = {asyncio.ensure_future(self.stop_requested.wait())}
        woken = asyncio.ensure_future(wake.wait()) if wake is not None else None
        if woken is not None:
            waits.add(woken)
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        return woken is not None and wake is not None and wake.is_set()

    async def _loop(self, runner: StrategyRunner) -> None:
        """Tick every period; a source's book change wakes the strategy early, but at least
        ``min_period`` after the previous tick ended (so a busy source never keeps the
        strategy, nor the exchange, busy without a pause)."""
        period = float(runner.config.period)
        jitter = float(runner.config.period_random_delay)
        floor = float(runner.config.min_period)
        while not self.stop_requested.is_set():
            runner.wake.clear()
            await runner.step()
            self.write_status()
            ended = time.monotonic()
            pause = period + random.uniform(0, jitter)  # noqa: S311
            if await self._pause(pause, runner.wake) and not self.stop_requested.is_set():
                log.debug("%s: a source's book changed", runner.config.id)
                rest = ended + floor - time.monotonic()
                if rest > 0:
                    await self._pause(rest)

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
            show(runner.status)
        self.write_status()
        return outcome

    # ------------------------------------------------------------------ status

    def snapshot(self) -> dict[str, Any]:
        return snapshot(self.config.source, (r.status for r in self.strategies.values()))

    def write_status(self) -> None:
        """The status file, replaced whole (a reader never sees half of it)."""
        if self.status_path is not None:
            write_status(self.status_path, self.snapshot())
