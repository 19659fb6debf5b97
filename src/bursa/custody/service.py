"""Running the custody workers: per active blockchain one scanner, one withdrawal sender
and one sweeper, each behind a PostgreSQL advisory lock so that a second process (another
``bursa up``, ``bursa custody scan`` or ``bursa custody sweep``) waits as a standby
instead of reading the same chain twice or spending from the same wallets at once."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bursa.custody import crediting
from bursa.custody.addresses import Plugins
from bursa.custody.chain import ChainPlugin
from bursa.custody.registry import ChainAsset
from bursa.custody.scanner import Scanner
from bursa.custody.sender import Sender, email_of
from bursa.custody.sweeper import Sweeper
from bursa.custody.tables import blockchains
from bursa.engine.commands import Command
from bursa.trading.withdrawals import Withdrawals

log = logging.getLogger(__name__)

# What a worker does with its chain once it holds the lock: runs until cancelled.
Work = Callable[[str, ChainPlugin, dict[str, ChainAsset]], Awaitable[None]]


class _ChainWorkers:
    """Workers of one kind (``role``), one per active blockchain, each behind the advisory
    lock ``bursa.<role>.<key>``; a worker that fails is logged and stays stopped."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        plugins: Plugins,
        idle_s: float,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.plugins = plugins
        self.idle_s = idle_s
        self._tasks: list[asyncio.Task[None]] = []

    async def _start(self, role: str, work: Work) -> list[str]:
        """Start ``work`` on every active blockchain; the keys served."""
        async with self.sessions() as session:
            query = select(blockchains.c.key).where(blockchains.c.status == "active")
            keys = list((await session.execute(query.order_by(blockchains.c.key))).scalars())
        for key in keys:
            task = asyncio.create_task(self._locked(role, key, work), name=f"{role}-{key}")
            self._tasks.append(task)
        return keys

    async def _locked(self, role: str, key: str, work: Work) -> None:
        try:
            async with self.engine.connect() as conn:
                await _lock(conn, f"bursa.{role}.{key}")
                async with self.sessions() as session:
                    plugin, assets = await self.plugins.get(session, key)
                await work(key, plugin, assets)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s %s stopped; restart it once the cause is fixed", key, role)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


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
    ) -> None:
        super().__init__(engine, sessions, plugins, idle_s)
        self.submit = submit

    async def start(self) -> list[str]:
        """Start following every active blockchain; the keys followed."""
        return await self._start("scanner", self._scan)

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
    """Sweepers: credited deposits to the hot wallet, the hot wallet's surplus onward."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        plugins: Plugins,
        *,
        idle_s: float = 15.0,
    ) -> None:
        super().__init__(engine, sessions, plugins, idle_s)

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
            confirmations=int(depth or 1),
        )
        while True:
            report = await sweeper.step()
            if report.signed or report.confirmed or report.proposed:
                log.info("%s sweeps: %s", key, report)
            await asyncio.sleep(self.idle_s)


async def _lock(conn: AsyncConnection, name: str) -> None:
    """Wait for the session-level advisory lock ``name`` (held while ``conn`` is open)."""
    locked = await conn.execution_options(isolation_level="AUTOCOMMIT")
    await locked.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": name})
