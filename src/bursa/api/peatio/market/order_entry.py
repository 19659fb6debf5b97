"""Order entry for market makers (``/api/v2/peatio/market/orders/…``): one-cancels-the-
other pairs, bulk placement and cancellation, and amending a resting order.

Each answers after the engine's commit, as placing one order does. A bulk request is one
engine command (one commit, one idempotency key), and each of its items is answered on its
own: a bad item is refused alone with its codes, the others go through.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, ValidationError

from bursa.api.bodies import PositiveAmount, body_of, codes
from bursa.api.deps import Reads, Runner
from bursa.api.errors import ApiError, error_code, model_codes
from bursa.api.peatio import present
from bursa.api.peatio.auth import TradingMember
from bursa.api.peatio.market.orders import (
    _ERRORS,
    CLIENT_ID,
    INVALID_ID,
    IdempotencyKey,
    NewOrder,
    OrderContext,
    _amount_codes,
    _markets,
    _order_ref,
)
from bursa.api.peatio.market.rate_limit import Charge, OrderEntry, OrderEntryLimit
from bursa.api.peatio.schemas import UserOrder
from bursa.api.schemas import Errors
from bursa.engine import errors as engine_errors
from bursa.engine.core import MAX_BULK
from bursa.engine.vocabulary import SelfTradePrevention, Side
from bursa.errors import BursaError
from bursa.trading import orders
from bursa.trading.order_view import OrderView

router = APIRouter(prefix="/api/v2/peatio/market", tags=["market"])
_ORDER = "market.order"


def _key(member_id: int, kind: str, idempotency_key: str | None) -> str:
    """The engine's idempotency key: the client's, scoped to the member, or a fresh one."""
    if idempotency_key:
        return f"api:{kind}:{member_id}:{idempotency_key}"
    return f"api:{kind}:{uuid.uuid4().hex}"


class NewOco(BaseModel):
    """A one-cancels-the-other pair: a limit order at ``price`` and a stop order at
    ``trigger_price`` (stop-limit at ``stop_price``, else stop-market), the funds locked
    once. A sell needs ``price`` above ``trigger_price``, a buy below it."""

    market: str = Field(
        max_length=32,
        json_schema_extra=codes(
            engine_errors.MARKET_NOT_AVAILABLE, missing=f"{_ORDER}.missing_market"
        ),
    )
    side: Side = Field(
        json_schema_extra=codes(f"{_ORDER}.invalid_side", missing=f"{_ORDER}.missing_side")
    )
    volume: PositiveAmount = Field(json_schema_extra=_amount_codes("volume"))
    price: PositiveAmount = Field(json_schema_extra=_amount_codes("price"))
    trigger_price: PositiveAmount = Field(json_schema_extra=_amount_codes("trigger_price"))
    stop_price: PositiveAmount | None = Field(
        default=None, json_schema_extra=_amount_codes("stop_price")
    )
    client_id: str | None = Field(
        default=None,
        pattern=CLIENT_ID,
        description="The limit order's.",
        json_schema_extra=codes(f"{_ORDER}.invalid_client_id"),
    )
    stp: SelfTradePrevention = Field(
        default=SelfTradePrevention.CANCEL_TAKER,
        json_schema_extra=codes(engine_errors.INVALID_SELF_TRADE_PREVENTION),
    )

    def ticket(self) -> orders.OcoTicket:
        return orders.OcoTicket(
            market=self.market,
            side=self.side,
            volume=self.volume,
            price=self.price,
            trigger_price=self.trigger_price,
            stop_price=self.stop_price,
            client_id=self.client_id,
            stp=self.stp,
        )


@router.post(
    "/orders/oco",
    status_code=201,
    summary="Place a one-cancels-the-other pair: a limit order and a stop order",
    responses=_ERRORS,
)
async def place_oco(
    member: TradingMember,
    idempotency_key: Annotated[str | None, IdempotencyKey],
    body: Annotated[NewOco, body_of(NewOco)],
    _limit: OrderEntry,
    runner: Runner,
    reads: Reads,
) -> list[UserOrder]:
    """The limit order first, then the stop order; each names the other (``oco_id``)."""
    key = _key(member.id, "oco", idempotency_key)
    placed = await orders.place_oco(runner, reads, member.id, body.ticket(), key)
    return [present.order(o) for o in placed]


class CancelItem(BaseModel):
    id: int | None = Field(default=None, ge=1, le=2**62)
    client_id: str | None = Field(default=None, pattern=CLIENT_ID)


class BulkRequest(BaseModel):
    """Up to 100 orders to place (each as ``POST market/orders`` takes it) and up to 100
    to cancel (``{"id": …}`` or ``{"client_id": …}``); the cancellations apply first."""

    orders: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=MAX_BULK,
        json_schema_extra=codes(engine_errors.TOO_MANY_ORDERS),
    )
    cancel: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=MAX_BULK,
        json_schema_extra=codes(engine_errors.TOO_MANY_ORDERS),
    )


class BulkAnswer(BaseModel):
    """Each item's answer, in request order: the order as committed, or its errors."""

    cancelled: list[UserOrder | Errors]
    orders: list[UserOrder | Errors]


def _errors(exc: BursaError) -> Errors:
    return Errors(errors=list(exc.codes))


def _cancel_ref(item: dict[str, Any]) -> orders.CancelRef | Errors:
    try:
        found = CancelItem.model_validate(item)
    except ValidationError:
        return Errors(errors=[engine_errors.INVALID_BULK_ITEM])
    if (found.id is None) == (found.client_id is None) or set(item) - {"id", "client_id"}:
        return Errors(errors=[engine_errors.INVALID_BULK_ITEM])
    return orders.CancelRef(id=found.id, client_id=found.client_id)


def _ticket(item: dict[str, Any], context: OrderContext) -> orders.OrderTicket | Errors:
    try:
        return NewOrder.model_validate(item, context=context).ticket()
    except ValidationError as exc:
        return Errors(errors=model_codes(NewOrder, exc.errors()))


@router.post(
    "/orders/bulk",
    status_code=201,
    summary="Cancel up to 100 orders and place up to 100, in one commit",
    responses=_ERRORS,
)
async def bulk(
    member: TradingMember,
    idempotency_key: Annotated[str | None, IdempotencyKey],
    body: Annotated[BulkRequest, body_of(BulkRequest, query=False)],
    context: Annotated[OrderContext, Depends(_markets)],
    limit: Annotated[Charge, OrderEntryLimit(cost=0)],
    runner: Runner,
    reads: Reads,
) -> BulkAnswer:
    """A JSON body. Cancellations first, then placements, each answered in its place; the
    request counts as many order-entry requests as it has items."""
    if not body.orders and not body.cancel:
        raise ApiError(422, engine_errors.TOO_MANY_ORDERS)
    await limit.take(len(body.orders) + len(body.cancel))
    refs = [_cancel_ref(item) for item in body.cancel]
    tickets = [_ticket(item, context) for item in body.orders]
    answer = await orders.bulk(
        runner,
        reads,
        member.id,
        [t for t in tickets if not isinstance(t, Errors)],
        [r for r in refs if not isinstance(r, Errors)],
        _key(member.id, "bulk", idempotency_key),
    )
    return BulkAnswer(
        cancelled=_merge(refs, answer.cancelled), orders=_merge(tickets, answer.placed)
    )


def _merge(asked: list[Any], answered: list[OrderView | BursaError]) -> list[UserOrder | Errors]:
    """Answers in request order: the edge's own refusals where they were, the service's
    answers for the rest."""
    given = iter(answered)
    merged: list[UserOrder | Errors] = []
    for item in asked:
        if isinstance(item, Errors):
            merged.append(item)
            continue
        found = next(given)
        merged.append(_errors(found) if isinstance(found, BursaError) else present.order(found))
    return merged


class Amendment(BaseModel):
    """A resting limit order's new price and/or new remaining volume."""

    price: PositiveAmount | None = Field(default=None, json_schema_extra=_amount_codes("price"))
    volume: PositiveAmount | None = Field(default=None, json_schema_extra=_amount_codes("volume"))


@router.post(
    "/orders/{id}/amend",
    status_code=201,
    summary="Change a resting order's price or volume",
    responses=_ERRORS,
)
async def amend(
    member: TradingMember,
    idempotency_key: Annotated[str | None, IdempotencyKey],
    id: Annotated[str, Path(max_length=36, json_schema_extra=error_code(INVALID_ID))],
    body: Annotated[Amendment, body_of(Amendment)],
    _limit: OrderEntry,
    runner: Runner,
    reads: Reads,
) -> UserOrder:
    """Only a smaller volume at the same price keeps the order's id and place in the
    queue; a new price or a larger volume cancels it and places a new order (a new id, the
    same client id) at the back of its price level. The answer is the order as it stands."""
    if body.price is None and body.volume is None:
        raise ApiError(422, engine_errors.AMEND_NOTHING)
    ref = _order_ref(id)
    found = await orders.amend(
        runner,
        reads,
        member.id,
        id=ref["id"],
        uuid_text=ref["uuid_text"],
        client_id=None,
        price=body.price,
        volume=body.volume,
        key=_key(member.id, "amend", idempotency_key),
    )
    return present.order(found)
