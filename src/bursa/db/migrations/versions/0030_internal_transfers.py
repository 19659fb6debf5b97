"""Peatio's internal transfers: a member moves funds to another member by uid or username.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 18)  # frozen here: the migration must not follow later changes


def upgrade() -> None:
    op.create_table(
        "internal_transfers",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("currency_id", sa.String(10), sa.ForeignKey("currencies.id"), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("sender_id", sa.BigInteger, nullable=False),
        sa.Column("receiver_id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("engine_key", sa.String(64), nullable=False),
        sa.Column("error", sa.String(64)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("engine_key", name="uq_internal_transfers_engine_key"),
        sa.CheckConstraint("amount > 0", name="ck_internal_transfers_amount_positive"),
        sa.CheckConstraint("sender_id <> receiver_id", name="ck_internal_transfers_two_members"),
    )
    op.create_index("ix_internal_transfers_sender", "internal_transfers", ["sender_id", "id"])
    op.create_index("ix_internal_transfers_receiver", "internal_transfers", ["receiver_id", "id"])


def downgrade() -> None:
    op.drop_table("internal_transfers")
