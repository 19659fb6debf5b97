"""Peatio's deposits (fiat deposits of the Management API; custody extends them).

Revision ID: 0021
Revises: 0019
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 18)  # frozen here: the migration must not follow later changes


def upgrade() -> None:
    op.create_table(
        "deposits",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tid", sa.String(64), nullable=False),
        sa.Column("member_id", sa.BigInteger, nullable=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("fee", AMOUNT, nullable=False, server_default="0"),
        sa.Column("transfer_type", sa.String(16), nullable=False),
        sa.Column("txid", sa.String(128)),
        sa.Column("address", sa.String(128)),
        sa.Column("blockchain_key", sa.String(32)),
        sa.Column("block_number", sa.BigInteger),
        sa.Column("state", sa.String(16), nullable=False, server_default="submitted"),
        sa.Column("attempts", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("engine_key", sa.String(64)),
        sa.Column("engine_seq", sa.BigInteger),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("tid", name="uq_deposits_tid"),
    )
    op.create_index("ix_deposits_member_id_id", "deposits", ["member_id", "id"])
    op.create_index("ix_deposits_state_id", "deposits", ["state", "id"])


def downgrade() -> None:
    op.drop_table("deposits")
