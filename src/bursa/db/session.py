"""Where the database is and how to talk to it: the URL, the async engine, sessions.

One request, task or command is one unit of work: take a session from the factory, and
let the boundary (not a service) commit.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bursa.config.settings import Settings, asyncpg_url, sqlalchemy_url
from bursa.db.embedded import EmbeddedPostgres


def resolve_database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started or attached to if needed).

    A server started here keeps running until this process exits; prefer
    ``database_url`` when the caller can scope its use.
    """
    if settings.database_url is not None:
        return asyncpg_url(settings.database_url)
    return EmbeddedPostgres(settings.data_dir).start()


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the ``postgresql://`` URL to use; on leaving, let go of the embedded server
    if this process attached to it (it stops once no other Bursa process uses it)."""
    if settings.database_url is not None:
        yield asyncpg_url(settings.database_url)
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        yield embedded.start()
    finally:
        embedded.release()


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async SQLAlchemy engine over asyncpg; accepts either URL form."""
    return create_async_engine(
        sqlalchemy_url(url), echo=echo, pool_size=pool_size, pool_pre_ping=True
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded rows usable after commit (no surprise lazy reloads)."""
    return async_sessionmaker(engine, expire_on_commit=False)
