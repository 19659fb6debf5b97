"""The transactions custody makes itself (deposits pay in; these move Bursa's own money):
collections of deposit addresses to the hot wallet, gas top-ups from the fee wallet, and
the hot wallet's surplus for the warm or cold wallet.

A row is written with the signed transaction (``txid``, ``raw``) before it is broadcast,
so a process that dies in between broadcasts the same bytes again and the network sees
one payment. A surplus is first only ``proposed`` (no transaction): admins see it, and
Bursa sends it only when the currency's options say so.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

_NUM = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE)

COLLECT, GAS, SURPLUS = "collect", "gas", "surplus"
# proposed (a surplus waiting for an admin; ``dismissed`` by one) → signed (recorded,
# maybe not sent) → broadcast → confirmed | failed
PROPOSED, DISMISSED, SIGNED, BROADCAST, CONFIRMED, FAILED = (
    "proposed",
    "dismissed",
    "signed",
    "broadcast",
    "confirmed",
    "failed",
)
IN_FLIGHT = (SIGNED, BROADCAST)

sweeps = Table(
    "sweeps",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("blockchain_key", String(32), nullable=False),
    Column("kind", String(8), nullable=False),  # collect | gas | surplus
    Column("currency_id", String(10), nullable=False),
    Column("from_address", String(128), nullable=False),
    Column("to_address", String(128), nullable=False),
    Column("to_wallet_id", BigInteger),  # the hot, warm or cold wallet paid
    Column("amount", _NUM, nullable=False),  # what the destination receives
    Column("fee", _NUM, nullable=False, server_default="0"),  # in the chain's native coin
    Column("txid", String(128)),
    Column("raw", LargeBinary),  # the signed transaction (no key: it is public once sent)
    Column("deposit_ids", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("state", String(16), nullable=False),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_sweeps_blockchain_key_state", "blockchain_key", "state"),
    Index("uq_sweeps_txid", "blockchain_key", "txid", unique=True),
)
