"""``OrderView``: a member's order as services hand it to presenters — one shape whether it
came from the engine's committed answer (``bursa.trading.committed``) or from the tables
(``bursa.trading.history``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bursa.engine.vocabulary import OrderState, OrderType, Side, TimeInForce


@dataclass(frozen=True, slots=True)
class OrderView:
    id: int
    uuid: str
    market_id: str
    side: Side
    ord_type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    client_id: str | None
    price: Decimal | None  # None for market orders
    origin_volume: Decimal
    volume: Decimal  # what remains
    maker_fee: Decimal
    taker_fee: Decimal
    state: OrderState
    trades_count: int
    created_at: datetime
    updated_at: datetime
    price_precision: int
    avg_price: Decimal | None  # None before any trade
    trigger_price: Decimal | None = None  # trigger orders only
    trigger_condition: str | None = None  # "above" or "below"
    oco_id: int | None = None  # the other order of a one-cancels-the-other pair

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "OrderView":
        """The view of an order row (``history``'s columns)."""
        return cls(
            id=int(row["id"]),
            uuid=str(row["uuid"]),
            market_id=row["market_id"],
            side=Side(row["side"]),
            ord_type=OrderType(row["ord_type"]),
            time_in_force=TimeInForce(row["time_in_force"]),
            post_only=bool(row["post_only"]),
            client_id=row["client_id"],
            price=row["price"],
            origin_volume=row["origin_volume"],
            volume=row["volume"],
            maker_fee=row["maker_fee"],
            taker_fee=row["taker_fee"],
            state=OrderState(row["state"]),
            trades_count=int(row["trades_count"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            price_precision=int(row["price_precision"]),
            avg_price=row["avg_price"],
            trigger_price=row.get("trigger_price"),
            trigger_condition=row.get("trigger_condition"),
            oco_id=row.get("oco_id"),
        )
