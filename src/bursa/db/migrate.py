"""Alembic, configured in code: no ``alembic.ini`` is needed, the scripts ship inside
the package, so an installed ``bursa`` can migrate its database."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from bursa.config.settings import sqlalchemy_url
from bursa.db.session import create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str, *, target_metadata: MetaData | None = None) -> Config:
    """An Alembic configuration for ``url`` (either PostgreSQL URL form)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would read a "%" in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    if target_metadata is not None:
        config.attributes["target_metadata"] = target_metadata
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version of Bursa."""
    script = ScriptDirectory.from_config(alembic_config("postgresql://localhost/unused"))
    return script.get_current_head()


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database up to ``revision``; a database already there is left alone."""
    config = alembic_config(url)
    await _with_connection(url, lambda conn: _run(config, conn, command.upgrade, revision))


async def current_revision(url: str) -> str | None:
    """The revision the database is at, or None before the first migration."""

    def read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    result: list[str | None] = []
    await _with_connection(url, lambda conn: result.append(read(conn)))
    return result[0]


def _run(config: Config, conn: Connection, action: Any, *args: Any) -> None:
    config.attributes["connection"] = conn
    try:
        action(config, *args)
    finally:
        config.attributes.pop("connection", None)


async def _with_connection(url: str, work: Any) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(work)
    finally:
        await engine.dispose()
