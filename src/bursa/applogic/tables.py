"""AppLogic's pending approvals of large withdrawals: one row per withdrawal (by its
Peatio ``tid``), the votes as a map approver uid -> time."""

from sqlalchemy import Column, DateTime, Integer, Numeric, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

applogic_approvals = Table(
    "applogic_approvals",
    metadata,
    Column("tid", String(64), primary_key=True),
    Column("uid", String(32), nullable=False),  # whose withdrawal it is
    Column("currency_id", String(10), nullable=False),
    Column("amount", Numeric(AMOUNT_PRECISION, AMOUNT_SCALE), nullable=False),
    Column("required", Integer, nullable=False),
    Column("approvals", JSONB, nullable=False),  # uid -> ISO time
    Column("rejected_by", String(32)),
    # pending -> approved -> executed, or pending -> rejected -> canceled
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
