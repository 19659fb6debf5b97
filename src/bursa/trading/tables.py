"""Market configuration: which pairs trade, their precisions, bounds and fees."""

from sqlalchemy import Column, DateTime, Integer, Numeric, SmallInteger, String, Table, func

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
