"""A market's public data from any OpenDAX-dialect exchange over REST (Peatio's public
API): the market's precisions, its recent trades and its depth, read into the decimal
types ``bursa.bots.assist`` estimates from. Public endpoints only: no key is needed or sent.

Trades are paged backwards as the API allows: ``trades?limit=1000&timestamp=T`` answers
the trades executed *before* the Unix second T, newest first. The next page asks before
the oldest second seen plus one and drops the ids it already has, so trades sharing that
second are not lost; paging stops at the window's start, at ``max_trades``, or when a page
brings nothing new (a single second holding more than a page is read once, truncated).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from bursa.bots.assist import Book, Trade
from bursa.plain_input import NotPlain, read_amount

PUBLIC = "/api/v2/peatio/public"
PAGE = 1000  # the API's largest page
TIMEOUT = 10.0
MARKET_ID = re.compile(r"[a-z0-9][a-z0-9._\-]{0,19}")  # as the API's path parameter


class MarketDataError(Exception):
    """The exchange could not be read, or answered something that is not market data."""


@dataclass(frozen=True, slots=True)
class MarketInfo:
    id: str
    base_unit: str
    quote_unit: str
    price_precision: int
    amount_precision: int


@dataclass(frozen=True, slots=True)
class Observation:
    """What the market showed at ``now`` (the exchange's own clock, from the depth)."""

    market: MarketInfo
    trades: tuple[Trade, ...]  # oldest first
    book: Book
    now: int


async def _get(client: httpx.AsyncClient, path: str, params: Mapping[str, str | int]) -> Any:
    try:
        response = await client.get(PUBLIC + path, params=dict(params))
    except httpx.HTTPError as exc:
        raise MarketDataError(f"{client.base_url}{PUBLIC}{path}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise MarketDataError(f"{response.request.url.path} answered {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise MarketDataError(f"{response.request.url.path} answered no JSON") from exc


def _amount(value: object) -> Decimal:
    try:
        return read_amount(value)
    except NotPlain as exc:
        raise MarketDataError("a price or amount is not a plain decimal") from exc


async def market_info(client: httpx.AsyncClient, market: str) -> MarketInfo:
    """The listed market ``market`` (its precisions), from ``/markets`` page by page."""
    page = 1
    while True:
        rows = await _get(client, "/markets", {"limit": PAGE, "page": page})
        if not isinstance(rows, list):
            raise MarketDataError("/markets answered no list")
        for row in rows:
            if isinstance(row, dict) and row.get("id") == market:
                try:
                    return MarketInfo(
                        market,
                        str(row["base_unit"]),
                        str(row["quote_unit"]),
                        int(row["price_precision"]),
                        int(row["amount_precision"]),
                    )
                except (KeyError, TypeError, ValueError) as exc:
                    raise MarketDataError(f"market {market} is described incompletely") from exc
        if len(rows) < PAGE:
            raise MarketDataError(f"no market {market!r} is listed")
        page += 1


def _trade(row: object) -> tuple[int, Trade]:
    if not isinstance(row, dict):
        raise MarketDataError("a trade is not an object")
    try:
        at, trade_id = row["created_at"], row["id"]
        if not isinstance(at, int) or not isinstance(trade_id, int):
            raise MarketDataError("a trade's id or created_at is not an integer")
        price, amount = _amount(row["price"]), _amount(row["amount"])
        return trade_id, Trade(price, amount, at, str(row.get("taker_type", "")))
    except KeyError as exc:
        raise MarketDataError(f"a trade has no {exc.args[0]}") from exc


async def recent_trades(
    client: httpx.AsyncClient, market: str, *, since: int, max_trades: int
) -> list[Trade]:
    """The market's trades at or after ``since`` (Unix seconds), at most ``max_trades``
    of the newest, oldest first (paging: see the module's doc)."""
    found: dict[int, Trade] = {}
    before: int | None = None
    while len(found) < max_trades:
        params: dict[str, str | int] = {"limit": PAGE, "order_by": "desc"}
        if before is not None:
            params["timestamp"] = before
        rows = await _get(client, f"/markets/{market}/trades", params)
        if not isinstance(rows, list):
            raise MarketDataError("trades answered no list")
        fresh = [pair for pair in map(_trade, rows) if pair[0] not in found]
        found.update(fresh)
        if len(rows) < PAGE or not fresh:
            break
        oldest = min(trade.at for _, trade in fresh)
        if oldest < since:
            break
        before = oldest + 1
    newest = sorted((t for t in found.items() if t[1].at >= since), key=lambda p: (p[1].at, p[0]))
    return [trade for _, trade in newest[-max_trades:]]


async def depth(client: httpx.AsyncClient, market: str, limit: int = 50) -> tuple[Book, int]:
    """The market's depth (best first) and the exchange's time stamp on it."""
    answer = await _get(client, f"/markets/{market}/depth", {"limit": limit})
    if not isinstance(answer, dict) or not isinstance(answer.get("timestamp"), int):
        raise MarketDataError("depth answered no object with a timestamp")

    def side(name: str) -> tuple[tuple[Decimal, Decimal], ...]:
        levels = answer.get(name) or []
        if not isinstance(levels, list) or not all(
            isinstance(level, list) and len(level) == 2 for level in levels
        ):
            raise MarketDataError(f"depth's {name} are not [price, volume] pairs")
        return tuple((_amount(price), _amount(volume)) for price, volume in levels)

    return Book(bids=side("bids"), asks=side("asks")), int(answer["timestamp"])


async def observe(
    host: str,
    market: str,
    *,
    window: int,
    max_trades: int = 5000,
    client: httpx.AsyncClient | None = None,
) -> Observation:
    """The market's precisions, its depth, and its trades of the last ``window`` seconds
    before the depth's time stamp."""
    if not MARKET_ID.fullmatch(market):
        raise MarketDataError(f"{market!r} is not a market id (lower-case letters, digits)")
    own = client is None
    active = client or httpx.AsyncClient(base_url=host, timeout=TIMEOUT)
    try:
        info = await market_info(active, market)
        book, now = await depth(active, market)
        trades = await recent_trades(active, market, since=now - window, max_trades=max_trades)
    finally:
        if own:
            await active.aclose()
    return Observation(info, tuple(trades), book, now)
