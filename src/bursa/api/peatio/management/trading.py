"""Peatio's Management API for orders and trades (``.../management``): every member's
orders and trades, and cancelling them through the engine as staff do, audited under the
request's signers. Services: ``bursa.custody.management_records``,
``bursa.trading.admin_orders``."""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner, Session, Transaction
from bursa.api.peatio.admin import present
from bursa.api.peatio.admin.schemas import AdminOrder, AdminTrade
from bursa.api.peatio.management.common import (
    Nothing,
    Paged,
    Params,
    Uid,
    actor_of,
    peatio_router,
    signed,
)
from bursa.api.peatio.params import paginate
from bursa.custody import management_records
from bursa.custody.management_records import RecordsAsk
from bursa.errors import BursaError, Refusal
from bursa.identity import directory
from bursa.plain_input import is_digits, parse_digits
from bursa.trading import admin_orders
from bursa.trading.admin_orders import Show

router = peatio_router()
MarketType = Literal["spot", "qe"]
MOST_ORDER_ID = 2**63 - 1


class OrderList(Paged):
    uid: Uid | None = None
    market: str | None = None
    market_type: MarketType = "spot"
    state: Literal["pending", "trigger_wait", "wait", "done", "cancel", "reject"] | None = None
    ord_type: Literal["limit", "market", "stop_limit", "stop_market"] | None = None


@router.post("/orders", status_code=201, summary="Every member's orders, newest first")
async def list_orders(
    body: Annotated[OrderList, signed("read_orders", OrderList)],
    session: Session,
    response: Response,
) -> list[AdminOrder]:
    ask = RecordsAsk(
        uid=body.uid,
        market=body.market,
        spot=body.market_type == "spot",
        state=body.state,
        ord_type=body.ord_type,
    )
    found = await management_records.orders(session, ask, limit=body.limit, page=body.page)
    paginate(response, found.total, body.page, body.limit)
    return [present.order(row, found.people) for row in found.rows]


class CancelInMarket(Params):
    market: str
    uid: Uid | None = None
    market_type: MarketType = "spot"


def _shown(session: AsyncSession) -> Show[AdminOrder]:
    """Orders as the admin API answers them (and the audit log keeps them)."""

    async def show(rows: Sequence[Any]) -> list[AdminOrder]:
        people = await directory.people(session, (row["member_id"] for row in rows))
        return [present.order(row, people) for row in rows]

    return show


@router.post(
    "/orders/cancel",
    status_code=201,
    summary="Cancel the open orders in a market (of one member)",
)
async def cancel_orders(
    body: Annotated[CancelInMarket, signed("write_orders", CancelInMarket)],
    session: Transaction,
    runner: Runner,
    request: Request,
) -> list[AdminOrder]:
    ask = RecordsAsk(uid=body.uid, market=body.market, spot=body.market_type == "spot")
    return await management_records.cancel_orders(
        session, runner, actor_of(request), ask, _shown(session)
    )


@router.post("/orders/{id}/cancel", status_code=201, summary="Cancel one order")
async def cancel_order(
    _: Annotated[Nothing, signed("write_orders", Nothing)],
    session: Transaction,
    runner: Runner,
    request: Request,
    id: str,
) -> AdminOrder:
    if not is_digits(id) or len(id) > 19 or not 0 < parse_digits(id) <= MOST_ORDER_ID:
        raise BursaError(Refusal.NOT_FOUND, management_records.NOT_FOUND)
    return await admin_orders.cancel_order(
        session, runner, actor_of(request), parse_digits(id), _shown(session)
    )


class TradeList(Paged):
    uid: Uid | None = None
    market: str | None = None
    market_type: MarketType = "spot"


@router.post("/trades", status_code=201, summary="Every trade, newest first")
async def list_trades(
    body: Annotated[TradeList, signed("read_trades", TradeList)],
    session: Session,
    response: Response,
) -> list[AdminTrade]:
    ask = RecordsAsk(uid=body.uid, market=body.market, spot=body.market_type == "spot")
    found = await management_records.trades(session, ask, limit=body.limit, page=body.page)
    paginate(response, found.total, body.page, body.limit)
    return [present.trade(row, found.people) for row in found.rows]
