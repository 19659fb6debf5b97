"""The member's trading (``/api/v2/peatio/market``): place, list, show and cancel orders,
and the member's own trades.

Unlike Peatio, which answered an order in state ``pending`` before matching, placing or
cancelling answers the order as the engine committed it: ``wait`` (resting), ``done``
(filled) or ``cancel``. Amounts are converted to the engine's integers here and refused
when they have more decimals than the market allows; nothing is rounded.

Retries: a request with an ``Idempotency-Key`` header is applied once; repeating the key
(within the engine's idempotency window) answers the first order, whatever the body.
"""

import re
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response

from bursa.api.deps import Reads, Runner, Session
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio import present
from bursa.api.peatio.auth import Member, TradingMember
from bursa.api.peatio.params import (
    MAX_TIME,
    flag,
    moment,
    paginate,
    positive_decimal,
    read_body,
)
from bursa.api.peatio.schemas import UserOrder, UserOrderWithTrades, UserTrade
from bursa.api.schemas import Errors
from bursa.engine import errors as engine_errors
from bursa.engine.commands import (
    BUY,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STP_MODES,
    CancelAll,
    CancelOrder,
    Command,
    PlaceOrder,
)
from bursa.engine.order_uuids import order_uuid
from bursa.engine.runner import EngineStopped
from bursa.engine.specs import MarketSpec
from bursa.engine.units import OverPrecise, to_units
from bursa.plain_input import PlainInt, is_digits, parse_digits
from bursa.trading import committed, history

router = APIRouter(prefix="/api/v2/peatio/market", tags=["market"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}

MARKET_NOT_AVAILABLE = engine_errors.MARKET_NOT_AVAILABLE
MARKET_NOT_FOUND = "market.market.doesnt_exist"
INVALID_VOLUME_OR_PRICE = engine_errors.INVALID_VOLUME_OR_PRICE
INVALID_ID = "market.order.invaild_id_or_uuid"  # sic, Peatio's spelling
ORDER_NOT_FOUND = engine_errors.ORDER_NOT_FOUND  # unknown, or another member's
CANCEL_ERROR = "market.order.cancel_error"
ENGINE_UNAVAILABLE = "server.engine_unavailable"
MOST_DIGITS = 30  # a bound on the integer part of amounts, far beyond any real one
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TIME_IN_FORCE = {"gtc": GTC, "ioc": IOC, "fok": FOK}
# Peatio's states; Bursa's orders are only ever wait, done or cancel.
State = Literal["pending", "wait", "done", "cancel", "reject"]


async def submit(runner: Runner, command: Command, *, facts: bool = False) -> dict[str, Any]:
    """The engine's committed result; 503 when the engine is not running."""
    try:
        return await runner.submit(command, facts=facts)
    except EngineStopped as exc:
        raise ApiError(503, ENGINE_UNAVAILABLE) from exc


def _units(number: Decimal, places: int) -> int | None:
    """``number`` in units of ``10**-places``; None when over-precise or absurdly large."""
    if number.adjusted() >= MOST_DIGITS:
        return None
    try:
        return to_units(number, places)
    except OverPrecise:
        return None


def _order_command(body: dict[str, Any], member: Member, runner: Runner, key: str) -> PlaceOrder:
    """The engine command for a placement request, or every Peatio code it breaks."""
    problems: list[str] = []
    spec: MarketSpec | None = None
    market = body.get("market")
    if market is None:
        problems.append("market.order.missing_market")
    else:
        book = runner.engine.books.get(str(market).lower()) if isinstance(market, str) else None
        if book is None or not book.spec.tradable:
            problems.append(MARKET_NOT_AVAILABLE)
        else:
            spec = book.spec
    side = body.get("side")
    if side is None:
        problems.append("market.order.missing_side")
    elif side not in (BUY, SELL):
        problems.append("market.order.invalid_side")
    volume_units = 0
    volume = body.get("volume")
    if volume is None:
        problems.append("market.order.missing_volume")
    else:
        number = positive_decimal(volume)
        if isinstance(number, str):
            problems.append(f"market.order.{number}_volume")
        elif spec is not None:
            converted = _units(number, spec.amount_precision)
            if converted is None:
                problems.append(INVALID_VOLUME_OR_PRICE)
            else:
                volume_units = converted
    ord_type = body.get("ord_type", LIMIT)
    if ord_type not in (LIMIT, MARKET):
        problems.append("market.order.invalid_type")
    price_units = 0
    price = body.get("price")
    if ord_type == MARKET and price is not None:
        problems.append(engine_errors.MARKET_ORDER_PRICE)
    elif ord_type == LIMIT and price is None:
        problems.append("market.order.missing_price")
    elif ord_type == LIMIT:
        number = positive_decimal(price)
        if isinstance(number, str):
            problems.append(f"market.order.{number}_price")
        elif spec is not None:
            converted = _units(number, spec.price_precision)
            if converted is None:
                if INVALID_VOLUME_OR_PRICE not in problems:
                    problems.append(INVALID_VOLUME_OR_PRICE)
            else:
                price_units = converted
    tif = body.get("time_in_force")
    if tif is not None and (not isinstance(tif, str) or tif.lower() not in TIME_IN_FORCE):
        problems.append(engine_errors.INVALID_TIME_IN_FORCE)
    post_only = flag(body.get("post_only", False))
    if post_only is None:
        problems.append(engine_errors.INVALID_POST_ONLY)
    client_id = body.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or not CLIENT_ID.match(client_id)):
        problems.append("market.order.invalid_client_id")
    stp = body.get("stp", STP_MODES[0])
    if stp not in STP_MODES:
        problems.append(engine_errors.INVALID_SELF_TRADE_PREVENTION)
    if problems or spec is None:
        raise ApiError(422, *problems)
    return PlaceOrder(
        key=key,
        member_id=member.id,
        market=spec.id,
        side=str(side),
        volume=volume_units,
        price=price_units,
        ord_type=str(ord_type),
        time_in_force=TIME_IN_FORCE[tif.lower()] if isinstance(tif, str) else "",
        post_only=bool(post_only),
        client_id=client_id,
        stp=str(stp),
    )


async def _order(reads: Reads, member: Member, order_id: int) -> UserOrder:
    row = await history.committed_order(reads, member.id, id=order_id)
    if row is None:  # committed by the engine, so it is there; never another member's
        raise ApiError(404, ORDER_NOT_FOUND)
    return present.order(row)


async def _answer(
    reads: Reads, member: Member, order: dict[str, Any], known: Any | None = None
) -> UserOrder:
    """The order as the engine answered it after the commit; read back from the tables
    only when the answer is not enough (``bursa.trading.committed``). ``known`` is the
    order's row read before a cancellation: its UUID, and its average while no trade
    came since."""
    uuid, average = order_uuid(order["id"]), None
    if known is not None:
        uuid = str(known["uuid"])
        if known["trades_count"] == order["trades_count"]:
            average = known["avg_price"]
    row = committed.row(order, uuid, average)
    if row is None:
        return await _order(reads, member, int(order["id"]))
    return present.order(row)


@router.post("/orders", status_code=201, summary="Place an order", responses=_ERRORS)
async def place_order(
    member: TradingMember,
    request: Request,
    runner: Runner,
    reads: Reads,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY.pattern,
            json_schema_extra=error_code("market.order.invalid_idempotency_key"),
        ),
    ] = None,
) -> UserOrder:
    """JSON or form parameters: ``market``, ``side`` (buy, sell), ``volume``, ``ord_type``
    (limit, market; default limit), ``price`` (limit orders only), ``time_in_force`` (gtc,
    ioc, fok; default gtc for limit, ioc for market), ``post_only``, ``client_id`` (unique
    among the member's open orders) and ``stp`` (self-trade prevention: cancel_taker,
    cancel_maker, cancel_both)."""
    body = await read_body(request)
    key = (
        f"api:order:{member.id}:{idempotency_key}"
        if idempotency_key
        else f"api:order:{uuid.uuid4().hex}"
    )
    result = await submit(runner, _order_command(body, member, runner, key), facts=True)
    if result["error"] is not None:
        raise ApiError(422, result["error"])
    return await _answer(reads, member, result["order"])


def _order_ref(value: str) -> dict[str, Any]:
    """Peatio 3's ``{id}``: a numeric id or a UUID."""
    if is_digits(value) and len(value) <= 18:
        return {"id": parse_digits(value)}
    if UUID.match(value):
        return {"uuid": value.lower()}
    raise ApiError(422, INVALID_ID)


OrderRef = Annotated[str, Path(max_length=36, json_schema_extra=error_code(INVALID_ID))]


@router.get("/orders/{id}", summary="One order, with its trades", responses=_ERRORS)
async def get_order(member: TradingMember, session: Session, id: OrderRef) -> UserOrderWithTrades:
    row = await history.member_order(session, member.id, **_order_ref(id))
    if row is None:
        raise ApiError(404, ORDER_NOT_FOUND)
    found = await history.member_trades(
        session,
        member.id,
        history.TradeFilter(order_id=row["id"], window=history.Window(ascending=True)),
        limit=10_000,
        page=1,
    )
    return UserOrderWithTrades(
        **present.order(row).model_dump(), trades=[present.trade(t) for t in found.rows]
    )


@router.post("/orders/{id}/cancel", status_code=201, summary="Cancel an order", responses=_ERRORS)
async def cancel_order(
    member: TradingMember, runner: Runner, reads: Reads, id: OrderRef
) -> UserOrder:
    row = await history.committed_order(reads, member.id, **_order_ref(id))
    if row is None:
        raise ApiError(404, ORDER_NOT_FOUND)
    command = CancelOrder(
        key=f"api:cancel:{uuid.uuid4().hex}", member_id=member.id, order_id=int(row["id"])
    )
    result = await submit(runner, command, facts=True)
    if result["error"] is not None:  # no longer open: filled or cancelled already
        raise ApiError(422, CANCEL_ERROR)
    return await _answer(reads, member, result["order"], row)


@router.post(
    "/orders/cancel",
    status_code=201,
    summary="Cancel all open orders, optionally of one market and side",
    responses=_ERRORS,
)
async def cancel_all(
    member: TradingMember, request: Request, runner: Runner, session: Session
) -> list[UserOrder]:
    body = await read_body(request)
    market, side = body.get("market"), body.get("side")
    problems = []
    if market is not None and (
        not isinstance(market, str) or market.lower() not in runner.engine.books
    ):
        problems.append(MARKET_NOT_FOUND)
    if side is not None and side not in (BUY, SELL):
        problems.append("market.order.invalid_side")
    if problems:
        raise ApiError(422, *problems)
    command = CancelAll(
        key=f"api:cancel_all:{uuid.uuid4().hex}",
        member_id=member.id,
        market=market.lower() if isinstance(market, str) else None,
        side=side,
    )
    result = await submit(runner, command)
    if result["error"] is not None:
        raise ApiError(422, result["error"])
    ids = [int(order["id"]) for order in result["orders"]]
    return [present.order(row) for row in await history.orders_by_id(session, member.id, ids)]


# ---------------------------------------------------------------------- lists

Limit = Annotated[
    PlainInt, Query(ge=1, le=1000, json_schema_extra=error_code("market.order.invalid_limit"))
]
PageNumber = Annotated[
    PlainInt, Query(ge=1, json_schema_extra=error_code("market.order.non_positive_page"))
]
OrderBy = Annotated[
    Literal["asc", "desc"], Query(json_schema_extra=error_code("market.order.invalid_order_by"))
]
Side = Annotated[
    Literal["buy", "sell"] | None,
    Query(json_schema_extra=error_code("market.order.invalid_side")),
]
MarketFilter = Annotated[
    str | None, Query(max_length=20, json_schema_extra=error_code(MARKET_NOT_FOUND))
]


def _time(name: str) -> Any:
    return Query(ge=0, le=MAX_TIME, json_schema_extra=error_code(f"market.order.invalid_{name}"))


async def _market(session: Session, market: str | None) -> str | None:
    if market is None:
        return None
    market = market.lower()
    if not await history.market_exists(session, market):
        raise ApiError(422, MARKET_NOT_FOUND)
    return market


@router.get("/orders", summary="The member's orders, newest first", responses=_ERRORS)
async def list_orders(
    member: TradingMember,
    session: Session,
    response: Response,
    market: MarketFilter = None,
    state: Annotated[
        list[State] | None,
        Query(json_schema_extra=error_code("market.order.invalid_state")),
    ] = None,
    type: Side = None,
    side: Side = None,
    ord_type: Annotated[
        Literal["limit", "market"] | None,
        Query(json_schema_extra=error_code("market.order.invalid_ord_type")),
    ] = None,
    client_id: Annotated[
        str | None,
        Query(max_length=64, json_schema_extra=error_code("market.order.invalid_client_id")),
    ] = None,
    time_from: Annotated[PlainInt | None, _time("time_from")] = None,
    time_to: Annotated[PlainInt | None, _time("time_to")] = None,
    order_by: OrderBy = "desc",
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[UserOrder]:
    """``type`` (Peatio's name) and ``side`` both filter on the order's side."""
    found = await history.member_orders(
        session,
        member.id,
        history.OrderFilter(
            market=await _market(session, market),
            states=tuple(state or ()),
            side=side or type,
            ord_type=ord_type,
            client_id=client_id,
            window=history.Window(moment(time_from), moment(time_to), order_by == "asc"),
        ),
        limit=limit,
        page=page,
    )
    paginate(response, found.total, page, limit)
    return [present.order(row) for row in found.rows]


@router.get("/trades", summary="The member's trades, newest first", responses=_ERRORS)
async def list_trades(
    member: TradingMember,
    session: Session,
    response: Response,
    market: MarketFilter = None,
    type: Side = None,
    side: Side = None,
    time_from: Annotated[PlainInt | None, _time("time_from")] = None,
    time_to: Annotated[PlainInt | None, _time("time_to")] = None,
    order_by: OrderBy = "desc",
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[UserTrade]:
    """``type`` (Peatio's name) and ``side`` both filter on the member's side."""
    found = await history.member_trades(
        session,
        member.id,
        history.TradeFilter(
            market=await _market(session, market),
            side=side or type,
            window=history.Window(moment(time_from), moment(time_to), order_by == "asc"),
        ),
        limit=limit,
        page=page,
    )
    paginate(response, found.total, page, limit)
    return [present.trade(row) for row in found.rows]
