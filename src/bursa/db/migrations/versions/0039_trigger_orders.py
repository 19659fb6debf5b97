"""Trigger orders (stop-limit, stop-market) and one-cancels-the-other pairs: the orders
table holds their trigger, the pair's other order and the self-trade prevention to apply
when they fire; ``trigger_wait`` orders are open, so the open-orders index covers them.
``priority`` is an order's place in its price level's queue (a fired trigger order rests
behind later orders, so its id no longer tells): resting orders so far had their id's.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "state IN ('wait', 'trigger_wait')"


def upgrade() -> None:
    op.alter_column("orders", "ord_type", type_=sa.String(16), existing_nullable=False)
    op.alter_column("orders", "state", type_=sa.String(16), existing_nullable=False)
    op.add_column("orders", sa.Column("trigger_price", sa.Numeric(40, 18)))
    op.add_column("orders", sa.Column("trigger_condition", sa.String(5)))
    op.add_column("orders", sa.Column("oco_id", sa.BigInteger))
    op.add_column("orders", sa.Column("stp", sa.String(16)))
    op.add_column("orders", sa.Column("priority", sa.BigInteger))
    op.execute("UPDATE orders SET priority = id WHERE state = 'wait'")
    op.drop_index("ix_orders_open", table_name="orders")
    op.create_index("ix_orders_open", "orders", ["market_id"], postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("ix_orders_open", table_name="orders")
    op.create_index(
        "ix_orders_open", "orders", ["market_id"], postgresql_where=sa.text("state = 'wait'")
    )
    op.drop_column("orders", "priority")
    op.drop_column("orders", "stp")
    op.drop_column("orders", "oco_id")
    op.drop_column("orders", "trigger_condition")
    op.drop_column("orders", "trigger_price")
    op.alter_column("orders", "state", type_=sa.String(8), existing_nullable=False)
    op.alter_column("orders", "ord_type", type_=sa.String(8), existing_nullable=False)
