"""Token keys: the random HMAC keys Bursa signs its own short-lived tokens with (the links
in confirmation and password reset mails), kept only as key store ciphertext so that every
API process signs and verifies with the same key.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_keys",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("token_keys")
