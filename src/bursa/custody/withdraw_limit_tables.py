"""Withdrawal limits by member group and KYC level (Peatio's ``WithdrawLimit``), valued in
the platform currency; ``any`` in either key matches every group or level."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    func,
)

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

_NUM = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE)

withdraw_limits = Table(
    "withdraw_limits",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("group", String(32), nullable=False),  # a member group (vip-0, ...) or any
    Column("kyc_level", String(8), nullable=False),  # a level as text ("1", ...) or any
    Column("limit_24_hour", _NUM, nullable=False),  # 0: no limit on the day
    Column("limit_1_month", _NUM, nullable=False),  # 0: no limit on the 30 days
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("group", "kyc_level", name="uq_withdraw_limits_group_kyc_level"),
)
