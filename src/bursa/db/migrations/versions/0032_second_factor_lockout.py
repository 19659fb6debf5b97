"""Wrong second factors lock like wrong passwords: a count of wrong TOTP codes in a row and
the time until which codes are refused.

Kept apart from ``failed_logins``/``locked_until`` so that someone who only knows an email
address and guesses passwords cannot lock a signed-in member out of their withdrawals: a
wrong code means the first factor (password or session) was already in hand.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("failed_otps", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("users", sa.Column("otp_locked_until", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("users", "otp_locked_until")
    op.drop_column("users", "failed_otps")
