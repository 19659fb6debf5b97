"""Indexes the member trading API reads by: a member's ledger operations, an order's
trades (maker and taker side), and orders by UUID.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_operations_member_id_id", "operations", ["member_id", "id"])
    op.create_index("ix_trades_maker_order_id", "trades", ["maker_order_id"])
    op.create_index("ix_trades_taker_order_id", "trades", ["taker_order_id"])
    op.create_index("ix_orders_uuid", "orders", ["uuid"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_orders_uuid", "orders")
    op.drop_index("ix_trades_taker_order_id", "trades")
    op.drop_index("ix_trades_maker_order_id", "trades")
    op.drop_index("ix_operations_member_id_id", "operations")
