"""Initial schema: ledger, market configuration and the engine's tables.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same as bursa.db.metadata: 40 digits, 18 after the point (18-decimal coins).
AMOUNT = sa.Numeric(40, 18)
FEE = sa.Numeric(7, 6)
TIMESTAMP = sa.DateTime(timezone=True)


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "currencies",
        sa.Column("id", sa.String(10), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("precision", sa.SmallInteger(), nullable=False),
        sa.Column("blockchain_key", sa.String(32), nullable=True),
        sa.Column("deposit_fee", AMOUNT, nullable=False, server_default="0"),
        sa.Column("min_deposit_amount", AMOUNT, nullable=False, server_default="0"),
        sa.Column("withdraw_fee", AMOUNT, nullable=False, server_default="0"),
        sa.Column("min_withdraw_amount", AMOUNT, nullable=False, server_default="0"),
        sa.Column("withdraw_limit_24h", AMOUNT, nullable=False, server_default="0"),
        sa.Column("withdraw_limit_72h", AMOUNT, nullable=False, server_default="0"),
        sa.Column("deposit_enabled", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("withdrawal_enabled", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("min_confirmations", sa.Integer(), nullable=False, server_default="6"),
        sa.Column("position", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("state", sa.String(16), nullable=False, server_default="enabled"),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("homepage", sa.Text(), nullable=False, server_default=""),
        sa.Column("icon_url", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=_now()),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_currencies"),
    )
    op.create_table(
        "accounts",
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("balance", AMOUNT, nullable=False),
        sa.Column("locked", AMOUNT, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("member_id", "currency_id", name="pk_accounts"),
    )
    op.create_table(
        "operations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.SmallInteger(), nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("reference_type", sa.String(16), nullable=False),
        sa.Column("reference_id", sa.Text(), nullable=False),
        sa.Column("debit", AMOUNT, nullable=False),
        sa.Column("credit", AMOUNT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
    )
    op.create_table(
        "markets",
        sa.Column("id", sa.String(20), nullable=False),
        sa.Column("type", sa.String(8), nullable=False, server_default="spot"),
        sa.Column("base_unit", sa.String(10), nullable=False),
        sa.Column("quote_unit", sa.String(10), nullable=False),
        sa.Column("amount_precision", sa.SmallInteger(), nullable=False),
        sa.Column("price_precision", sa.SmallInteger(), nullable=False),
        sa.Column("min_price", AMOUNT, nullable=False),
        sa.Column("max_price", AMOUNT, nullable=False),
        sa.Column("min_amount", AMOUNT, nullable=False),
        sa.Column("maker_fee", FEE, nullable=False),
        sa.Column("taker_fee", FEE, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("state", sa.String(16), nullable=False, server_default="enabled"),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=_now()),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_markets"),
    )
    op.create_table(
        "engine_commands",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("payload", postgresql.JSON(), nullable=False),
        sa.Column("result", postgresql.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_engine_commands"),
    )
    op.create_index("ix_engine_commands_idempotency_key", "engine_commands", ["idempotency_key"])
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "uuid",
            postgresql.UUID(as_uuid=True),
            nullable=False,
            server_default=sa.text("gen_random_uuid()"),
        ),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("market_id", sa.String(20), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("ord_type", sa.String(8), nullable=False),
        sa.Column("time_in_force", sa.String(3), nullable=False),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("price", AMOUNT, nullable=True),
        sa.Column("origin_volume", AMOUNT, nullable=False),
        sa.Column("volume", AMOUNT, nullable=False),
        sa.Column("origin_locked", AMOUNT, nullable=False),
        sa.Column("locked", AMOUNT, nullable=False),
        sa.Column("funds_received", AMOUNT, nullable=False),
        sa.Column("maker_fee", FEE, nullable=False),
        sa.Column("taker_fee", FEE, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("trades_count", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_index("ix_orders_member_id_id", "orders", ["member_id", "id"])
    op.create_index(
        "ix_orders_open", "orders", ["market_id"], postgresql_where=sa.text("state = 'wait'")
    )
    op.create_table(
        "trades",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("market_id", sa.String(20), nullable=False),
        sa.Column("price", AMOUNT, nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("total", AMOUNT, nullable=False),
        sa.Column("maker_order_id", sa.BigInteger(), nullable=False),
        sa.Column("taker_order_id", sa.BigInteger(), nullable=False),
        sa.Column("maker_id", sa.BigInteger(), nullable=False),
        sa.Column("taker_id", sa.BigInteger(), nullable=False),
        sa.Column("taker_type", sa.String(4), nullable=False),
        sa.Column("maker_fee_amount", AMOUNT, nullable=False),
        sa.Column("taker_fee_amount", AMOUNT, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trades"),
    )
    op.create_index("ix_trades_market_id_id", "trades", ["market_id", "id"])
    op.create_table(
        "withdrawal_holds",
        sa.Column("withdrawal_id", sa.Text(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("withdrawal_id", name="pk_withdrawal_holds"),
    )


def downgrade() -> None:
    for table in (
        "withdrawal_holds",
        "trades",
        "orders",
        "engine_commands",
        "markets",
        "operations",
        "accounts",
        "currencies",
    ):
        op.drop_table(table)
