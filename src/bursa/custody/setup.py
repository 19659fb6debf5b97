"""Configuring custody: blockchains (a plugin and its node) and wallets (their keys made
by the plugin and sealed at once; warm and cold wallets are addresses only). Shared by the
``bursa custody`` commands and the admin API."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from bursa.custody.addresses import Plugins
from bursa.custody.chain import UnknownClient, plugin_factory
from bursa.custody.registry import NODE_KEY_NAME, WALLET_KEY_NAME, blockchain
from bursa.custody.tables import WALLET_KINDS, blockchains, wallet_currencies, wallets
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies
from bursa.secrets.keystore import KeyStore

BLOCKCHAIN = "admin.blockchain"  # the admin API's codes for a refused setup
WALLET = "admin.wallet"
KEYED_KINDS = ("deposit", "fee", "hot")  # Bursa holds their keys; warm and cold: never


class SetupRefused(BursaError):
    """A configuration that cannot work: ``code`` names it for the admin API, ``message``
    says what to change (the CLI prints it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(Refusal.INVALID, code, message=message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class NewBlockchain:
    key: str
    name: str
    client: str
    server: str  # the node's URL (sealed before it is stored: it may hold credentials)
    min_confirmations: int = 6
    height: int = 0


async def add_blockchain(session: AsyncSession, keystore: KeyStore, new: NewBlockchain) -> None:
    """Add or change a blockchain (its scanner starts reading at ``height``); the caller
    commits."""
    try:
        plugin_factory(new.client)
    except UnknownClient as exc:
        raise SetupRefused(f"{BLOCKCHAIN}.invalid_client", str(exc)) from exc
    if new.min_confirmations < 1 or new.height < 0:
        raise SetupRefused(
            f"{BLOCKCHAIN}.invalid_min_confirmations",
            "min_confirmations must be at least 1 and height at least 0",
        )
    sealed = await keystore.encrypt(NODE_KEY_NAME, new.server.encode())
    values = {
        "name": new.name,
        "client": new.client,
        "server": sealed,
        "min_confirmations": new.min_confirmations,
    }
    await session.execute(
        insert(blockchains)
        .values(key=new.key, height=new.height, **values)
        .on_conflict_do_update(
            index_elements=[blockchains.c.key], set_=values | {"updated_at": func.now()}
        )
    )


@dataclass(frozen=True, slots=True)
class NewWallet:
    name: str
    blockchain_key: str
    kind: str
    currencies: tuple[str, ...]
    address: str | None = None  # required for warm and cold wallets, made for the others
    max_balance: Decimal = Decimal(0)


async def add_wallet(session: AsyncSession, plugins: Plugins, new: NewWallet) -> Any:
    """A new wallet; for deposit, fee and hot wallets the plugin makes the key, which is
    sealed before it is stored. The caller commits."""
    if new.kind not in WALLET_KINDS:
        raise SetupRefused(
            f"{WALLET}.invalid_kind", f"kind must be one of {', '.join(WALLET_KINDS)}"
        )
    if await blockchain(session, new.blockchain_key) is None:
        raise SetupRefused(
            f"{WALLET}.blockchain_doesnt_exist",
            f"no blockchain {new.blockchain_key!r}: add it first",
        )
    known = set(
        (
            await session.execute(
                select(currencies.c.id).where(currencies.c.blockchain_key == new.blockchain_key)
            )
        ).scalars()
    )
    unknown = sorted(set(new.currencies) - known)
    if unknown or not new.currencies:
        raise SetupRefused(
            f"{WALLET}.invalid_currencies",
            f"currencies must be on {new.blockchain_key} ({', '.join(sorted(known)) or 'none'})",
        )
    address, secret = new.address, None
    if new.kind in KEYED_KINDS:
        if address is not None:
            raise SetupRefused(
                f"{WALLET}.redundant_address",
                f"a {new.kind} wallet's key is made by Bursa: give no address",
            )
        plugin, _ = await plugins.get(session, new.blockchain_key)
        made = plugin.create_address()
        address = made.address
        secret = await plugins.keystore.encrypt(WALLET_KEY_NAME, made.secret)
    elif address is None:
        raise SetupRefused(
            f"{WALLET}.missing_address",
            f"a {new.kind} wallet needs its --address (Bursa holds no key)",
        )
    inserted = await session.execute(
        insert(wallets)
        .values(
            name=new.name,
            blockchain_key=new.blockchain_key,
            kind=new.kind,
            address=address,
            secret=secret,
            max_balance=new.max_balance,
        )
        .on_conflict_do_nothing(index_elements=[wallets.c.name])
        .returning(wallets.c.id, wallets.c.name, wallets.c.kind, wallets.c.address)
    )
    row = inserted.mappings().first()
    if row is None:
        raise SetupRefused(f"{WALLET}.name_taken", f"a wallet named {new.name!r} exists already")
    await session.execute(
        insert(wallet_currencies).values(
            [{"wallet_id": row["id"], "currency_id": code} for code in new.currencies]
        )
    )
    return row
