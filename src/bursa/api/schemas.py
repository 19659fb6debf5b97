"""Peatio v2 entities of the public API. Decimals are strings in plain notation."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, PlainSerializer

from bursa.formats import iso

Moment = Annotated[datetime, PlainSerializer(iso, return_type=str, when_used="json")]
"""A time in an answer: ISO-8601, UTC, whole seconds (``2026-01-02T03:04:05+00:00``), the
one form Peatio's and Barong's answers share in Bursa."""


class Currency(BaseModel):
    """Peatio 2.6's flat currency entity."""

    id: str
    name: str
    description: str
    homepage: str
    parent_id: str | None
    price: str | None
    explorer_transaction: str
    explorer_address: str
    type: str
    deposit_enabled: bool
    withdrawal_enabled: bool
    deposit_fee: str
    min_deposit_amount: str
    withdraw_fee: str
    min_withdraw_amount: str
    withdraw_limit_24h: str
    withdraw_limit_72h: str
    base_factor: int
    precision: int
    position: int
    icon_url: str
    # What a deposit needs: the blockchain's, unless the currency overrides it; null for a
    # currency on no configured chain.
    min_confirmations: int | None


class Market(BaseModel):
    id: str
    symbol: str
    name: str
    type: str
    base_unit: str
    quote_unit: str
    min_price: str
    max_price: str
    min_amount: str
    amount_precision: int
    price_precision: int
    state: str


class Order(BaseModel):
    id: int
    uuid: str | None
    side: str
    ord_type: str
    price: str | None
    avg_price: str
    state: str
    market: str
    market_type: str
    created_at: str
    updated_at: str
    origin_volume: str
    remaining_volume: str
    executed_volume: str
    maker_fee: str
    taker_fee: str
    trades_count: int


class OrderBook(BaseModel):
    asks: list[Order]
    bids: list[Order]


class Depth(BaseModel):
    timestamp: int
    asks: list[tuple[str, str]]
    bids: list[tuple[str, str]]
    sequence: int


class PublicTrade(BaseModel):
    id: int
    price: str
    amount: str
    total: str
    market: str
    created_at: int
    taker_type: str


class Errors(BaseModel):
    """The body of every error response."""

    errors: list[str]


class TickerValues(BaseModel):
    """Peatio's ticker over the last 24 hours (``vol`` repeats ``volume``, in quote; ``at``
    repeats the ticker's time, as Peatio's entry carries it too)."""

    at: int
    low: str
    high: str
    open: str
    last: str
    volume: str
    amount: str
    vol: str
    avg_price: str
    price_change_percent: str


class Ticker(BaseModel):
    at: int
    ticker: TickerValues


class TradingFee(BaseModel):
    id: int
    group: str
    market_id: str
    market_type: str
    maker: str
    taker: str
    created_at: str
    updated_at: str


class MinimumLevel(BaseModel):
    minimum_level: int


class MemberLevels(BaseModel):
    deposit: MinimumLevel
    withdraw: MinimumLevel
    trading: MinimumLevel


class WithdrawLimit(BaseModel):
    """Peatio 3's WithdrawLimit: limits in the platform currency, ``0`` for none."""

    id: int
    group: str
    kyc_level: str
    limit_24_hour: str
    limit_1_month: str
    created_at: str
    updated_at: str
