"""Shaping engine records and table rows into the public entities.

Engine values are integers (ticks, lots, subunits, fee millionths); they leave here as
exact decimal strings via ``format_units``.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from bursa.api.schemas import (
    Currency,
    Market,
    Order,
    PublicTrade,
    Ticker,
    TickerValues,
    TradingFee,
    WithdrawLimit,
)
from bursa.engine.commands import BUY
from bursa.engine.specs import MarketSpec
from bursa.engine.units import format_units
from bursa.formats import decimal_text, iso
from bursa.trading import market_data

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEE_PLACES = 6
MICROS = 1_000_000


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
        min_confirmations=row["required_confirmations"],
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


class OrderLike(Protocol):
    """What an order shows: the engine's records and book snapshots both have it."""

    @property
    def id(self) -> int: ...
    @property
    def market(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def ord_type(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def price(self) -> int: ...
    @property
    def origin_volume(self) -> int: ...
    @property
    def volume(self) -> int: ...
    @property
    def origin_locked(self) -> int: ...
    @property
    def locked(self) -> int: ...
    @property
    def funds_received(self) -> int: ...
    @property
    def maker_fee(self) -> int: ...
    @property
    def taker_fee(self) -> int: ...
    @property
    def trades_count(self) -> int: ...
    @property
    def created_at(self) -> int: ...
    @property
    def updated_at(self) -> int: ...


def average_price(order: OrderLike, spec: MarketSpec) -> int:
    """Volume-weighted price of what has traded, in ticks, rounded down (as Peatio)."""
    return average_ticks(
        order.origin_volume - order.volume,
        order.origin_locked - order.locked if order.side == BUY else order.funds_received,
        spec,
    )


def average_ticks(executed: int, quote_moved: int, spec: MarketSpec) -> int:
    """``quote_moved`` (spent by a buy, received by a sell) per executed lot, in ticks."""
    if executed <= 0:
        return 0
    return quote_moved // (executed * spec.quote_per_tick_lot)


def order(order: OrderLike, spec: MarketSpec, uuid: str | None = None) -> Order:
    amount_places, price_places = spec.amount_precision, spec.price_precision
    return Order(
        id=order.id,
        uuid=uuid,
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


def public_trade(trade: market_data.PublicTrade) -> PublicTrade:
    return PublicTrade(
        id=trade.id,
        price=decimal_text(trade.price),
        amount=decimal_text(trade.amount),
        total=decimal_text(trade.total),
        market=trade.market,
        created_at=market_data.utc_seconds(trade.created_at),
        taker_type=trade.taker_type,
    )


def percent_text(value: Decimal) -> str:
    """Peatio's price change: sign, two decimals, percent sign (``+3.19%``)."""
    return f"{value:+.2f}%"


def ticker(values: market_data.Ticker) -> Ticker:
    return Ticker(
        at=values.at,
        ticker=TickerValues(
            at=values.at,
            low=decimal_text(values.low),
            high=decimal_text(values.high),
            open=decimal_text(values.open),
            last=decimal_text(values.last),
            volume=decimal_text(values.volume),
            amount=decimal_text(values.amount),
            vol=decimal_text(values.volume),
            avg_price=decimal_text(values.avg_price),
            price_change_percent=percent_text(values.price_change_percent),
        ),
    )


def k_line_json(candles: list[market_data.Candle]) -> bytes:
    """``[[time, open, high, low, close, volume], ...]`` with JSON numbers written from the
    exact decimals (never through a float)."""
    points = (
        f"[{c.time},{decimal_text(c.open)},{decimal_text(c.high)},{decimal_text(c.low)},"
        f"{decimal_text(c.close)},{decimal_text(c.volume)}]"
        for c in candles
    )
    return ("[" + ",".join(points) + "]").encode()


def trading_fee(row: Mapping[str, Any]) -> TradingFee:
    return TradingFee(
        id=row["id"],
        group=row["group"],
        market_id=row["market_id"],
        market_type=row["market_type"],
        maker=decimal_text(row["maker"]),
        taker=decimal_text(row["taker"]),
        created_at=iso(row["created_at"]),
        updated_at=iso(row["updated_at"]),
    )


def depth_level(price: int, volume: int, spec: MarketSpec) -> tuple[str, str]:
    return (
        format_units(price, spec.price_precision),
        format_units(volume, spec.amount_precision),
    )


def withdraw_limit(row: Mapping[str, Any]) -> WithdrawLimit:
    return WithdrawLimit(
        id=row["id"],
        group=row["group"],
        kyc_level=row["kyc_level"],
        limit_24_hour=decimal_text(row["limit_24_hour"]),
        limit_1_month=decimal_text(row["limit_1_month"]),
        created_at=iso(row["created_at"]),
        updated_at=iso(row["updated_at"]),
    )
