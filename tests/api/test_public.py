"""The public API over a real engine runner and a real, demo-seeded PostgreSQL."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from bursa.api.app import create_app
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.commands import BUY, SELL, Command, Credit, PlaceOrder
from bursa.engine.order_uuids import order_uuid
from bursa.engine.runner import EngineRunner
from bursa.engine.units import to_units
from bursa.events.bus import InProcessBus
from bursa.identity.mail import MaildirMailer
from bursa.identity.service import Identity
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.candles import CandleWriter
from bursa.trading.market_data import Tickers
from bursa.trading.specs import load_specs

PUBLIC = "/api/v2/peatio/public"

# Peatio 2.6's flat Currency entity, and the Market, Order and PublicTrade entities.
CURRENCY_FIELDS = {
    "id",
    "name",
    "description",
    "homepage",
    "parent_id",
    "price",
    "explorer_transaction",
    "explorer_address",
    "type",
    "deposit_enabled",
    "withdrawal_enabled",
    "deposit_fee",
    "min_deposit_amount",
    "withdraw_fee",
    "min_withdraw_amount",
    "withdraw_limit_24h",
    "withdraw_limit_72h",
    "base_factor",
    "precision",
    "position",
    "icon_url",
    "min_confirmations",
}
CURRENCY_DECIMALS = {
    "deposit_fee",
    "min_deposit_amount",
    "withdraw_fee",
    "min_withdraw_amount",
    "withdraw_limit_24h",
    "withdraw_limit_72h",
}
MARKET_FIELDS = {
    "id",
    "symbol",
    "name",
    "type",
    "base_unit",
    "quote_unit",
    "min_price",
    "max_price",
    "min_amount",
    "amount_precision",
    "price_precision",
    "state",
}
ORDER_FIELDS = {
    "id",
    "uuid",
    "side",
    "ord_type",
    "price",
    "avg_price",
    "state",
    "market",
    "market_type",
    "created_at",
    "updated_at",
    "origin_volume",
    "remaining_volume",
    "executed_volume",
    "maker_fee",
    "taker_fee",
    "trades_count",
}
TRADE_FIELDS = {"id", "price", "amount", "total", "market", "created_at", "taker_type"}

SELLER, BUYER = 11, 12
SAT_PER_BTC = USDT_SUBUNITS = 100_000_000


@dataclass
class Api:
    client: httpx.AsyncClient
    runner: EngineRunner
    candles: CandleWriter

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(PUBLIC + path, params=params)

    async def submit(self, command: Command) -> dict[str, Any]:
        result = await self.runner.submit(command)
        assert result["error"] is None, result
        return result

    async def settle(self) -> None:
        """Let the candle writer count every committed trade (it follows them anyway;
        tests wait for it instead of sleeping)."""
        await self.candles.catch_up()


@asynccontextmanager
async def serving(url: str, keystore: LocalKeyStore) -> AsyncIterator[Api]:
    """The engine, the candle writer and the API over the database at ``url``, as
    ``bursa up`` composes them."""
    bus = InProcessBus()
    runner = EngineRunner(url, bus, load_specs)
    await runner.start()
    engine = create_engine(url, pool_size=3)
    sessions = create_session_factory(engine)
    candles = CandleWriter(sessions, bus, poll_s=0.2)
    await candles.start()
    identity = Identity(
        engine,
        MaildirMailer(keystore.key_file.parent / "mail"),
        keystore,
        session_ttl=timedelta(minutes=30),
        app_name="Bursa",
    )
    app = create_app(runner, sessions, identity, tickers=Tickers(candles))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bursa.test") as client:
            yield Api(client, runner, candles)
    finally:
        await candles.stop()
        await runner.stop()
        await identity.close()
        await engine.dispose()


@pytest.fixture
async def api(fresh_database_url: str, local_keystore: LocalKeyStore) -> AsyncIterator[Api]:
    async with serving(fresh_database_url, local_keystore) as api:
        yield api


def assert_error(response: httpx.Response, status: int, *codes: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"errors": list(codes)}


# ---------------------------------------------------------------------- health and time


async def test_alive(api: Api) -> None:
    response = await api.get("/health/alive")
    assert response.status_code == 200
    assert response.content == b""


async def test_ready_until_the_engine_stops(api: Api) -> None:
    response = await api.get("/health/ready")
    assert response.status_code == 200
    assert response.content == b""

    await api.runner.stop()

    assert (await api.get("/health/ready")).status_code == 503
    assert (await api.get("/health/alive")).status_code == 200


async def test_timestamp_is_an_iso_string_of_now(api: Api) -> None:
    response = await api.get("/timestamp")
    assert response.status_code == 200
    text = response.json()
    assert isinstance(text, str)
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    assert moment.microsecond == 0
    assert abs(datetime.now(UTC) - moment) < timedelta(seconds=5)


# ---------------------------------------------------------------------- currencies


def assert_pages(response: httpx.Response, total: int, page: int, per_page: int) -> None:
    assert response.headers["Total"] == str(total)
    assert response.headers["Page"] == str(page)
    assert response.headers["Per-Page"] == str(per_page)


async def test_currencies(api: Api) -> None:
    response = await api.get("/currencies")
    assert response.status_code == 200
    assert_pages(response, 4, 1, 100)
    listed = response.json()
    assert [c["id"] for c in listed] == ["btc", "eth", "usdt", "usd"]  # by position
    for currency in listed:
        assert set(currency) == CURRENCY_FIELDS
        for name in CURRENCY_DECIMALS:
            value = currency[name]
            assert isinstance(value, str), (name, value)
            assert "e" not in value.lower(), (name, value)  # plain notation
            if "." in value:  # and no trailing zeros
                assert not value.endswith(("0", ".")), (name, value)
        assert currency["base_factor"] == 10 ** currency["precision"]
    btc = listed[0]
    assert btc == {
        "id": "btc",
        "name": "Bitcoin",
        "description": "The first decentralised digital currency.",
        "homepage": "https://bitcoin.org",
        "parent_id": None,
        "price": None,
        "explorer_transaction": "",
        "explorer_address": "",
        "type": "coin",
        "deposit_enabled": True,
        "withdrawal_enabled": True,
        "deposit_fee": "0",
        "min_deposit_amount": "0.0001",
        "withdraw_fee": "0.0005",
        "min_withdraw_amount": "0.001",
        "withdraw_limit_24h": "10",
        "withdraw_limit_72h": "20",
        "base_factor": 100_000_000,
        "precision": 8,
        "position": 1,
        "icon_url": "",
        "min_confirmations": None,  # the demo sets up no blockchain
    }
    eth = listed[1]
    assert eth["base_factor"] == 10**18
    assert (eth["withdraw_limit_24h"], eth["withdraw_limit_72h"]) == ("100", "300")
    usd = listed[3]
    assert (usd["type"], usd["precision"], usd["withdraw_limit_24h"]) == ("fiat", 2, "50000")


@pytest.mark.parametrize(("kind", "codes"), [("coin", ["btc", "eth", "usdt"]), ("fiat", ["usd"])])
async def test_currencies_by_type(api: Api, kind: str, codes: list[str]) -> None:
    response = await api.get("/currencies", type=kind)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == codes
    assert {c["type"] for c in response.json()} == {kind}
    assert_pages(response, len(codes), 1, 100)


async def test_currencies_pages(api: Api) -> None:
    first = await api.get("/currencies", limit=3)
    second = await api.get("/currencies", limit=3, page=2)
    beyond = await api.get("/currencies", limit=3, page=3)

    assert [c["id"] for c in first.json()] == ["btc", "eth", "usdt"]
    assert [c["id"] for c in second.json()] == ["usd"]
    assert beyond.json() == []
    assert_pages(first, 4, 1, 3)
    assert_pages(second, 4, 2, 3)
    assert_pages(beyond, 4, 3, 3)


@pytest.mark.parametrize("code", ["btc", "BTC", "Btc"])
async def test_one_currency(api: Api, code: str) -> None:
    response = await api.get(f"/currencies/{code}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CURRENCY_FIELDS
    assert (body["id"], body["withdraw_fee"], body["precision"]) == ("btc", "0.0005", 8)
    listed = (await api.get("/currencies")).json()
    assert body == listed[0]


async def test_unknown_currency(api: Api) -> None:
    assert_error(await api.get("/currencies/doge"), 404, "public.currency.doesnt_exist")
    assert_error(await api.get("/currencies/" + "x" * 11), 422, "public.currency.doesnt_exist")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "public.pagination.invalid_limit"),
        ({"limit": 1001}, "public.pagination.invalid_limit"),
        ({"limit": "abc"}, "public.pagination.invalid_limit"),
        ({"limit": "1.5"}, "public.pagination.invalid_limit"),
        ({"page": 0}, "public.pagination.invalid_page"),
        ({"page": "first"}, "public.pagination.invalid_page"),
        ({"type": "stock"}, "public.currency.invalid_type"),
    ],
)
async def test_currencies_bad_parameters(api: Api, params: dict[str, Any], code: str) -> None:
    assert_error(await api.get("/currencies", **params), 422, code)


# ---------------------------------------------------------------------- markets


async def test_markets(api: Api) -> None:
    response = await api.get("/markets")
    assert response.status_code == 200
    assert_pages(response, 4, 1, 100)
    listed = response.json()
    assert [m["id"] for m in listed] == ["btcusdt", "ethusdt", "ethbtc", "btcusd"]
    for market in listed:
        assert set(market) == MARKET_FIELDS
        assert market["symbol"] == market["id"]
        assert market["type"] == "spot"
        assert market["state"] == "enabled"
        assert market["name"] == f"{market['base_unit']}/{market['quote_unit']}".upper()
    assert listed[0] == {
        "id": "btcusdt",
        "symbol": "btcusdt",
        "name": "BTC/USDT",
        "type": "spot",
        "base_unit": "btc",
        "quote_unit": "usdt",
        "min_price": "0.01",
        "max_price": "0",
        "min_amount": "0.0001",
        "amount_precision": 6,
        "price_precision": 2,
        "state": "enabled",
    }
    btcusd = listed[3]
    assert (btcusd["min_price"], btcusd["min_amount"]) == ("1", "0.01")
    assert (btcusd["amount_precision"], btcusd["price_precision"]) == (2, 0)


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"base_unit": "eth"}, ["ethusdt", "ethbtc"]),
        ({"base_unit": "BTC"}, ["btcusdt", "btcusd"]),
        ({"quote_unit": "usdt"}, ["btcusdt", "ethusdt"]),
        ({"quote_unit": "btc"}, ["ethbtc"]),
        ({"base_unit": "btc", "quote_unit": "usd"}, ["btcusd"]),
        ({"base_unit": "usdt"}, []),
    ],
)
async def test_markets_filtered(api: Api, params: dict[str, str], ids: list[str]) -> None:
    response = await api.get("/markets", **params)
    assert response.status_code == 200
    assert [m["id"] for m in response.json()] == ids
    assert_pages(response, len(ids), 1, 100)


async def test_markets_pages(api: Api) -> None:
    response = await api.get("/markets", limit=1, page=2)
    assert [m["id"] for m in response.json()] == ["ethusdt"]
    assert_pages(response, 4, 2, 1)


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"ordering": "desc"}, ["btcusd", "ethbtc", "ethusdt", "btcusdt"]),
        ({"order_by": "id"}, ["btcusd", "btcusdt", "ethbtc", "ethusdt"]),
        ({"order_by": "id", "ordering": "desc"}, ["ethusdt", "ethbtc", "btcusdt", "btcusd"]),
        ({"type": "qe"}, []),
        ({"search[base_code]": "ET"}, ["ethusdt", "ethbtc"]),
        ({"search[quote_code]": "usd"}, ["btcusdt", "ethusdt", "btcusd"]),
        ({"search[quote_name]": "tether"}, ["btcusdt", "ethusdt"]),
        (
            {"search[base_name]": "bit", "search[quote_code]": "btc"},
            ["btcusdt", "ethbtc", "btcusd"],
        ),
        ({"search[base_code]": "%"}, []),  # a wildcard is a plain character
        ({"search[base_code]": "doge"}, []),
    ],
)
async def test_markets_ordering_and_search(
    api: Api, params: dict[str, str], ids: list[str]
) -> None:
    response = await api.get("/markets", **params)
    assert response.status_code == 200
    assert [m["id"] for m in response.json()] == ids
    assert_pages(response, len(ids), 1, 100)


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"search[code]": "US"}, ["usdt", "usd"]),
        ({"search[name]": "coin"}, ["btc"]),
        ({"search[name]": "dollar", "search[code]": "eth"}, ["eth", "usd"]),
        ({"search[name]": "dollar", "type": "coin"}, []),
    ],
)
async def test_currencies_search(api: Api, params: dict[str, str], codes: list[str]) -> None:
    response = await api.get("/currencies", **params)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == codes


# ---------------------------------------------------------------------- fees and levels

FEE_FIELDS = {
    "id",
    "group",
    "market_id",
    "market_type",
    "maker",
    "taker",
    "created_at",
    "updated_at",
}


async def test_trading_fees(api: Api) -> None:
    response = await api.get("/trading_fees")
    assert response.status_code == 200
    assert_pages(response, 4, 1, 100)
    fees = response.json()
    assert [(f["id"], f["market_id"]) for f in fees] == [
        (-1, "btcusdt"),  # markets' own fees: no stored entry, negative ids
        (-2, "ethusdt"),
        (-3, "ethbtc"),
        (-4, "btcusd"),
    ]
    for fee in fees:
        assert set(fee) == FEE_FIELDS
        assert (fee["group"], fee["market_type"]) == ("any", "spot")
        assert (fee["maker"], fee["taker"]) == ("0.001", "0.002")
        assert datetime.fromisoformat(fee["created_at"]).tzinfo is not None
        datetime.fromisoformat(fee["updated_at"])

    desc = (await api.get("/trading_fees", ordering="desc", limit=2)).json()
    assert [f["id"] for f in desc] == [-4, -3]
    one = await api.get("/trading_fees", market_id="ETHBTC")
    assert [f["market_id"] for f in one.json()] == ["ethbtc"]
    assert_pages(one, 1, 1, 100)
    assert (await api.get("/trading_fees", group=" ANY ")).json() == fees
    for params in ({"group": "vip-0"}, {"market_id": "any"}, {"market_type": "qe"}):
        empty = await api.get("/trading_fees", **params)
        assert empty.json() == []
        assert_pages(empty, 0, 1, 100)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "public.pagination.invalid_limit"),
        ({"page": "x"}, "public.pagination.invalid_page"),
        ({"ordering": "up"}, "public.trading_fee.invalid_ordering"),
        ({"order_by": "maker"}, "public.trading_fee.invalid_order_by"),
        ({"market_type": "futures"}, "public.trading_fee.invalid_market_type"),
        ({"market_id": "x" * 21}, "public.trading_fee.invalid_market"),
    ],
)
async def test_trading_fees_bad_parameters(api: Api, params: dict[str, Any], code: str) -> None:
    assert_error(await api.get("/trading_fees", **params), 422, code)


async def test_member_levels(api: Api) -> None:
    response = await api.get("/member-levels")
    assert response.status_code == 200
    assert response.json() == {
        "deposit": {"minimum_level": 1},
        "withdraw": {"minimum_level": 3},
        "trading": {"minimum_level": 1},  # BURSA_MIN_TRADING_LEVEL; OpenDAX used 2
    }


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "public.pagination.invalid_limit"),
        ({"limit": "abc"}, "public.pagination.invalid_limit"),
        ({"page": -1}, "public.pagination.invalid_page"),
        ({"base_unit": "x" * 11}, "public.market.invalid_base_unit"),
        ({"quote_unit": "x" * 11}, "public.market.invalid_quote_unit"),
        ({"base_unit": "doge"}, "public.market.invalid_base_unit"),
        ({"quote_unit": "doge"}, "public.market.invalid_quote_unit"),
        ({"type": "futures"}, "public.market.invalid_type"),
        ({"ordering": "up"}, "public.market.invalid_ordering"),
        ({"order_by": "name"}, "public.market.invalid_order_by"),
    ],
)
async def test_markets_bad_parameters(api: Api, params: dict[str, Any], code: str) -> None:
    assert_error(await api.get("/markets", **params), 422, code)


# ---------------------------------------------------------------------- books and trades


def btc(amount: str) -> int:
    """Lots of btcusdt (amount precision 6)."""
    return to_units(amount, 6)


def usdt(price: str) -> int:
    """Ticks of btcusdt (price precision 2)."""
    return to_units(price, 2)


async def trade_a_little(api: Api) -> None:
    """Two members, four trades on btcusdt; one ask and one bid are left resting."""
    await api.submit(
        Credit(key="c1", member_id=SELLER, currency="btc", amount=2 * SAT_PER_BTC, deposit_id="1")
    )
    await api.submit(
        Credit(
            key="c2",
            member_id=BUYER,
            currency="usdt",
            amount=200_000 * USDT_SUBUNITS,
            deposit_id="2",
        )
    )
    orders = [
        (SELLER, SELL, "0.5", "50000"),
        (SELLER, SELL, "0.3", "51000"),
        (BUYER, BUY, "0.2", "50000"),  # trade 1: 0.2 at 50000
        (BUYER, BUY, "0.4", "51000"),  # trade 2: 0.3 at 50000, trade 3: 0.1 at 51000
        (BUYER, BUY, "0.25", "49000.5"),
        (SELLER, SELL, "0.05", "49000"),  # trade 4: 0.05 at 49000.5, the seller takes
    ]
    for index, (member, side, amount, price) in enumerate(orders):
        await api.submit(
            PlaceOrder(
                key=f"o{index}",
                member_id=member,
                market="btcusdt",
                side=side,
                volume=btc(amount),
                price=usdt(price),
            )
        )


async def test_order_book(api: Api, fresh_database_url: str) -> None:
    await trade_a_little(api)
    # An order written before the engine derived UUIDs from ids kept a random one: the
    # book answers the UUID the order has, whichever it is.
    conn = await asyncpg.connect(fresh_database_url)
    try:
        legacy = await conn.fetchval(
            "UPDATE orders SET uuid = gen_random_uuid() WHERE side = 'sell' AND state = 'wait'"
            " RETURNING uuid"
        )
        stored = dict(await conn.fetch("SELECT id, uuid::text FROM orders WHERE state = 'wait'"))
    finally:
        await conn.close()

    response = await api.get("/markets/btcusdt/order-book")

    assert response.status_code == 200
    book = response.json()
    assert set(book) == {"asks", "bids"}
    [ask] = book["asks"]
    [bid] = book["bids"]
    for order in (ask, bid):
        assert set(order) == ORDER_FIELDS
        assert order["state"] == "wait"
        assert (order["market"], order["market_type"], order["ord_type"]) == (
            "btcusdt",
            "spot",
            "limit",
        )
        assert (order["maker_fee"], order["taker_fee"]) == ("0.001", "0.002")
        assert order["trades_count"] == 1
        datetime.fromisoformat(order["created_at"])
        datetime.fromisoformat(order["updated_at"])
    assert ask["uuid"] == stored[ask["id"]] == str(legacy)
    assert bid["uuid"] == stored[bid["id"]] == order_uuid(bid["id"])
    assert ask["side"] == "sell"
    assert (ask["price"], ask["avg_price"]) == ("51000", "51000")
    assert (ask["origin_volume"], ask["remaining_volume"], ask["executed_volume"]) == (
        "0.3",
        "0.2",
        "0.1",
    )
    assert bid["side"] == "buy"
    assert (bid["price"], bid["avg_price"]) == ("49000.5", "49000.5")
    assert (bid["origin_volume"], bid["remaining_volume"], bid["executed_volume"]) == (
        "0.25",
        "0.2",
        "0.05",
    )


async def test_order_book_priority_and_limits(api: Api) -> None:
    await api.submit(
        Credit(key="c", member_id=SELLER, currency="btc", amount=SAT_PER_BTC, deposit_id="1")
    )
    asks = [("0.01", "50100"), ("0.02", "50000"), ("0.03", "50000"), ("0.04", "50200")]
    for index, (amount, price) in enumerate(asks):
        await api.submit(
            PlaceOrder(
                key=f"a{index}",
                member_id=SELLER,
                market="btcusdt",
                side=SELL,
                volume=btc(amount),
                price=usdt(price),
            )
        )

    everything = (await api.get("/markets/btcusdt/order-book")).json()
    two = (await api.get("/markets/BTCUSDT/order-book", asks_limit=2, bids_limit=1)).json()

    # Best (lowest) ask first, oldest first at one price.
    assert [(o["price"], o["origin_volume"]) for o in everything["asks"]] == [
        ("50000", "0.02"),
        ("50000", "0.03"),
        ("50100", "0.01"),
        ("50200", "0.04"),
    ]
    assert everything["bids"] == []
    assert two["asks"] == everything["asks"][:2]

    depth = (await api.get("/markets/btcusdt/depth")).json()
    assert depth["asks"] == [["50000", "0.05"], ["50100", "0.01"], ["50200", "0.04"]]
    assert (await api.get("/markets/btcusdt/depth", limit=1)).json()["asks"] == [["50000", "0.05"]]


async def test_depth(api: Api) -> None:
    await trade_a_little(api)

    response = await api.get("/markets/btcusdt/depth")

    assert response.status_code == 200
    depth = response.json()
    assert set(depth) == {"timestamp", "asks", "bids", "sequence"}
    assert depth["asks"] == [["51000", "0.2"]]
    assert depth["bids"] == [["49000.5", "0.2"]]
    assert depth["sequence"] == api.runner.committed_seq == 8  # 2 credits, 6 orders
    assert isinstance(depth["timestamp"], int)
    assert abs(depth["timestamp"] - datetime.now(UTC).timestamp()) < 5

    empty = (await api.get("/markets/ethbtc/depth")).json()
    assert (empty["asks"], empty["bids"], empty["sequence"]) == ([], [], 8)


async def test_trades_newest_first(api: Api) -> None:
    await trade_a_little(api)

    response = await api.get("/markets/btcusdt/trades")

    assert response.status_code == 200
    trades = response.json()
    for trade in trades:
        assert set(trade) == TRADE_FIELDS
        assert trade["market"] == "btcusdt"
        assert isinstance(trade["created_at"], int)
        assert abs(trade["created_at"] - datetime.now(UTC).timestamp()) < 10
    assert [(t["id"], t["price"], t["amount"], t["total"], t["taker_type"]) for t in trades] == [
        (4, "49000.5", "0.05", "2450.025", "sell"),
        (3, "51000", "0.1", "5100", "buy"),
        (2, "50000", "0.3", "15000", "buy"),
        (1, "50000", "0.2", "10000", "buy"),
    ]
    limited = (await api.get("/markets/btcusdt/trades", limit=2)).json()
    assert limited == trades[:2]
    assert (await api.get("/markets/ethusdt/trades")).json() == []


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/markets/dogeusdt/order-book", {}, 422, "public.market.doesnt_exist"),
        ("/markets/dogeusdt/depth", {}, 422, "public.market.doesnt_exist"),
        ("/markets/dogeusdt/trades", {}, 422, "public.market.doesnt_exist"),
        ("/markets/btc$usdt/depth", {}, 422, "public.market.doesnt_exist"),
        ("/markets/" + "x" * 21 + "/trades", {}, 422, "public.market.doesnt_exist"),
        (
            "/markets/btcusdt/order-book",
            {"asks_limit": 0},
            422,
            "public.order_book.invalid_ask_limit",
        ),
        (
            "/markets/btcusdt/order-book",
            {"asks_limit": "abc"},
            422,
            "public.order_book.non_integer_ask_limit",
        ),
        (
            "/markets/btcusdt/order-book",
            {"bids_limit": 201},
            422,
            "public.order_book.invalid_bid_limit",
        ),
        ("/markets/btcusdt/depth", {"limit": 0}, 422, "public.market_depth.invalid_limit"),
        (
            "/markets/btcusdt/depth",
            {"limit": "abc"},
            422,
            "public.market_depth.non_integer_limit",
        ),
        ("/markets/btcusdt/depth", {"limit": 1001}, 422, "public.market_depth.invalid_limit"),
        ("/markets/btcusdt/trades", {"limit": 0}, 422, "public.trade.invalid_limit"),
        ("/markets/btcusdt/trades", {"limit": "abc"}, 422, "public.trade.non_integer_limit"),
        ("/markets/btcusdt/trades", {"limit": -5}, 422, "public.trade.invalid_limit"),
        ("/no-such-thing", {}, 404, "record.not_found"),
        ("/markets/btcusdt", {}, 404, "record.not_found"),
    ],
)
async def test_bad_requests(
    api: Api, path: str, params: dict[str, Any], status: int, code: str
) -> None:
    assert_error(await api.get(path, **params), status, code)


async def test_two_bad_parameters_report_both_codes(api: Api) -> None:
    response = await api.get("/markets/btcusdt/order-book", asks_limit=0, bids_limit=0)
    assert_error(
        response,
        422,
        "public.order_book.invalid_ask_limit",
        "public.order_book.invalid_bid_limit",
    )


async def test_wrong_method(api: Api) -> None:
    response = await api.client.post(PUBLIC + "/timestamp")
    assert_error(response, 405, "server.method_not_allowed")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/timestamp"),
        ("POST", "/markets"),
        ("GET", "/markets/btcusdt/depth"),
        ("PUT", "/no-such-thing"),
    ],
)
async def test_oversized_body_is_refused_on_any_route(api: Api, method: str, path: str) -> None:
    body = b"x" * (64 * 1024 + 1)
    response = await api.client.request(method, PUBLIC + path, content=body)
    assert_error(response, 413, "server.request.body_too_large")


async def test_body_within_the_limit_passes(api: Api) -> None:
    response = await api.client.request("GET", PUBLIC + "/timestamp", content=b"x" * 1024)
    assert response.status_code == 200


async def test_openapi_document(api: Api) -> None:
    response = await api.client.get("/api/v2/peatio/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert PUBLIC + "/markets/{market}/depth" in paths
    assert PUBLIC + "/currencies/{id}" in paths
    assert "/api/v2/barong/identity/sessions" in paths
    for alias in ("/api/v2/peatio/swagger", "/api/v2/barong/swagger"):  # Peatio's and Barong's
        assert (await api.client.get(alias)).json()["paths"] == paths
    docs = await api.client.get("/api/v2/peatio/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text


async def test_values_postgresql_cannot_store_are_refused_not_crashed(api: Api) -> None:
    """A NUL character in text reaches no query: 422, like any other bad value."""
    response = await api.client.get(PUBLIC + "/markets", params={"base_unit": "bt\x00c"})
    assert response.status_code == 422
    assert response.json()["errors"]
