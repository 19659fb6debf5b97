"""Public market data (``/api/v2/peatio/public/markets/...``): order books and depth as
committed by the engine, trade history, k-lines and 24-hour tickers.

Books come from the runner's commit-time snapshots, never from the live engine; trades,
k-lines and tickers from the ``trades`` and ``candles`` tables (``bursa.trading``).
"""

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from bursa.api import present
from bursa.api.deps import Reads, Runner, Session
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio.public.general import MarketId, committed_book
from bursa.api.schemas import Depth, Errors, OrderBook, PublicTrade, Ticker
from bursa.engine.snapshots import LEVELS, ORDERS
from bursa.plain_input import PlainInt
from bursa.trading import market_data
from bursa.trading.candles import PERIODS

router = APIRouter(prefix="/api/v2/peatio/public/markets", tags=["public"])
_ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": Errors}}
LATEST_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z: later seconds are no time at all


def _tickers(request: Request) -> market_data.Tickers:
    tickers: market_data.Tickers = request.app.state.tickers
    return tickers


@router.get("/tickers", summary="24-hour tickers of every market, by market id")
async def all_tickers(request: Request, runner: Runner, session: Session) -> dict[str, Ticker]:
    markets = [
        (snapshot.spec.id, snapshot.spec.price_precision)
        for snapshot in runner.committed_books()
        if snapshot.spec.tradable
    ]
    found = await _tickers(request).get(session, markets)
    return {market: present.ticker(values) for market, values in found.items()}


@router.get("/{market}/tickers", summary="24-hour ticker of one market", responses=_ERRORS)
async def ticker(request: Request, runner: Runner, session: Session, market: MarketId) -> Ticker:
    spec = committed_book(runner, market)[0].spec
    found = await _tickers(request).get(session, [(spec.id, spec.price_precision)])
    return present.ticker(found[spec.id])


@router.get(
    "/{market}/order-book",
    summary="Resting orders as committed, best price first, oldest first within a price",
    responses=_ERRORS,
)
async def order_book(
    runner: Runner,
    reads: Reads,
    market: MarketId,
    asks_limit: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=ORDERS,
            json_schema_extra=error_code(
                "public.order_book.invalid_ask_limit",
                non_integer="public.order_book.non_integer_ask_limit",
            ),
        ),
    ] = 20,
    bids_limit: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=ORDERS,
            json_schema_extra=error_code(
                "public.order_book.invalid_bid_limit",
                non_integer="public.order_book.non_integer_bid_limit",
            ),
        ),
    ] = 20,
) -> OrderBook:
    book, _ = committed_book(runner, market)
    spec = book.spec
    asks, bids = book.ask_orders[:asks_limit], book.bid_orders[:bids_limit]
    uuids = await market_data.order_uuids(reads, [o.id for o in (*asks, *bids)])
    return OrderBook(
        asks=[present.order(o, spec, uuids.get(o.id)) for o in asks],
        bids=[present.order(o, spec, uuids.get(o.id)) for o in bids],
    )


@router.get(
    "/{market}/depth",
    summary="Volume per price level as committed, with the engine sequence it is exact at",
    responses=_ERRORS,
)
async def depth(
    runner: Runner,
    market: MarketId,
    limit: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=LEVELS,
            json_schema_extra=error_code(
                "public.market_depth.invalid_limit",
                non_integer="public.market_depth.non_integer_limit",
            ),
        ),
    ] = 300,
) -> Depth:
    book, sequence = committed_book(runner, market)
    spec = book.spec
    return Depth(
        timestamp=int(time.time()),
        asks=[present.depth_level(p, v, spec) for p, v in book.asks[:limit]],
        bids=[present.depth_level(p, v, spec) for p, v in book.bids[:limit]],
        sequence=sequence,
    )


@router.get(
    "/{market}/trades",
    summary="Trade history, newest first unless order_by=asc",
    responses=_ERRORS,
)
async def trades(
    runner: Runner,
    session: Session,
    market: MarketId,
    limit: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=1000,
            json_schema_extra=error_code(
                "public.trade.invalid_limit", non_integer="public.trade.non_integer_limit"
            ),
        ),
    ] = 100,
    timestamp: Annotated[
        PlainInt | None,
        Query(
            ge=0,
            le=LATEST_TIME,
            description="Unix seconds: only trades executed before it",
            json_schema_extra=error_code(
                "public.trade.invalid_timestamp",
                non_integer="public.trade.non_integer_timestamp",
            ),
        ),
    ] = None,
    order_by: Annotated[
        Literal["asc", "desc"],
        Query(json_schema_extra=error_code("public.trade.invalid_order_by")),
    ] = "desc",
) -> list[PublicTrade]:
    spec = committed_book(runner, market)[0].spec
    found = await market_data.trades(
        session, spec.id, limit=limit, before=timestamp, order=order_by
    )
    return [present.public_trade(trade) for trade in found]


def _time(name: str) -> Any:
    return Query(
        ge=0,
        le=LATEST_TIME,
        description="Unix seconds",
        json_schema_extra=error_code(
            f"public.k_line.invalid_{name}",
            non_integer=f"public.k_line.non_integer_{name}",
            empty=f"public.k_line.empty_{name}",
        ),
    )


@router.get(
    "/{market}/k-line",
    summary="OHLC candles: [[time, open, high, low, close, volume], ...], oldest first",
    responses={200: {"content": {"application/json": {}}}, **_ERRORS},
    response_class=Response,
)
async def k_line(
    runner: Runner,
    session: Session,
    market: MarketId,
    period: Annotated[
        PlainInt,
        Query(
            description="Minutes: " + ", ".join(map(str, PERIODS)),
            json_schema_extra=error_code(
                "public.k_line.invalid_period", non_integer="public.k_line.non_integer_period"
            ),
        ),
    ] = 1,
    time_from: Annotated[PlainInt | None, _time("time_from")] = None,
    time_to: Annotated[PlainInt | None, _time("time_to")] = None,
    limit: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=market_data.MAX_CANDLES,
            json_schema_extra=error_code(
                "public.k_line.invalid_limit", non_integer="public.k_line.non_integer_limit"
            ),
        ),
    ] = 30,
) -> Response:
    """Prices and volumes are JSON numbers written from exact decimals; ``limit`` does not
    apply when both times are given (at most ``MAX_CANDLES`` candles then)."""
    spec = committed_book(runner, market)[0].spec
    if period not in PERIODS:
        raise ApiError(422, "public.k_line.invalid_period")
    candles = await market_data.k_line(
        session, spec.id, period, time_from=time_from, time_to=time_to, limit=limit
    )
    return Response(present.k_line_json(candles), media_type="application/json")
