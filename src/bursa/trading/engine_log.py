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
    return (await logged_results(session, [key])).get(key)


async def logged_results(session: AsyncSession, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``logged_result`` for many keys at once: the keys that ran, with their results.

    A key the engine had forgotten (past its window) may have run again: then the first
    run that was applied is the one that counts (money moved under the key), else the
    first run."""
    if not keys:
        return {}
    query = (
        select(engine_commands.c.idempotency_key, engine_commands.c.result)
        .where(engine_commands.c.idempotency_key.in_(list(keys)))
        .order_by(engine_commands.c.seq)
    )
    found: dict[str, dict[str, Any]] = {}
    for row in await session.execute(query):
        result = dict(row.result)
        first = found.get(row.idempotency_key)
        if first is None or (first.get("error") is not None and result.get("error") is None):
            found[row.idempotency_key] = result
    return found
