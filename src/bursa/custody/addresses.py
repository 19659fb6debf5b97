"""Members' deposit addresses: one per member and blockchain, made by the chain's plugin
on first request (keys on Bursa's side) and stored with the private key sealed by the key
store. Every currency of the chain (a coin and its tokens) is paid to the same address."""

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.chain import ChainPlugin
from bursa.custody.registry import WALLET_KEY_NAME, ChainAsset, configuration, open_plugin
from bursa.custody.tables import payment_addresses, wallets
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies
from bursa.secrets.keystore import KeyStore

log = logging.getLogger(__name__)
CURRENCY_NOT_FOUND = "account.currency.doesnt_exist"
DEPOSIT_DISABLED = "account.currency.deposit_disabled"
WALLET_NOT_FOUND = "account.wallet.not_found"


class AddressRefused(BursaError):
    """No address for this currency (``code``: Peatio's error code)."""

    def __init__(self, code: str) -> None:
        super().__init__(Refusal.INVALID, code)


@dataclass(frozen=True, slots=True)
class DepositAddress:
    blockchain_key: str
    address: str
    currencies: list[str]  # what the address receives


class Plugins:
    """The chain plugins a process has opened, by blockchain key (opened on first use,
    and again once the blockchain's configuration or its currencies change, so that a
    currency an admin adds is served without a restart)."""

    def __init__(self, keystore: KeyStore) -> None:
        self.keystore = keystore
        self._opened: dict[str, tuple[ChainPlugin, dict[str, ChainAsset]]] = {}
        self._configurations: dict[str, tuple[Any, ...] | None] = {}
        self._retired: list[ChainPlugin] = []  # a worker may still use one: closed last

    async def get(
        self, session: AsyncSession, key: str
    ) -> tuple[ChainPlugin, dict[str, ChainAsset]]:
        now = await configuration(session, key)
        if key in self._opened and self._configurations.get(key) != now:
            self._retired.append(self._opened.pop(key)[0])
        if key not in self._opened:
            self._opened[key] = await open_plugin(session, self.keystore, key)
            self._configurations[key] = now
        return self._opened[key]

    async def close(self) -> None:
        opened, self._opened = self._opened, {}
        retired, self._retired = self._retired, []
        for plugin in [*retired, *(plugin for plugin, _ in opened.values())]:
            await plugin.close()


async def _currency(session: AsyncSession, code: str) -> Any:
    query = select(currencies).where(currencies.c.id == code.lower())
    found = (await session.execute(query)).mappings().first()
    if found is None:
        raise AddressRefused(CURRENCY_NOT_FOUND)
    if found["type"] != "coin" or not found["deposit_enabled"] or not found["blockchain_key"]:
        raise AddressRefused(DEPOSIT_DISABLED)
    return found


async def _deposit_wallet(session: AsyncSession, key: str) -> int:
    query = select(wallets.c.id).where(
        wallets.c.blockchain_key == key, wallets.c.kind == "deposit", wallets.c.status == "active"
    )
    found = (await session.execute(query.order_by(wallets.c.id).limit(1))).scalar_one_or_none()
    if found is None:
        raise AddressRefused(WALLET_NOT_FOUND)
    return int(found)


async def _chain_currencies(session: AsyncSession, key: str) -> list[str]:
    query = select(currencies.c.id).where(
        currencies.c.blockchain_key == key, currencies.c.deposit_enabled.is_(True)
    )
    return sorted((await session.execute(query)).scalars())


async def deposit_address(
    session: AsyncSession, plugins: Plugins, member_id: int, currency: str
) -> DepositAddress:
    """The member's address for ``currency``, made now if they have none; the caller
    commits."""
    row = await _currency(session, currency)
    key = row["blockchain_key"]
    query = select(payment_addresses.c.address).where(
        payment_addresses.c.member_id == member_id, payment_addresses.c.blockchain_key == key
    )
    address = (await session.execute(query)).scalar_one_or_none()
    if address is None:
        wallet_id = await _deposit_wallet(session, key)
        try:
            plugin, _ = await plugins.get(session, key)
        except LookupError as exc:  # the blockchain or its plugin is not set up
            log.error("no deposit address for %s: %s", key, exc)
            raise AddressRefused(WALLET_NOT_FOUND) from exc
        made = plugin.create_address()
        sealed = await plugins.keystore.encrypt(WALLET_KEY_NAME, made.secret)
        await session.execute(
            insert(payment_addresses)
            .values(
                member_id=member_id,
                wallet_id=wallet_id,
                blockchain_key=key,
                address=made.address,
                secret=sealed,
            )
            .on_conflict_do_nothing(constraint="uq_payment_addresses_member")
        )
        address = (await session.execute(query)).scalar_one()  # ours, or a racing request's
    return DepositAddress(key, str(address), await _chain_currencies(session, key))
