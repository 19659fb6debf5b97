"""A bot's REST driver for an OpenDAX-dialect exchange (Bursa, or any Peatio + Barong).

It talks as a third party does: Barong API-key headers on every private request, Peatio's
paths under ``<host>/api/v2/``, decimal strings both ways (never a float). Refusals come
back as one exception type, ``ExchangeError``, carrying the API's codes. Network failures
and 5xx answers are retried a bounded number of times with jittered backoff; a 4xx is the
exchange's answer and is never retried. Placing an order sends an ``Idempotency-Key`` kept
across its retries, so a retry after a lost answer cannot place the order twice on Bursa
(an exchange that ignores the header at least never sees a float or a changed body).

One client is one account: requests through it are spaced at least ``delay`` seconds apart.
"""

import asyncio
import hashlib
import hmac
import json
import os
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from bursa.bots.drivers.pacing import Pacer
from bursa.errors import HTTP_STATUS, BursaError, Refusal
from bursa.formats import decimal_text

API = "/api/v2/"
PAGE = 1000  # Peatio's largest page
UNREACHABLE = "bots.exchange_unreachable"
BAD_ANSWER = "bots.exchange_bad_answer"
_KIND_OF_STATUS = {status: kind for kind, status in HTTP_STATUS.items()}
_last_nonce: dict[str, int] = {}  # by kid: Barong accepts a nonce once, whoever sends it


class ExchangeError(BursaError):
    """The exchange refused (``status`` and its ``{"errors": [...]}`` codes), answered
    something unreadable, or could not be reached (``status`` None) after the retries."""

    def __init__(self, status: int | None, *codes: str, message: str = "") -> None:
        kind = Refusal.UNAVAILABLE if status is None else _KIND_OF_STATUS.get(status)
        super().__init__(kind or Refusal.UPSTREAM, *codes, message=message)
        self.status = status

    def __str__(self) -> str:
        """The codes, then what happened in words: ``bots.exchange_unreachable
        (http://127.0.0.1:8000: ConnectError)`` (a bare message would hide the code)."""
        codes = ", ".join(self.codes)
        if not self.message:
            return codes
        return f"{codes} ({self.message})" if codes else self.message


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A Barong API key. The secret never appears in a repr, log or error."""

    kid: str
    secret: str = field(repr=False)

    @classmethod
    def from_env(cls, kid_variable: str, secret_variable: str) -> "ApiKey":
        """The key from the environment (secrets are never kept in config files)."""
        kid, secret = os.environ.get(kid_variable), os.environ.get(secret_variable)
        if not kid or not secret:
            raise ValueError(f"set {kid_variable} and {secret_variable}")
        return cls(kid, secret)

    def headers(self) -> dict[str, str]:
        """Fresh signed headers: nonce = milliseconds, strictly increasing per key in this
        process (the private websocket and REST share it), signature = hex HMAC-SHA256 of
        nonce + kid."""
        nonce = max(int(time.time() * 1000), _last_nonce.get(self.kid, 0) + 1)
        _last_nonce[self.kid] = nonce
        stamp = str(nonce)
        signature = hmac.new(
            self.secret.encode(), (stamp + self.kid).encode(), hashlib.sha256
        ).hexdigest()
        return {"X-Auth-Apikey": self.kid, "X-Auth-Nonce": stamp, "X-Auth-Signature": signature}


def amount(value: object) -> Decimal:
    """A decimal from an answer: text or an integer (a JSON fraction is read as a Decimal
    by ``decode_json``); anything else is a bad answer."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ExchangeError(None, BAD_ANSWER, message="not a decimal")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise ExchangeError(None, BAD_ANSWER, message="not a decimal") from None
    if not number.is_finite():
        raise ExchangeError(None, BAD_ANSWER, message="not a finite decimal")
    return number


def _maybe(value: object) -> Decimal | None:
    return None if value is None or value == "" else amount(value)


Level = tuple[Decimal, Decimal]  # price, volume


@dataclass(frozen=True, slots=True)
class Market:
    id: str
    base_unit: str
    quote_unit: str
    amount_precision: int
    price_precision: int
    min_price: Decimal
    max_price: Decimal
    min_amount: Decimal
    state: str

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Market":
        return cls(
            str(row["id"]),
            str(row["base_unit"]),
            str(row["quote_unit"]),
            int(row["amount_precision"]),
            int(row["price_precision"]),
            amount(row["min_price"]),
            amount(row["max_price"]),
            amount(row["min_amount"]),
            str(row["state"]),
        )


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    balance: Decimal  # available
    locked: Decimal

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Balance":
        return cls(str(row["currency"]), amount(row["balance"]), amount(row["locked"]))


@dataclass(frozen=True, slots=True)
class Order:
    """An order as REST or the private ``order`` stream tells it (the stream carries no
    uuid or client id)."""

    id: int | str  # Peatio's are integers; other exchanges' (ccxt) may be text
    market: str
    side: str  # buy or sell
    ord_type: str
    price: Decimal | None
    state: str  # wait, done, cancel (Peatio also: pending, reject)
    origin_volume: Decimal
    remaining_volume: Decimal
    executed_volume: Decimal
    avg_price: Decimal | None
    uuid: str | None = None
    client_id: str | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Order":
        side = row.get("side") or ("buy" if row.get("kind") == "bid" else "sell")
        return cls(
            int(row["id"]),
            str(row["market"]),
            str(side),
            str(row["ord_type"]),
            _maybe(row.get("price")),
            str(row["state"]),
            amount(row["origin_volume"]),
            amount(row["remaining_volume"]),
            amount(row["executed_volume"]),
            _maybe(row.get("avg_price")),
            row.get("uuid"),
            row.get("client_id"),
        )


@dataclass(frozen=True, slots=True)
class MyTrade:
    """One of the account's trades, from its side (Peatio's ``market/trades`` row)."""

    id: str
    market: str
    order_id: str
    side: str  # buy or sell
    price: Decimal
    amount: Decimal  # base
    created_at: int  # Unix seconds

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "MyTrade":
        return cls(
            str(row["id"]),
            str(row["market"]),
            str(row["order_id"]),
            str(row["side"]),
            amount(row["price"]),
            amount(row["amount"]),
            _seconds(row["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """A trade of a market (Peatio's ``public/markets/<m>/trades`` row)."""

    id: str
    price: Decimal
    amount: Decimal
    taker_type: str  # buy or sell: the side that took
    created_at: int  # Unix seconds

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "PublicTrade":
        return cls(
            str(row["id"]),
            amount(row["price"]),
            amount(row["amount"]),
            str(row.get("taker_type") or ""),
            _seconds(row["created_at"]),
        )


def _seconds(value: object) -> int:
    """Peatio's times: Unix seconds, or ISO 8601 text."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return int(value)
    text = str(value)
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@dataclass(frozen=True, slots=True)
class Depth:
    asks: list[Level]  # best (lowest) first
    bids: list[Level]  # best (highest) first
    sequence: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Depth":
        return cls(levels(row["asks"]), levels(row["bids"]), int(row.get("sequence") or 0))


def levels(rows: Any) -> list[Level]:
    return [(amount(price), amount(volume)) for price, volume in rows]


def decode_json(text: str) -> Any:
    """JSON with fractions as exact Decimals (never floats)."""
    return json.loads(text, parse_float=Decimal)


def _codes(response: httpx.Response) -> list[str]:
    try:
        found = decode_json(response.text).get("errors")
    except (ValueError, AttributeError):
        found = None
    if isinstance(found, list) and found and all(isinstance(c, str) for c in found):
        return found
    return [f"http.{response.status_code}"]


@dataclass(frozen=True, slots=True)
class Retry:
    attempts: int = 4  # tries in all
    first_s: float = 0.2
    most_s: float = 3.0

    def pause(self, attempt: int) -> float:
        """Full jitter: bots of one operator must not retry in step."""
        return random.uniform(0, min(self.most_s, self.first_s * 2**attempt))  # noqa: S311


class OpenDaxClient:
    """Peatio's REST API for one account (``key`` None: public calls only)."""

    def __init__(
        self,
        host: str,
        key: ApiKey | None = None,
        *,
        delay: float = 0.0,
        retry: Retry = Retry(),
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.host = host.rstrip("/")
        self.key = key
        self._pacer = Pacer(delay)
        self.retry = retry
        self._http = httpx.AsyncClient(
            base_url=host.rstrip("/") + API, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> "OpenDaxClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ requests

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        signed: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One call (``path`` under ``/api/v2/``), retried on network errors and 5xx; a
        4xx raises ``ExchangeError`` at once."""
        content = None if body is None else json.dumps(body).encode()
        for attempt in range(self.retry.attempts):
            await self._pacer.wait_turn()
            sent = dict(headers or {})
            if content is not None:
                sent["Content-Type"] = "application/json"
            if signed:
                if self.key is None:
                    raise ExchangeError(401, "bots.no_api_key", message="an API key is needed")
                sent.update(self.key.headers())  # a fresh nonce on every attempt
            last = attempt + 1 == self.retry.attempts
            try:
                response = await self._http.request(
                    method, path, params=params, content=content, headers=sent
                )
            except httpx.TransportError as exc:
                if last:
                    raise ExchangeError(
                        None, UNREACHABLE, message=f"{self.host}: {type(exc).__name__}"
                    ) from None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code < 500 or last:
                    raise ExchangeError(response.status_code, *_codes(response))
            await asyncio.sleep(self.retry.pause(attempt))
        raise AssertionError("unreachable")  # the last attempt returns or raises

    async def _get(self, path: str, signed: bool = True, **params: str | int) -> Any:
        return decode_json((await self.request("GET", path, params=params, signed=signed)).text)

    async def _pages(self, path: str, limit: int, **params: str | int) -> list[Any]:
        """Every page of a list (until a short page, or the ``Total`` header is reached)."""
        rows: list[Any] = []
        page = 1
        while True:
            response = await self.request(
                "GET", path, params={**params, "limit": limit, "page": page}
            )
            found = decode_json(response.text)
            if not isinstance(found, list):
                raise ExchangeError(None, BAD_ANSWER, message="a list was expected")
            rows.extend(found)
            total = response.headers.get("Total", "")
            if len(found) < limit or (total.isdigit() and len(rows) >= int(total)):
                return rows
            page += 1

    # ------------------------------------------------------------------ public

    async def markets(self) -> list[Market]:
        rows = await self._get("peatio/public/markets", signed=False, limit=PAGE)
        return [Market.of(row) for row in rows]

    async def depth(self, market: str, limit: int = 300) -> Depth:
        return Depth.of(
            await self._get(f"peatio/public/markets/{market}/depth", signed=False, limit=limit)
        )

    async def public_trades(self, market: str, limit: int = 1000) -> list[PublicTrade]:
        """The market's latest trades, newest first."""
        rows = await self._get(f"peatio/public/markets/{market}/trades", signed=False, limit=limit)
        return [PublicTrade.of(row) for row in rows]

    # ------------------------------------------------------------------ private

    async def balances(self) -> dict[str, Balance]:
        rows = await self._pages("peatio/account/balances", PAGE)
        return {b.currency: b for b in map(Balance.of, rows)}

    async def open_orders(self, market: str, *, page_size: int = PAGE) -> list[Order]:
        """Every resting order of ``market``, all pages (an order that moved between
        pages while they were read is counted once)."""
        rows = await self._pages("peatio/market/orders", page_size, market=market, state="wait")
        unique = {int(row["id"]): row for row in rows}
        return [Order.of(row) for row in unique.values()]

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
        """A new order (``price`` None for a market order), as the exchange answered it."""
        body: dict[str, Any] = {
            "market": market,
            "side": side,
            "volume": decimal_text(volume),
            "ord_type": ord_type,
        }
        if price is not None:
            body["price"] = decimal_text(price)
        if client_id is not None:
            body["client_id"] = client_id
        if time_in_force is not None:  # gtc, ioc or fok (Bursa's; Peatio has none)
            body["time_in_force"] = time_in_force
        response = await self.request(
            "POST",
            "peatio/market/orders",
            body=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        return Order.of(decode_json(response.text))

    async def my_trades(self, market: str, *, since: int | None = None) -> list[MyTrade]:
        """The account's trades on ``market``, oldest first: from ``since`` (Unix seconds,
        inclusive) if given, else the latest page."""
        params: dict[str, str | int] = {"market": market, "order_by": "asc"}
        if since is not None:
            params["time_from"] = since
            rows = await self._pages("peatio/market/trades", PAGE, **params)
        else:
            rows = list(reversed(await self._get("peatio/market/trades", market=market)))
        return [MyTrade.of(row) for row in rows]

    async def cancel(self, order_id: int | str) -> Order:
        response = await self.request("POST", f"peatio/market/orders/{order_id}/cancel")
        return Order.of(decode_json(response.text))

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        """Cancel every open order (of ``market`` if named); the orders cancelled."""
        body = {} if market is None else {"market": market}
        response = await self.request("POST", "peatio/market/orders/cancel", body=body)
        return [Order.of(row) for row in decode_json(response.text)]
