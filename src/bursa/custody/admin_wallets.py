"""Wallets as admins see and change them (the admin API's ``wallets``).

``view`` never holds a wallet's key; it is both what answers show and what the audit log
keeps. Adding goes through ``setup`` (the ``bursa custody`` commands' code): the chain's
plugin makes the key, sealed at once. A change and its audit entry are the request's one
transaction, committed at the boundary.
"""

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import setup
from bursa.custody.addresses import Plugins
from bursa.custody.tables import wallet_currencies, wallets
from bursa.db.pages import Page, page_of
from bursa.errors import BursaError, Refusal
from bursa.formats import decimal_text, iso
from bursa.trading import audit
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND

TARGET = "Wallet"  # the audit log's target type (sweeps are under wallets too)
UNAVAILABLE = f"{setup.WALLET}.blockchain_unavailable"
log = logging.getLogger(__name__)


class WalletFields(TypedDict, total=False):
    """What an admin may change on a wallet; keys and addresses never change."""

    name: str
    status: str  # active | disabled
    max_balance: Decimal  # 0: no cap


def view(row: Any, held: list[str]) -> dict[str, Any]:
    """The wallet as admins see it, with the currencies it holds: never its key."""
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "blockchain_key": row["blockchain_key"],
        "currencies": held,
        "address": row["address"],
        "max_balance": decimal_text(row["max_balance"]),
        "status": row["status"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


async def listed(
    session: AsyncSession,
    *,
    blockchain_key: str | None,
    kind: str | None,
    ascending: bool,
    limit: int,
    page: int,
    order_by: str = "id",
) -> Page:
    """The wallets by ``order_by`` (a column), then id (of one chain and kind if given),
    each as ``view`` shows it."""
    query = select(wallets)
    if blockchain_key is not None:
        query = query.where(wallets.c.blockchain_key == blockchain_key)
    if kind is not None:
        query = query.where(wallets.c.kind == kind)
    keys = [wallets.c[order_by], wallets.c.id] if order_by != "id" else [wallets.c.id]
    query = query.order_by(*(k.asc() if ascending else k.desc() for k in keys))
    found = await page_of(session, query, limit, page)
    held = await _held(session, [row["id"] for row in found.rows])
    return Page([view(row, held[row["id"]]) for row in found.rows], found.total)


async def find(session: AsyncSession, wallet_id: int) -> dict[str, Any]:
    """Wallet ``wallet_id`` as ``view`` shows it; refused as not found."""
    query = select(wallets).where(wallets.c.id == wallet_id)
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return view(row, (await _held(session, [wallet_id]))[wallet_id])


async def create_wallet(
    session: AsyncSession, plugins: Plugins, actor: Actor, new: setup.NewWallet
) -> dict[str, Any]:
    """Add ``new`` (``setup`` says what cannot work); the wallet as ``view`` shows it."""
    try:
        row = await setup.add_wallet(session, plugins, new)
    except BursaError:
        raise
    except Exception as exc:  # the chain's plugin cannot be opened (a node URL it refuses)
        log.warning("no wallet on %s: its plugin cannot be opened: %s", new.blockchain_key, exc)
        raise BursaError(Refusal.INVALID, UNAVAILABLE) from exc
    shown = await find(session, int(row["id"]))
    await audit.record(session, actor, "wallet.create", TARGET, row["id"], after=shown)
    return shown


async def update_wallet(
    session: AsyncSession, actor: Actor, wallet_id: int, fields: WalletFields
) -> dict[str, Any]:
    """Change ``fields`` of wallet ``wallet_id``; the wallet after, as ``view`` shows it."""
    before = await find(session, wallet_id)
    if fields:
        await session.execute(
            update(wallets).where(wallets.c.id == wallet_id).values(**fields, updated_at=func.now())
        )
    after = await find(session, wallet_id)
    await audit.record(
        session, actor, "wallet.update", TARGET, wallet_id, before=before, after=after
    )
    return after


async def _held(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    held: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        query = (
            select(wallet_currencies)
            .where(wallet_currencies.c.wallet_id.in_(list(ids)))
            .order_by(wallet_currencies.c.currency_id)
        )
        for row in (await session.execute(query)).all():
            held[int(row.wallet_id)].append(row.currency_id)
    return held
