"""What the engine's command log says about an idempotency key. The engine remembers keys
for a window only; the log (indexed by key) remembers them for ever, so a request that
died between the engine and its own commit finds out here whether its command ran."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.tables import engine_commands


async def logged_result(session: AsyncSession, key: str) -> dict[str, Any] | None:
    """The committed result of the command with idempotency ``key``, if it ran."""
    query = select(engine_commands.c.result).where(engine_commands.c.idempotency_key == key)
    found = (await session.execute(query.limit(1))).scalar_one_or_none()
    return None if found is None else dict(found)


async def logged_results(session: AsyncSession, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``logged_result`` for many keys at once: the keys that ran, with their results."""
    if not keys:
        return {}
    query = select(engine_commands.c.idempotency_key, engine_commands.c.result).where(
        engine_commands.c.idempotency_key.in_(list(keys))
    )
    return {row.idempotency_key: dict(row.result) for row in await session.execute(query)}
