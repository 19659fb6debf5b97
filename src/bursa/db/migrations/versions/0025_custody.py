"""Custody: blockchains, wallets, payment addresses, scanned blocks; coin deposit columns;
currency chain options.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 18)  # frozen here: the migration must not follow later changes
EMPTY = sa.text("'{}'::jsonb")


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "blockchains",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("client", sa.String(32), nullable=False),
        sa.Column("server", sa.Text),
        sa.Column("height", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("min_confirmations", sa.Integer, nullable=False, server_default="6"),
        sa.Column("protocol", sa.String(32), nullable=False, server_default=""),
        sa.Column("explorer_address", sa.Text, nullable=False, server_default=""),
        sa.Column("explorer_transaction", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        *_stamps(),
    )
    op.create_table(
        "wallets",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column(
            "blockchain_key",
            sa.String(32),
            sa.ForeignKey("blockchains.key", name="fk_wallets_blockchain_key_blockchains"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("address", sa.String(128)),
        sa.Column("secret", sa.Text),
        sa.Column("max_balance", AMOUNT, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        *_stamps(),
        sa.UniqueConstraint("name", name="uq_wallets_name"),
    )
    op.create_index("ix_wallets_blockchain_key_kind", "wallets", ["blockchain_key", "kind"])
    op.create_table(
        "wallet_currencies",
        sa.Column(
            "wallet_id",
            sa.BigInteger,
            sa.ForeignKey("wallets.id", name="fk_wallet_currencies_wallet_id_wallets"),
            nullable=False,
        ),
        sa.Column("currency_id", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("wallet_id", "currency_id", name="pk_wallet_currencies"),
    )
    op.create_table(
        "payment_addresses",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.BigInteger, nullable=False),
        sa.Column(
            "wallet_id",
            sa.BigInteger,
            sa.ForeignKey("wallets.id", name="fk_payment_addresses_wallet_id_wallets"),
            nullable=False,
        ),
        sa.Column("blockchain_key", sa.String(32), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("details", postgresql.JSONB, nullable=False, server_default=EMPTY),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("blockchain_key", "address", name="uq_payment_addresses_address"),
        sa.UniqueConstraint("member_id", "blockchain_key", name="uq_payment_addresses_member"),
    )
    op.create_table(
        "chain_blocks",
        sa.Column("blockchain_key", sa.String(32), nullable=False),
        sa.Column("height", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("parent_hash", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("blockchain_key", "height", name="pk_chain_blocks"),
    )
    op.add_column("deposits", sa.Column("txout", sa.Integer))
    op.add_column("deposits", sa.Column("from_addresses", postgresql.JSONB))
    op.add_column("deposits", sa.Column("block_hash", sa.String(128)))
    op.add_column("deposits", sa.Column("error", postgresql.JSONB))
    op.create_index(
        "uq_deposits_currency_txid_txout",
        "deposits",
        ["currency_id", "txid", "txout"],
        unique=True,
        postgresql_where=sa.text("txout IS NOT NULL"),
    )
    op.add_column(
        "currencies", sa.Column("options", postgresql.JSONB, nullable=False, server_default=EMPTY)
    )


def downgrade() -> None:
    op.drop_column("currencies", "options")
    op.drop_index("uq_deposits_currency_txid_txout", table_name="deposits")
    for column in ("error", "block_hash", "from_addresses", "txout"):
        op.drop_column("deposits", column)
    for table in ("chain_blocks", "payment_addresses", "wallet_currencies", "wallets"):
        op.drop_table(table)
    op.drop_table("blockchains")
