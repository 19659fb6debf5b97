"""Withdrawal limits by member group and KYC level, in the platform currency.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 18)  # frozen here: the migration must not follow later changes


def upgrade() -> None:
    op.create_table(
        "withdraw_limits",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("group", sa.String(32), nullable=False),
        sa.Column("kyc_level", sa.String(8), nullable=False),
        sa.Column("limit_24_hour", AMOUNT, nullable=False),
        sa.Column("limit_1_month", AMOUNT, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("group", "kyc_level", name="uq_withdraw_limits_group_kyc_level"),
    )


def downgrade() -> None:
    op.drop_table("withdraw_limits")
