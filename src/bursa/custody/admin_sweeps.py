"""Sweeps and the network fees Bursa's wallets paid, as admins see them (the admin API's
``wallets/sweeps`` and ``wallets/fees``), and the one thing an admin does to a sweep:
dismiss a surplus proposal (moved by hand, or to be kept; the sweeper proposes again while
the hot wallet is above its cap). The dismissal and its audit entry are the request's one
transaction, committed at the boundary."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.network_fee_tables import network_fees
from bursa.custody.setup import WALLET
from bursa.custody.sweep_tables import DISMISSED, PROPOSED, sweeps
from bursa.db.pages import Page, page_of
from bursa.errors import BursaError, Refusal
from bursa.formats import decimal_text, iso
from bursa.trading import audit
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND

TARGET = "Wallet"  # sweeps are under wallets (Barong's permissions on wallets cover them)
CANNOT_DISMISS = f"{WALLET}.cannot_perform_dismiss_action"


@dataclass(frozen=True, slots=True)
class SweepFilter:
    kind: str | None = None  # collect | gas | surplus
    state: str | None = None
    blockchain_key: str | None = None


@dataclass(frozen=True, slots=True)
class FeeFilter:
    source: str | None = None  # sweep | withdraw
    state: str | None = None
    blockchain_key: str | None = None
    txid: str | None = None


def view(row: Any) -> dict[str, Any]:
    """The sweep as admins see it."""
    return {
        "id": row["id"],
        "blockchain_key": row["blockchain_key"],
        "kind": row["kind"],
        "currency": row["currency_id"],
        "from_address": row["from_address"],
        "to_address": row["to_address"],
        "to_wallet_id": row["to_wallet_id"],
        "amount": decimal_text(row["amount"]),
        "fee": decimal_text(row["fee"]),
        "txid": row["txid"],
        "deposit_ids": list(row["deposit_ids"]),
        "state": row["state"],
        "error": row["error"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


async def listed(
    session: AsyncSession, found: SweepFilter, *, ascending: bool, limit: int, page: int
) -> Page:
    """Sweeps by id (newest first unless ``ascending``)."""
    query = select(sweeps)
    for column, value in (
        (sweeps.c.kind, found.kind),
        (sweeps.c.state, found.state),
        (sweeps.c.blockchain_key, found.blockchain_key),
    ):
        if value is not None:
            query = query.where(column == value)
    order = sweeps.c.id.asc() if ascending else sweeps.c.id.desc()
    return await page_of(session, query.order_by(order), limit, page)


async def fees_listed(
    session: AsyncSession, found: FeeFilter, *, ascending: bool, limit: int, page: int
) -> Page:
    """Network fees by id (newest first unless ``ascending``)."""
    table = network_fees
    query = select(table)
    for column, value in (
        (table.c.source, found.source),
        (table.c.state, found.state),
        (table.c.blockchain_key, found.blockchain_key),
        (table.c.txid, found.txid),
    ):
        if value is not None:
            query = query.where(column == value)
    order = table.c.id.asc() if ascending else table.c.id.desc()
    return await page_of(session, query.order_by(order), limit, page)


async def dismiss(session: AsyncSession, actor: Actor, sweep_id: int) -> dict[str, Any]:
    """Dismiss surplus proposal ``sweep_id`` (refused once it is anything but proposed);
    the sweep after, as ``view`` shows it."""
    query = select(sweeps).where(sweeps.c.id == sweep_id).with_for_update()
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    if row["state"] != PROPOSED:
        raise BursaError(Refusal.INVALID, CANNOT_DISMISS)
    changed = await session.execute(
        update(sweeps)
        .where(sweeps.c.id == sweep_id)
        .values(state=DISMISSED, updated_at=func.now())
        .returning(sweeps)
    )
    after = view(changed.mappings().one())
    await audit.record(
        session, actor, "sweep.dismiss", TARGET, sweep_id, before=view(row), after=after
    )
    return after
