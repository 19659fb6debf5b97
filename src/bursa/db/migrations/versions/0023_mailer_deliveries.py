"""The event mailer's record of sent mail (a redelivered event is mailed once).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailer_deliveries",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("rule", sa.String(255), primary_key=True),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_mailer_deliveries_sent_at", "mailer_deliveries", ["sent_at"])


def downgrade() -> None:
    op.drop_table("mailer_deliveries")
