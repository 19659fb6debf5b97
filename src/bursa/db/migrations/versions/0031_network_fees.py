"""Network fees: every fee a Bursa wallet pays, booked as an expense when its transaction
is recorded and corrected when it is mined.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 18)  # frozen here: the migration must not follow later changes


def upgrade() -> None:
    op.create_table(
        "network_fees",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("blockchain_key", sa.String(32), nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("txid", sa.String(128), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("source_id", sa.BigInteger, nullable=False),
        sa.Column("estimated", AMOUNT, nullable=False),
        sa.Column("actual", AMOUNT),
        sa.Column("booked", AMOUNT, nullable=False, server_default="0"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("blockchain_key", "txid", name="uq_network_fees_txid"),
    )
    op.create_index("ix_network_fees_state", "network_fees", ["state"])
    op.create_index("ix_network_fees_source", "network_fees", ["source", "source_id"])


def downgrade() -> None:
    op.drop_table("network_fees")
