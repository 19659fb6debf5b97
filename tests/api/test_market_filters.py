"""The filters of the member's order and trade lists and of cancel-all, over HTTP, with
orders in several markets: each filter Peatio's reference lists, and bad values."""

from tests.api.members import (
    MARKET,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

ORDERS = f"{MARKET}/orders"
NO_MARKET = "market.market.doesnt_exist"
BAD_TYPE = "market.market.invalid_market_type"


async def place(member: Caller, body: dict[str, str]) -> int:
    placed = await member.post(ORDERS, body)
    assert placed.status_code == 201, placed.text
    return int(placed.json()["id"])


async def ids(member: Caller, path: str, **params: object) -> list[int]:
    found = await member.get(path, **params)
    assert found.status_code == 200, found.text
    assert found.headers["Total"] == str(len(found.json()))
    return sorted(int(o["id"]) for o in found.json())


async def test_order_trade_and_cancel_filters(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.credit(alice, "btc", "1")
    await exchange.credit(alice, "eth", "10")
    await exchange.credit(bob, "usdt", "100000")
    btcusdt = await place(
        alice, {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "40000"}
    )
    ethusdt = await place(
        alice, {"market": "ethusdt", "side": "sell", "volume": "1", "price": "3000"}
    )
    ethbtc = await place(
        alice, {"market": "ethbtc", "side": "sell", "volume": "1", "price": "0.07"}
    )
    bought = await place(
        bob, {"market": "btcusdt", "side": "buy", "volume": "0.1", "ord_type": "market"}
    )
    everything = sorted([btcusdt, ethusdt, ethbtc])

    # Market currencies: a base or quote unit, either case, alone or together.
    assert await ids(alice, ORDERS, base_unit="eth") == [ethusdt, ethbtc]
    assert await ids(alice, ORDERS, base_unit="BTC") == [btcusdt]
    assert await ids(alice, ORDERS, quote_unit="btc") == [ethbtc]
    assert await ids(alice, ORDERS, quote_unit="usdt") == [btcusdt, ethusdt]
    assert await ids(alice, ORDERS, base_unit="eth", quote_unit="usdt") == [ethusdt]
    assert await ids(alice, ORDERS, base_unit="btc", quote_unit="btc") == []
    # Several markets (the parameter repeated), market types, and the other filters.
    assert await ids(alice, ORDERS, market=["btcusdt", "ETHBTC"]) == [btcusdt, ethbtc]
    assert await ids(alice, ORDERS, market_type="spot") == everything
    assert await ids(alice, ORDERS, market_type="qe") == []
    assert await ids(alice, ORDERS, state="done") == [btcusdt]
    assert await ids(alice, ORDERS, state=["wait", "done"]) == everything
    assert await ids(alice, ORDERS, type="buy") == []
    assert await ids(bob, ORDERS, ord_type="market") == [bought]
    assert await ids(bob, ORDERS, ord_type="limit") == []
    assert await ids(alice, ORDERS, time_to=0) == []
    assert await ids(alice, ORDERS, time_from=0, order_by="asc", limit=3, page=1) == everything
    # Bad values: each answers its code and nothing else.
    for params, code in (
        ({"base_unit": "usdt"}, NO_MARKET),  # no market is based in usdt
        ({"quote_unit": "eth"}, NO_MARKET),
        ({"base_unit": "x" * 11}, NO_MARKET),
        ({"market": ["btcusdt", "nope"]}, NO_MARKET),
        ({"market_type": "futures"}, BAD_TYPE),
        ({"ord_type": "stop"}, "market.order.invalid_ord_type"),
        ({"state": "open"}, "market.order.invalid_state"),
    ):
        assert_error(await alice.get(ORDERS, **params), 422, code)

    # Trades: market(s) and market type.
    trades = f"{MARKET}/trades"
    assert len(await ids(alice, trades)) == 1
    assert len(await ids(alice, trades, market=["ethusdt", "btcusdt"], market_type="spot")) == 1
    assert await ids(alice, trades, market="ethusdt") == []
    assert await ids(alice, trades, market_type="qe") == []
    assert_error(await alice.get(trades, market_type="perp"), 422, BAD_TYPE)
    assert_error(await alice.get(trades, market="nope"), 422, NO_MARKET)

    # Cancel all: qe cancels nothing; a bad type or market is refused.
    cancel = f"{ORDERS}/cancel"
    none = await alice.post(cancel, {"market_type": "qe"})
    assert (none.status_code, none.json()) == (201, [])
    assert_error(await alice.post(cancel, {"market_type": "margin"}), 422, BAD_TYPE)
    assert_error(await alice.post(cancel, {"market_type": "qe", "market": "nope"}), 422, NO_MARKET)
    assert await ids(alice, ORDERS, state="wait") == [ethusdt, ethbtc]
    one = await alice.post(cancel, {"market": "ethbtc", "market_type": "spot", "side": "sell"})
    assert [o["id"] for o in one.json()] == [ethbtc]
    assert await ids(alice, ORDERS, state="wait") == [ethusdt]
