"""Reads on every request's path (API-key authentication, answering an order): a few
asyncpg connections used outside any transaction, each statement prepared once per
connection (asyncpg's statement cache), so that one read is one round trip.

A SQLAlchemy session costs five round trips for the same read (the pool's ping in a
transaction of its own, ``BEGIN``, the query, ``ROLLBACK``) and more Python besides. These
reads need neither: each is one statement, which PostgreSQL runs in a snapshot of its own.

The pool is opened on first use, in the running event loop, and must be closed (``close``)
by whoever made it. A connection that broke (the server restarted) is replaced, and the
read is tried once more on a fresh one.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from bursa.config.settings import asyncpg_url

# Every signed request reads its key, every cancel its order: with 32 clients in flight
# and PostgreSQL busy, 4 connections queued reads (bench api p99 80-85 ms with 8 against
# 110-126 ms with 4, same machine, alternating runs).
POOL_SIZE = 8
_BROKEN = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # cut off in the middle of an answer
    ConnectionError,
)


_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class HotQuery:
    """A SQLAlchemy query compiled once to asyncpg's SQL (``$1``, ``$2``…), so a hot read
    runs exactly the statement the ORM path would, without building it per request."""

    sql: str
    names: tuple[str, ...]  # the bound parameters, in ``$n`` order
    defaults: dict[str, Any]  # values the query itself carries (literals)

    @classmethod
    def of(cls, query: ClauseElement) -> "HotQuery":
        compiled = query.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        return cls(str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] if name in values else self.defaults[name] for name in self.names]


async def _keep(_: Any) -> None:
    """Nothing to reset between reads: none of them changes the session (asyncpg's default
    reset costs a round trip on every release)."""


class HotReads:
    def __init__(self, url: str, *, size: int = POOL_SIZE) -> None:
        self.url = asyncpg_url(url)
        self.size = size
        self._pool: Any = None
        self._opening = asyncio.Lock()

    @classmethod
    def of(cls, engine: AsyncEngine, *, size: int = POOL_SIZE) -> "HotReads":
        """Reads on the same server and database, with the same credentials, as ``engine``."""
        return cls(engine.url.render_as_string(hide_password=False), size=size)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        """The first row of ``query`` (an ``asyncpg.Record``), or None."""
        pool = self._pool or await self._open()
        try:
            return await pool.fetchrow(query, *args)
        except _BROKEN:
            return await pool.fetchrow(query, *args)

    async def row(self, query: HotQuery, **values: Any) -> Any:
        """The first row of a compiled query with its parameters named, or None."""
        return await self.fetchrow(query.sql, *query.args(values))

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """Every row of ``query``."""
        pool = self._pool or await self._open()
        try:
            return list(await pool.fetch(query, *args))
        except _BROKEN:
            return list(await pool.fetch(query, *args))

    async def _open(self) -> Any:
        async with self._opening:
            if self._pool is None:
                # No floor of connections to keep: asyncpg would restore it in the
                # background while the server is away, logging a traceback at each try.
                self._pool = await asyncpg.create_pool(
                    self.url, min_size=0, max_size=self.size, reset=_keep
                )
        return self._pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
