"""What every configuration change shares: one at a time, through the engine.

A change is built from the record as it stands (a currency's row, a market's rules) and
submitted as one engine command that carries the whole record; the engine applies it in
its sequence and writes the record in the batch that logs the command. So that a change
built from the current record never overwrites a concurrent one, each holds one advisory
lock in the request's transaction (``hold_configuration_lock``); the audit entry joins that
transaction once the engine has committed, and the boundary commits it.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.commands import Command
from bursa.engine.runner import EngineStopped
from bursa.errors import BursaError, Refusal

CONFIG_LOCK = 0x42_55_52_53_43  # "BURSC": one configuration change at a time
ENGINE_UNAVAILABLE = "server.engine_unavailable"
NOT_FOUND = "record.not_found"

Submit = Callable[[Command], Awaitable[dict[str, Any]]]
"""The engine runner's ``submit``: the committed result of one command."""


async def submit_configuration(submit: Submit, command: Command) -> dict[str, Any]:
    """The engine's committed result of ``command``; its refusal raised as a
    ``BursaError`` (the engine's own code), a stopped engine as unavailable."""
    try:
        result = await submit(command)
    except EngineStopped as exc:
        raise BursaError(Refusal.UNAVAILABLE, ENGINE_UNAVAILABLE) from exc
    error = result["error"]
    if error is not None:
        raise BursaError(Refusal.NOT_FOUND if error == NOT_FOUND else Refusal.INVALID, error)
    return result


def change_key(kind: str) -> str:
    """A new idempotency key for one configuration change of ``kind``."""
    return f"admin:{kind}:{uuid.uuid4().hex}"


async def hold_configuration_lock(session: AsyncSession) -> None:
    """Take the configuration lock in the session's transaction (released when the request's
    transaction ends, at the boundary: for services that never commit)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CONFIG_LOCK})
