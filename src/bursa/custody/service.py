"""Running the scanners and the withdrawal senders: one of each per active blockchain,
each behind a PostgreSQL advisory lock so that a second process (another ``bursa up`` or
``bursa custody scan``) waits as a standby instead of reading the same chain twice or
sending from the same hot wallet at once."""

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bursa.custody import crediting
from bursa.custody.addresses import Plugins
from bursa.custody.scanner import Scanner
from bursa.custody.sender import Sender, email_of
from bursa.custody.tables import blockchains
from bursa.engine.commands import Command
from bursa.trading.withdrawals import Withdrawals

log = logging.getLogger(__name__)


class ScanService:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        plugins: Plugins,
        submit: crediting.Submit,
        *,
        idle_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.plugins = plugins
        self.submit = submit
        self.idle_s = idle_s
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> list[str]:
        """Start following every active blockchain; the keys followed."""
        keys = await self._active()
        for key in keys:
            self._tasks.append(asyncio.create_task(self._follow(key), name=f"scanner-{key}"))
        return keys

    async def start_senders(self) -> list[str]:
        """Start sending the withdrawals of every active blockchain; the keys served."""
        keys = await self._active()
        for key in keys:
            self._tasks.append(asyncio.create_task(self._send(key), name=f"sender-{key}"))
        return keys

    async def _active(self) -> list[str]:
        async with self.sessions() as session:
            query = select(blockchains.c.key).where(blockchains.c.status == "active")
            return list((await session.execute(query.order_by(blockchains.c.key))).scalars())

    async def _follow(self, key: str) -> None:
        try:
            async with self.engine.connect() as conn:
                await _lock(conn, f"bursa.scanner.{key}")
                async with self.sessions() as session:
                    plugin, assets = await self.plugins.get(session, key)
                log.info("scanning %s (%s)", key, ", ".join(sorted(assets)) or "no currencies")
                scanner = Scanner(self.sessions, key, plugin, assets, self.submit)
                await scanner.run(idle_s=self.idle_s)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s scanner stopped; restart it once the cause is fixed", key)

    async def _send(self, key: str) -> None:
        try:
            async with self.engine.connect() as conn:
                await _lock(conn, f"bursa.sender.{key}")
                async with self.sessions() as session:
                    plugin, assets = await self.plugins.get(session, key)
                log.info("sending %s withdrawals", key)
                flow = Withdrawals(self.sessions, self._submit, email_of)
                sender = Sender(self.sessions, key, plugin, assets, self.plugins.keystore, flow)
                await sender.run(idle_s=self.idle_s)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s sender stopped; restart it once the cause is fixed", key)

    async def _submit(self, command: Command) -> dict[str, Any]:
        return await self.submit(command)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _lock(conn: AsyncConnection, name: str) -> None:
    """Wait for the session-level advisory lock ``name`` (held while ``conn`` is open)."""
    locked = await conn.execution_options(isolation_level="AUTOCOMMIT")
    await locked.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": name})
