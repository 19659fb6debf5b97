"""Phones keep their country (ISO 3166 alpha-2, from the calling code), as Barong's do.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows stay NULL: the number is sealed, and SQL has no key to read it.
    op.add_column("phones", sa.Column("country", sa.String(2)))


def downgrade() -> None:
    op.drop_column("phones", "country")
