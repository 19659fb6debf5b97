"""Running the custody workers: per active blockchain one scanner, one withdrawal sender
and one sweeper, each behind a PostgreSQL advisory lock so that a second process (another
``bursa up``, ``bursa custody scan`` or ``bursa custody sweep``) waits as a standby
instead of reading the same chain twice or spending from the same wallets at once."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bursa.custody import crediting
from bursa.custody.addresses import Plugins
from bursa.custody.chain import ChainPlugin
from bursa.custody.gauges import show_hot_wallets, show_pending
from bursa.custody.registry import ChainAsset
from bursa.custody.scanner import Scanner
from bursa.custody.sender import Sender, email_of
from bursa.custody.sweeper import Sweeper
from bursa.custody.tables import blockchains
from bursa.db.outage import OutageLog
from bursa.engine.commands import Command
from bursa.metrics.custody import SEND_FAILURES, SWEEP_FAILURES
from bursa.trading.withdrawals import Withdrawals

log = logging.getLogger(__name__)
OUTAGE_RETRY_S = 2.0  # how soon the blockchains are read again while the database is away

PENDING_EVERY_S = 15.0  # how often the pending deposits and withdrawals are counted

# What a worker does with its chain once it holds the lock: runs until cancelled.
Work = Callable[[str, ChainPlugin, dict[str, ChainAsset]], Awaitable[None]]


class _ChainWorkers:
    """Workers of one kind (``role``), one per active blockchain, each behind the advisory
    lock ``bursa.<role>.<key>``. Every ``refresh_s`` the blockchains are read again: a new
    or re-activated one gets its worker, a deactivated one loses it, one whose
    configuration or currencies changed gets a worker on a freshly opened plugin, and one
    whose worker failed gets it back (the failure is logged)."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        plugins: Plugins,
        idle_s: float,
        refresh_s: float,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.plugins = plugins
        self.idle_s = idle_s
        self.refresh_s = refresh_s
        self._workers: dict[tuple[str, str], tuple[asyncio.Task[None], ChainPlugin]] = {}
        self._supervisors: list[asyncio.Task[None]] = []
        self._complaints: dict[str, str] = {}  # the last problem told of each blockchain
        self._outage = OutageLog(
            "custody", log, meanwhile="its workers start again once it is back"
        )

    async def _start(self, role: str, work: Work) -> list[str]:
        """Start ``work`` on every active blockchain, and keep it so; the keys served."""
        keys = await self._reconcile(role, work)
        supervisor = asyncio.create_task(self._supervise(role, work), name=f"{role}-supervisor")
        self._supervisors.append(supervisor)
        return keys

    def healthy(self) -> bool:
        """Started, and no worker has stopped on a failure (a worker waiting for its
        lock is healthy: a standby). A failed one is started again within ``refresh_s``."""
        return bool(self._supervisors) and not any(
            task.done() for task, _ in self._workers.values()
        )

    async def _supervise(self, role: str, work: Work) -> None:
        while True:
            # While the database is away, look again soon: workers restart within seconds
            # of its return rather than a whole ``refresh_s`` later.
            await asyncio.sleep(
                min(OUTAGE_RETRY_S, self.refresh_s) if self._outage.down else self.refresh_s
            )
            try:
                await self._reconcile(role, work)
            except Exception as exc:  # the database may be away for a while: try again later
                if not self._outage.failed(exc):
                    log.exception("custody %ss: reading the blockchains failed; retrying", role)
            else:
                self._outage.succeeded()

    async def _reconcile(self, role: str, work: Work) -> list[str]:
        wanted: dict[str, tuple[ChainPlugin, dict[str, ChainAsset]]] = {}
        async with self.sessions() as session:
            query = select(blockchains.c.key).where(blockchains.c.status == "active")
            for key in (await session.execute(query.order_by(blockchains.c.key))).scalars():
                try:
                    wanted[key] = await self.plugins.get(session, key)
                except (LookupError, ValueError) as exc:
                    self._complain(key, f"blockchain {key} cannot be served: {exc}")
                else:
                    self._complaints.pop(key, None)
        for (kind, key), (task, plugin) in list(self._workers.items()):
            if kind != role:
                continue
            current = wanted.get(key)
            if current is not None and current[0] is plugin and not task.done():
                continue
            if current is None:
                log.info("the %s %s stops: the blockchain is off or cannot be served", key, role)
            elif task.done():
                log.warning("the %s %s starts again after it stopped", key, role)
            else:
                log.info("the %s %s starts again with the blockchain's new settings", key, role)
            await _cancelled(task)
            del self._workers[(role, key)]
        for key, (plugin, assets) in wanted.items():
            if (role, key) not in self._workers:
                task = asyncio.create_task(
                    self._locked(role, key, work, plugin, assets), name=f"{role}-{key}"
                )
                self._workers[(role, key)] = (task, plugin)
        return sorted(wanted)

    def _complain(self, key: str, message: str) -> None:
        if self._complaints.get(key) != message:
            self._complaints[key] = message
            log.error("%s; fix its settings (bursa custody blockchain add)", message)

    async def _locked(
        self, role: str, key: str, work: Work, plugin: ChainPlugin, assets: dict[str, ChainAsset]
    ) -> None:
        try:
            async with self.engine.connect() as conn:
                try:
                    await _lock(conn, f"bursa.{role}.{key}")
                    await work(key, plugin, assets)
                finally:  # the lock ends with its connection, which must not go back to the pool
                    await conn.invalidate()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._outage.failed(exc):  # told once; the supervisor restarts it when back
                return
            if role in _FAILURES:
                _FAILURES[role].labels(key).inc()
            log.exception(
                "the %s %s stopped; it starts again within %.0f s", key, role, self.refresh_s
            )

    async def stop(self) -> None:
        supervisors, self._supervisors = self._supervisors, []
        for supervisor in supervisors:
            await _cancelled(supervisor)
        workers, self._workers = self._workers, {}
        for task, _ in workers.values():
            await _cancelled(task)


_FAILURES = {"sender": SEND_FAILURES, "sweeper": SWEEP_FAILURES}


async def _cancelled(task: "asyncio.Task[None]") -> None:
    """Cancel ``task`` and wait until it has ended (whatever it ended with)."""
    task.cancel()
    await asyncio.wait({task})


class ScanService(_ChainWorkers):
    """Scanners (deposits in) and senders (withdrawals out); both credit or settle through
    ``submit``: the engine in process, or over RabbitMQ."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        plugins: Plugins,
        submit: crediting.Submit,
        *,
        idle_s: float = 5.0,
        refresh_s: float = 30.0,
    ) -> None:
        super().__init__(engine, sessions, plugins, idle_s, refresh_s)
        self.submit = submit

    async def start(self) -> list[str]:
        """Start following every active blockchain; the keys followed."""
        counting = asyncio.create_task(self._count_pending(), name="custody-pending")
        self._supervisors.append(counting)
        return await self._start("scanner", self._scan)

    async def _count_pending(self) -> None:
        """Pending deposits and withdrawals for the metrics, every ``PENDING_EVERY_S``."""
        while True:
            try:
                await show_pending(self.sessions)
            except Exception as exc:  # the database away: the workers log that
                log.debug("custody: pending deposits and withdrawals not counted: %s", exc)
            await asyncio.sleep(PENDING_EVERY_S)

    async def start_senders(self) -> list[str]:
        """Start sending the withdrawals of every active blockchain; the keys served."""
        return await self._start("sender", self._send)

    async def _scan(self, key: str, plugin: ChainPlugin, assets: dict[str, ChainAsset]) -> None:
        log.info("scanning %s (%s)", key, ", ".join(sorted(assets)) or "no currencies")
        scanner = Scanner(self.sessions, key, plugin, assets, self.submit)
        await scanner.run(idle_s=self.idle_s)

    async def _send(self, key: str, plugin: ChainPlugin, assets: dict[str, ChainAsset]) -> None:
        log.info("sending %s withdrawals", key)
        flow = Withdrawals(self.sessions, self._submit, email_of)
        sender = Sender(self.sessions, key, plugin, assets, self.plugins.keystore, flow)
        await sender.run(idle_s=self.idle_s)

    async def _submit(self, command: Command) -> dict[str, Any]:
        return await self.submit(command)


class SweepService(_ChainWorkers):
    """Sweepers: credited deposits to the hot wallet, the hot wallet's surplus onward; the
    network fees they pay are booked through ``submit``."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        plugins: Plugins,
        submit: crediting.Submit,
        *,
        idle_s: float = 15.0,
        refresh_s: float = 30.0,
    ) -> None:
        super().__init__(engine, sessions, plugins, idle_s, refresh_s)
        self.submit = submit

    async def start(self) -> list[str]:
        return await self._start("sweeper", self._sweep)

    async def _sweep(self, key: str, plugin: ChainPlugin, assets: dict[str, ChainAsset]) -> None:
        async with self.sessions() as session:
            depth = await session.scalar(
                select(blockchains.c.min_confirmations).where(blockchains.c.key == key)
            )
        sweeper = Sweeper(
            self.sessions,
            key,
            plugin,
            assets,
            self.plugins.keystore,
            submit=self.submit,
            confirmations=int(depth or 1),
        )
        while True:
            report = await sweeper.step()
            if report.signed or report.confirmed or report.proposed:
                log.info("%s sweeps: %s", key, report)
            await show_hot_wallets(self.sessions, key, plugin, assets)
            await asyncio.sleep(self.idle_s)


async def _lock(conn: AsyncConnection, name: str) -> None:
    """Wait for the session-level advisory lock ``name`` (held while ``conn`` is open)."""
    locked = await conn.execution_options(isolation_level="AUTOCOMMIT")
    await locked.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": name})
