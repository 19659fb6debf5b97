"""Custody's tables: blockchains, wallets and their currencies, members' payment
addresses, and the blocks each scanner has read (to notice reorganisations).

Whatever could move money is sealed by the key store before it is stored: a node URL may
carry credentials (``blockchains.server``), a wallet's or an address's private key
(``secret``) is never stored in the clear.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

_NUM = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE)

# Peatio's blockchains: ``client`` names the plugin (entry point ``bursa.blockchains``);
# ``height`` is the next block the scanner reads.
blockchains = Table(
    "blockchains",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("client", String(32), nullable=False),
    Column("server", Text),  # sealed node URL
    Column("height", BigInteger, nullable=False, server_default="0"),
    Column("min_confirmations", Integer, nullable=False, server_default="6"),
    Column("protocol", String(32), nullable=False, server_default=""),
    Column("explorer_address", Text, nullable=False, server_default=""),
    Column("explorer_transaction", Text, nullable=False, server_default=""),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Peatio's wallet kinds: deposit (members' addresses), fee (gas for token sweeps), hot
# (pays withdrawals), warm and cold (addresses only: Bursa holds no key for them).
WALLET_KINDS = ("deposit", "fee", "hot", "warm", "cold")
wallets = Table(
    "wallets",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("blockchain_key", String(32), ForeignKey("blockchains.key"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("address", String(128)),
    Column("secret", Text),  # sealed private key (deposit, fee and hot wallets)
    Column("max_balance", _NUM, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

wallet_currencies = Table(
    "wallet_currencies",
    metadata,
    Column("wallet_id", BigInteger, ForeignKey("wallets.id"), nullable=False),
    Column("currency_id", String(10), nullable=False),
    PrimaryKeyConstraint("wallet_id", "currency_id"),
)

# A member's deposit address on a blockchain (one per member and blockchain).
payment_addresses = Table(
    "payment_addresses",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("member_id", BigInteger, nullable=False),
    Column("wallet_id", BigInteger, ForeignKey("wallets.id"), nullable=False),
    Column("blockchain_key", String(32), nullable=False),
    Column("address", String(128), nullable=False),
    Column("secret", Text, nullable=False),  # sealed private key
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("blockchain_key", "address", name="uq_payment_addresses_address"),
    UniqueConstraint("member_id", "blockchain_key", name="uq_payment_addresses_member"),
)

# The blocks a scanner has read, by height, with their hashes: a later block whose parent
# is not the hash kept here means the chain reorganised below it.
chain_blocks = Table(
    "chain_blocks",
    metadata,
    Column("blockchain_key", String(32), nullable=False),
    Column("height", BigInteger, nullable=False),
    Column("hash", String(128), nullable=False),
    Column("parent_hash", String(128), nullable=False),
    PrimaryKeyConstraint("blockchain_key", "height"),
)

# Peatio's whitelisted smart contracts: contracts of a chain that admins vouch for
# (``admin/whitelisted_smart_contracts``); one row per (blockchain, address).
whitelisted_smart_contracts = Table(
    "whitelisted_smart_contracts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("blockchain_key", String(32), ForeignKey("blockchains.key"), nullable=False),
    Column("address", String(128), nullable=False),
    Column("description", String(255), nullable=False, server_default=""),
    Column("state", String(16), nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("blockchain_key", "address", name="uq_whitelisted_smart_contracts_address"),
)

Index("ix_wallets_blockchain_key_kind", wallets.c.blockchain_key, wallets.c.kind)
