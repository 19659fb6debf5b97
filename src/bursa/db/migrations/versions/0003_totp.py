"""Two-factor authentication: the encrypted TOTP seed and the last accepted time step.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("otp", sa.Boolean(), nullable=False, server_default="false"))
    op.add_column("users", sa.Column("otp_secret", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("otp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "otp_last_step")
    op.drop_column("users", "otp_secret")
    op.drop_column("users", "otp")
