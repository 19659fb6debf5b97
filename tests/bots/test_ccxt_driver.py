"""The bots' ccxt driver against a real Bursa in this process, through ccxt's own machinery
(its aiohttp session, throttler, signing hooks and error handling) and the OpenDAX exchange
class: markets and precisions, a book equal to the OpenDAX driver's, trades, exact balances,
orders with client ids, an ioc that does not rest, own trades after a cross, refusals with
clear codes, an unreachable host. Other ccxt exchanges cannot be reached from here: they are
only built (nothing is sent)."""

import socket
import time
from decimal import Decimal

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
import pytest
from ccxt.base.decimal_to_precision import (  # type: ignore[import-untyped]
    DECIMAL_PLACES,
    SIGNIFICANT_DIGITS,
    TICK_SIZE,
)

from bursa.bots.config import AccountConfig, ccxt_exchange_ids
from bursa.bots.drivers.base import Driver
from bursa.bots.drivers.ccxt_driver import CcxtClient, UnsupportedMarket, decimal_places
from bursa.bots.drivers.ccxt_opendax import OpenDax
from bursa.bots.drivers.opendax import UNREACHABLE, ApiKey, ExchangeError, OpenDaxClient, Retry
from tests.bots.exchange import MARKET, Bursa

D = Decimal
SYMBOL = "BTC/USDT"
FAST = Retry(attempts=3, first_s=0.01, most_s=0.05)


def opendax(host: str | None) -> AccountConfig:
    return AccountConfig(id="ccxt-bursa", driver="ccxt", exchange="opendax", host=host)


def client_of(bursa: Bursa, key: ApiKey | None, *, delay: float = 0.0) -> CcxtClient:
    return CcxtClient.from_account(opendax(bursa.host), key, delay=delay, retry=FAST)


async def test_public_data_without_a_key_matches_the_opendax_driver(bursa: Bursa) -> None:
    async with (
        client_of(bursa, None) as public,
        OpenDaxClient(bursa.host) as direct,
        OpenDaxClient(bursa.host, bursa.alice) as alice,
        OpenDaxClient(bursa.host, bursa.bob) as bob,
    ):
        driver: Driver = public  # the runner's contract
        markets = {m.id: m for m in await driver.markets()}
        peatio = {m.id: m for m in await direct.markets()}[MARKET]
        btc = markets[SYMBOL]
        assert (btc.base_unit, btc.quote_unit, btc.state) == ("BTC", "USDT", "enabled")
        assert (btc.amount_precision, btc.price_precision) == (
            peatio.amount_precision,
            peatio.price_precision,
        )
        assert (btc.min_amount, btc.min_price) == (peatio.min_amount, peatio.min_price)

        for n in range(3):
            await alice.place(MARKET, "sell", D("0.123"), D("31000.5") + n)
            await alice.place(MARKET, "buy", D("0.0456"), D("29000.25") - n)
        depth = await public.depth(SYMBOL)
        assert depth == await direct.depth(MARKET)
        assert depth.asks[0] == (D("31000.5"), D("0.123"))
        assert depth.bids[0] == (D("29000.25"), D("0.0456"))
        assert all(isinstance(x, Decimal) for level in depth.asks + depth.bids for x in level)

        await bob.place(MARKET, "buy", D("0.1"), D("31000.5"))
        (trade,) = await public.public_trades(SYMBOL, limit=1)
        (expected,) = await direct.public_trades(MARKET, limit=1)
        assert trade == expected
        assert (trade.price, trade.amount, trade.taker_type) == (D("31000.5"), D("0.1"), "buy")
        await alice.cancel_all(MARKET)


async def test_place_open_orders_with_client_id_and_cancel(bursa: Bursa) -> None:
    async with (
        client_of(bursa, bursa.alice) as client,
        OpenDaxClient(bursa.host, bursa.alice) as direct,
    ):
        assert client.marks_orders
        before = await client.balances()
        expected = (await direct.balances())["usdt"]
        assert (before["USDT"].balance, before["USDT"].locked) == (
            expected.balance,
            expected.locked,
        )
        order = await client.place(SYMBOL, "buy", D("0.5"), D("1000.25"), client_id="bot.t.1")
        assert (order.state, order.price, order.origin_volume, order.client_id) == (
            "wait",
            D("1000.25"),
            D("0.5"),
            "bot.t.1",
        )
        after = await client.balances()
        assert after["USDT"].locked - before["USDT"].locked == D("500.125")
        assert before["USDT"].balance - after["USDT"].balance == D("500.125")
        (seen,) = await client.open_orders(SYMBOL)
        assert (seen.id, seen.market, seen.client_id, seen.remaining_volume) == (
            order.id,
            SYMBOL,
            "bot.t.1",
            D("0.5"),
        )
        assert [o.client_id for o in await direct.open_orders(MARKET)] == ["bot.t.1"]
        cancelled = await client.cancel(order.id)
        assert (cancelled.id, cancelled.state) == (order.id, "cancel")
        assert await client.open_orders(SYMBOL) == []
        assert (await client.balances())["USDT"] == before["USDT"]


async def test_an_ioc_order_does_not_rest_and_cancel_all(bursa: Bursa) -> None:
    async with client_of(bursa, bursa.alice) as client:
        ioc = await client.place(SYMBOL, "buy", D("0.01"), D("1000"), time_in_force="ioc")
        assert (ioc.state, ioc.executed_volume) == ("cancel", D(0))
        assert await client.open_orders(SYMBOL) == []

        placed = [await client.place(SYMBOL, "buy", D("0.01"), D(900 + n)) for n in range(3)]
        cancelled = await client.cancel_all(SYMBOL)
        assert sorted(o.id for o in cancelled) == sorted(o.id for o in placed)
        assert {o.state for o in cancelled} == {"cancel"}
        assert await client.open_orders(SYMBOL) == []


async def test_own_trades_after_a_cross_are_exact(bursa: Bursa) -> None:
    since = int(time.time())
    async with (
        client_of(bursa, bursa.alice) as alice,
        client_of(bursa, bursa.bob) as bob,
        OpenDaxClient(bursa.host, bursa.alice) as direct,
    ):
        maker = await alice.place(SYMBOL, "sell", D("0.0123"), D("30001.37"))
        taker = await bob.place(SYMBOL, "buy", D("0.0123"), D("30001.37"))
        assert (taker.state, taker.executed_volume) == ("done", D("0.0123"))

        sold = [t for t in await alice.my_trades(SYMBOL, since=since) if t.order_id == maker.id]
        bought = [t for t in await bob.my_trades(SYMBOL, since=since) if t.order_id == taker.id]
        assert [(t.side, t.price, t.amount, t.market) for t in sold] == [
            ("sell", D("30001.37"), D("0.0123"), SYMBOL)
        ]
        assert [(t.side, t.price, t.amount) for t in bought] == [
            ("buy", D("30001.37"), D("0.0123"))
        ]
        assert sold[0].id == bought[0].id and sold[0].created_at >= since
        same = [t for t in await direct.my_trades(MARKET, since=since) if t.id == sold[0].id]
        assert [(t.price, t.amount, t.created_at) for t in same] == [
            (sold[0].price, sold[0].amount, sold[0].created_at)
        ]
        latest = await alice.my_trades(SYMBOL)  # without since: the latest page
        assert sold[0].id in {t.id for t in latest}
        assert await alice.my_trades(SYMBOL, since=int(time.time()) + 3600) == []


async def test_refusals_have_clear_codes(bursa: Bursa) -> None:
    async with client_of(bursa, bursa.alice) as client:
        with pytest.raises(ExchangeError) as poor:
            await client.place(SYMBOL, "buy", D(1000), D(30000))  # 30M USDT, 10M held
        assert (poor.value.status, poor.value.codes) == (422, ["ccxt.insufficient_funds"])
        assert "market.account.insufficient_balance" in poor.value.message
        with pytest.raises(ExchangeError) as precise:
            await client.place(SYMBOL, "buy", D("0.1"), D("1000.001"))
        assert precise.value.codes == ["ccxt.invalid_order"]
        with pytest.raises(ExchangeError) as unknown:
            await client.place("NOPE/USDT", "buy", D(1), D(1))
        assert unknown.value.codes == ["bots.unknown_market"]
        with pytest.raises(ExchangeError) as gone:
            await client.cancel("999999999")
        assert (gone.value.status, gone.value.codes) == (404, ["ccxt.order_not_found"])
        assert await client.open_orders(SYMBOL) == []

    forged = ApiKey(bursa.alice.kid, "wrong-secret")
    async with client_of(bursa, forged) as client:
        with pytest.raises(ExchangeError) as unsigned:
            await client.balances()
        assert (unsigned.value.status, unsigned.value.codes) == (
            401,
            ["ccxt.authentication_error"],
        )
        assert "authz.invalid_signature" in unsigned.value.message
        assert "wrong-secret" not in str(unsigned.value)
    async with client_of(bursa, None) as keyless:
        with pytest.raises(ExchangeError) as anonymous:
            await keyless.balances()
        assert anonymous.value.codes == ["ccxt.authentication_error"]


async def test_an_unreachable_host_is_told_quickly() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CcxtClient.from_account(opendax(f"http://127.0.0.1:{port}"), None, retry=FAST)
    async with client:
        started = time.monotonic()
        with pytest.raises(ExchangeError) as unreachable:
            await client.markets()
        assert (unreachable.value.status, unreachable.value.codes) == (None, [UNREACHABLE])
        assert time.monotonic() - started < 2


async def test_requests_are_spaced_by_delay(bursa: Bursa) -> None:
    async with client_of(bursa, None, delay=0.1) as client:
        started = time.monotonic()
        for _ in range(3):
            await client.depth(SYMBOL)
        assert time.monotonic() - started >= 0.2


def test_from_account_refuses_what_it_cannot_build() -> None:
    with pytest.raises(ValueError, match='account "ccxt-bursa": exchange opendax needs host'):
        CcxtClient.from_account(opendax(None), None)
    unknown = AccountConfig(id="x", driver="ccxt", exchange="nosuchexchange")
    with pytest.raises(ValueError, match="'nosuchexchange' is not a ccxt exchange id"):
        CcxtClient.from_account(unknown, None)


async def test_a_known_ccxt_exchange_is_built_without_any_request() -> None:
    account = AccountConfig(id="binance", driver="ccxt", exchange="binance")
    async with CcxtClient.from_account(account, ApiKey("kid", "secret")) as client:
        exchange = client.exchange
        assert isinstance(exchange, ccxt_async.binance)
        assert (exchange.apiKey, exchange.secret, exchange.enableRateLimit) == (
            "kid",
            "secret",
            True,
        )
        assert exchange.number is str  # no amount through a float
        assert not client.marks_orders
        assert exchange.session is None  # no connection was ever opened
        assert exchange.urls["api"]["public"] == "https://api.binance.com/api/v3"
        # ccxt's base class reads book levels as floats: not through this driver.
        book = exchange.parse_order_book(
            {"bids": [["0.1", "123456789.123456789"]], "asks": [["9", "1"], ["10", "2"]]},
            "BTC/USDT",
        )
        assert book["bids"] == [[D("0.1"), D("123456789.123456789")]]
        assert [price for price, _ in book["asks"]] == [D(9), D(10)]  # sorted as numbers

    mirror = AccountConfig(id="b", driver="ccxt", exchange="binance", host="http://127.0.0.1:9")
    async with CcxtClient.from_account(mirror, None) as client:
        assert client.exchange.urls["api"]["public"] == "http://127.0.0.1:9/api/v3"
        assert client.exchange.session is None


def test_precision_in_decimal_places_whatever_the_mode() -> None:
    assert decimal_places("0.01", TICK_SIZE) == 2
    assert decimal_places(1e-08, TICK_SIZE) == 8
    assert decimal_places("1", TICK_SIZE) == 0
    assert decimal_places(6, DECIMAL_PLACES) == 6
    with pytest.raises(UnsupportedMarket, match=r"tick 0\.5 is not a power of ten"):
        decimal_places("0.5", TICK_SIZE)
    with pytest.raises(UnsupportedMarket, match="not a power of ten"):
        decimal_places("10", TICK_SIZE)
    with pytest.raises(UnsupportedMarket, match="significant-digit"):
        decimal_places(4, SIGNIFICANT_DIGITS)
    with pytest.raises(UnsupportedMarket, match="no precision"):
        decimal_places(None, TICK_SIZE)


def test_the_config_knows_ccxt_ids_without_importing_ccxt() -> None:
    assert ccxt_exchange_ids() == frozenset(ccxt_async.exchanges)


def test_the_opendax_class_has_ccxt_implicit_methods() -> None:
    exchange = OpenDax({"hostname": "exchange.example"})
    assert callable(exchange.public_get_markets_market_depth)
    assert callable(exchange.privatePostMarketOrdersIdCancel)  # ccxt's camelCase twin
    request = exchange.sign("markets/{market}/depth", ["public"], "GET", {"market": "btcusdt"})
    assert request["url"] == "https://exchange.example/api/v2/peatio/public/markets/btcusdt/depth"
