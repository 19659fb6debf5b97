"""Market data: candles for every k-line period, the materializer's progress, and an index
for public trade history by time.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NUM = sa.Numeric(40, 18)


def upgrade() -> None:
    op.create_table(
        "candles",
        sa.Column("market_id", sa.String(20), nullable=False),
        sa.Column("period", sa.SmallInteger, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", _NUM, nullable=False),
        sa.Column("high", _NUM, nullable=False),
        sa.Column("low", _NUM, nullable=False),
        sa.Column("close", _NUM, nullable=False),
        sa.Column("amount", _NUM, nullable=False),
        sa.Column("total", _NUM, nullable=False),
        sa.Column("first_trade_id", sa.BigInteger, nullable=False),
        sa.Column("last_trade_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("market_id", "period", "time", name="pk_candles"),
    )
    progress = op.create_table(
        "market_data_progress",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("last_trade_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_market_data_progress"),
    )
    # From zero: trades committed before this migration are counted on the first start.
    op.bulk_insert(progress, [{"name": "candles", "last_trade_id": 0}])
    op.create_index("ix_trades_market_id_created_at", "trades", ["market_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_trades_market_id_created_at", table_name="trades")
    op.drop_table("market_data_progress")
    op.drop_table("candles")
