"""Blockchains as admins see and change them (the admin API's ``blockchains``).

What is shown never holds a secret: a blockchain's node URL (it may carry credentials) is
left out of ``view``, which is both what answers show and what the audit log keeps.
Adding goes through ``setup`` (the ``bursa custody`` commands' code), which seals the URL.
A change and its audit entry are the request's one transaction, committed at the boundary.
"""

from typing import Any, TypedDict

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import setup
from bursa.custody.tables import blockchains
from bursa.db.pages import Page, page_of
from bursa.errors import BursaError, Refusal
from bursa.formats import iso
from bursa.secrets.keystore import KeyStore
from bursa.trading import audit
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND

TARGET = "Blockchain"  # the audit log's target type
KEY_TAKEN = f"{setup.BLOCKCHAIN}.key_taken"


class ChainFields(TypedDict, total=False):
    """What an admin may change on a blockchain (a field left out keeps its value)."""

    name: str
    min_confirmations: int
    status: str  # active | disabled
    explorer_address: str
    explorer_transaction: str


def view(row: Any) -> dict[str, Any]:
    """The blockchain as admins see it (``id`` is its ``key``, as Peatio's): no node URL."""
    return {
        "id": row["key"],
        "key": row["key"],
        "name": row["name"],
        "client": row["client"],
        "height": row["height"],
        "min_confirmations": row["min_confirmations"],
        "protocol": row["protocol"],
        "explorer_address": row["explorer_address"],
        "explorer_transaction": row["explorer_transaction"],
        "status": row["status"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


async def listed(
    session: AsyncSession, *, ascending: bool, limit: int, page: int, order_by: str = "key"
) -> Page:
    """The blockchains by ``order_by`` (a column; ``id`` is the key), then key."""
    key = blockchains.c.key
    keys = [blockchains.c[order_by], key] if order_by not in ("id", "key") else [key]
    query = select(blockchains).order_by(*(k.asc() if ascending else k.desc() for k in keys))
    return await page_of(session, query, limit, page)


async def find(session: AsyncSession, key: str) -> Any:
    """Blockchain ``key``; refused as not found."""
    query = select(blockchains).where(blockchains.c.key == key)
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return row


async def create_blockchain(
    session: AsyncSession, keystore: KeyStore, actor: Actor, new: setup.NewBlockchain
) -> Any:
    """Add ``new`` (refused if its key is taken: ``setup`` alone would overwrite it)."""
    taken = await session.execute(select(blockchains.c.key).where(blockchains.c.key == new.key))
    if taken.first() is not None:
        raise BursaError(Refusal.INVALID, KEY_TAKEN)
    await setup.add_blockchain(session, keystore, new)
    row = await find(session, new.key)
    await audit.record(session, actor, "blockchain.create", TARGET, new.key, after=view(row))
    return row


async def update_blockchain(
    session: AsyncSession, actor: Actor, key: str, fields: ChainFields
) -> Any:
    """Change ``fields`` of blockchain ``key``; its row after."""
    before = await find(session, key)
    if fields:
        await session.execute(
            update(blockchains)
            .where(blockchains.c.key == before["key"])
            .values(**fields, updated_at=func.now())
        )
    after = await find(session, before["key"])
    await audit.record(
        session,
        actor,
        "blockchain.update",
        TARGET,
        before["key"],
        before=view(before),
        after=view(after),
    )
    return after
