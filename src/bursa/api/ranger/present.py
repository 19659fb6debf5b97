"""Ranger's payloads, from the bus's events (engine integers) to Rango's JSON shapes.

Kept apart from the hub so the wire format can be checked against the OpenDAX one
without a connection: decimals leave as exact strings, times as Unix seconds.
"""

from typing import Any

from bursa.api.present import average_ticks, percent_text
from bursa.engine.commands import BUY
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.units import format_units
from bursa.formats import decimal_text
from bursa.trading import market_data

MICROS = 1_000_000
SELL = "sell"


def seconds(micros: int) -> int:
    return micros // MICROS


def public_trade(trade: dict[str, Any], spec: MarketSpec) -> dict[str, Any]:
    """One trade of ``<market>.trades`` (Peatio sends one per message)."""
    return {
        "tid": trade["id"],
        "taker_type": trade["taker_type"],
        "date": seconds(trade["created_at"]),
        "price": format_units(trade["price"], spec.price_precision),
        "amount": format_units(trade["volume"], spec.amount_precision),
    }


def private_trade(trade: dict[str, Any], spec: MarketSpec, *, maker: bool) -> dict[str, Any]:
    """The ``trade`` stream's message to the maker or the taker, from their side."""
    taker_side = trade["taker_type"]
    side = (SELL if taker_side == BUY else BUY) if maker else taker_side
    return {
        "id": trade["id"],
        "price": format_units(trade["price"], spec.price_precision),
        "amount": format_units(trade["volume"], spec.amount_precision),
        "total": format_units(trade["total"], spec.quote.precision),
        "market": trade["market"],
        "side": side,
        "taker_type": taker_side,
        "created_at": seconds(trade["created_at"]),
        "order_id": trade["maker_order_id" if maker else "taker_order_id"],
    }


def private_order(order: dict[str, Any], spec: MarketSpec) -> dict[str, Any]:
    """The ``order`` stream's message: Peatio's fields, decimals as strings."""
    amount_places, price_places = spec.amount_precision, spec.price_precision
    executed = order["origin_volume"] - order["volume"]
    buy = order["side"] == BUY
    # A closed buy got back what it still held: the rest of its lock is what it spent.
    spent = order["origin_locked"] - order["locked"] - order["released"]
    moved = spent if buy else order["funds_received"]
    created = seconds(order["created_at"])
    return {
        "id": order["id"],
        "market": order["market"],
        "kind": "bid" if buy else "ask",
        "side": order["side"],
        "ord_type": order["ord_type"],
        "price": format_units(order["price"], price_places) if order["price"] else None,
        "avg_price": format_units(average_ticks(executed, moved, spec), price_places),
        "state": order["state"],
        "origin_volume": format_units(order["origin_volume"], amount_places),
        "remaining_volume": format_units(order["volume"], amount_places),
        "executed_volume": format_units(executed, amount_places),
        "at": created,
        "created_at": created,
        "updated_at": seconds(order["updated_at"]),
        "trades_count": order["trades_count"],
        "trigger_price": (
            format_units(order["trigger_price"], price_places) if order["trigger_price"] else None
        ),
        "trigger_condition": order["trigger_condition"] or None,
        "oco_id": order["oco_id"],
    }


def balance(account: dict[str, Any], currency: CurrencySpec) -> dict[str, Any]:
    """Bursa's ``balance`` stream (Peatio has none): the account as the REST API shows it."""
    return {
        "currency": account["currency"],
        "balance": format_units(account["balance"], currency.precision),
        "locked": format_units(account["locked"], currency.precision),
    }


def level(price: int, volume: int, spec: MarketSpec) -> list[str]:
    """A book level; a level that is gone has volume ``""`` (Rango's nil total)."""
    return [
        format_units(price, spec.price_precision),
        format_units(volume, spec.amount_precision) if volume else "",
    ]


def ticker(values: market_data.Ticker) -> dict[str, str]:
    """A market of ``global.tickers``: every value a string, as Peatio's ticker job."""
    return {
        "at": str(values.at),
        "avg_price": decimal_text(values.avg_price),
        "high": decimal_text(values.high),
        "last": decimal_text(values.last),
        "low": decimal_text(values.low),
        "open": decimal_text(values.open),
        "price_change_percent": percent_text(values.price_change_percent),
        "volume": decimal_text(values.volume),
        "amount": decimal_text(values.amount),
    }
