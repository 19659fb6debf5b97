"""What every Peatio admin configuration change shares: one change at a time (a
transaction holding an advisory lock, so a change built from the current record never
overwrites a concurrent one), engine submission with its refusals as API errors, and the
list parameters."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner
from bursa.api.errors import ApiError, error_code
from bursa.api.schemas import Errors
from bursa.engine.commands import Command
from bursa.engine.runner import EngineStopped
from bursa.plain_input import PlainInt

CONFIG_LOCK = 0x42_55_52_53_43  # "BURSC": one configuration change at a time
ENGINE_UNAVAILABLE = "server.engine_unavailable"
MAX_FEE = Decimal("0.5")  # Peatio's bound on a trading fee
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
Limit = Annotated[
    PlainInt, Query(ge=1, le=1000, json_schema_extra=error_code("admin.pagination.invalid_limit"))
]
PageNumber = Annotated[
    PlainInt, Query(ge=1, json_schema_extra=error_code("admin.pagination.invalid_page"))
]


@asynccontextmanager
async def change(session: AsyncSession) -> AsyncIterator[None]:
    """One configuration change at a time (a transaction holding the advisory lock), so
    that a change built from the current record never overwrites a concurrent one."""
    async with session.begin():
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CONFIG_LOCK})
        yield


async def submit_change(runner: Runner, command: Command) -> dict[str, Any]:
    try:
        result = await runner.submit(command)
    except EngineStopped as exc:
        raise ApiError(503, ENGINE_UNAVAILABLE) from exc
    if result["error"] is not None:
        status = 404 if result["error"] == "record.not_found" else 422
        raise ApiError(status, result["error"])
    return result


def change_key(kind: str) -> str:
    return f"admin:{kind}:{uuid.uuid4().hex}"


async def row_of(session: AsyncSession, table: Any, *where: Any) -> dict[str, Any] | None:
    row = (await session.execute(select(table).where(*where))).mappings().first()
    return dict(row) if row is not None else None
