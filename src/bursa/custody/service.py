"""Running the scanners: one per active blockchain, each behind a PostgreSQL advisory lock
so that a second process (another ``bursa up`` or ``bursa custody scan``) waits as a
standby instead of reading the same chain twice."""

import asyncio
import contextlib
import logging

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bursa.custody import crediting
from bursa.custody.addresses import Plugins
from bursa.custody.scanner import Scanner
from bursa.custody.tables import blockchains

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
        async with self.sessions() as session:
            query = select(blockchains.c.key).where(blockchains.c.status == "active")
            keys = list((await session.execute(query.order_by(blockchains.c.key))).scalars())
        for key in keys:
            self._tasks.append(asyncio.create_task(self._follow(key), name=f"scanner-{key}"))
        return keys

    async def _follow(self, key: str) -> None:
        try:
            async with self.engine.connect() as conn:
                locked = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await locked.execute(
                    text("SELECT pg_advisory_lock(hashtext(:name))"),
                    {"name": f"bursa.scanner.{key}"},
                )
                async with self.sessions() as session:
                    plugin, assets = await self.plugins.get(session, key)
                log.info("scanning %s (%s)", key, ", ".join(sorted(assets)) or "no currencies")
                scanner = Scanner(self.sessions, key, plugin, assets, self.submit)
                await scanner.run(idle_s=self.idle_s)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s scanner stopped; restart it once the cause is fixed", key)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
