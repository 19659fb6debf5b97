"""The Peatio admin API's trading records (``/api/v2/peatio/admin``): the caller's
abilities, every member's orders (and cancelling them), trades, and Bursa's audit log of
admin changes.

Cancels go through the engine like a member's (``bursa.trading.admin_orders``), and each
cancelled order leaves an audit entry (``order.cancel``) written after the engine
committed, with the order as it was and as the engine left it. ``POST /orders/cancel``
answers the orders it cancelled (Peatio answered an empty 201).
"""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.authz import authorized
from bursa.api.bodies import body_of, codes
from bursa.api.deps import Runner, Session, Transaction, client_of
from bursa.api.errors import NOT_FOUND, ApiError, error_code
from bursa.api.peatio.admin import present
from bursa.api.peatio.admin.auth import ABILITIES, NOT_PERMITTED, PREFIX, admin_gate
from bursa.api.peatio.admin.fields import AdminBody
from bursa.api.peatio.admin.lists import (
    AdminList,
    Email,
    MarketId,
    MarketType,
    Uid,
    amount_filter,
    market_of,
    member_filter,
    sort_by,
)
from bursa.api.peatio.admin.schemas import (
    Abilities,
    AdminOrder,
    AdminTrade,
    AdminTradeWithOrders,
    AuditEntry,
)
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Errors
from bursa.engine.vocabulary import Side
from bursa.identity import directory
from bursa.plain_input import PlainInt
from bursa.trading import admin_orders, audit
from bursa.trading import admin_queries as queries
from bursa.trading.admin_orders import MARKET_NOT_FOUND
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
MOST_ID = 2**63 - 1

List = Annotated[AdminList, Depends()]
OrderReader = Annotated[Actor, Depends(admin_gate("read", "Order"))]
OrderManager = Annotated[Actor, Depends(admin_gate("manage", "Order"))]
TradeReader = Annotated[Actor, Depends(admin_gate("read", "Trade"))]
AuditReader = Annotated[Actor, Depends(admin_gate("read", "AuditLog"))]


async def _staff(request: Request, user: Annotated[dict[str, Any], Depends(authorized)]) -> Actor:
    """Any active staff member (a role with abilities)."""
    role = str(user["role"])
    if user.get("state") != "active" or role not in ABILITIES:
        raise ApiError(403, NOT_PERMITTED)
    return Actor(uid=str(user["uid"]), role=role, ip=client_of(request).ip)


@router.get("/abilities", summary="What the caller's role may read and change")
async def abilities(actor: Annotated[Actor, Depends(_staff)]) -> Abilities:
    readable, changeable = ABILITIES[actor.role]
    return Abilities(read=sorted(readable | changeable), manage=sorted(changeable))


# ---------------------------------------------------------------------- orders


async def _orders(session: Session, rows: list[Any]) -> list[AdminOrder]:
    people = await directory.people(session, (row["member_id"] for row in rows))
    return [present.order(row, people) for row in rows]


@router.get("/orders", summary="Every member's orders", responses=_ERRORS)
async def list_orders(
    _: OrderReader,
    session: Session,
    response: Response,
    params: List,
    market: MarketId = None,
    market_type: MarketType = None,
    state: Annotated[
        Literal["pending", "trigger_wait", "wait", "done", "cancel", "reject"] | None,
        Query(json_schema_extra=error_code("admin.order.invalid_state")),
    ] = None,
    ord_type: Annotated[
        Literal["limit", "market", "stop_limit", "stop_market"] | None,
        Query(json_schema_extra=error_code("admin.order.invalid_ord_type")),
    ] = None,
    price: Annotated[
        str | None,
        Query(max_length=64, json_schema_extra=error_code("admin.order.non_decimal_price")),
    ] = None,
    origin_volume: Annotated[
        str | None,
        Query(max_length=64, json_schema_extra=error_code("admin.order.non_decimal_origin_volume")),
    ] = None,
    type: Annotated[
        Literal["buy", "sell"] | None,
        Query(json_schema_extra=error_code("admin.order.invalid_type")),
    ] = None,
    email: Email = None,
    uid: Uid = None,
    order_by: Annotated[
        Literal["id", "created_at", "updated_at", "price", "origin_volume"],
        sort_by("id", "created_at", "updated_at", "price", "origin_volume"),
    ] = "id",
) -> list[AdminOrder]:
    """``type`` is the order's side. Bursa's orders are ``trigger_wait`` (a trigger order
    waiting for its price), ``wait``, ``done`` or ``cancel``; every order is of market type
    ``spot``."""
    member_id, nobody = await member_filter(session, uid, email)
    found = await queries.all_orders(
        session,
        queries.OrderFilter(
            market=await market_of(session, market),
            state=state,
            ord_type=ord_type,
            side=type,
            price=amount_filter(price, "order", "price"),
            origin_volume=amount_filter(origin_volume, "order", "origin_volume"),
            member_id=member_id,
            nobody=nobody or market_type == "qe",
            listing=params.listing(order_by),
        ),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    return await _orders(session, list(found.rows))


OrderId = Annotated[
    PlainInt,
    Path(ge=1, le=MOST_ID, json_schema_extra=error_code("admin.order.non_integer_id")),
]


class NoParameters(AdminBody):
    """A write that takes no parameters."""


class MarketCancel(AdminBody):
    """``orders/cancel``: the market's open orders, of one ``side`` if given."""

    market: Annotated[str, Field(max_length=20)] = Field(
        json_schema_extra=codes(MARKET_NOT_FOUND, missing="admin.order.missing_market")
    )
    side: Side | None = Field(default=None, json_schema_extra=codes("admin.order.invalid_side"))


def _show(session: AsyncSession) -> admin_orders.Show[AdminOrder]:
    """Orders as the admin API answers them (and the audit log keeps them)."""

    async def show(rows: Sequence[Any]) -> list[AdminOrder]:
        return await _orders(session, list(rows))

    return show


@router.post(
    "/orders/{id}/cancel", status_code=201, summary="Cancel a member's order", responses=_ERRORS
)
async def cancel_order(
    actor: OrderManager,
    runner: Runner,
    session: Transaction,
    id: OrderId,
    _: Annotated[NoParameters, body_of(NoParameters)],
) -> AdminOrder:
    return await admin_orders.cancel_order(session, runner, actor, id, _show(session))


@router.post(
    "/orders/cancel",
    status_code=201,
    summary="Cancel every member's open orders in a market (optionally of one side)",
    responses=_ERRORS,
)
async def cancel_all(
    actor: OrderManager,
    body: Annotated[MarketCancel, body_of(MarketCancel)],
    runner: Runner,
    session: Transaction,
) -> list[AdminOrder]:
    """Answers the orders it cancelled, as the engine left them."""
    return await admin_orders.cancel_in_market(
        session, runner, actor, body.market, _show(session), side=body.side
    )


# ---------------------------------------------------------------------- trades


@router.get("/trades", summary="Every trade", responses=_ERRORS)
async def list_trades(
    _: TradeReader,
    session: Session,
    response: Response,
    params: List,
    market: MarketId = None,
    market_type: MarketType = None,
    order_id: Annotated[
        PlainInt | None,
        Query(ge=1, le=MOST_ID, json_schema_extra=error_code("admin.trade.non_integer_order_id")),
    ] = None,
    uid: Uid = None,
    order_by: Annotated[
        Literal["id", "created_at", "price", "amount", "total"],
        sort_by("id", "created_at", "price", "amount", "total"),
    ] = "id",
) -> list[AdminTrade]:
    """``uid``: trades where that member was maker or taker. ``range`` ``updated`` reads as
    ``created`` (a trade never changes)."""
    member_id, _nobody = await member_filter(session, uid)
    found = await queries.all_trades(
        session,
        queries.TradeFilter(
            market=await market_of(session, market),
            order_id=order_id,
            member_id=member_id,
            nobody=market_type == "qe",
            listing=params.listing(order_by),
        ),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    people = await directory.people(
        session, [m for row in found.rows for m in (row["maker_id"], row["taker_id"])]
    )
    return [present.trade(row, people) for row in found.rows]


@router.get("/trades/{id}", summary="One trade, with both orders", responses=_ERRORS)
async def get_trade(
    _: TradeReader,
    session: Session,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code("admin.trade.non_integer_id"))
    ],
) -> AdminTradeWithOrders:
    row = await queries.trade(session, id)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    orders = {
        o["id"]: o
        for o in await queries.orders_by_id(session, [row["maker_order_id"], row["taker_order_id"]])
    }
    people = await directory.people(session, [row["maker_id"], row["taker_id"]])
    return AdminTradeWithOrders(
        **present.trade(row, people).model_dump(),
        maker_order=present.order(orders[row["maker_order_id"]], people),
        taker_order=present.order(orders[row["taker_order_id"]], people),
    )


# ---------------------------------------------------------------------- audit log


def _text(most: int, name: str) -> Any:
    return Query(max_length=most, json_schema_extra=error_code(f"admin.audit.invalid_{name}"))


@router.get("/audit", summary="Changes made through the admin API, newest first", responses=_ERRORS)
async def audit_log(
    _: AuditReader,
    session: Session,
    response: Response,
    actor_uid: Annotated[str | None, _text(32, "actor_uid")] = None,
    target_type: Annotated[str | None, _text(24, "target_type")] = None,
    target_id: Annotated[str | None, _text(64, "target_id")] = None,
    action: Annotated[str | None, _text(48, "action")] = None,
    limit: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=1000,
            json_schema_extra=error_code(
                "admin.pagination.invalid_limit", non_integer="admin.pagination.non_integer_limit"
            ),
        ),
    ] = 100,
    page: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=1_000_000,
            json_schema_extra=error_code(
                "admin.pagination.invalid_page", non_integer="admin.pagination.non_integer_page"
            ),
        ),
    ] = 1,
) -> list[AuditEntry]:
    """Bursa's addition: ``target_type`` is the record (``Order``, ``Adjustment``, …),
    ``action`` what was done to it (``order.cancel``, ``adjustment.accept``, …)."""
    found = await audit.entries(
        session,
        actor_uid=actor_uid,
        target_type=target_type,
        target_id=target_id,
        action=action,
        limit=limit,
        page=page,
    )
    paginate(response, found.total, page, limit)
    return [present.audit_entry(row) for row in found.rows]
