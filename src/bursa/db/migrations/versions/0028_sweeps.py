"""Custody sweeps: collecting deposits to the hot wallet, gas top-ups for token sweeps,
and the hot wallet's surplus proposed to the warm or cold wallet.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 18)  # frozen here: the migration must not follow later changes


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("blockchain_key", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("from_address", sa.String(128), nullable=False),
        sa.Column("to_address", sa.String(128), nullable=False),
        sa.Column("to_wallet_id", sa.BigInteger),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("fee", AMOUNT, nullable=False, server_default="0"),
        sa.Column("txid", sa.String(128)),
        sa.Column("raw", sa.LargeBinary),
        sa.Column(
            "deposit_ids",
            postgresql.JSONB,
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_sweeps_blockchain_key_state", "sweeps", ["blockchain_key", "state"])
    op.create_index("uq_sweeps_txid", "sweeps", ["blockchain_key", "txid"], unique=True)


def downgrade() -> None:
    op.drop_table("sweeps")
