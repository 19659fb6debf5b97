"""An order as the engine's answer describes it (``bursa.engine.answers``), shaped like the
row ``history.member_order`` reads back from the tables once the batch committed: the same
columns, the same decimal values, so one presenter serves both.

``row`` answers None when the engine's answer lacks what the table would show: a repeated
idempotency key (its stored snapshot has no facts), or an order with trades from earlier
batches (their sums are in the table only) when no average is given.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Context, Decimal
from typing import Any

from bursa.engine.rows import to_datetime
from bursa.trading.order_view import OrderView

# Exact enough for any average: PostgreSQL divides to at least 16 decimals and the
# presenter then rounds down to the market's precision.
_DIVISION = Context(prec=60)


def _units(units: int, places: int) -> Decimal:
    return Decimal(units).scaleb(-places)


def average_price(order: Mapping[str, Any]) -> Decimal | None:
    """``sum(trades.total) / sum(trades.amount)`` as the table read computes it; None
    before any trade."""
    volume = order["traded_volume"]
    if not volume:
        return None
    total = _units(order["traded_total"], order["quote_precision"])
    return _DIVISION.divide(total, _units(volume, order["amount_precision"]))


def row(
    order: Mapping[str, Any], uuid: str, avg_price: Decimal | None = None
) -> dict[str, Any] | None:
    """The table row of an answered order (``avg_price`` known from elsewhere when the
    order's trades are not all in the answer), or None when the answer is not enough."""
    if "created_at" not in order:
        return None
    if "traded_volume" in order:
        avg_price = average_price(order)
    elif order["trades_count"] and avg_price is None:
        return None
    amount_places = order["amount_precision"]
    created_at: datetime = to_datetime(order["created_at"])
    return {
        "id": order["id"],
        "uuid": uuid,
        "market_id": order["market"],
        "side": order["side"],
        "ord_type": order["ord_type"],
        "time_in_force": order["time_in_force"],
        "post_only": order["post_only"],
        "client_id": order["client_id"],
        "price": _units(order["price"], order["price_precision"]) if order["price"] else None,
        "origin_volume": _units(order["origin_volume"], amount_places),
        "volume": _units(order["volume"], amount_places),
        "maker_fee": _units(order["maker_fee"], 6),
        "taker_fee": _units(order["taker_fee"], 6),
        "state": order["state"],
        "trades_count": order["trades_count"],
        "created_at": created_at,
        "updated_at": to_datetime(order["updated_at"]),
        "price_precision": order["price_precision"],
        "avg_price": avg_price,
        "trigger_price": (
            _units(order["trigger_price"], order["price_precision"])
            if order.get("trigger_price")
            else None
        ),
        "trigger_condition": order.get("trigger_condition") or None,
        "oco_id": order.get("oco_id"),
    }


def view(order: Mapping[str, Any], uuid: str, avg_price: Decimal | None = None) -> OrderView | None:
    """``row`` as an ``OrderView``, or None when the answer is not enough."""
    found = row(order, uuid, avg_price)
    return None if found is None else OrderView.of(found)
