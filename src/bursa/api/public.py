"""Public endpoints (``/api/v2/peatio/public``): health, time, currencies, markets,
order books, depth and recent trades. No authentication; nothing here changes state."""

import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import text

from bursa.api import present
from bursa.api.deps import Runner, Session
from bursa.api.errors import ApiError, error_code
from bursa.api.schemas import Currency, Depth, Errors, Market, OrderBook, PublicTrade
from bursa.engine.state import Book
from bursa.trading import repository

MARKET_NOT_FOUND = "public.market.doesnt_exist"
CURRENCY_NOT_FOUND = "public.currency.doesnt_exist"

router = APIRouter(prefix="/api/v2/peatio/public", tags=["public"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Errors}, 422: {"model": Errors}}

MarketId = Annotated[
    str,
    Path(pattern=r"^[\w.\-]+$", max_length=20, json_schema_extra=error_code(MARKET_NOT_FOUND)),
]
Limit = Annotated[
    int,
    Query(ge=1, le=1000, json_schema_extra=error_code("public.pagination.invalid_limit")),
]
PageNumber = Annotated[
    int,
    Query(ge=1, json_schema_extra=error_code("public.pagination.invalid_page")),
]


def _paginate(response: Response, total: int, page: int, limit: int) -> None:
    response.headers["Total"] = str(total)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)


def _book(runner: Runner, market: str) -> Book:
    book = runner.engine.books.get(market.lower())
    if book is None or not book.spec.tradable:
        raise ApiError(404, MARKET_NOT_FOUND)
    return book


@router.get("/health/alive", summary="The process is up", response_class=Response)
async def alive() -> Response:
    return Response(status_code=200)


@router.get(
    "/health/ready",
    summary="The database answers and the engine runs",
    response_class=Response,
    responses={503: {"description": "not ready"}},
)
async def ready(runner: Runner, session: Session) -> Response:
    try:
        await session.execute(text("SELECT 1"))
    except Exception:
        return Response(status_code=503)
    return Response(status_code=200 if runner.running else 503)


@router.get("/timestamp", summary="Server time, ISO-8601")
async def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@router.get("/currencies", summary="Listed currencies", responses=_NOT_FOUND)
async def currencies(
    session: Session,
    response: Response,
    type: Annotated[
        Literal["coin", "fiat"] | None,
        Query(json_schema_extra=error_code("public.currency.invalid_type")),
    ] = None,
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[Currency]:
    found = await repository.listed_currencies(session, type=type, limit=limit, page=page)
    _paginate(response, found.total, page, limit)
    return [present.currency(row) for row in found.rows]


@router.get("/currencies/{id}", summary="One listed currency", responses=_NOT_FOUND)
async def currency(
    session: Session,
    id: Annotated[str, Path(max_length=10, json_schema_extra=error_code(CURRENCY_NOT_FOUND))],
) -> Currency:
    row = await repository.listed_currency(session, id)
    if row is None:
        raise ApiError(404, CURRENCY_NOT_FOUND)
    return present.currency(row)


@router.get("/markets", summary="Listed spot markets", responses=_NOT_FOUND)
async def markets(
    session: Session,
    response: Response,
    base_unit: Annotated[
        str | None,
        Query(max_length=10, json_schema_extra=error_code("public.market.invalid_base_unit")),
    ] = None,
    quote_unit: Annotated[
        str | None,
        Query(max_length=10, json_schema_extra=error_code("public.market.invalid_quote_unit")),
    ] = None,
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[Market]:
    found = await repository.listed_markets(
        session, base_unit=base_unit, quote_unit=quote_unit, limit=limit, page=page
    )
    _paginate(response, found.total, page, limit)
    return [present.market(row) for row in found.rows]


@router.get(
    "/markets/{market}/order-book",
    summary="Resting orders, best price first, oldest first within a price",
    responses=_NOT_FOUND,
)
async def order_book(
    runner: Runner,
    market: MarketId,
    asks_limit: Annotated[
        int,
        Query(ge=1, le=200, json_schema_extra=error_code("public.order_book.invalid_ask_limit")),
    ] = 20,
    bids_limit: Annotated[
        int,
        Query(ge=1, le=200, json_schema_extra=error_code("public.order_book.invalid_bid_limit")),
    ] = 20,
) -> OrderBook:
    book = _book(runner, market)
    spec = book.spec
    return OrderBook(
        asks=[present.order(o, spec) for o in book.asks.orders_by_priority(asks_limit)],
        bids=[present.order(o, spec) for o in book.bids.orders_by_priority(bids_limit)],
    )


@router.get(
    "/markets/{market}/depth",
    summary="Volume per price level, with the engine sequence it reflects",
    responses=_NOT_FOUND,
)
async def depth(
    runner: Runner,
    market: MarketId,
    limit: Annotated[
        int, Query(ge=1, le=1000, json_schema_extra=error_code("public.market_depth.invalid_limit"))
    ] = 300,
) -> Depth:
    book = _book(runner, market)
    spec = book.spec
    return Depth(
        timestamp=int(time.time()),
        asks=[present.depth_level(p, v, spec) for p, v in book.asks.depth(limit)],
        bids=[present.depth_level(p, v, spec) for p, v in book.bids.depth(limit)],
        sequence=runner.committed_seq,
    )


@router.get("/markets/{market}/trades", summary="Recent trades, newest first", responses=_NOT_FOUND)
async def trades(
    runner: Runner,
    market: MarketId,
    limit: Annotated[
        int, Query(ge=1, le=1000, json_schema_extra=error_code("public.trade.invalid_limit"))
    ] = 100,
) -> list[PublicTrade]:
    book = _book(runner, market)
    spec = book.spec
    recent = book.recent_trades
    newest = [recent[i] for i in range(len(recent) - 1, max(len(recent) - limit, 0) - 1, -1)]
    return [present.public_trade(trade, spec) for trade in newest]
