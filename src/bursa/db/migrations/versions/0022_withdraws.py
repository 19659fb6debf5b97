"""Withdrawals through the Management API and AppLogic's approvals of large ones.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NUM = sa.Numeric(40, 18)


def _times() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "withdraws",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tid", sa.String(64), nullable=False),
        sa.Column("member_id", sa.BigInteger, nullable=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("amount", _NUM, nullable=False),
        sa.Column("fee", _NUM, nullable=False),
        sa.Column("sum", _NUM, nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("rid", sa.String(256), nullable=False),
        sa.Column("beneficiary_id", sa.BigInteger),
        sa.Column("blockchain_key", sa.String(32)),
        sa.Column("note", sa.String(256)),
        sa.Column("transfer_type", sa.String(16)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("txid", sa.String(128)),
        *_times(),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("tid", name="uq_withdraws_tid"),
    )
    op.create_index("ix_withdraws_member_id", "withdraws", ["member_id"])
    op.create_index("ix_withdraws_state", "withdraws", ["state"])
    op.create_table(
        "applogic_approvals",
        sa.Column("tid", sa.String(64), primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("amount", _NUM, nullable=False),
        sa.Column("required", sa.Integer, nullable=False),
        sa.Column("approvals", JSONB, nullable=False),
        sa.Column("rejected_by", sa.String(32)),
        sa.Column("state", sa.String(16), nullable=False),
        *_times(),
    )


def downgrade() -> None:
    op.drop_table("applogic_approvals")
    op.drop_table("withdraws")
