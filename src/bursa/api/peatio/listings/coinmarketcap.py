"""CoinMarketCap's exchange API (spot): ``summary``, ``assets``, ``ticker``,
``orderbook/{market_pair}`` and ``trades/{market_pair}``, pairs named ``BASE_QUOTE``.

Prices and volumes are JSON numbers written from exact decimals (the spec's ``decimal``);
times are Unix milliseconds. Only markets that trade are listed (so ``isFrozen`` is 0).
A best price of an empty side is ``null``. Bursa keeps no Unified Cryptoasset IDs, so
the optional ``unified_cryptoasset_id``, ``base_id`` and ``quote_id`` are left out.
"""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from bursa.api.deps import Runner, Session
from bursa.api.errors import error_code
from bursa.api.peatio.listings import ExactJSONResponse, now_ms, pair_book
from bursa.api.schemas import Errors
from bursa.plain_input import PlainInt
from bursa.trading import listings, market_data

router = APIRouter(prefix="/api/v2/peatio/coinmarketcap", tags=["coinmarketcap"])

_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Errors}, 422: {"model": Errors}}
_JSON: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}}}}
MAX_DEPTH = 500
TRADES_WINDOW = 24 * 3600  # the spec's minimum: a full day of trades
MAX_TRADES = 1000  # at most this many of them, newest first
PERCENT = Decimal("0.01")

MarketPair = Annotated[
    str,
    Path(
        max_length=32,
        description='A pair such as "BTC_USDT"',
        json_schema_extra=error_code("record.not_found"),
    ),
]


def _tickers(request: Request) -> market_data.Tickers:
    tickers: market_data.Tickers = request.app.state.tickers
    return tickers


@router.get(
    "/summary",
    summary="Every pair's last 24 hours and best prices",
    response_class=ExactJSONResponse,
    responses=_JSON,
)
async def summary(request: Request, runner: Runner, session: Session) -> Response:
    found = await listings.figures(session, _tickers(request), runner.committed_books())
    return ExactJSONResponse(
        [
            {
                "trading_pairs": pair.name,
                "base_currency": pair.spec.base.code.upper(),
                "quote_currency": pair.spec.quote.code.upper(),
                "last_price": pair.ticker.last,
                "lowest_ask": pair.lowest_ask,
                "highest_bid": pair.highest_bid,
                "base_volume": pair.ticker.amount,
                "quote_volume": pair.ticker.volume,
                "price_change_percent_24h": pair.ticker.price_change_percent.quantize(PERCENT),
                "highest_price_24h": pair.ticker.high,
                "lowest_price_24h": pair.ticker.low,
            }
            for pair in found
        ]
    )


@router.get(
    "/assets",
    summary="Every listed currency, by code",
    response_class=ExactJSONResponse,
    responses=_JSON,
)
async def assets(session: Session) -> Response:
    """Whether deposits and withdrawals are on and the least a withdrawal may be."""
    rows = await listings.every_currency(session)
    return ExactJSONResponse(
        {
            row["id"].upper(): {
                "name": row["name"],
                "can_withdraw": row["withdrawal_enabled"],
                "can_deposit": row["deposit_enabled"],
                "min_withdraw": row["min_withdraw_amount"],
            }
            for row in rows
        }
    )


@router.get(
    "/ticker",
    summary="Every pair's last price and 24-hour volumes",
    response_class=ExactJSONResponse,
    responses=_JSON,
)
async def ticker(request: Request, runner: Runner, session: Session) -> Response:
    found = await listings.figures(session, _tickers(request), runner.committed_books())
    return ExactJSONResponse(
        {
            pair.name: {
                "last_price": pair.ticker.last,
                "base_volume": pair.ticker.amount,
                "quote_volume": pair.ticker.volume,
                "isFrozen": 0,
            }
            for pair in found
        }
    )


@router.get(
    "/orderbook/{market_pair}",
    summary="The pair's book as committed, best prices first",
    response_class=ExactJSONResponse,
    responses={**_JSON, **_ERRORS},
)
async def orderbook(
    runner: Runner,
    market_pair: MarketPair,
    depth: Annotated[
        PlainInt,
        Query(
            ge=0,
            le=MAX_DEPTH,
            description="Orders depth quantity: [0,5,10,20,50,100,500]; 0 or not given: the "
            "whole book; 100 means 50 on each side",
            json_schema_extra=error_code(
                "coinmarketcap.market_depth.invalid_depth",
                non_integer="coinmarketcap.market_depth.non_integer_depth",
            ),
        ),
    ] = 0,
    level: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=3,
            description="1: the best bid and ask only; 2: by price level (default); "
            "3: every resting order, unaggregated",
            json_schema_extra=error_code(
                "coinmarketcap.market_depth.invalid_level",
                non_integer="coinmarketcap.market_depth.non_integer_level",
            ),
        ),
    ] = 2,
) -> Response:
    """The whole book is as much as the committed snapshot holds (1000 price levels, 200
    orders per side: ``bursa.engine.snapshots``)."""
    book = pair_book(runner, market_pair)
    per_side = depth // 2 if depth else None
    if level == 1:
        bids, asks = listings.levels(book, "buy", 1), listings.levels(book, "sell", 1)
    elif level == 2:
        bids, asks = listings.levels(book, "buy", per_side), listings.levels(book, "sell", per_side)
    else:
        bids, asks = listings.orders(book, "buy", per_side), listings.orders(book, "sell", per_side)
    return ExactJSONResponse(
        {"timestamp": now_ms(), "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}
    )


@router.get(
    "/trades/{market_pair}",
    summary="The pair's trades of the last 24 hours, newest first",
    response_class=ExactJSONResponse,
    responses={**_JSON, **_ERRORS},
)
async def trades(runner: Runner, session: Session, market_pair: MarketPair) -> Response:
    """At most ``MAX_TRADES`` of them; ``type`` is the taker's side (``buy``: an ask was
    taken from the book)."""
    book = pair_book(runner, market_pair)
    since = now_ms() // 1000 - TRADES_WINDOW
    found = await listings.trades_between(session, book.spec.id, limit=MAX_TRADES, start=since)
    return ExactJSONResponse(
        [
            {
                "trade_id": trade.id,
                "price": trade.price,
                "base_volume": trade.amount,
                "quote_volume": trade.total,
                "timestamp": listings.unix_ms(trade.created_at),
                "type": trade.taker_type,
            }
            for trade in found
        ]
    )
