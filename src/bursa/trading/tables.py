"""Market configuration (which pairs trade, their precisions, bounds and fees) and the
market data derived from committed trades (candles)."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

markets = Table(
    "markets",
    metadata,
    Column("id", String(20), primary_key=True),  # the symbol, e.g. btcusdt
    Column("type", String(8), nullable=False, server_default="spot"),
    Column("base_unit", String(10), nullable=False),
    Column("quote_unit", String(10), nullable=False),
    Column("amount_precision", SmallInteger, nullable=False),
    Column("price_precision", SmallInteger, nullable=False),
    Column("min_price", Numeric(AMOUNT_PRECISION, AMOUNT_SCALE), nullable=False),
    Column("max_price", Numeric(AMOUNT_PRECISION, AMOUNT_SCALE), nullable=False),
    Column("min_amount", Numeric(AMOUNT_PRECISION, AMOUNT_SCALE), nullable=False),
    Column("maker_fee", Numeric(7, 6), nullable=False),
    Column("taker_fee", Numeric(7, 6), nullable=False),
    Column("position", Integer, nullable=False, server_default="1"),
    Column("state", String(16), nullable=False, server_default="enabled"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

_NUM = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE)

# OHLC per market, period (minutes) and period start (aligned on the Unix epoch), for
# every k-line period, written after the trades commit (``bursa.trading.candles``).
# ``amount`` is the base volume, ``total`` the quote volume; the first and last trade ids
# decide open and close when trades of one period arrive in several steps.
candles = Table(
    "candles",
    metadata,
    Column("market_id", String(20), primary_key=True),
    Column("period", SmallInteger, primary_key=True),
    Column("time", DateTime(timezone=True), primary_key=True),
    Column("open", _NUM, nullable=False),
    Column("high", _NUM, nullable=False),
    Column("low", _NUM, nullable=False),
    Column("close", _NUM, nullable=False),
    Column("amount", _NUM, nullable=False),
    Column("total", _NUM, nullable=False),
    Column("first_trade_id", BigInteger, nullable=False),
    Column("last_trade_id", BigInteger, nullable=False),
)

# How far each consumer of the trades table got (``candles``: the last trade counted).
market_data_progress = Table(
    "market_data_progress",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_trade_id", BigInteger, nullable=False),
)

# Every change an admin made through the Peatio admin API: who, what, and the record before
# and after (JSON with decimals as strings). Rows are only ever inserted.
admin_audit = Table(
    "admin_audit",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("actor_uid", String(32), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("actor_ip", String(45), nullable=False),
    Column("action", String(48), nullable=False),  # e.g. market.update, order.cancel
    Column("target_type", String(24), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_admin_audit_target", "target_type", "target_id", "id"),
    Index("ix_admin_audit_actor_uid_id", "actor_uid", "id"),
)

# Peatio's adjustments, maker/checker: an admin proposes a correction (``pending``), another
# admin accepts it (the engine's ``Adjust`` command posts it; ``engine_seq`` is that command)
# or rejects it. ``attempts`` counts accepts the engine refused: each retry needs a new
# idempotency key, or the engine would answer the first refusal again.
adjustments = Table(
    "adjustments",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("reason", String(255), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(24), nullable=False),
    Column("amount", _NUM, nullable=False),  # signed, in the currency's unit
    Column("currency_id", String(10), nullable=False),
    Column("asset_account_code", SmallInteger, nullable=False),
    Column("receiving_account_code", SmallInteger, nullable=False),
    Column("receiving_member_id", BigInteger),
    Column("receiving_member_uid", String(16)),
    Column("creator_uid", String(32), nullable=False),
    Column("validator_uid", String(32)),
    Column("state", String(10), nullable=False, server_default="pending"),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("engine_seq", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_adjustments_state_id", "state", "id"),
)

# Peatio's deposits (fiat now; custody adds coin deposits: txid, address, confirmations).
# ``amount`` is what the member is credited (net), ``fee`` what went to revenue. ``state``
# is Peatio's, plus ``accepting``: the engine is being asked to credit it under
# ``engine_key``; whoever finds it there finishes it (the engine applies the key once).
deposits = Table(
    "deposits",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tid", String(64), nullable=False, unique=True),
    Column("member_id", BigInteger, nullable=False),
    Column("uid", String(32), nullable=False),
    Column("currency_id", String(10), nullable=False),
    Column("type", String(8), nullable=False),  # fiat | coin
    Column("amount", _NUM, nullable=False),
    Column("fee", _NUM, nullable=False, server_default="0"),
    Column("transfer_type", String(16), nullable=False),
    Column("txid", String(128)),  # the payment's reference (fiat) or blockchain txid (coin)
    Column("txout", Integer),  # coin: the output or log index within the transaction
    Column("address", String(128)),
    Column("from_addresses", JSONB),
    Column("blockchain_key", String(32)),
    Column("block_number", BigInteger),
    Column("block_hash", String(128)),
    Column("error", JSONB),  # e.g. the reorganisation that took back a credited deposit
    Column("state", String(16), nullable=False, server_default="submitted"),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("engine_key", String(64)),
    Column("engine_seq", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    Index("ix_deposits_member_id_id", "member_id", "id"),
    Index("ix_deposits_state_id", "state", "id"),
    Index(
        "uq_deposits_currency_txid_txout",
        "currency_id",
        "txid",
        "txout",
        unique=True,
        postgresql_where=text("txout IS NOT NULL"),
    ),
)

# Peatio's management transfers. ``operations`` keeps the legs as they were asked for
# (currency, amount text, account_src and account_dst with code and uid). ``state``:
# ``pending`` while the engine is asked to post them (whoever finds it pending finishes
# it), ``done`` once posted (``engine_seq``), ``refused`` when the engine refused them
# (``error``): nothing moved, and the key may be used again.
transfers = Table(
    "transfers",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", String(30), nullable=False, unique=True),
    Column("category", String(16), nullable=False),
    Column("description", String(255), nullable=False, server_default=""),
    Column("operations", JSONB, nullable=False),
    Column("state", String(10), nullable=False, server_default="pending"),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("engine_seq", BigInteger),
    Column("error", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
