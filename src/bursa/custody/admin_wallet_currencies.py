"""What wallets can be and hold, as admins ask it (the admin API's ``wallets/kinds``,
``wallets/gateways`` and ``wallets/currencies``).

A wallet holds currencies through ``wallet_currencies`` (the sender picks a hot wallet
holding the currency it pays, the sweeper a wallet holding the currency it collects), so
attaching or detaching one changes which wallet custody uses for it from its next step. A
currency is attached only if it lives on the wallet's blockchain (as ``setup`` checks when
the wallet is added), and a wallet keeps at least one. Asking again for what is already so
answers the wallet as it stands; every change leaves an audit entry in the request's
transaction.
"""

from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import admin_wallets, setup
from bursa.custody.chain import ENTRY_POINTS
from bursa.custody.tables import WALLET_KINDS, wallet_currencies, wallets
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies
from bursa.trading import audit
from bursa.trading.audit import Actor

INVALID_CURRENCIES = f"{setup.WALLET}.invalid_currencies"
LAST_CURRENCY = f"{setup.WALLET}.last_currency"


def kinds() -> list[str]:
    """Peatio's wallet kinds, all of which Bursa's wallets take: deposit, fee and hot (Bursa
    makes and seals their keys), warm and cold (addresses only)."""
    return list(WALLET_KINDS)


def gateways() -> list[str]:
    """The installed chain plugins (entry points ``bursa.blockchains``): in Bursa one plugin
    is both a blockchain's client and its wallets' gateway."""
    return sorted({point.name for point in entry_points(group=ENTRY_POINTS)})


async def attach(
    session: AsyncSession, actor: Actor, wallet_id: int, codes: Sequence[str]
) -> dict[str, Any]:
    """Let wallet ``wallet_id`` hold ``codes`` too; the wallet after."""
    before = await admin_wallets.find(session, wallet_id)
    on_chain = set(
        (
            await session.execute(
                select(currencies.c.id).where(
                    currencies.c.blockchain_key == before["blockchain_key"]
                )
            )
        ).scalars()
    )
    if not codes or not set(codes) <= on_chain:
        raise BursaError(Refusal.INVALID, INVALID_CURRENCIES)
    added = sorted(set(codes) - set(before["currencies"]))
    if added:
        await session.execute(
            insert(wallet_currencies)
            .values([{"wallet_id": wallet_id, "currency_id": code} for code in added])
            .on_conflict_do_nothing()
        )
    return await _changed(session, actor, "wallet.currencies.add", before)


async def detach(
    session: AsyncSession, actor: Actor, wallet_id: int, codes: Sequence[str]
) -> dict[str, Any]:
    """Stop wallet ``wallet_id`` holding ``codes``; the wallet after. Refused if it would
    hold none (a wallet without a currency serves nothing: disable it instead)."""
    before = await admin_wallets.find(session, wallet_id)
    if not codes:
        raise BursaError(Refusal.INVALID, INVALID_CURRENCIES)
    removed = sorted(set(codes) & set(before["currencies"]))
    if removed and not set(before["currencies"]) - set(removed):
        raise BursaError(Refusal.INVALID, LAST_CURRENCY)
    if removed:
        await session.execute(
            delete(wallet_currencies).where(
                wallet_currencies.c.wallet_id == wallet_id,
                wallet_currencies.c.currency_id.in_(removed),
            )
        )
    return await _changed(session, actor, "wallet.currencies.remove", before)


async def _changed(
    session: AsyncSession, actor: Actor, action: str, before: dict[str, Any]
) -> dict[str, Any]:
    wallet_id = before["id"]
    if (await admin_wallets.find(session, wallet_id))["currencies"] != before["currencies"]:
        await session.execute(
            update(wallets).where(wallets.c.id == wallet_id).values(updated_at=func.now())
        )
    after = await admin_wallets.find(session, wallet_id)
    await audit.record(
        session, actor, action, admin_wallets.TARGET, wallet_id, before=before, after=after
    )
    return after
