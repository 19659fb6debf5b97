"""Internal transfers (Peatio's ``internal_transfers``): one member's funds to another's.
The money moves only through the engine's ``Transfer`` command; this row says who asked
for what and where it stands (``pending`` until the engine answered, then ``completed``,
or ``failed`` with the engine's refusal)."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    func,
)

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

internal_transfers = Table(
    "internal_transfers",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("currency_id", String(10), ForeignKey("currencies.id"), nullable=False),
    Column("amount", Numeric(AMOUNT_PRECISION, AMOUNT_SCALE), nullable=False),
    Column("sender_id", BigInteger, nullable=False),
    Column("receiver_id", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("engine_key", String(64), nullable=False, unique=True),
    Column("error", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount > 0", name="ck_internal_transfers_amount_positive"),
    CheckConstraint("sender_id <> receiver_id", name="ck_internal_transfers_two_members"),
    Index("ix_internal_transfers_sender", "sender_id", "id"),
    Index("ix_internal_transfers_receiver", "receiver_id", "id"),
)
