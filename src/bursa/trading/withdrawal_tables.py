"""Withdrawals (Peatio's ``withdraws``): the request, its fee and its state. The money is
held, settled or released only by the engine (``withdrawal_holds`` mirrors what it did);
this row says what was asked and where it stands, and for coins the on-chain side: the
signed transaction is kept here (``raw_tx``) before it is broadcast, so a restart sends
the same bytes again instead of paying twice."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

_NUM = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE)

withdraws = Table(
    "withdraws",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tid", String(64), nullable=False),  # the caller's shared id
    Column("member_id", BigInteger, nullable=False),
    Column("uid", String(32), nullable=False),
    Column("currency_id", String(10), nullable=False),
    Column("amount", _NUM, nullable=False),  # what leaves: sum - fee
    Column("fee", _NUM, nullable=False),
    Column("sum", _NUM, nullable=False),  # what the member pays, held from the request on
    Column("type", String(8), nullable=False),  # fiat | coin
    Column("rid", String(256), nullable=False),  # the destination
    Column("beneficiary_id", BigInteger),
    Column("blockchain_key", String(32)),
    Column("note", String(256)),
    Column("transfer_type", String(16)),
    Column("state", String(16), nullable=False),
    Column("txid", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    Column("raw_tx", LargeBinary),  # the signed transaction (public once broadcast)
    Column("wallet_id", BigInteger),  # the hot wallet that pays it
    Column("block_number", BigInteger),
    Column("error", JSONB),  # the last failure: {"message": ..., "at": ...}
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),  # backoff after a node error
    # Peatio's ``metadata``: what an admin noted on the withdrawal (``PUT admin/withdraws``);
    # no money flow reads it.
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    UniqueConstraint("tid", name="uq_withdraws_tid"),
    Index("ix_withdraws_member_id", "member_id"),
    Index("ix_withdraws_state", "state"),
    Index(
        "ix_withdraws_sending",
        "blockchain_key",
        "state",
        postgresql_where=text("state IN ('processing', 'skipped', 'confirming')"),
    ),
)
