"""Authorization: the permission table (seeded with OpenDAX's defaults) and restrictions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
NOW = sa.text("now()")

# OpenDAX's default permissions, frozen as of this revision: (role, verb, path, action).
DEFAULT_PERMISSIONS = [
    ("superadmin", "ALL", "api/v2", "ACCEPT"),
    ("superadmin", "POST", "api/v2/", "AUDIT"),
    ("superadmin", "PUT", "api/v2/", "AUDIT"),
    ("superadmin", "PATCH", "api/v2/", "AUDIT"),
    ("superadmin", "DELETE", "api/v2/", "AUDIT"),
    ("admin", "ALL", "api/v2", "ACCEPT"),
    ("admin", "ALL", "api/v2/barong/admin/permissions", "DROP"),
    ("admin", "ALL", "api/v2/barong/admin/users/role", "DROP"),
    ("admin", "ALL", "api/v2/barong/admin/activities/admin", "DROP"),
    ("admin", "POST", "api/v2/", "AUDIT"),
    ("admin", "PUT", "api/v2/", "AUDIT"),
    ("admin", "PATCH", "api/v2/", "AUDIT"),
    ("admin", "DELETE", "api/v2/", "AUDIT"),
    ("accountant", "GET", "api/v2/barong/admin", "ACCEPT"),
    ("accountant", "GET", "api/v2/peatio/admin", "ACCEPT"),
    ("accountant", "ALL", "api/v2/peatio/account", "ACCEPT"),
    ("accountant", "ALL", "api/v2/peatio/market", "ACCEPT"),
    ("accountant", "ALL", "api/v2/barong/resource", "ACCEPT"),
    ("accountant", "GET", "api/v2/ranger", "ACCEPT"),
    ("accountant", "ALL", "api/v2/applogic", "ACCEPT"),
    ("accountant", "POST", "api/v2/", "AUDIT"),
    ("accountant", "PUT", "api/v2/", "AUDIT"),
    ("accountant", "PATCH", "api/v2/", "AUDIT"),
    ("accountant", "DELETE", "api/v2/", "AUDIT"),
    ("compliance", "GET", "api/v2/barong/admin", "ACCEPT"),
    ("compliance", "GET", "api/v2/peatio/admin", "ACCEPT"),
    ("compliance", "ALL", "api/v2/peatio/account", "ACCEPT"),
    ("compliance", "ALL", "api/v2/peatio/market", "ACCEPT"),
    ("compliance", "ALL", "api/v2/barong/resource", "ACCEPT"),
    ("compliance", "GET", "api/v2/ranger", "ACCEPT"),
    ("compliance", "ALL", "api/v2/applogic", "ACCEPT"),
    ("compliance", "POST", "api/v2/", "AUDIT"),
    ("compliance", "PUT", "api/v2/", "AUDIT"),
    ("compliance", "PATCH", "api/v2/", "AUDIT"),
    ("compliance", "DELETE", "api/v2/", "AUDIT"),
    ("technical", "GET", "api/v2/barong/admin", "ACCEPT"),
    ("technical", "GET", "api/v2/peatio/admin", "ACCEPT"),
    ("technical", "ALL", "api/v2/peatio/account", "ACCEPT"),
    ("technical", "ALL", "api/v2/peatio/market", "ACCEPT"),
    ("technical", "ALL", "api/v2/barong/resource", "ACCEPT"),
    ("technical", "GET", "api/v2/ranger", "ACCEPT"),
    ("technical", "ALL", "api/v2/applogic", "ACCEPT"),
    ("technical", "POST", "api/v2/", "AUDIT"),
    ("technical", "PUT", "api/v2/", "AUDIT"),
    ("technical", "PATCH", "api/v2/", "AUDIT"),
    ("technical", "DELETE", "api/v2/", "AUDIT"),
    ("support", "GET", "api/v2/barong/admin", "ACCEPT"),
    ("support", "GET", "api/v2/peatio/admin", "ACCEPT"),
    ("support", "ALL", "api/v2/peatio/account", "ACCEPT"),
    ("support", "ALL", "api/v2/peatio/market", "ACCEPT"),
    ("support", "ALL", "api/v2/barong/resource", "ACCEPT"),
    ("support", "GET", "api/v2/ranger", "ACCEPT"),
    ("support", "ALL", "api/v2/applogic", "ACCEPT"),
    ("support", "POST", "api/v2/", "AUDIT"),
    ("support", "PUT", "api/v2/", "AUDIT"),
    ("support", "PATCH", "api/v2/", "AUDIT"),
    ("support", "DELETE", "api/v2/", "AUDIT"),
    ("compliance", "ALL", "api/v2/peatio/admin/adjustments", "DROP"),
    ("compliance", "ALL", "api/v2/peatio/admin/revenues", "DROP"),
    ("compliance", "ALL", "api/v2/peatio/admin/blockchains", "DROP"),
    ("compliance", "ALL", "api/v2/peatio/admin/wallets", "DROP"),
    ("compliance", "ALL", "api/v2/peatio/admin/trading_fees", "DROP"),
    ("technical", "ALL", "api/v2/peatio/admin/deposits", "DROP"),
    ("technical", "ALL", "api/v2/peatio/admin/withdraws", "DROP"),
    ("technical", "ALL", "api/v2/peatio/admin/adjustments", "DROP"),
    ("member", "ALL", "api/v2/peatio/account", "ACCEPT"),
    ("member", "ALL", "api/v2/peatio/market", "ACCEPT"),
    ("member", "ALL", "api/v2/barong/resource", "ACCEPT"),
    ("member", "GET", "api/v2/ranger", "ACCEPT"),
    ("member", "ALL", "api/v2/applogic", "ACCEPT"),
    ("trader", "ALL", "api/v2/peatio/account", "ACCEPT"),
    ("trader", "ALL", "api/v2/peatio/market", "ACCEPT"),
    ("trader", "ALL", "api/v2/barong/resource", "ACCEPT"),
    ("trader", "GET", "api/v2/ranger", "ACCEPT"),
    ("trader", "ALL", "api/v2/applogic", "ACCEPT"),
    ("broker", "ALL", "api/v2/peatio/account", "ACCEPT"),
    ("broker", "ALL", "api/v2/peatio/market", "ACCEPT"),
    ("broker", "ALL", "api/v2/barong/resource", "ACCEPT"),
    ("broker", "GET", "api/v2/ranger", "ACCEPT"),
    ("broker", "ALL", "api/v2/applogic", "ACCEPT"),
    ("maker", "ALL", "api/v2/peatio/account", "ACCEPT"),
    ("maker", "ALL", "api/v2/peatio/market", "ACCEPT"),
    ("maker", "ALL", "api/v2/barong/resource", "ACCEPT"),
    ("maker", "GET", "api/v2/ranger", "ACCEPT"),
    ("maker", "ALL", "api/v2/applogic", "ACCEPT"),
]


def upgrade() -> None:
    table = op.create_table(
        "permissions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("verb", sa.String(8), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_permissions"),
    )
    op.create_index("ix_permissions_role", "permissions", ["role"])
    op.create_table(
        "restrictions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False, server_default="enabled"),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_restrictions"),
    )
    assert table is not None
    op.bulk_insert(
        table,
        [
            {"role": role, "verb": verb, "path": path, "action": action, "topic": None}
            for role, verb, path, action in DEFAULT_PERMISSIONS
        ],
    )


def downgrade() -> None:
    op.drop_table("restrictions")
    op.drop_table("permissions")
