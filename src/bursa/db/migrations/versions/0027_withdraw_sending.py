"""Sending coin withdrawals: the signed transaction kept on the row before it is broadcast,
the block it landed in, the last error and the retry schedule.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("withdraws", sa.Column("raw_tx", sa.LargeBinary))
    op.add_column("withdraws", sa.Column("wallet_id", sa.BigInteger))
    op.add_column("withdraws", sa.Column("block_number", sa.BigInteger))
    op.add_column("withdraws", sa.Column("error", postgresql.JSONB))
    op.add_column(
        "withdraws", sa.Column("attempts", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("withdraws", sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_withdraws_sending",
        "withdraws",
        ["blockchain_key", "state"],
        postgresql_where=sa.text("state IN ('processing', 'skipped', 'confirming')"),
    )


def downgrade() -> None:
    op.drop_index("ix_withdraws_sending", table_name="withdraws")
    for name in ("next_attempt_at", "attempts", "error", "block_number", "wallet_id", "raw_tx"):
        op.drop_column("withdraws", name)
