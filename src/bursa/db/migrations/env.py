"""Alembic environment: runs migrations on an async (asyncpg) connection.

Normally driven by ``bursa.db.migrate``, which hands over an open connection in
``config.attributes["connection"]``. ``config.attributes["target_metadata"]`` may carry the
tables' metadata (for autogenerate and schema checks); this package does not import the
tables itself, because they belong to higher contexts.
"""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

# Two processes migrating at once (``bursa up`` and ``bursa db upgrade``) take turns.
MIGRATION_LOCK_KEY = 0x42_55_52_53_44_42  # "BURSDB"

config = context.config
target_metadata: Any = config.attributes.get("target_metadata")


def _migrate(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_migrate)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    _migrate(connection)
else:
    asyncio.run(_migrate_online())
