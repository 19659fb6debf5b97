"""Whitelinks: single-use, expiring links an admin hands out so that their holder can
whitelist their own IP (kept as SHA-256 digests); and the admin who entered a profile for
a member (``profiles.author_uid``), so that another admin verifies it.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whitelinks",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column(
            "created_by",
            sa.BigInteger,
            sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_whitelinks_created_by_users"),
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("used_ip", sa.String(45)),
        sa.Column(
            "restriction_id",
            sa.BigInteger,
            sa.ForeignKey(
                "restrictions.id",
                ondelete="SET NULL",
                name="fk_whitelinks_restriction_id_restrictions",
            ),
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("token_digest", name="uq_whitelinks_token_digest"),
    )
    op.add_column("profiles", sa.Column("author_uid", sa.String(16)))


def downgrade() -> None:
    op.drop_column("profiles", "author_uid")
    op.drop_table("whitelinks")
