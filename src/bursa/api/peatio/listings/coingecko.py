"""CoinGecko's exchange integration (spot): ``pairs``, ``tickers``, ``orderbook`` and
``historical_trades``, pairs named ``BASE_QUOTE`` (``ticker_id``).

Prices and volumes are decimal strings, as CoinGecko's examples show them; times are
Unix milliseconds. Only markets that trade are listed; a best price of an empty side is
``null``.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from bursa.api.deps import Runner, Session
from bursa.api.errors import MISSING_KEY, error_code
from bursa.api.peatio.listings import now_ms, pair_book
from bursa.api.schemas import Errors
from bursa.formats import decimal_text
from bursa.plain_input import PlainInt
from bursa.trading import listings, market_data

router = APIRouter(prefix="/api/v2/peatio/coingecko", tags=["coingecko"])

_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Errors}, 422: {"model": Errors}}
MAX_DEPTH = 1000
MAX_TRADES = 1000  # ``limit=0`` ("full history") answers at most this many
LATEST_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z


def _ticker_id(area: str) -> Any:
    return Query(
        max_length=32,
        description='A pair such as "BTC_USDT"',
        json_schema_extra={
            **error_code(f"coingecko.{area}.invalid_ticker_id"),
            MISSING_KEY: f"coingecko.{area}.missing_ticker_id",
        },
    )


def _time(name: str) -> Any:
    return Query(
        ge=0,
        le=LATEST_TIME,
        description="Unix seconds, included",
        json_schema_extra=error_code(
            f"coingecko.historical_trades.invalid_{name}",
            non_integer=f"coingecko.historical_trades.non_integer_{name}",
        ),
    )


def _tickers(request: Request) -> market_data.Tickers:
    tickers: market_data.Tickers = request.app.state.tickers
    return tickers


@router.get("/pairs", summary="Every pair traded")
async def pairs(runner: Runner) -> list[dict[str, str]]:
    return [
        {
            "ticker_id": listings.pair_name(book.spec),
            "base": book.spec.base.code.upper(),
            "target": book.spec.quote.code.upper(),
        }
        for book in listings.tradable(runner.committed_books())
    ]


@router.get("/tickers", summary="Every pair's last 24 hours and best prices")
async def tickers(
    request: Request, runner: Runner, session: Session
) -> list[dict[str, str | None]]:
    found = await listings.figures(session, _tickers(request), runner.committed_books())
    return [
        {
            "ticker_id": pair.name,
            "base_currency": pair.spec.base.code.upper(),
            "target_currency": pair.spec.quote.code.upper(),
            "last_price": decimal_text(pair.ticker.last),
            "base_volume": decimal_text(pair.ticker.amount),
            "target_volume": decimal_text(pair.ticker.volume),
            "bid": decimal_text(pair.highest_bid),
            "ask": decimal_text(pair.lowest_ask),
            "high": decimal_text(pair.ticker.high),
            "low": decimal_text(pair.ticker.low),
        }
        for pair in found
    ]


@router.get("/orderbook", summary="The pair's book as committed, by price level", responses=_ERRORS)
async def orderbook(
    runner: Runner,
    ticker_id: Annotated[str, _ticker_id("market_depth")],
    depth: Annotated[
        PlainInt,
        Query(
            ge=0,
            le=MAX_DEPTH,
            description="Levels on both sides together (100: 50 bids and 50 asks); 0 or not "
            "given: the whole book",
            json_schema_extra=error_code(
                "coingecko.market_depth.invalid_depth",
                non_integer="coingecko.market_depth.non_integer_depth",
            ),
        ),
    ] = 0,
) -> dict[str, Any]:
    """The whole book is as much as the committed snapshot holds (1000 price levels per
    side: ``bursa.engine.snapshots``)."""
    book = pair_book(runner, ticker_id)
    per_side = depth // 2 if depth else None
    return {
        "ticker_id": listings.pair_name(book.spec),
        "timestamp": now_ms(),
        "bids": [_level(level) for level in listings.levels(book, "buy", per_side)],
        "asks": [_level(level) for level in listings.levels(book, "sell", per_side)],
    }


def _level(level: listings.Level) -> list[str]:
    return [decimal_text(level[0]), decimal_text(level[1])]


@router.get(
    "/historical_trades",
    summary="The pair's trades, newest first, split by taker side",
    responses=_ERRORS,
)
async def historical_trades(
    runner: Runner,
    session: Session,
    ticker_id: Annotated[str, _ticker_id("historical_trades")],
    type: Annotated[
        Literal["buy", "sell"] | None,
        Query(json_schema_extra=error_code("coingecko.historical_trades.invalid_type")),
    ] = None,
    limit: Annotated[
        PlainInt,
        Query(
            ge=0,
            le=MAX_TRADES,
            description="How many trades, newest first; 0 or not given: as many as one "
            f"answer holds ({MAX_TRADES})",
            json_schema_extra=error_code(
                "coingecko.historical_trades.invalid_limit",
                non_integer="coingecko.historical_trades.non_integer_limit",
            ),
        ),
    ] = 0,
    start_time: Annotated[PlainInt | None, _time("start_time")] = None,
    end_time: Annotated[PlainInt | None, _time("end_time")] = None,
) -> dict[str, list[dict[str, Any]]]:
    """``{"buy": [...], "sell": [...]}`` as CoinGecko's spec (and Peatio 3) answer: ``buy``
    where the taker bought (an ask left the book). ``limit`` counts both sides together;
    the window ``[start_time, end_time]`` includes both ends."""
    book = pair_book(runner, ticker_id)
    found = await listings.trades_between(
        session,
        book.spec.id,
        limit=limit or MAX_TRADES,
        side=type,
        start=start_time,
        end=end_time,
    )
    answer: dict[str, list[dict[str, Any]]] = {"buy": [], "sell": []}
    for trade in found:
        answer[trade.taker_type].append(
            {
                "trade_id": trade.id,
                "price": decimal_text(trade.price),
                "base_volume": decimal_text(trade.amount),
                "target_volume": decimal_text(trade.total),
                "trade_timestamp": listings.unix_ms(trade.created_at),
                "type": trade.taker_type,
            }
        )
    return answer
