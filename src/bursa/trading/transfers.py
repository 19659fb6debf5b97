"""Peatio's management transfers: a payment gateway or back office moves money between
ledger accounts (member to member, revenue to member, expenses to assets, ...) in one
balanced step. This module keeps the records; the money moves only through the engine's
``Transfer`` command, which posts every leg or none.

Posting is two steps around the engine, as deposits are: the transfer is stored
``pending`` (committed), the engine applies its key once however often it is sent, then
the transfer is marked ``done``. Whoever finds a transfer ``pending`` sends the same key
again. The engine's command log (``engine_commands``, indexed by key) says whether a key
was applied, for ever; the engine itself remembers keys for a window only.
"""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from bursa.trading.tables import transfers

PENDING, DONE, REFUSED = "pending", "done", "refused"
# Peatio's categories (its model listed four; its API documented airdrop too).
CATEGORIES = ("wire", "refund", "purchases", "commission", "airdrop")
REFERENCE_TYPE = "transfer"  # of the engine's postings; their reference id is the key


def engine_key(row: Any) -> str:
    """The idempotency key of the ``Transfer`` posting ``row``: a retry reuses it; after
    the engine refused it, the key's next use takes a new one."""
    return f"transfer:{row['key']}:{row['attempts']}"


def same_request(row: Any, category: str, description: str, operations: list[Any]) -> bool:
    return (row["category"], row["description"], row["operations"]) == (
        category,
        description,
        operations,
    )


async def find(session: AsyncSession, key: str, *, lock: bool = False) -> Any | None:
    """One transfer; ``lock`` holds it (``FOR UPDATE``) until the transaction ends."""
    query = select(transfers).where(transfers.c.key == key)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()


async def create(session: AsyncSession, **values: Any) -> Any | None:
    """A new pending transfer, or None when the key is taken; the caller commits."""
    inserted = await session.execute(
        insert(transfers).values(**values).on_conflict_do_nothing().returning(transfers)
    )
    return inserted.mappings().first()


async def change(session: AsyncSession, transfer_id: int, **values: Any) -> Any:
    result = await session.execute(
        update(transfers)
        .where(transfers.c.id == transfer_id)
        .values(**values, updated_at=func.now())
        .returning(transfers)
    )
    return result.mappings().one()
