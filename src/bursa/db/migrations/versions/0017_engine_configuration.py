"""Configuration through the engine: trading fees per market and member group, and members'
fee groups, both written by the engine alongside the command that set them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Peatio's abilities: technical staff configure currencies, markets and fees and may cancel
# orders; accountants propose adjustments. The gateway's table must let them reach those.
STAFF_WRITES = [
    *(
        ("technical", "ALL", f"api/v2/peatio/admin/{path}", "ACCEPT")
        for path in ("currencies", "markets", "trading_fees", "orders")
    ),
    ("accountant", "POST", "api/v2/peatio/admin/adjustments", "ACCEPT"),
]


def upgrade() -> None:
    op.create_table(
        "trading_fees",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("market_id", sa.String(20), nullable=False),
        sa.Column("group", sa.String(32), nullable=False),
        sa.Column("maker", sa.Numeric(7, 6), nullable=False),
        sa.Column("taker", sa.Numeric(7, 6), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.UniqueConstraint("market_id", "group", name="uq_trading_fees_market_id_group"),
    )
    op.create_table(
        "member_groups",
        sa.Column("member_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("group", sa.String(32), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )

    for role, verb, path, action in STAFF_WRITES:
        op.execute(
            sa.text(
                "INSERT INTO permissions (role, verb, path, action)"
                " SELECT :role, :verb, :path, :action WHERE NOT EXISTS (SELECT 1 FROM permissions"
                " WHERE role = :role AND verb = :verb AND path = :path)"
            ).bindparams(role=role, verb=verb, path=path, action=action)
        )


def downgrade() -> None:
    for role, verb, path, action in STAFF_WRITES:
        op.execute(
            sa.text(
                "DELETE FROM permissions WHERE role = :role AND verb = :verb AND path = :path"
                " AND action = :action"
            ).bindparams(role=role, verb=verb, path=path, action=action)
        )
    op.drop_table("member_groups")
    op.drop_table("trading_fees")
