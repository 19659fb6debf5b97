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
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bursa.api.bodies import NoParameters, PositiveAmount, body_of, codes
from bursa.api.deps import EngineView, Runner, Session
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio import present
from bursa.api.peatio.auth import TradingMember
from bursa.api.peatio.market.entry import Entry, order_entry
from bursa.api.peatio.market.rate_limit import OrderEntry
from bursa.api.peatio.params import MAX_TIME, flag, moment, paginate
from bursa.api.peatio.schemas import UserOrder, UserOrderWithTrades, UserTrade
from bursa.api.schemas import Errors
from bursa.engine import errors as engine_errors
from bursa.engine.vocabulary import (
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerCondition,
)
from bursa.errors import BursaError
from bursa.plain_input import PlainInt, is_digits, parse_digits
from bursa.trading import history, orders

router = APIRouter(prefix="/api/v2/peatio/market", tags=["market"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 429, 503)
}

MARKET_NOT_FOUND = orders.MARKET_NOT_FOUND
INVALID_ID = "market.order.invaild_id_or_uuid"  # sic, Peatio's spelling
ORDER_NOT_FOUND = orders.ORDER_NOT_FOUND
CLIENT_ID = r"^[A-Za-z0-9_.:\-]{1,64}$"
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Peatio's states and Bursa's trigger_wait (a trigger order waiting for its price).
State = Literal["pending", "trigger_wait", "wait", "done", "cancel", "reject"]
# Peatio's market types: Bursa's markets are all ``spot``, so ``qe`` selects nothing.
MarketType = Literal["spot", "qe"]
INVALID_MARKET_TYPE = "market.market.invalid_market_type"
MAX_MARKETS = 100  # markets one list may name
_ORDER = "market.order"


def _amount_codes(name: str, **by_type: str) -> dict[str, Any]:
    return codes(
        engine_errors.INVALID_VOLUME_OR_PRICE,
        missing=f"{_ORDER}.missing_{name}",
        non_decimal=f"{_ORDER}.non_decimal_{name}",
        non_positive=f"{_ORDER}.non_positive_{name}",
        **by_type,
    )


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _flag(value: object) -> bool:
    found = flag(value)
    if found is None:
        raise PydanticCustomError("bool_parsing", "must be true or false")
    return found


@dataclass(frozen=True, slots=True)
class OrderContext:
    books: Mapping[str, Any]


class NewOrder(BaseModel):
    """An order to place (Peatio's ``POST market/orders``)."""

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
    ord_type: OrderType = Field(
        default=OrderType.LIMIT, json_schema_extra=codes(f"{_ORDER}.invalid_type")
    )
    price: PositiveAmount | None = Field(
        default=None,
        validate_default=True,
        description="Limit orders only.",
        json_schema_extra=_amount_codes(
            "price", market_order_price=engine_errors.MARKET_ORDER_PRICE
        ),
    )
    time_in_force: Annotated[TimeInForce | None, BeforeValidator(_upper)] = Field(
        default=None,
        description="gtc, ioc or fok; gtc for limit orders and ioc for market orders if none.",
        json_schema_extra=codes(engine_errors.INVALID_TIME_IN_FORCE),
    )
    post_only: Annotated[bool, BeforeValidator(_flag)] = Field(
        default=False, json_schema_extra=codes(engine_errors.INVALID_POST_ONLY)
    )
    client_id: str | None = Field(
        default=None,
        pattern=CLIENT_ID,
        description="Unique among the member's open orders.",
        json_schema_extra=codes(f"{_ORDER}.invalid_client_id"),
    )
    stp: SelfTradePrevention = Field(
        default=SelfTradePrevention.CANCEL_TAKER,
        description="Self-trade prevention.",
        json_schema_extra=codes(engine_errors.INVALID_SELF_TRADE_PREVENTION),
    )
    trigger_price: PositiveAmount | None = Field(
        default=None,
        validate_default=True,
        description="stop_limit and stop_market orders: they wait (state trigger_wait) until "
        "the market's last trade price reaches it.",
        json_schema_extra=_amount_codes(
            "trigger_price", trigger_price_not_allowed=engine_errors.TRIGGER_NOT_ALLOWED
        ),
    )
    trigger_condition: TriggerCondition | None = Field(
        default=None,
        description="above (fires when the last price is at or above the trigger) or below; "
        "by default above for buys, below for sells.",
        json_schema_extra=codes(engine_errors.INVALID_TRIGGER_CONDITION),
    )

    @field_validator("market")
    @classmethod
    def _tradable(cls, market: str, info: ValidationInfo) -> str:
        """Named with the other fields' errors, as Peatio's parameter check did."""
        market = market.lower()
        if isinstance(info.context, OrderContext):
            book = info.context.books.get(market)
            if book is None or not book.spec.tradable:
                raise PydanticCustomError("market", "not a tradable market")
        return market

    @field_validator("price")
    @classmethod
    def _price_by_type(cls, price: Decimal | None, info: ValidationInfo) -> Decimal | None:
        """A limit order needs a price; a market order takes none (stop orders alike)."""
        ord_type = info.data.get("ord_type")
        if ord_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and price is None:
            raise PydanticCustomError("missing", "a limit order needs a price")
        if ord_type in (OrderType.MARKET, OrderType.STOP_MARKET) and price is not None:
            raise PydanticCustomError("market_order_price", "a market order takes no price")
        return price

    @field_validator("trigger_price")
    @classmethod
    def _trigger_by_type(cls, trigger: Decimal | None, info: ValidationInfo) -> Decimal | None:
        """Stop orders need a trigger price; limit and market orders take none."""
        stop = info.data.get("ord_type") in (OrderType.STOP_LIMIT, OrderType.STOP_MARKET)
        if stop and trigger is None:
            raise PydanticCustomError("missing", "a stop order needs a trigger price")
        if not stop and trigger is not None:
            raise PydanticCustomError("trigger_price_not_allowed", "only stop orders trigger")
        return trigger

    def ticket(self) -> orders.OrderTicket:
        return orders.OrderTicket(
            market=self.market,
            side=self.side,
            volume=self.volume,
            ord_type=self.ord_type,
            price=self.price,
            time_in_force=self.time_in_force,
            post_only=self.post_only,
            client_id=self.client_id,
            stp=self.stp,
            trigger_price=self.trigger_price,
            trigger_condition=self.trigger_condition,
        )


class CancelOrders(BaseModel):
    """Which open orders to cancel: all, or those of one market, market type and side."""

    market: str | None = Field(
        default=None, max_length=32, json_schema_extra=codes(MARKET_NOT_FOUND)
    )
    market_type: MarketType = Field(
        default="spot",
        description="Bursa's markets are all spot: qe cancels nothing.",
        json_schema_extra=codes(INVALID_MARKET_TYPE),
    )
    side: Side | None = Field(default=None, json_schema_extra=codes(f"{_ORDER}.invalid_side"))


async def _idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY.pattern,
            json_schema_extra=error_code("market.order.invalid_idempotency_key"),
        ),
    ] = None,
) -> str | None:
    return key


IdempotencyKey = Depends(_idempotency_key)


async def _markets(runner: Runner, _: Annotated[str | None, IdempotencyKey]) -> OrderContext:
    """What a new order's fields are checked against: the engine's markets (after the
    headers, whose errors answer alone)."""
    return OrderContext(runner.engine.books)


def _key_allowed(request: Request) -> bool:
    """The ``Idempotency-Key`` header as FastAPI checks it (``IdempotencyKey``): absent, or
    of the pattern. When it is not, its error answers alone: the body is not read."""
    key = request.headers.get("idempotency-key")
    return key is None or IDEMPOTENCY_KEY.match(key) is not None


def _books(runner: EngineView) -> OrderContext:
    return OrderContext(runner.engine.books)


@router.post("/orders", status_code=201, summary="Place an order", responses=_ERRORS)
async def place_order(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY.pattern,
            json_schema_extra=error_code("market.order.invalid_idempotency_key"),
        ),
    ] = None,
    *,
    entry: Annotated[Entry[NewOrder], order_entry(NewOrder, context=_books, ready=_key_allowed)],
) -> UserOrder:
    """JSON or form parameters (see the body). Unlike Peatio, the answer is the order as
    the engine committed it."""
    member, body = entry.member, entry.body
    assert body is not None  # read unless the header was refused, which answers first
    key = (
        f"api:order:{member.id}:{idempotency_key}"
        if idempotency_key
        else f"api:order:{uuid.uuid4().hex}"
    )
    try:
        placed = await orders.place(entry.runner, entry.reads, member.id, body.ticket(), key)
    except BursaError as exc:
        entry.show_window(exc)
        raise
    return present.order(placed)


def _order_ref(value: str) -> dict[str, Any]:
    """Peatio 3's ``{id}``: a numeric id or a UUID."""
    if is_digits(value) and len(value) <= 18:
        return {"id": parse_digits(value), "uuid_text": None}
    if UUID.match(value):
        return {"id": None, "uuid_text": value.lower()}
    raise ApiError(422, INVALID_ID)


OrderRef = Annotated[str, Path(max_length=36, json_schema_extra=error_code(INVALID_ID))]


@router.get("/orders/{id}", summary="One order, with its trades", responses=_ERRORS)
async def get_order(member: TradingMember, session: Session, id: OrderRef) -> UserOrderWithTrades:
    ref = _order_ref(id)
    row = await history.member_order(session, member.id, id=ref["id"], uuid=ref["uuid_text"])
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
    id: OrderRef, entry: Annotated[Entry[NoParameters], order_entry(NoParameters)]
) -> UserOrder:
    try:
        ref = _order_ref(id)
        cancelled = await orders.cancel(entry.runner, entry.reads, entry.member.id, **ref)
    except BursaError as exc:
        entry.show_window(exc)
        raise
    return present.order(cancelled)


@router.post(
    "/orders/cancel",
    status_code=201,
    summary="Cancel all open orders, optionally of one market and side",
    responses=_ERRORS,
)
async def cancel_all(
    member: TradingMember,
    body: Annotated[CancelOrders, body_of(CancelOrders)],
    _limit: OrderEntry,
    runner: Runner,
    session: Session,
) -> list[UserOrder]:
    if body.market_type != "spot":  # no market of another type: nothing to cancel
        if body.market is not None and not await history.market_exists(
            session, body.market.lower()
        ):
            raise ApiError(422, MARKET_NOT_FOUND)
        return []
    ids = await orders.cancel_all(runner, member.id, body.market, body.side)
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
SideFilter = Annotated[
    Side | None,
    Query(json_schema_extra=error_code("market.order.invalid_side")),
]
MarketFilter = Annotated[
    list[str] | None,
    Query(
        description="One market, or several (the parameter repeated).",
        json_schema_extra=error_code(MARKET_NOT_FOUND),
    ),
]
MarketTypeFilter = Annotated[
    MarketType,
    Query(
        description="Bursa's markets are all spot: qe answers an empty list.",
        json_schema_extra=error_code(INVALID_MARKET_TYPE),
    ),
]
UnitFilter = Annotated[
    str | None, Query(max_length=10, json_schema_extra=error_code(MARKET_NOT_FOUND))
]


def _time(name: str) -> Any:
    return Query(ge=0, le=MAX_TIME, json_schema_extra=error_code(f"market.order.invalid_{name}"))


async def _scope(
    session: Session,
    market: list[str] | None,
    market_type: str,
    base_unit: str | None = None,
    quote_unit: str | None = None,
) -> history.MarketScope:
    """The markets a list covers, each named one checked as Peatio did: an unknown market,
    or a base or quote currency no market has, is ``market.market.doesnt_exist``."""
    named = tuple(dict.fromkeys(m.lower() for m in market or ()))
    if len(named) > MAX_MARKETS or any(len(m) > 20 for m in named):
        raise ApiError(422, MARKET_NOT_FOUND)
    if named and not await history.markets_exist(session, named):
        raise ApiError(422, MARKET_NOT_FOUND)
    units = {"base": base_unit and base_unit.lower(), "quote": quote_unit and quote_unit.lower()}
    for kind, code in units.items():
        if code is not None and not await history.unit_exists(session, code, base=kind == "base"):
            raise ApiError(422, MARKET_NOT_FOUND)
    return history.MarketScope(named, units["base"], units["quote"], market_type)


@router.get("/orders", summary="The member's orders, newest first", responses=_ERRORS)
async def list_orders(
    member: TradingMember,
    session: Session,
    response: Response,
    market: MarketFilter = None,
    market_type: MarketTypeFilter = "spot",
    base_unit: UnitFilter = None,
    quote_unit: UnitFilter = None,
    state: Annotated[
        list[State] | None,
        Query(json_schema_extra=error_code("market.order.invalid_state")),
    ] = None,
    type: SideFilter = None,
    side: SideFilter = None,
    ord_type: Annotated[
        Literal["limit", "market", "stop_limit", "stop_market"] | None,
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
    """``type`` (Peatio's name) and ``side`` both filter on the order's side;
    ``base_unit`` and ``quote_unit`` on the market's currencies."""
    found = await history.member_orders(
        session,
        member.id,
        history.OrderFilter(
            scope=await _scope(session, market, market_type, base_unit, quote_unit),
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
    market_type: MarketTypeFilter = "spot",
    type: SideFilter = None,
    side: SideFilter = None,
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
            scope=await _scope(session, market, market_type),
            side=side or type,
            window=history.Window(moment(time_from), moment(time_to), order_by == "asc"),
        ),
        limit=limit,
        page=page,
    )
    paginate(response, found.total, page, limit)
    return [present.trade(row) for row in found.rows]
