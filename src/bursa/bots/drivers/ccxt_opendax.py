"""A ccxt exchange for the OpenDAX dialect (Bursa, or any Peatio + Barong exchange).

Built as ccxt's own exchanges are: ``describe()`` declares the URLs, the ``api`` tree (from
which the implicit methods ``public_get_markets``, ``private_post_market_orders``… are made,
as ccxt's generated ``abstract`` classes make them), ``has`` and the precision mode;
``sign()`` adds Barong's API-key headers; the unified methods read Peatio's answers; and
``handle_errors`` turns ``{"errors": [...]}`` into ccxt's exceptions. So any ccxt user can
trade on Bursa, and the bots' ccxt driver is tested against a real Bursa through ccxt's own
machinery (throttling, signing, error handling)::

    exchange = OpenDax({"hostname": "exchange.example", "apiKey": kid, "secret": secret})
    await exchange.fetch_order_book("BTC/USDT")

Exactness: JSON fractions are read as their text (never a float) and levels of the book are
parsed with ``parse_number``, so with ``exchange.number = str`` no amount passes through a
float (ccxt's default ``float`` still works). Placing an order sends an ``Idempotency-Key``
(``params["idempotencyKey"]``, or a fresh one per call), so ccxt's retries cannot place it
twice on Bursa.
"""

import json
import re
import uuid
from typing import Any

from ccxt.async_support.base.exchange import Exchange  # type: ignore[import-untyped]
from ccxt.base.decimal_to_precision import TICK_SIZE  # type: ignore[import-untyped]
from ccxt.base.errors import (  # type: ignore[import-untyped]
    ArgumentsRequired,
    AuthenticationError,
    BadRequest,
    BadSymbol,
    DuplicateOrderId,
    ExchangeNotAvailable,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderImmediatelyFillable,
    OrderNotFound,
    PermissionDenied,
    RateLimitExceeded,
)
from ccxt.base.types import Entry  # type: ignore[import-untyped]

from bursa.bots.drivers.opendax import ApiKey

PAGE = 1000  # Peatio's largest page
IDEMPOTENCY = "idempotencyKey"  # a params key of create_order, sent as a header

# Paths under /api/v2/peatio/public and /api/v2/peatio, with their rate-limit cost.
API: dict[str, dict[str, dict[str, int]]] = {
    "public": {
        "get": {
            "markets": 1,
            "markets/{market}/depth": 1,
            "markets/{market}/trades": 1,
            "currencies": 1,
            "timestamp": 1,
        },
    },
    "private": {
        "get": {
            "account/balances": 1,
            "market/orders": 1,
            "market/orders/{id}": 1,
            "market/trades": 1,
        },
        "post": {
            "market/orders": 1,
            "market/orders/{id}/cancel": 1,
            "market/orders/cancel": 1,
        },
    },
}

# Peatio's order states as ccxt's statuses.
STATUSES = {
    "pending": "open",
    "wait": "open",
    "done": "closed",
    "cancel": "canceled",
    "reject": "rejected",
}


def implicit_methods(tree: dict[str, dict[str, dict[str, int]]]) -> dict[str, Any]:
    """ccxt's implicit-API descriptors for ``tree``, named as ccxt names them
    (``private_post_market_orders_id_cancel``; ccxt adds the camelCase twins itself)."""
    methods: dict[str, Any] = {}
    for section, verbs in tree.items():
        for verb, paths in verbs.items():
            for path, cost in paths.items():
                words = [word for word in re.split(r"[^A-Za-z0-9]+", path) if word]
                name = "_".join([section, verb, *words]).lower()
                methods[name] = Entry(path, [section], verb.upper(), {"cost": cost})
    return methods


class OpenDax(Exchange):  # type: ignore[misc]
    """Peatio's REST API (``/api/v2/peatio``) with Barong API keys, as a ccxt exchange."""

    def describe(self) -> Any:
        return self.deep_extend(
            super().describe(),
            {
                "id": "opendax",
                "name": "OpenDAX",
                "countries": [],
                "version": "v2",
                "rateLimit": 50,  # Bursa lets one key make 1,200 requests a minute
                "certified": False,
                "pro": False,
                "hostname": None,  # the exchange's host: required (or give urls.api)
                "has": {
                    "CORS": None,
                    "spot": True,
                    "margin": False,
                    "swap": False,
                    "future": False,
                    "option": False,
                    "cancelAllOrders": True,
                    "cancelOrder": True,
                    "createOrder": True,
                    "fetchBalance": True,
                    "fetchCurrencies": False,
                    "fetchMarkets": True,
                    "fetchMyTrades": True,
                    "fetchOpenOrders": True,
                    "fetchOrder": True,
                    "fetchOrderBook": True,
                    "fetchTrades": True,
                },
                "urls": {
                    "api": {
                        "public": "https://{hostname}/api/v2/peatio/public",
                        "private": "https://{hostname}/api/v2/peatio",
                    },
                    "www": "https://github.com/openware/opendax",
                    "doc": ["https://www.openware.com/sdk/docs/peatio/peatio-user-api-v2.html"],
                },
                "api": API,
                "requiredCredentials": {"apiKey": True, "secret": True},
                "precisionMode": TICK_SIZE,
                "features": {
                    "spot": {
                        "sandbox": False,
                        "createOrder": {
                            "marginMode": False,
                            "triggerPrice": False,
                            "triggerDirection": False,
                            "triggerPriceType": None,
                            "stopLossPrice": False,
                            "takeProfitPrice": False,
                            "attachedStopLossTakeProfit": None,
                            "timeInForce": {"IOC": True, "FOK": True, "PO": True, "GTD": False},
                            "hedged": False,
                            "trailing": False,
                            "leverage": False,
                            "marketBuyByCost": False,
                            "marketBuyRequiresPrice": False,
                            "selfTradePrevention": False,
                            "iceberg": False,
                        },
                        "createOrders": None,
                        "fetchMyTrades": {
                            "marginMode": False,
                            "limit": PAGE,
                            "daysBack": None,
                            "untilDays": None,
                            "symbolRequired": False,
                        },
                        "fetchOrder": {
                            "marginMode": False,
                            "trigger": False,
                            "trailing": False,
                            "symbolRequired": False,
                        },
                        "fetchOpenOrders": {
                            "marginMode": False,
                            "limit": None,
                            "trigger": False,
                            "trailing": False,
                            "symbolRequired": False,
                        },
                        "fetchOrders": None,
                        "fetchClosedOrders": None,
                        "fetchOHLCV": None,
                    },
                    "swap": {"linear": None, "inverse": None},
                    "future": {"linear": None, "inverse": None},
                },
                "exceptions": {
                    "exact": {
                        "market.account.insufficient_balance": InsufficientFunds,
                        "market.order.insufficient_market_liquidity": InvalidOrder,
                        "market.order.invalid_volume_or_price": InvalidOrder,
                        "market.order.duplicate_client_id": DuplicateOrderId,
                        "market.order.post_only_would_match": OrderImmediatelyFillable,
                        "market.order.invaild_id_or_uuid": OrderNotFound,  # sic, Peatio's
                        "record.not_found": OrderNotFound,
                        "market.market.doesnt_exist": BadSymbol,
                        "market.market.doesnt_exist_or_not_enabled": BadSymbol,
                        "authz.invalid_signature": AuthenticationError,
                        "authz.unexistent_apikey": AuthenticationError,
                        "authz.apikey_not_active": AuthenticationError,
                        "authz.invalid_api_key_headers": AuthenticationError,
                        "authz.invalid_permission": PermissionDenied,
                        "authz.insufficient_scope": PermissionDenied,
                        "authz.nonce_expired": InvalidNonce,
                        "authz.nonce_reused": InvalidNonce,
                        "authz.nonce_not_valid_timestamp": InvalidNonce,
                        "authz.rate_limit.exceeded": RateLimitExceeded,
                    },
                    "broad": {
                        "insufficient_balance": InsufficientFunds,
                        "market.order.": InvalidOrder,
                        "market.market.": BadSymbol,
                        "authz.": AuthenticationError,
                    },
                },
            },
        )

    # ------------------------------------------------------------------ transport

    def on_json_response(self, text: str) -> Any:
        """JSON fractions as their exact text (ccxt reads amounts with ``safe_string``)."""
        return json.loads(text, parse_float=str)

    def sign(
        self,
        path: str,
        api: Any = "public",
        method: str = "GET",
        params: Any = None,
        headers: Any = None,
        body: Any = None,
    ) -> dict[str, Any]:
        section = api[0] if isinstance(api, list) else api
        if self.hostname is None and "{hostname}" in self.urls["api"][section]:
            raise ArgumentsRequired(self.id + " needs a hostname (or urls.api) to reach")
        params = params or {}
        url = self.implode_hostname(self.urls["api"][section])
        url += "/" + self.implode_params(path, params)
        query = self.omit(params, self.extract_params(path))
        sent: dict[str, str] = {}
        idempotency = self.safe_string(query, IDEMPOTENCY)
        query = self.omit(query, IDEMPOTENCY)
        if idempotency is not None:
            sent["Idempotency-Key"] = idempotency
        if method == "GET":
            if query:
                url += "?" + self.urlencode(query)
        else:
            body = self.json(query)
            sent["Content-Type"] = "application/json"
        if section == "private":
            self.check_required_credentials()
            # Barong: nonce in ms, signature = hex HMAC-SHA256(secret, nonce + kid); the
            # nonce grows per key across this process (REST and websocket share it).
            sent.update(ApiKey(self.apiKey, self.secret).headers())
        return {"url": url, "method": method, "body": body, "headers": sent}

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Any,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> None:
        """Peatio's ``{"errors": [...]}`` as ccxt's exceptions (a known code first, then by
        the answer's status); other answers are left to ccxt's HTTP status handling."""
        errors = response.get("errors") if isinstance(response, dict) else None
        if not isinstance(errors, list) or not errors:
            return
        feedback = self.id + " " + body
        for error in errors:
            self.throw_exactly_matched_exception(self.exceptions["exact"], error, feedback)
        for error in errors:
            self.throw_broadly_matched_exception(self.exceptions["broad"], error, feedback)
        if code in (401, 403):
            raise AuthenticationError(feedback)
        if code == 404:
            raise OrderNotFound(feedback)
        if code == 429:
            raise RateLimitExceeded(feedback)
        if code >= 500:
            raise ExchangeNotAvailable(feedback)
        raise BadRequest(feedback)

    async def _pages(self, method: Any, request: dict[str, Any]) -> list[Any]:
        """Every page of a Peatio list (until a short page)."""
        rows: list[Any] = []
        page = 1
        while True:
            found = await method(self.extend(request, {"limit": PAGE, "page": page}))
            rows.extend(found)
            if len(found) < PAGE:
                return rows
            page += 1

    # ------------------------------------------------------------------ public

    async def fetch_markets(self, params: Any = None) -> list[Any]:
        rows = await self._pages(self.public_get_markets, self.extend({}, params or {}))
        return [self.parse_market(row) for row in rows]

    def parse_market(self, market: Any) -> Any:
        base_id = self.safe_string(market, "base_unit")
        quote_id = self.safe_string(market, "quote_unit")
        base = self.safe_currency_code(base_id)
        quote = self.safe_currency_code(quote_id)
        max_price = self.safe_string(market, "max_price")
        return self.safe_market_structure(
            {
                "id": self.safe_string(market, "id"),
                "symbol": base + "/" + quote,
                "base": base,
                "quote": quote,
                "baseId": base_id,
                "quoteId": quote_id,
                "type": "spot",
                "spot": True,
                "margin": False,
                "swap": False,
                "future": False,
                "option": False,
                "contract": False,
                "active": self.safe_string(market, "state") == "enabled",
                "precision": {
                    "amount": self.parse_number(
                        self.parse_precision(self.safe_string(market, "amount_precision"))
                    ),
                    "price": self.parse_number(
                        self.parse_precision(self.safe_string(market, "price_precision"))
                    ),
                },
                "limits": {
                    "amount": {"min": self.safe_number(market, "min_amount"), "max": None},
                    "price": {
                        "min": self.safe_number(market, "min_price"),
                        # Peatio's 0 is "no maximum"
                        "max": None if max_price in (None, "0") else self.parse_number(max_price),
                    },
                    "cost": {"min": None, "max": None},
                    "leverage": {"min": None, "max": None},
                },
                "created": None,
                "info": market,
            }
        )

    async def fetch_order_book(self, symbol: str, limit: Any = None, params: Any = None) -> Any:
        """The book as Peatio's ``depth`` tells it, best first (``nonce``: its sequence)."""
        await self.load_markets()
        market = self.market(symbol)
        request: dict[str, Any] = {"market": market["id"]}
        if limit is not None:
            request["limit"] = limit
        response = await self.public_get_markets_market_depth(self.extend(request, params or {}))
        timestamp = self.safe_timestamp(response, "timestamp")
        return {
            "symbol": market["symbol"],
            "bids": self.parse_order_book_bids_asks(self.safe_list(response, "bids", [])),
            "asks": self.parse_order_book_bids_asks(self.safe_list(response, "asks", [])),
            "timestamp": timestamp,
            "datetime": self.iso8601(timestamp),
            "nonce": self.safe_integer(response, "sequence"),
        }

    def parse_order_book_bid_ask(
        self, bidask: Any, price_key: Any = 0, amount_key: Any = 1, count_or_id_key: Any = 2
    ) -> Any:
        """A level as ``[price, amount]`` through ``parse_number`` (ccxt's base reads it as
        a float whatever ``number`` is)."""
        return [
            self.safe_number(bidask, price_key),
            self.safe_number(bidask, amount_key),
        ]

    async def fetch_trades(
        self, symbol: str, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        await self.load_markets()
        market = self.market(symbol)
        request: dict[str, Any] = {"market": market["id"]}
        if limit is not None:
            request["limit"] = min(limit, PAGE)
        response = await self.public_get_markets_market_trades(self.extend(request, params or {}))
        return self.parse_trades(response, market, since, limit)

    def parse_trade(self, trade: Any, market: Any = None) -> Any:
        """A public trade (``taker_type`` is the side that took) or one of the account's
        (``side`` is the account's, with its fee and order)."""
        market = self.safe_market(self.safe_string(trade, "market"), market)
        created = self.safe_string(trade, "created_at")
        if created is not None and created.isdigit():
            timestamp = self.safe_timestamp(trade, "created_at")
        else:
            timestamp = self.parse8601(created)
        taker_side = self.safe_string(trade, "taker_type")
        side = self.safe_string(trade, "side") or taker_side
        taker_or_maker = None
        if self.safe_string(trade, "order_id") is not None and taker_side:
            taker_or_maker = "taker" if side == taker_side else "maker"
        fee = None
        fee_cost = self.safe_string(trade, "fee_amount")
        if fee_cost is not None:
            fee = {
                "cost": fee_cost,
                "currency": self.safe_currency_code(self.safe_string(trade, "fee_currency")),
                "rate": self.safe_string(trade, "fee"),
            }
        return self.safe_trade(
            {
                "info": trade,
                "id": self.safe_string(trade, "id"),
                "order": self.safe_string(trade, "order_id"),
                "timestamp": timestamp,
                "datetime": self.iso8601(timestamp),
                "symbol": market["symbol"],
                "type": None,
                "side": side,
                "takerOrMaker": taker_or_maker,
                "price": self.safe_string(trade, "price"),
                "amount": self.safe_string(trade, "amount"),
                "cost": self.safe_string(trade, "total"),
                "fee": fee,
            },
            market,
        )

    # ------------------------------------------------------------------ private

    async def fetch_balance(self, params: Any = None) -> Any:
        await self.load_markets()
        rows = await self._pages(self.private_get_account_balances, self.extend({}, params or {}))
        result: dict[str, Any] = {"info": rows}
        for row in rows:
            account = self.account()
            account["free"] = self.safe_string(row, "balance")
            account["used"] = self.safe_string(row, "locked")
            result[self.safe_currency_code(self.safe_string(row, "currency"))] = account
        return self.safe_balance(result)

    async def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: Any,
        price: Any = None,
        params: Any = None,
    ) -> Any:
        """A limit or market order; ``params``: ``clientOrderId``, ``timeInForce`` (GTC,
        IOC, FOK or PO), ``postOnly``, ``idempotencyKey``."""
        await self.load_markets()
        market = self.market(symbol)
        params = params or {}
        request: dict[str, Any] = {
            "market": market["id"],
            "side": side,
            "ord_type": type,
            "volume": self.amount_to_precision(symbol, amount),
        }
        if type == "limit":
            request["price"] = self.price_to_precision(symbol, price)
        client_order_id = self.safe_string_2(params, "clientOrderId", "client_id")
        if client_order_id is not None:
            request["client_id"] = client_order_id
        time_in_force = self.safe_string_upper(params, "timeInForce")
        if time_in_force == "PO" or self.safe_bool(params, "postOnly", False):
            request["post_only"] = True
        elif time_in_force is not None:
            request["time_in_force"] = time_in_force.lower()
        request[IDEMPOTENCY] = self.safe_string(params, IDEMPOTENCY) or uuid.uuid4().hex
        params = self.omit(params, ["clientOrderId", "client_id", "timeInForce", "postOnly"])
        response = await self.private_post_market_orders(self.extend(request, params))
        return self.parse_order(response, market)

    async def cancel_order(self, id: str, symbol: Any = None, params: Any = None) -> Any:
        """``symbol`` is not needed: Peatio cancels by id (or uuid)."""
        await self.load_markets()
        response = await self.private_post_market_orders_id_cancel(
            self.extend({"id": id}, params or {})
        )
        return self.parse_order(response)

    async def cancel_all_orders(self, symbol: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        request: dict[str, Any] = {}
        market = None
        if symbol is not None:
            market = self.market(symbol)
            request["market"] = market["id"]
        response = await self.private_post_market_orders_cancel(self.extend(request, params or {}))
        return self.parse_orders(response, market)

    async def fetch_order(self, id: str, symbol: Any = None, params: Any = None) -> Any:
        await self.load_markets()
        response = await self.private_get_market_orders_id(self.extend({"id": id}, params or {}))
        return self.parse_order(response)

    async def fetch_open_orders(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        """Every resting order, all pages (one that moved between pages counted once)."""
        await self.load_markets()
        request: dict[str, Any] = {"state": "wait"}
        market = None
        if symbol is not None:
            market = self.market(symbol)
            request["market"] = market["id"]
        rows = await self._pages(self.private_get_market_orders, self.extend(request, params or {}))
        unique = list(self.index_by(rows, "id").values())
        return self.parse_orders(unique, market, since, limit)

    async def fetch_my_trades(
        self, symbol: Any = None, since: Any = None, limit: Any = None, params: Any = None
    ) -> Any:
        """The account's trades; from ``since`` (ms, read to the second) oldest first, else
        the latest."""
        await self.load_markets()
        request: dict[str, Any] = {"limit": min(limit or 100, PAGE)}
        market = None
        if symbol is not None:
            market = self.market(symbol)
            request["market"] = market["id"]
        if since is not None:
            request["time_from"] = self.parse_to_int(since / 1000)
            request["order_by"] = "asc"
        response = await self.private_get_market_trades(self.extend(request, params or {}))
        return self.parse_trades(response, market, since, limit)

    def parse_order(self, order: Any, market: Any = None) -> Any:
        market = self.safe_market(self.safe_string(order, "market"), market)
        timestamp = self.parse8601(self.safe_string(order, "created_at"))
        time_in_force = self.safe_string_upper(order, "time_in_force")
        post_only = self.safe_bool(order, "post_only")
        return self.safe_order(
            {
                "info": order,
                "id": self.safe_string(order, "id"),
                "clientOrderId": self.safe_string(order, "client_id"),
                "timestamp": timestamp,
                "datetime": self.iso8601(timestamp),
                "lastTradeTimestamp": None,
                "lastUpdateTimestamp": self.parse8601(self.safe_string(order, "updated_at")),
                "symbol": market["symbol"],
                "type": self.safe_string(order, "ord_type"),
                "timeInForce": "PO" if post_only else time_in_force,
                "postOnly": post_only,
                "side": self.safe_string(order, "side"),
                "price": self.safe_string(order, "price"),
                "triggerPrice": None,
                "amount": self.safe_string(order, "origin_volume"),
                "filled": self.safe_string(order, "executed_volume"),
                "remaining": self.safe_string(order, "remaining_volume"),
                "average": self.safe_string(order, "avg_price"),
                "cost": None,
                "status": self.safe_string(STATUSES, self.safe_string(order, "state")),
                "fee": None,
                "trades": self.safe_list(order, "trades", []),
            },
            market,
        )


for _name, _entry in implicit_methods(API).items():
    setattr(OpenDax, _name, _entry)
    _entry.__set_name__(OpenDax, _name)
