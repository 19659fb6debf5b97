"""Peatio's Management API for orders and trades (``.../management``): every member's
orders and trades, and cancelling them through the engine (the admin API's code path:
``peatio_admin_records``, audited under the request's signers)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response

from bursa.api.deps import Runner, Session
from bursa.api.management_auth import scope
from bursa.api.peatio.admin import present, records
from bursa.api.peatio.admin.schemas import AdminOrder, AdminTrade
from bursa.api.peatio.management.common import (
    NOT_FOUND,
    PREFIX,
    TAG,
    Paged,
    Params,
    Uid,
    actor_of,
    as_grape,
    member_of,
    parse,
    refuse,
    route,
)
from bursa.api.peatio.params import paginate
from bursa.identity import directory
from bursa.plain_input import is_digits, parse_digits
from bursa.trading import admin_queries as queries
from bursa.trading.history import market_exists

router = APIRouter(prefix=PREFIX, tags=[TAG])
ReadOrders = Annotated[dict[str, Any], Depends(scope("peatio", "read_orders"))]
WriteOrders = Annotated[dict[str, Any], Depends(scope("peatio", "write_orders"))]
ReadTrades = Annotated[dict[str, Any], Depends(scope("peatio", "read_trades"))]
MarketType = Literal["spot", "qe"]


async def _market(session: Session, symbol: str | None) -> str | None:
    if symbol is None:
        return None
    if len(symbol) > 20 or not await market_exists(session, symbol.lower()):
        raise refuse(422, "market does not have a valid value")
    return symbol.lower()


class OrderList(Paged):
    uid: Uid | None = None
    market: str | None = None
    market_type: MarketType = "spot"
    state: Literal["pending", "wait", "done", "cancel", "reject"] | None = None
    ord_type: Literal["limit", "market"] | None = None


@router.post("/orders", status_code=201, **route("Every member's orders, newest first", OrderList))
async def list_orders(data: ReadOrders, session: Session, response: Response) -> list[AdminOrder]:
    body = parse(OrderList, data)
    member_id = None if body.uid is None else await member_of(session, body.uid)
    found = await queries.all_orders(
        session,
        queries.OrderFilter(
            market=await _market(session, body.market),
            state=body.state,
            ord_type=body.ord_type,
            member_id=member_id,
            nobody=body.market_type == "qe",
            listing=queries.Listing(ascending=False),
        ),
        limit=body.limit,
        page=body.page,
    )
    paginate(response, found.total, body.page, body.limit)
    people = await directory.people(session, (row["member_id"] for row in found.rows))
    return [present.order(row, people) for row in found.rows]


class CancelInMarket(Params):
    market: str
    uid: Uid | None = None
    market_type: MarketType = "spot"


@router.post(
    "/orders/cancel",
    status_code=201,
    **route("Cancel the open orders in a market (of one member)", CancelInMarket),
)
async def cancel_orders(
    data: WriteOrders, session: Session, runner: Runner, request: Request
) -> list[AdminOrder]:
    body = parse(CancelInMarket, data)
    symbol = await _market(session, body.market)
    assert symbol is not None
    member_id = None if body.uid is None else await member_of(session, body.uid)
    if body.market_type == "qe":
        return []
    with as_grape():
        return await records.cancel_in_market(
            actor_of(request), runner, session, symbol, None, member_id
        )


@router.post("/orders/{id}/cancel", status_code=201, **route("Cancel one order"))
async def cancel_order(
    data: WriteOrders,
    session: Session,
    runner: Runner,
    request: Request,
    id: str,
) -> AdminOrder:
    if not is_digits(id) or len(id) > 19 or not 0 < parse_digits(id) < 2**63:
        raise refuse(404, NOT_FOUND)
    with as_grape():
        return await records.cancel_one(actor_of(request), runner, session, parse_digits(id))


class TradeList(Paged):
    uid: Uid | None = None
    market: str | None = None
    market_type: MarketType = "spot"


@router.post("/trades", status_code=201, **route("Every trade, newest first", TradeList))
async def list_trades(data: ReadTrades, session: Session, response: Response) -> list[AdminTrade]:
    body = parse(TradeList, data)
    member_id = None if body.uid is None else await member_of(session, body.uid)
    found = await queries.all_trades(
        session,
        queries.TradeFilter(
            market=await _market(session, body.market),
            member_id=member_id,
            nobody=body.market_type == "qe",
            listing=queries.Listing(ascending=False),
        ),
        limit=body.limit,
        page=body.page,
    )
    paginate(response, found.total, body.page, body.limit)
    ids = [m for row in found.rows for m in (row["maker_id"], row["taker_id"])]
    people = await directory.people(session, ids)
    return [present.trade(row, people) for row in found.rows]
