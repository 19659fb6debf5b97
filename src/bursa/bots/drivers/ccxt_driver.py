"""A bot's driver for any exchange ccxt knows (``ccxt.async_support``), Bursa included
through ``ccxt_opendax.OpenDax``: the ``Driver`` contract over ccxt's unified API.

Markets are named by ccxt's symbols (``BTC/USDT``), currencies by ccxt's codes (``BTC``).
Money stays exact: the exchange's ``number`` is ``str`` (ccxt then keeps amounts as the
text it read), book levels are read as text too (ccxt's base class would make them floats),
amounts go to ccxt as decimal strings, and everything is a ``Decimal`` at this edge. A
market whose precision is not a number of decimal places (a tick such as 0.5, or
significant digits) is left out of ``markets()`` with a warning, and orders on it refused.

Errors: ccxt's ``NetworkError`` family (unreachable, timeout, rate limited, a bad nonce) is
retried with jittered backoff and then raised as ``bots.exchange_unreachable``; every other
ccxt error is the exchange's answer, raised at once as ``ccxt.<its name>``
(``ccxt.insufficient_funds``, ``ccxt.invalid_order``, ``ccxt.authentication_error``,
``ccxt.order_not_found``…), the exchange's own text in the message. Placing an order is
resent only when that cannot place it twice: the connection was never made, or the
exchange is OpenDAX (an ``Idempotency-Key`` kept across the attempts).

Client ids: ccxt's ``clientOrderId`` is honoured unevenly across exchanges and cannot be
checked from here, so only OpenDAX accounts mark their orders (``marks_orders``); an
exchange that drops the id is caught at once (the order is cancelled and refused).
"""

import asyncio
import logging
import socket
import types
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
from ccxt.base import errors as ccxt_errors  # type: ignore[import-untyped]
from ccxt.base.decimal_to_precision import (  # type: ignore[import-untyped]
    DECIMAL_PLACES,
    TICK_SIZE,
)

from bursa.bots.config import OPENDAX, AccountConfig
from bursa.bots.drivers.ccxt_opendax import IDEMPOTENCY, OpenDax
from bursa.bots.drivers.opendax import (
    BAD_ANSWER,
    UNREACHABLE,
    ApiKey,
    Balance,
    Depth,
    ExchangeError,
    Level,
    Market,
    MyTrade,
    Order,
    PublicTrade,
    Retry,
    amount,
)
from bursa.bots.drivers.pacing import Pacer
from bursa.formats import decimal_text

log = logging.getLogger(__name__)

UNKNOWN_MARKET = "bots.unknown_market"
UNSUPPORTED_MARKET = "ccxt.unsupported_market"
CLIENT_ID_IGNORED = "ccxt.client_id_ignored"
INVALID_ORDER = "ccxt.invalid_order"
REMEMBERED = 10_000  # orders whose market and last state are kept (for cancel)
TRADE_PAGES = 50  # most calls one ``my_trades(since=…)`` makes
RETRY = Retry()

# ccxt's statuses as Peatio's states (the ``Order`` the runner reads).
STATES = {
    "open": "wait",
    "closed": "done",
    "canceled": "cancel",
    "expired": "cancel",
    "rejected": "reject",
}
_NOT_CURRENCIES = frozenset({"info", "timestamp", "datetime", "free", "used", "total", "debt"})

# A refusal's HTTP-like status (its ``Refusal`` kind), the most specific class first.
_STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (ccxt_errors.OrderNotFound, 404),
    (ccxt_errors.DuplicateOrderId, 409),
    (ccxt_errors.CancelPending, 409),
    (ccxt_errors.PermissionDenied, 403),
    (ccxt_errors.AuthenticationError, 401),
    (ccxt_errors.InsufficientFunds, 422),
    (ccxt_errors.InvalidOrder, 422),
    (ccxt_errors.BadRequest, 422),
    (ccxt_errors.ArgumentsRequired, 422),
    (ccxt_errors.NotSupported, 422),
    (ccxt_errors.OperationRejected, 422),
)


# ---------------------------------------------------------------------- conversions


class UnsupportedMarket(ValueError):
    """A market whose rules the bots cannot express (the reason is the message)."""


def decimal_places(precision: object, mode: int) -> int:
    """ccxt's precision of an amount or a price (``market["precision"]``) as decimal
    places, whatever the exchange's ``precisionMode``: a tick must be a power of ten."""
    if precision is None or isinstance(precision, bool):
        raise UnsupportedMarket("the exchange gives no precision")
    value = Decimal(str(precision))
    if mode == DECIMAL_PLACES:
        if value != value.to_integral_value() or value < 0:
            raise UnsupportedMarket(f"{precision} decimal places is not a whole number")
        return int(value)
    if mode == TICK_SIZE:
        tick = value.normalize()
        if tick <= 0 or tick.as_tuple().digits != (1,) or tick > 1:
            raise UnsupportedMarket(
                f"tick {precision} is not a power of ten at most 1 (such as 0.01): "
                "the bots count precision in decimal places"
            )
        return -int(tick.as_tuple().exponent)
    raise UnsupportedMarket("significant-digit precision has no fixed decimal places")


def exact(value: object) -> Decimal | None:
    """A ccxt number as a ``Decimal`` (None when absent). Text and integers are exact; a
    float only comes from an exchange that sent a JSON number, read back by its repr."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return amount(repr(value))
    return amount(value)


def _exact_or_zero(value: object) -> Decimal:
    found = exact(value)
    return Decimal(0) if found is None else found


def _fits(value: Decimal, places: int) -> bool:
    exponent = value.normalize().as_tuple().exponent
    return not isinstance(exponent, int) or exponent >= -places


def _levels(rows: Iterable[Any], *, best_is_lowest: bool) -> list[Level]:
    found = [(amount_of(row[0]), amount_of(row[1])) for row in rows]
    return sorted(found, key=lambda level: level[0], reverse=not best_is_lowest)


def amount_of(value: object) -> Decimal:
    """A number ccxt must give (a price, an amount of a level or a trade)."""
    found = exact(value)
    if found is None:
        raise ExchangeError(None, BAD_ANSWER, message="a number is missing")
    return found


def _level_as_text(
    exchange: Any, bidask: Any, price_key: Any = 0, amount_key: Any = 1, count_key: Any = 2
) -> list[Any]:
    """ccxt's ``parse_order_book_bid_ask`` without its float: the level as Decimals (which
    ccxt's sort of the book compares as numbers)."""
    level: list[Any] = [
        exact(exchange.safe_string(bidask, price_key)),
        exact(exchange.safe_string(bidask, amount_key)),
    ]
    count = exchange.safe_integer(bidask, count_key)
    if count is not None:
        level.append(count)
    return level


def make_exact(exchange: Any) -> None:
    """No amount of ``exchange`` passes through a float: ccxt's numbers as text, and the
    book's levels read without ccxt's base ``safe_float`` (unless the exchange reads its
    levels its own way)."""
    exchange.number = str
    if type(exchange).parse_order_book_bid_ask is ccxt_async.Exchange.parse_order_book_bid_ask:
        exchange.parse_order_book_bid_ask = types.MethodType(_level_as_text, exchange)


def rebase(urls: Any, host: str) -> Any:
    """``urls`` (ccxt's ``urls["api"]``: text, or mappings and lists of it) with the
    origin of every http(s) URL replaced by ``host`` (its path kept after host's own)."""
    if isinstance(urls, Mapping):
        return {key: rebase(value, host) for key, value in urls.items()}
    if isinstance(urls, list):
        return [rebase(value, host) for value in urls]
    if isinstance(urls, str):
        parts = urlsplit(urls)
        if parts.scheme in ("http", "https"):
            query = f"?{parts.query}" if parts.query else ""
            return host.rstrip("/") + parts.path + query
    return urls


def exchange_class(exchange_id: str | None, host: str | None) -> Any:
    """The ccxt class of an account's ``exchange`` (``opendax`` needs a ``host``)."""
    if exchange_id == OPENDAX:
        if host is None:
            raise ValueError("exchange opendax needs host: the exchange's URL")
        return OpenDax
    if exchange_id is None or exchange_id not in ccxt_async.exchanges:
        raise ValueError(f"exchange {exchange_id!r} is not a ccxt exchange id, nor opendax")
    return getattr(ccxt_async, exchange_id)


def _snake(name: str) -> str:
    if name == "DDoSProtection":
        return "ddos_protection"
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def refusal(exc: Exception) -> ExchangeError:
    """A ccxt error that is the exchange's answer (not the network's) as ``ExchangeError``."""
    status = next((code for kind, code in _STATUS_OF if isinstance(exc, kind)), 502)
    return ExchangeError(status, f"ccxt.{_snake(type(exc).__name__)}", message=str(exc))


def _never_sent(exc: Exception) -> bool:
    """The request surely did not reach the exchange (or was refused before acting)."""
    refused_first = (
        ccxt_errors.RateLimitExceeded,
        ccxt_errors.DDoSProtection,
        ccxt_errors.InvalidNonce,
    )
    cause = exc.__cause__
    return isinstance(exc, refused_first) or isinstance(
        cause, aiohttp.ClientConnectorError | socket.gaierror
    )


# ---------------------------------------------------------------------- the driver


class CcxtClient:
    """One account on one ccxt exchange (public calls only without a key)."""

    def __init__(
        self,
        exchange: Any,
        *,
        marks_orders: bool = False,
        delay: float = 0.0,
        retry: Retry = RETRY,
    ) -> None:
        make_exact(exchange)
        self.exchange = exchange
        self._pacer = Pacer(delay)
        self.retry = retry
        self._marks_orders = marks_orders
        self._orders: dict[str, Order] = {}  # by id: the last seen (market and state)
        self._unsupported: dict[str, str] = {}  # symbol → why the bots cannot trade it

    @classmethod
    def from_account(
        cls,
        account: AccountConfig,
        key: ApiKey | None,
        *,
        delay: float = 0.0,
        retry: Retry = RETRY,
    ) -> "CcxtClient":
        """The driver of a ``driver: ccxt`` account: ``exchange`` is a ccxt id or
        ``opendax``; ``host``, when set, replaces the API's origin. Nothing is sent yet."""
        try:
            factory = exchange_class(account.exchange, account.host)
        except ValueError as exc:
            raise ValueError(f'account "{account.id}": {exc}') from None
        config: dict[str, Any] = {"enableRateLimit": True}
        if key is not None:
            config.update(apiKey=key.kid, secret=key.secret)
        exchange = factory(config)
        if account.host is not None:
            exchange.urls["api"] = rebase(exchange.urls["api"], account.host)
        return cls(exchange, marks_orders=account.exchange == OPENDAX, delay=delay, retry=retry)

    @property
    def marks_orders(self) -> bool:
        """Whether orders carry the runner's client ids (and open orders show them)."""
        return self._marks_orders

    async def __aenter__(self) -> "CcxtClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.exchange.close()

    # ------------------------------------------------------------------ calls

    async def _call(
        self, method: Callable[..., Awaitable[Any]], *args: Any, resend: bool = True
    ) -> Any:
        """``method(*args)`` (ccxt throttles it too), network failures retried (``resend``
        False: only those that surely sent nothing), the exchange's refusals raised."""
        for attempt in range(self.retry.attempts):
            await self._pacer.wait_turn()
            last = attempt + 1 == self.retry.attempts
            try:
                return await method(*args)
            except ccxt_errors.NetworkError as exc:
                if last or not (resend or _never_sent(exc)):
                    maybe = "" if resend else " (it may have been done: not sent again)"
                    raise ExchangeError(
                        None, UNREACHABLE, message=f"{type(exc).__name__}: {exc}{maybe}"
                    ) from None
                log.debug("%s: %s, retrying", self.exchange.id, type(exc).__name__)
            except ccxt_errors.BaseError as exc:
                raise refusal(exc) from None
            await asyncio.sleep(self.retry.pause(attempt))
        raise AssertionError("unreachable")  # the last attempt returns or raises

    # ------------------------------------------------------------------ public

    async def markets(self) -> list[Market]:
        """The exchange's spot markets, read afresh (those the bots cannot trade are
        left out, with a warning)."""
        found = await self._call(self.exchange.load_markets, True)
        markets = []
        for symbol, raw in found.items():
            if raw.get("spot") is False:
                continue
            try:
                markets.append(self._market(raw))
            except UnsupportedMarket as why:
                if symbol not in self._unsupported:
                    log.warning("%s: market %s left out: %s", self.exchange.id, symbol, why)
                self._unsupported[symbol] = str(why)
        return markets

    def _market(self, raw: Mapping[str, Any]) -> Market:
        mode = self.exchange.precisionMode
        precision = raw.get("precision") or {}
        limits = raw.get("limits") or {}

        def limit(kind: str, end: str) -> Decimal:
            return _exact_or_zero((limits.get(kind) or {}).get(end))

        return Market(
            str(raw["symbol"]),
            str(raw["base"]),
            str(raw["quote"]),
            decimal_places(precision.get("amount"), mode),
            decimal_places(precision.get("price"), mode),
            limit("price", "min"),
            limit("price", "max"),  # 0: no maximum, as Peatio says it
            limit("amount", "min"),
            "disabled" if raw.get("active") is False else "enabled",
        )

    async def _rules(self, symbol: str) -> Market:
        """``symbol``'s rules, for an order (ccxt keeps the markets once loaded)."""
        if not self.exchange.markets:
            await self._call(self.exchange.load_markets)
        raw = self.exchange.markets.get(symbol)
        if raw is None:
            raise ExchangeError(422, UNKNOWN_MARKET, message=f"no market {symbol}")
        try:
            return self._market(raw)
        except UnsupportedMarket as why:
            raise ExchangeError(422, UNSUPPORTED_MARKET, message=f"{symbol}: {why}") from None

    async def depth(self, market: str, limit: int = 300) -> Depth:
        book = await self._call(self.exchange.fetch_order_book, market, limit)
        return Depth(
            _levels(book["asks"], best_is_lowest=True),
            _levels(book["bids"], best_is_lowest=False),
            int(book.get("nonce") or 0),
        )

    async def public_trades(self, market: str, limit: int = 1000) -> list[PublicTrade]:
        """The market's latest trades, newest first."""
        rows = await self._call(self.exchange.fetch_trades, market, None, limit)
        trades = [
            PublicTrade(
                str(row["id"]),
                amount_of(row["price"]),
                amount_of(row["amount"]),
                str(row.get("side") or ""),
                _seconds(row),
            )
            for row in rows
        ]
        return trades[::-1][:limit]

    # ------------------------------------------------------------------ private

    async def balances(self) -> dict[str, Balance]:
        found = await self._call(self.exchange.fetch_balance)
        return {
            code: Balance(code, _exact_or_zero(row.get("free")), _exact_or_zero(row.get("used")))
            for code, row in found.items()
            if code not in _NOT_CURRENCIES and isinstance(row, Mapping)
        }

    async def open_orders(self, market: str) -> list[Order]:
        return await self._open(market)

    async def _open(self, market: str | None) -> list[Order]:
        rows = await self._call(self.exchange.fetch_open_orders, market)
        return [self._remember(self._order(row, None, market=market)) for row in rows]

    async def place(
        self,
        market: str,
        side: str,
        volume: Decimal,
        price: Decimal | None,
        ord_type: str = "limit",
        *,
        client_id: str | None = None,
        time_in_force: str | None = None,
    ) -> Order:
        """A new order (``price`` None for a market order), as the exchange answered it.
        Amounts with more decimals than the market takes are refused (ccxt would cut
        them silently); ``client_id`` is sent only where ``marks_orders``."""
        rules = await self._rules(market)
        if not _fits(volume, rules.amount_precision) or (
            price is not None and not _fits(price, rules.price_precision)
        ):
            raise ExchangeError(
                422,
                INVALID_ORDER,
                message=f"{market} takes {rules.amount_precision} decimals of amount and "
                f"{rules.price_precision} of price",
            )
        params: dict[str, Any] = {}
        if time_in_force is not None:
            params["timeInForce"] = time_in_force.upper()
        marked = client_id is not None and self.marks_orders
        if marked:
            params["clientOrderId"] = client_id
        resend = isinstance(self.exchange, OpenDax)
        if resend:
            params[IDEMPOTENCY] = uuid.uuid4().hex
        sent = Order(
            "",
            market,
            side,
            ord_type,
            price,
            "wait",
            volume,
            volume,
            Decimal(0),
            None,
            client_id=client_id if marked else None,
        )
        row = await self._call(
            self.exchange.create_order,
            market,
            ord_type,
            side,
            decimal_text(volume),
            decimal_text(price),
            params,
            resend=resend,
        )
        order = self._remember(self._order(row, sent, market=market))
        if marked and row.get("clientOrderId") != client_id:
            await self.cancel(order.id)
            raise ExchangeError(
                502,
                CLIENT_ID_IGNORED,
                message=f"{self.exchange.id} dropped the order's client id (order cancelled)",
            )
        return order

    async def cancel(self, order_id: int | str) -> Order:
        """Cancel one order (ccxt is told its market when this client has seen it)."""
        key = str(order_id)
        known = self._orders.get(key)
        symbol = known.market if known is not None else None
        row = await self._call(self.exchange.cancel_order, key, symbol)
        self._orders.pop(key, None)
        return self._order(row, known, market=symbol, state="cancel", order_id=key)

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        """Cancel every open order (of ``market`` if named): ccxt's ``cancelAllOrders``
        where the exchange has it, else each open order; the orders cancelled."""
        if not self.exchange.has.get("cancelAllOrders"):
            cancelled = []
            for order in await self._open(market):
                try:
                    cancelled.append(await self.cancel(order.id))
                except ExchangeError as exc:  # filled or cancelled meanwhile
                    if exc.status != 404:
                        raise
            return cancelled
        rows = await self._call(self.exchange.cancel_all_orders, market)
        for key in [k for k, o in self._orders.items() if market in (None, o.market)]:
            del self._orders[key]
        if not isinstance(rows, list):  # a bare acknowledgement
            return []
        return [
            self._order(row, None, market=market, state="cancel")
            for row in rows
            if isinstance(row, Mapping) and row.get("id") is not None
        ]

    async def my_trades(self, market: str, *, since: int | None = None) -> list[MyTrade]:
        """The account's trades on ``market``, oldest first: from ``since`` (Unix seconds,
        inclusive) if given — page after page, each from the last one's newest time —
        else the latest page."""
        if since is None:
            rows = await self._call(self.exchange.fetch_my_trades, market)
            return [_my_trade(row, market) for row in rows]
        found: dict[str, MyTrade] = {}
        start = since * 1000
        for _ in range(TRADE_PAGES):
            rows = await self._call(self.exchange.fetch_my_trades, market, start)
            fresh = [row for row in rows if str(row["id"]) not in found]
            if not fresh:
                break
            for row in fresh:
                found[str(row["id"])] = _my_trade(row, market)
            start = max(int(row["timestamp"]) for row in fresh)
        return sorted(found.values(), key=lambda trade: trade.created_at)

    # ------------------------------------------------------------------ orders

    def _remember(self, order: Order) -> Order:
        self._orders.pop(str(order.id), None)
        if order.state == "wait":
            self._orders[str(order.id)] = order
            while len(self._orders) > REMEMBERED:
                del self._orders[next(iter(self._orders))]
        return order

    def _order(
        self,
        row: Mapping[str, Any],
        known: Order | None,
        *,
        market: str | None,
        state: str | None = None,
        order_id: str | None = None,
    ) -> Order:
        """A ccxt order as ``Order``; what the answer leaves out (some exchanges answer a
        cancel with its id only) comes from ``known``, then ``state`` and zeros."""

        def number(key: str, before: Decimal | None) -> Decimal | None:
            found = exact(row.get(key))
            return before if found is None else found

        ident = row.get("id") or order_id or (known.id if known is not None and known.id else None)
        symbol = row.get("symbol") or market or (known.market if known is not None else None)
        if ident is None or symbol is None:
            raise ExchangeError(502, BAD_ANSWER, message="an order without its id or market")
        origin = number("amount", known.origin_volume if known else None)
        executed = number("filled", known.executed_volume if known else None)
        remaining = number("remaining", known.remaining_volume if known else None)
        status = STATES.get(str(row.get("status")))
        return Order(
            str(ident),
            str(symbol),
            str(row.get("side") or (known.side if known else "")),
            str(row.get("type") or (known.ord_type if known else "limit")),
            number("price", known.price if known else None),
            status or state or (known.state if known else "wait"),
            origin if origin is not None else Decimal(0),
            remaining if remaining is not None else Decimal(0),
            executed if executed is not None else Decimal(0),
            number("average", known.avg_price if known else None),
            None,
            row.get("clientOrderId") or (known.client_id if known else None),
        )


def _seconds(row: Mapping[str, Any]) -> int:
    stamp = row.get("timestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise ExchangeError(None, BAD_ANSWER, message="a trade without its time")
    return stamp // 1000


def _my_trade(row: Mapping[str, Any], market: str) -> MyTrade:
    return MyTrade(
        str(row["id"]),
        str(row.get("symbol") or market),
        str(row.get("order") or ""),
        str(row.get("side") or ""),
        amount_of(row["price"]),
        amount_of(row["amount"]),
        _seconds(row),
    )
