"""Peatio's adjustments (maker/checker corrections of a member's balance).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 18)  # frozen here: the migration must not follow later changes


def upgrade() -> None:
    op.create_table(
        "adjustments",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.String(24), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("asset_account_code", sa.SmallInteger, nullable=False),
        sa.Column("receiving_account_code", sa.SmallInteger, nullable=False),
        sa.Column("receiving_member_id", sa.BigInteger),
        sa.Column("receiving_member_uid", sa.String(16)),
        sa.Column("creator_uid", sa.String(32), nullable=False),
        sa.Column("validator_uid", sa.String(32)),
        sa.Column("state", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("engine_seq", sa.BigInteger),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_adjustments_state_id", "adjustments", ["state", "id"])


def downgrade() -> None:
    op.drop_table("adjustments")
