"""Admin review and service accounts: comments on users, the profile rejection reason,
service accounts (keys held in ``api_keys``), and the ``sa_maker`` permission set.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
NOW = sa.text("now()")

# OpenDAX's service-account market maker, frozen as of this revision: the standard user set,
# but DROP on account security, KYC, withdrawals and service account keys.
SA_MAKER_PERMISSIONS = [
    ("ALL", "api/v2/peatio/account", "ACCEPT"),
    ("ALL", "api/v2/peatio/market", "ACCEPT"),
    ("ALL", "api/v2/barong/resource", "ACCEPT"),
    ("GET", "api/v2/ranger", "ACCEPT"),
    ("ALL", "api/v2/applogic", "ACCEPT"),
    ("ALL", "api/v2/barong/resource/otp", "DROP"),
    ("ALL", "api/v2/barong/resource/phones", "DROP"),
    ("ALL", "api/v2/barong/resource/profiles", "DROP"),
    ("ALL", "api/v2/barong/resource/documents", "DROP"),
    ("ALL", "api/v2/barong/resource/addresses", "DROP"),
    ("ALL", "api/v2/barong/resource/api_keys", "DROP"),
    ("ALL", "api/v2/barong/resource/users/password", "DROP"),
    ("ALL", "api/v2/barong/resource/service_accounts", "DROP"),
    ("ALL", "api/v2/applogic/private/tenants", "DROP"),
    ("ALL", "api/v2/peatio/account/deposit_address", "DROP"),
    ("ALL", "api/v2/peatio/account/withdraws", "DROP"),
    ("ALL", "api/v2/peatio/account/beneficiaries", "DROP"),
]


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), _user_fk(), nullable=False),
        sa.Column("author_uid", sa.String(16), nullable=False),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
    )
    op.create_index("ix_comments_user_id", "comments", ["user_id"])
    op.add_column("profiles", sa.Column("reason", sa.Text(), nullable=True))
    op.create_table(
        "service_accounts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), _user_fk(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("state", sa.String(16), nullable=False, server_default="active"),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_service_accounts"),
        sa.UniqueConstraint("uid", name="uq_service_accounts_uid"),
        sa.UniqueConstraint("email", name="uq_service_accounts_email"),
    )
    op.create_index("ix_service_accounts_owner_id", "service_accounts", ["owner_id"])
    op.add_column(
        "api_keys",
        sa.Column(
            "service_account_id",
            sa.BigInteger(),
            sa.ForeignKey("service_accounts.id", ondelete="CASCADE"),
            nullable=True,
        ),
    )
    op.create_index("ix_api_keys_service_account_id", "api_keys", ["service_account_id"])
    # Only where the operator has not defined the role already.
    rows = ", ".join(f"('sa_maker', '{v}', '{p}', '{a}')" for v, p, a in SA_MAKER_PERMISSIONS)
    op.execute(
        "INSERT INTO permissions (role, verb, path, action) SELECT * FROM (VALUES "
        + rows
        + ") AS seed WHERE NOT EXISTS (SELECT 1 FROM permissions WHERE role = 'sa_maker')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM permissions WHERE role = 'sa_maker'")
    op.drop_index("ix_api_keys_service_account_id", table_name="api_keys")
    op.drop_column("api_keys", "service_account_id")
    op.drop_table("service_accounts")
    op.drop_column("profiles", "reason")
    op.drop_table("comments")
