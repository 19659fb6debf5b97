"""A blockchain's configuration as its plugin needs it: the plugin built from the
``blockchains`` row (its sealed node URL opened by the key store) and the chain's
currencies with their on-chain decimals and contracts."""

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.chain import ChainCurrency, ChainPlugin, plugin_factory
from bursa.custody.tables import blockchains
from bursa.ledger.tables import currencies
from bursa.plain_input import NotPlain, read_amount
from bursa.secrets.keystore import KeyStore
from bursa.trading.confirmations import required_confirmations

NODE_KEY_NAME = "custody-node"  # the key store's key for node URLs (they may hold credentials)
WALLET_KEY_NAME = "custody-wallet"  # the key store's key for private keys
CONTRACT_OPTIONS = ("erc20_contract_address", "contract_address")


@dataclass(frozen=True, slots=True)
class ChainAsset:
    """A Bursa currency on a chain: how the chain counts it and what Bursa requires."""

    chain: ChainCurrency
    precision: int  # Bursa's (the engine's) decimals
    min_deposit_amount: Decimal
    deposit_fee: Decimal
    min_confirmations: int  # required: the currency's override, else the chain's
    deposit_enabled: bool

    def credited(self, units: int) -> Decimal:
        """The on-chain amount as Bursa counts it: what lies beyond Bursa's precision
        (dust of an 18-decimal token kept at 8) is not credited."""
        exact = self.chain.to_decimal(units)
        return exact.quantize(Decimal(1).scaleb(-self.precision), rounding=ROUND_DOWN)


CONTRACT = re.compile(r"^0x[0-9a-fA-F]{40}$")
MAX_OPTIONS = 20


def checked_options(options: object) -> dict[str, Any]:
    """A currency's ``options`` as custody reads them, or ``ValueError`` saying what is
    wrong: a token contract (``erc20_contract_address`` or ``contract_address``, 0x and
    40 hex digits), on-chain ``decimals`` (0–36), ``min_collection_amount`` (a
    non-negative decimal), ``send_surplus`` (true or false); other keys are kept for
    plugins, with plain values."""
    if not isinstance(options, dict) or len(options) > MAX_OPTIONS:
        raise ValueError(f"options must be an object of at most {MAX_OPTIONS} keys")
    found: dict[str, Any] = {}
    for name, value in options.items():
        if not isinstance(name, str) or not 0 < len(name) <= 64:
            raise ValueError("option names are strings of 1 to 64 characters")
        if name in CONTRACT_OPTIONS:
            if not isinstance(value, str) or not CONTRACT.match(value):
                raise ValueError(f"{name} must be 0x and 40 hex digits")
            value = value.lower()
        elif name == "decimals":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36:
                raise ValueError("decimals must be an integer from 0 to 36")
        elif name == "min_collection_amount":
            try:  # plain notation only, as every amount from outside
                amount = read_amount(value) if isinstance(value, str | int) else None
            except NotPlain:
                amount = None
            if amount is None:
                raise ValueError("min_collection_amount must be a non-negative decimal")
            value = str(value)
        elif name == "send_surplus":
            if not isinstance(value, bool):
                raise ValueError("send_surplus must be true or false")
        elif not (
            value is None
            or isinstance(value, bool | int)
            or (isinstance(value, str) and len(value) <= 255)
        ):
            raise ValueError(
                f"{name} must be a string of at most 255 characters, a number or a flag"
            )
        found[name] = value
    return found


def chain_currency(row: Any) -> ChainCurrency:
    options = row["options"] or {}
    contract = next((options[k] for k in CONTRACT_OPTIONS if options.get(k)), None)
    decimals = int(options.get("decimals", row["precision"]))
    return ChainCurrency(row["id"], decimals, None if contract is None else str(contract).lower())


async def assets(session: AsyncSession, blockchain_key: str) -> dict[str, ChainAsset]:
    """The coin currencies on ``blockchain_key``, by code."""
    query = select(currencies, required_confirmations().label("required")).where(
        currencies.c.blockchain_key == blockchain_key, currencies.c.type == "coin"
    )
    found = {}
    for row in (await session.execute(query)).mappings():
        found[row["id"]] = ChainAsset(
            chain=chain_currency(row),
            precision=row["precision"],
            min_deposit_amount=row["min_deposit_amount"],
            deposit_fee=row["deposit_fee"],
            min_confirmations=row["required"],
            deposit_enabled=row["deposit_enabled"],
        )
    return found


async def blockchain(session: AsyncSession, key: str) -> Any | None:
    query = select(blockchains).where(blockchains.c.key == key)
    return (await session.execute(query)).mappings().first()


async def configuration(session: AsyncSession, key: str) -> tuple[Any, ...] | None:
    """What a plugin of blockchain ``key`` is built from, comparable: a change (a new
    currency, another node, other confirmations) means the plugin must be opened again.
    None when there is no such blockchain."""
    row = await blockchain(session, key)
    if row is None:
        return None
    found = await assets(session, key)
    fixed = (row["client"], row["server"], row["status"], row["min_confirmations"])
    return (*fixed, tuple(sorted(found.items())))


async def open_plugin(
    session: AsyncSession, keystore: KeyStore, key: str
) -> tuple[ChainPlugin, dict[str, ChainAsset]]:
    """The plugin of blockchain ``key`` and its currencies."""
    row = await blockchain(session, key)
    if row is None:
        raise LookupError(f"no blockchain {key!r}: add it first")
    if row["server"] is None:
        raise LookupError(f"blockchain {key!r} has no node URL: set its server")
    server = (await keystore.decrypt(NODE_KEY_NAME, row["server"])).decode()
    found = await assets(session, key)
    factory = plugin_factory(row["client"])
    try:
        return factory(server, [a.chain for a in found.values()]), found
    except ValueError as exc:  # e.g. two currencies without a contract on one chain
        raise LookupError(
            f"blockchain {key!r}: {exc}; give each token its contract in the currency's"
            " options (erc20_contract_address) or move it to another blockchain"
        ) from exc


async def scanned_heights(session: AsyncSession, keys: set[str]) -> dict[str, int]:
    """The last block each blockchain's scanner has read (confirmations count from it)."""
    if not keys:
        return {}
    query = select(blockchains.c.key, blockchains.c.height).where(blockchains.c.key.in_(keys))
    return {row.key: int(row.height) - 1 for row in (await session.execute(query)).all()}
