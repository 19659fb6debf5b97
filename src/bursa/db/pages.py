"""One page of a query's rows and the total the ``Total`` header announces, for every
paged list (trading records, admin lists, members)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows and the total the headers announce."""

    rows: Sequence[Any]
    total: int


async def page_of(session: AsyncSession, query: Select[Any], limit: int, page: int) -> Page:
    """One page of ``query``'s rows and how many there are in all."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    result = await session.execute(query.limit(limit).offset((page - 1) * limit))
    return Page(result.mappings().all(), int(total or 0))
