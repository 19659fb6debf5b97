"""The solvency view: per coin currency, what Bursa's addresses hold on chain (every
wallet of the blockchain whatever its kind, status or currencies — a fee or hot wallet
holds the coin for gas even when configured for a token only — and every member's deposit
address, asked from the chain's plugin) against what the ledger books as held (asset
operations, codes 101/102) and owes members (``accounts``: main + locked).

Network fees are booked as they are paid (``custody.network_fees``), so ``difference``
(on chain − assets) stays zero; what moves it is money the books do not know: deposits
not credited (below the minimum, dust beyond the currency's precision), a wallet funded
from outside and not booked, or an error.

A node that does not answer within ``timeout_s`` makes its currencies ``unavailable``
rather than failing the whole view: the ledger's side is still worth seeing.
"""

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.addresses import Plugins
from bursa.custody.chain import ChainError
from bursa.custody.registry import ChainAsset
from bursa.custody.tables import payment_addresses, wallets
from bursa.ledger.tables import accounts, currencies, operations

log = logging.getLogger(__name__)
ASSET_CODES = (101, 102)
UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Solvency:
    currency: str
    blockchain_key: str
    addresses: int  # how many addresses were asked
    on_chain: Decimal | None  # None: the node did not answer
    liabilities: Decimal  # members' main + locked
    assets: Decimal  # the ledger's asset accounts
    status: str  # ok | mismatch (chain and books differ) | short | unavailable

    @property
    def difference(self) -> Decimal | None:
        """On chain minus the ledger's assets: zero when the books hold what the chain
        does."""
        return None if self.on_chain is None else self.on_chain - self.assets

    @property
    def reserve(self) -> Decimal | None:
        """On chain minus owed to members (Bursa's own: revenues less expenses): below
        zero, Bursa cannot pay everyone."""
        return None if self.on_chain is None else self.on_chain - self.liabilities


async def _addresses(session: AsyncSession, key: str) -> list[str]:
    """Every address of Bursa's on the blockchain: its wallets and members' addresses."""
    wallet_query = select(wallets.c.address).where(
        wallets.c.blockchain_key == key, wallets.c.address.is_not(None)
    )
    member_query = select(payment_addresses.c.address).where(
        payment_addresses.c.blockchain_key == key
    )
    found = list((await session.execute(wallet_query)).scalars())
    found += list((await session.execute(member_query)).scalars())
    return sorted(set(found))


async def _ledger(session: AsyncSession, currency: str) -> tuple[Decimal, Decimal]:
    owed = select(func.coalesce(func.sum(accounts.c.balance + accounts.c.locked), 0)).where(
        accounts.c.currency_id == currency
    )
    booked = select(func.coalesce(func.sum(operations.c.credit - operations.c.debit), 0)).where(
        operations.c.currency_id == currency, operations.c.code.in_(ASSET_CODES)
    )
    return (
        Decimal((await session.execute(owed)).scalar_one()),
        Decimal((await session.execute(booked)).scalar_one()),
    )


async def _on_chain(
    plugins: Plugins, session: AsyncSession, key: str, code: str, addresses: list[str], wait: float
) -> Decimal | None:
    try:
        plugin, assets = await plugins.get(session, key)
    except Exception as exc:  # no node URL, or one the plugin refuses: the view goes on
        log.warning("solvency: %s cannot be opened: %s", key, exc)
        return None
    asset: ChainAsset | None = assets.get(code)
    if asset is None:
        return None
    asked = asyncio.gather(*(plugin.balance_of(a, asset.chain) for a in addresses))
    try:
        async with asyncio.timeout(wait):
            units = await asked
    except (TimeoutError, ChainError, OSError, ValueError) as exc:
        log.warning("solvency: the %s node did not answer for %s: %s", key, code, exc)
        return None
    return asset.chain.to_decimal(sum(units))


def _status(on_chain: Decimal | None, liabilities: Decimal, assets: Decimal) -> str:
    if on_chain is None:
        return UNAVAILABLE
    if on_chain < liabilities:
        return "short"
    return "ok" if on_chain == assets else "mismatch"


async def solvency(
    session: AsyncSession, plugins: Plugins, *, timeout_s: float = 3.0
) -> list[Solvency]:
    """Every coin currency on a blockchain, by code."""
    query = (
        select(currencies.c.id, currencies.c.blockchain_key)
        .where(currencies.c.type == "coin", currencies.c.blockchain_key.is_not(None))
        .order_by(currencies.c.id)
    )
    found = []
    for code, key in (await session.execute(query)).all():
        addresses = await _addresses(session, key)
        liabilities, assets = await _ledger(session, code)
        on_chain = await _on_chain(plugins, session, key, code, addresses, timeout_s)
        status = _status(on_chain, liabilities, assets)
        found.append(Solvency(code, key, len(addresses), on_chain, liabilities, assets, status))
    return found
