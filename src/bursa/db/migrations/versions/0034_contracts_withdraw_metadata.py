"""Whitelisted smart contracts (Peatio's admin ``whitelisted_smart_contracts``) and the
withdrawals' ``metadata`` that admins note (``PUT admin/withdraws``).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whitelisted_smart_contracts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "blockchain_key",
            sa.String(32),
            sa.ForeignKey(
                "blockchains.key", name="fk_whitelisted_smart_contracts_blockchain_key_blockchains"
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("description", sa.String(255), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False, server_default="active"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint(
            "blockchain_key", "address", name="uq_whitelisted_smart_contracts_address"
        ),
    )
    op.add_column(
        "withdraws",
        sa.Column("metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )


def downgrade() -> None:
    op.drop_column("withdraws", "metadata")
    op.drop_table("whitelisted_smart_contracts")
