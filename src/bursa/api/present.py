"""Shaping engine records and table rows into the public entities.

Engine values are integers (ticks, lots, subunits, fee millionths); they leave here as
exact decimal strings via ``format_units``.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bursa.api.schemas import Currency, Market, Order, PublicTrade
from bursa.engine.commands import BUY
from bursa.engine.specs import MarketSpec
from bursa.engine.state import Order as EngineOrder
from bursa.engine.state import Trade
from bursa.engine.units import format_units

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEE_PLACES = 6
MICROS = 1_000_000


def decimal_text(value: Decimal) -> str:
    """Plain notation, no exponent, no trailing zeros: ``0E-18`` → ``0``, ``1E+2`` → ``100``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def iso_time(micros: int) -> str:
    """An engine time (microseconds since the epoch) as ISO-8601, to the second, UTC."""
    moment = EPOCH + timedelta(microseconds=micros)
    return moment.isoformat(timespec="seconds")


def currency(row: Mapping[str, Any]) -> Currency:
    return Currency(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        homepage=row["homepage"],
        parent_id=None,  # no token currencies yet
        price=None,
        explorer_transaction="",
        explorer_address="",
        type=row["type"],
        deposit_enabled=row["deposit_enabled"],
        withdrawal_enabled=row["withdrawal_enabled"],
        deposit_fee=decimal_text(row["deposit_fee"]),
        min_deposit_amount=decimal_text(row["min_deposit_amount"]),
        withdraw_fee=decimal_text(row["withdraw_fee"]),
        min_withdraw_amount=decimal_text(row["min_withdraw_amount"]),
        withdraw_limit_24h=decimal_text(row["withdraw_limit_24h"]),
        withdraw_limit_72h=decimal_text(row["withdraw_limit_72h"]),
        base_factor=10 ** row["precision"],
        precision=row["precision"],
        position=row["position"],
        icon_url=row["icon_url"],
        min_confirmations=row["min_confirmations"],
    )


def market(row: Mapping[str, Any]) -> Market:
    return Market(
        id=row["id"],
        symbol=row["id"],
        name=f"{row['base_unit'].upper()}/{row['quote_unit'].upper()}",
        type=row["type"],
        base_unit=row["base_unit"],
        quote_unit=row["quote_unit"],
        min_price=decimal_text(row["min_price"]),
        max_price=decimal_text(row["max_price"]),
        min_amount=decimal_text(row["min_amount"]),
        amount_precision=row["amount_precision"],
        price_precision=row["price_precision"],
        state=row["state"],
    )


def average_price(order: EngineOrder, spec: MarketSpec) -> int:
    """Volume-weighted price of what has traded, in ticks, rounded down (as Peatio)."""
    executed = order.origin_volume - order.volume
    if executed <= 0:
        return 0
    quote_moved = order.origin_locked - order.locked if order.side == BUY else order.funds_received
    return quote_moved // (executed * spec.quote_per_tick_lot)


def order(order: EngineOrder, spec: MarketSpec) -> Order:
    amount_places, price_places = spec.amount_precision, spec.price_precision
    return Order(
        id=order.id,
        uuid=None,
        side=order.side,
        ord_type=order.ord_type,
        price=format_units(order.price, price_places) if order.price else None,
        avg_price=format_units(average_price(order, spec), price_places),
        state=order.state,
        market=order.market,
        market_type="spot",
        created_at=iso_time(order.created_at),
        updated_at=iso_time(order.updated_at),
        origin_volume=format_units(order.origin_volume, amount_places),
        remaining_volume=format_units(order.volume, amount_places),
        executed_volume=format_units(order.origin_volume - order.volume, amount_places),
        maker_fee=format_units(order.maker_fee, FEE_PLACES),
        taker_fee=format_units(order.taker_fee, FEE_PLACES),
        trades_count=order.trades_count,
    )


def public_trade(trade: Trade, spec: MarketSpec) -> PublicTrade:
    return PublicTrade(
        id=trade.id,
        price=format_units(trade.price, spec.price_precision),
        amount=format_units(trade.volume, spec.amount_precision),
        total=format_units(trade.total, spec.quote.precision),
        market=trade.market,
        created_at=trade.created_at // MICROS,
        taker_type=trade.taker_side,
    )


def depth_level(price: int, volume: int, spec: MarketSpec) -> tuple[str, str]:
    return (
        format_units(price, spec.price_precision),
        format_units(volume, spec.amount_precision),
    )
