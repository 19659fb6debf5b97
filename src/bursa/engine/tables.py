"""Tables only the engine writes: its command log, orders, trades and withdrawal holds.

They are declared here, below ``bursa.trading``, because the engine's persistence writes
them and a lower context may not import a higher one; ``bursa.trading`` reads them.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSON, UUID

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

_NUM = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE)

# Every command the engine applied, in order: replaying it from seq 1 rebuilds the state.
engine_commands = Table(
    "engine_commands",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("idempotency_key", Text, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Not unique: a key is remembered for the idempotency window only (see runner).
    Index("ix_engine_commands_idempotency_key", "idempotency_key"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("uuid", UUID(as_uuid=True), nullable=False, server_default=text("gen_random_uuid()")),
    Column("member_id", BigInteger, nullable=False),
    Column("market_id", String(20), nullable=False),
    Column("side", String(4), nullable=False),  # buy | sell
    Column("ord_type", String(16), nullable=False),  # limit | market | stop_limit | stop_market
    Column("time_in_force", String(3), nullable=False),  # GTC | IOC | FOK
    Column("post_only", Boolean, nullable=False),
    Column("client_id", String(64)),
    Column("price", _NUM),  # null for market orders
    Column("origin_volume", _NUM, nullable=False),
    Column("volume", _NUM, nullable=False),  # remaining
    Column("origin_locked", _NUM, nullable=False),
    Column("locked", _NUM, nullable=False),
    Column("funds_received", _NUM, nullable=False),
    Column("maker_fee", Numeric(7, 6), nullable=False),
    Column("taker_fee", Numeric(7, 6), nullable=False),
    Column("state", String(16), nullable=False),  # trigger_wait | wait | done | cancel
    Column("trades_count", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),  # last command that changed it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Trigger orders: the trigger, "above" or "below", the self-trade prevention to apply
    # when they fire; and the other order of a one-cancels-the-other pair.
    Column("trigger_price", _NUM),
    Column("trigger_condition", String(5)),
    Column("oco_id", BigInteger),
    Column("stp", String(16)),
    # The order's place in its price level's queue, given when it first rested (null: never).
    Column("priority", BigInteger),
    Index("ix_orders_member_id_id", "member_id", "id"),
    Index(
        "ix_orders_open", "market_id", postgresql_where=text("state IN ('wait', 'trigger_wait')")
    ),
    Index("ix_orders_uuid", "uuid", unique=True),  # Peatio 3 finds orders by UUID too
)

trades = Table(
    "trades",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("market_id", String(20), nullable=False),
    Column("price", _NUM, nullable=False),
    Column("amount", _NUM, nullable=False),
    Column("total", _NUM, nullable=False),
    Column("maker_order_id", BigInteger, nullable=False),
    Column("taker_order_id", BigInteger, nullable=False),
    Column("maker_id", BigInteger, nullable=False),
    Column("taker_id", BigInteger, nullable=False),
    Column("taker_type", String(4), nullable=False),  # buy | sell: the taker's side
    Column("maker_fee_amount", _NUM, nullable=False),
    Column("taker_fee_amount", _NUM, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_trades_market_id_id", "market_id", "id"),
    # Public trade history: newest first, or before a moment (``timestamp``).
    Index("ix_trades_market_id_created_at", "market_id", "created_at"),
    # A member's trades and an order's trades are found through the order.
    Index("ix_trades_maker_order_id", "maker_order_id"),
    Index("ix_trades_taker_order_id", "taker_order_id"),
)

# Funds held for a withdrawal between hold and settle/release.
withdrawal_holds = Table(
    "withdrawal_holds",
    metadata,
    Column("withdrawal_id", Text, primary_key=True),
    Column("member_id", BigInteger, nullable=False),
    Column("currency_id", String(10), nullable=False),
    Column("amount", _NUM, nullable=False),
    Column("state", String(10), nullable=False),  # held | settled | released
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# Trading fees by market (or "any") and member group (or "any"), Peatio's ``trading_fees``:
# written by the engine (``SetTradingFee``), which applies them to new orders.
trading_fees = Table(
    "trading_fees",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("market_id", String(20), nullable=False),
    Column("group", String(32), nullable=False),
    Column("maker", Numeric(7, 6), nullable=False),
    Column("taker", Numeric(7, 6), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("market_id", "group", name="uq_trading_fees_market_id_group"),
)

# Members outside the default fee group (``SetMemberGroup``).
member_groups = Table(
    "member_groups",
    metadata,
    Column("member_id", BigInteger, primary_key=True, autoincrement=False),
    Column("group", String(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
