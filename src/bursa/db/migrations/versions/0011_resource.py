"""Member resources: usernames, data storages, and address proofs kept with the documents.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.add_column("users", sa.Column("username", sa.String(12), nullable=True))
    op.create_unique_constraint("uq_users_username", "users", ["username"])
    # An address proof is a document without a number; its address is sealed.
    op.alter_column("documents", "doc_number", existing_type=sa.Text(), nullable=True)
    op.add_column("documents", sa.Column("country", sa.String(3), nullable=True))
    op.add_column("documents", sa.Column("address", sa.Text(), nullable=True))
    op.create_table(
        "data_storages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_data_storages"),
        sa.UniqueConstraint("user_id", "title", name="uq_data_storages_user_id_title"),
    )


def downgrade() -> None:
    op.drop_table("data_storages")
    # The older schema cannot hold address proofs (no number): they go.
    op.execute("DELETE FROM documents WHERE doc_number IS NULL")
    op.drop_column("documents", "address")
    op.drop_column("documents", "country")
    op.alter_column("documents", "doc_number", existing_type=sa.Text(), nullable=False)
    op.drop_constraint("uq_users_username", "users", type_="unique")
    op.drop_column("users", "username")
