"""Peatio's public version, config and withdrawal limits, and the listing feeds in the
formats CoinMarketCap and CoinGecko publish, over a real engine and PostgreSQL."""

import json
from decimal import Decimal
from importlib.metadata import version
from typing import Any

import asyncpg
import httpx

from bursa.engine.commands import SELL, PlaceOrder
from tests.api.test_public import (
    SELLER,
    Api,
    api,
    assert_error,
    assert_pages,
    btc,
    trade_a_little,
    usdt,
)

__all__ = ["api"]

CMC = "/api/v2/peatio/coinmarketcap"
CG = "/api/v2/peatio/coingecko"
PAIRS = ["BTC_USDT", "ETH_USDT", "ETH_BTC", "BTC_USD"]


async def get(api: Api, path: str, **params: Any) -> httpx.Response:
    return await api.client.get(path, params=params)


def exact(response: httpx.Response) -> Any:
    """The body with its numbers read exactly (decimals, never floats)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return json.loads(response.text, parse_float=Decimal)


async def a_book_and_trades(api: Api) -> list[dict[str, Any]]:
    """``trade_a_little``'s four trades and resting orders, two more asks at 52000 and one
    at 53000; the public trades, newest first."""
    await trade_a_little(api)
    for index, price in enumerate(("52000", "52000", "53000")):
        await api.submit(
            PlaceOrder(
                key=f"more-{index}",
                member_id=SELLER,
                market="btcusdt",
                side=SELL,
                volume=btc("0.1"),
                price=usdt(price),
            )
        )
    await api.settle()
    trades: list[dict[str, Any]] = (await api.get("/markets/btcusdt/trades")).json()
    return trades


# ---------------------------------------------------------------------- version, limits, config


async def test_version_limits_and_config(api: Api, fresh_database_url: str) -> None:
    response = await api.get("/version")
    assert response.status_code == 200
    bursa = version("bursa")
    assert response.json() == {
        "git_tag": bursa,
        "git_sha": "",  # Bursa keeps no git metadata at run time: empty, not made up
        "build_date": "",
        "version": bursa,
    }

    conn = await asyncpg.connect(fresh_database_url)
    try:
        await conn.execute(
            """INSERT INTO withdraw_limits ("group", kyc_level, limit_24_hour, limit_1_month)
               VALUES ('any', 'any', 1000, 20000), ('vip-1', 'any', 5000.5, 0),
                      ('any', '3', 0, 100000)"""
        )
    finally:
        await conn.close()

    listed = await api.get("/withdraw_limits")
    assert listed.status_code == 200
    assert_pages(listed, 3, 1, 100)
    limits = listed.json()
    assert [
        (x["group"], x["kyc_level"], x["limit_24_hour"], x["limit_1_month"]) for x in limits
    ] == [
        ("any", "any", "1000", "20000"),
        ("vip-1", "any", "5000.5", "0"),
        ("any", "3", "0", "100000"),
    ]
    assert set(limits[0]) == {
        "id",
        "group",
        "kyc_level",
        "limit_24_hour",
        "limit_1_month",
        "created_at",
        "updated_at",
    }
    assert limits[0]["created_at"].endswith("+00:00")
    by_group = (await api.get("/withdraw_limits", group=" VIP-1 ")).json()
    assert [x["id"] for x in by_group] == [limits[1]["id"]]
    by_level = (await api.get("/withdraw_limits", kyc_level="3")).json()
    assert [x["id"] for x in by_level] == [limits[2]["id"]]
    largest_day = await api.get(
        "/withdraw_limits", order_by="limit_24_hour", ordering="desc", limit=2, page=1
    )
    assert [x["id"] for x in largest_day.json()] == [limits[1]["id"], limits[0]["id"]]
    assert_pages(largest_day, 3, 1, 2)
    second = await api.get("/withdraw_limits", ordering="desc", limit=2, page=2)
    assert [x["id"] for x in second.json()] == [limits[0]["id"]]

    config = await api.get("/config")
    assert config.status_code == 200
    body = config.json()
    assert set(body) == {
        "currencies",
        "markets",
        "trading_fees",
        "withdraw_limits",
        "member_levels",
        "platform_currency",
    }
    assert body["platform_currency"] == "usdt"
    assert body["currencies"] == (await api.get("/currencies")).json()
    assert body["markets"] == (await api.get("/markets")).json()
    assert body["trading_fees"] == (await api.get("/trading_fees")).json()
    assert body["withdraw_limits"] == limits
    assert body["member_levels"] == (await api.get("/member-levels")).json()
    assert [c["id"] for c in body["currencies"]] == ["btc", "eth", "usdt", "usd"]

    bad_limits: list[tuple[dict[str, Any], str]] = [
        ({"ordering": "up"}, "public.withdraw_limit.invalid_ordering"),
        ({"order_by": "name"}, "public.withdraw_limit.invalid_order_by"),
        ({"group": "g" * 33}, "public.withdraw_limit.invalid_group"),
        ({"kyc_level": "1" * 9}, "public.withdraw_limit.invalid_kyc_level"),
        ({"limit": 0}, "public.pagination.invalid_limit"),
        ({"limit": 1001}, "public.pagination.invalid_limit"),
        ({"page": "first"}, "public.pagination.invalid_page"),
    ]
    for params, code in bad_limits:
        assert_error(await api.get("/withdraw_limits", **params), 422, code)


# ---------------------------------------------------------------------- CoinMarketCap


async def test_coinmarketcap(api: Api) -> None:
    trades = await a_book_and_trades(api)

    summary = exact(await get(api, f"{CMC}/summary"))
    assert [row["trading_pairs"] for row in summary] == PAIRS
    assert summary[0] == {
        "trading_pairs": "BTC_USDT",
        "base_currency": "BTC",
        "quote_currency": "USDT",
        "last_price": Decimal("49000.5"),
        "lowest_ask": 51000,
        "highest_bid": Decimal("49000.5"),
        "base_volume": Decimal("0.65"),
        "quote_volume": Decimal("32550.025"),  # 10000 + 15000 + 5100 + 2450.025
        "price_change_percent_24h": -2,  # (49000.5 - 50000) / 50000, to two places
        "highest_price_24h": 51000,
        "lowest_price_24h": Decimal("49000.5"),
    }
    assert (summary[1]["last_price"], summary[1]["lowest_ask"], summary[1]["highest_bid"]) == (
        0,
        None,
        None,
    )
    raw = (await get(api, f"{CMC}/summary")).text
    assert '"quote_volume":32550.025' in raw  # a JSON number, written exactly

    assets = exact(await get(api, f"{CMC}/assets"))
    assert list(assets) == ["BTC", "ETH", "USDT", "USD"]
    assert assets["BTC"] == {
        "name": "Bitcoin",
        "can_withdraw": True,
        "can_deposit": True,
        "min_withdraw": Decimal("0.001"),
    }

    ticker = exact(await get(api, f"{CMC}/ticker"))
    assert list(ticker) == PAIRS
    assert ticker["BTC_USDT"] == {
        "last_price": Decimal("49000.5"),
        "base_volume": Decimal("0.65"),
        "quote_volume": Decimal("32550.025"),
        "isFrozen": 0,
    }

    book = exact(await get(api, f"{CMC}/orderbook/BTC_USDT"))
    assert set(book) == {"timestamp", "bids", "asks"}
    assert abs(book["timestamp"] - trades[0]["created_at"] * 1000) < 60_000
    assert book["asks"] == [
        [51000, Decimal("0.2")],
        [52000, Decimal("0.2")],
        [53000, Decimal("0.1")],
    ]
    assert book["bids"] == [[Decimal("49000.5"), Decimal("0.2")]]
    two = exact(await get(api, f"{CMC}/orderbook/btc_usdt", depth=2))
    assert (two["asks"], two["bids"]) == ([[51000, Decimal("0.2")]], book["bids"])
    best = exact(await get(api, f"{CMC}/orderbook/BTC_USDT", level=1))
    assert (best["asks"], best["bids"]) == ([[51000, Decimal("0.2")]], book["bids"])
    every_order = exact(await get(api, f"{CMC}/orderbook/BTC_USDT", level=3))
    assert every_order["asks"] == [
        [51000, Decimal("0.2")],
        [52000, Decimal("0.1")],
        [52000, Decimal("0.1")],
        [53000, Decimal("0.1")],
    ]
    empty = exact(await get(api, f"{CMC}/orderbook/ETH_BTC"))
    assert (empty["asks"], empty["bids"]) == ([], [])

    listed = exact(await get(api, f"{CMC}/trades/BTC_USDT"))
    assert [t["trade_id"] for t in listed] == [4, 3, 2, 1]
    assert listed[0] == {
        "trade_id": 4,
        "price": Decimal("49000.5"),
        "base_volume": Decimal("0.05"),
        "quote_volume": Decimal("2450.025"),
        "timestamp": listed[0]["timestamp"],
        "type": "sell",
    }
    assert listed[0]["timestamp"] // 1000 == trades[0]["created_at"]
    assert [t["type"] for t in listed[1:]] == ["buy", "buy", "buy"]
    assert exact(await get(api, f"{CMC}/trades/ETH_USDT")) == []

    refused: list[tuple[str, dict[str, Any], int, str]] = [
        ("/orderbook/DOGE_USDT", {}, 404, "record.not_found"),
        ("/orderbook/BTCUSDT", {}, 404, "record.not_found"),
        ("/orderbook/USDT_BTC", {}, 404, "record.not_found"),
        ("/orderbook/BTC_USDT", {"depth": 501}, 422, "coinmarketcap.market_depth.invalid_depth"),
        ("/orderbook/BTC_USDT", {"depth": -1}, 422, "coinmarketcap.market_depth.invalid_depth"),
        (
            "/orderbook/BTC_USDT",
            {"depth": "all"},
            422,
            "coinmarketcap.market_depth.non_integer_depth",
        ),
        ("/orderbook/BTC_USDT", {"level": 4}, 422, "coinmarketcap.market_depth.invalid_level"),
        ("/trades/DOGE_USDT", {}, 404, "record.not_found"),
    ]
    for path, params, status, code in refused:
        assert_error(await get(api, CMC + path, **params), status, code)


# ---------------------------------------------------------------------- CoinGecko


async def test_coingecko(api: Api) -> None:
    trades = await a_book_and_trades(api)
    now = trades[0]["created_at"]

    pairs = await get(api, f"{CG}/pairs")
    assert pairs.status_code == 200
    assert pairs.json()[0] == {"ticker_id": "BTC_USDT", "base": "BTC", "target": "USDT"}
    assert [p["ticker_id"] for p in pairs.json()] == PAIRS

    tickers = (await get(api, f"{CG}/tickers")).json()
    assert [t["ticker_id"] for t in tickers] == PAIRS
    assert tickers[0] == {
        "ticker_id": "BTC_USDT",
        "base_currency": "BTC",
        "target_currency": "USDT",
        "last_price": "49000.5",
        "base_volume": "0.65",
        "target_volume": "32550.025",
        "bid": "49000.5",
        "ask": "51000",
        "high": "51000",
        "low": "49000.5",
    }
    assert (tickers[1]["last_price"], tickers[1]["bid"], tickers[1]["ask"]) == ("0", None, None)

    book = (await get(api, f"{CG}/orderbook", ticker_id="BTC_USDT")).json()
    assert set(book) == {"ticker_id", "timestamp", "bids", "asks"}
    assert book["ticker_id"] == "BTC_USDT"
    assert book["asks"] == [["51000", "0.2"], ["52000", "0.2"], ["53000", "0.1"]]
    assert book["bids"] == [["49000.5", "0.2"]]
    four = (await get(api, f"{CG}/orderbook", ticker_id="btc_usdt", depth=4)).json()
    assert four["asks"] == book["asks"][:2]

    history = await get(api, f"{CG}/historical_trades", ticker_id="BTC_USDT")
    assert history.status_code == 200
    split = history.json()
    assert set(split) == {"buy", "sell"}
    assert [t["trade_id"] for t in split["buy"]] == [3, 2, 1]
    assert split["sell"] == [
        {
            "trade_id": 4,
            "price": "49000.5",
            "base_volume": "0.05",
            "target_volume": "2450.025",
            "trade_timestamp": split["sell"][0]["trade_timestamp"],
            "type": "sell",
        }
    ]
    assert split["sell"][0]["trade_timestamp"] // 1000 == now

    async def ids(**params: Any) -> tuple[list[int], list[int]]:
        found = (await get(api, f"{CG}/historical_trades", ticker_id="BTC_USDT", **params)).json()
        return [t["trade_id"] for t in found["buy"]], [t["trade_id"] for t in found["sell"]]

    assert await ids(type="sell") == ([], [4])
    assert await ids(type="buy", limit=2) == ([3, 2], [])
    assert await ids(limit=2) == ([3], [4])  # the newest two, whichever side
    oldest = trades[-1]["created_at"]
    assert await ids(start_time=oldest, end_time=now) == ([3, 2, 1], [4])  # both ends in
    assert await ids(start_time=now + 60) == ([], [])
    assert await ids(end_time=oldest - 60) == ([], [])

    refused: list[tuple[str, dict[str, Any], int, str]] = [
        ("/orderbook", {}, 422, "coingecko.market_depth.missing_ticker_id"),
        ("/orderbook", {"ticker_id": "DOGE_USDT"}, 404, "record.not_found"),
        ("/orderbook", {"ticker_id": "btcusdt"}, 404, "record.not_found"),
        (
            "/orderbook",
            {"ticker_id": "BTC_USDT", "depth": 1001},
            422,
            "coingecko.market_depth.invalid_depth",
        ),
        (
            "/orderbook",
            {"ticker_id": "BTC_USDT", "depth": "1.5"},
            422,
            "coingecko.market_depth.non_integer_depth",
        ),
        ("/historical_trades", {}, 422, "coingecko.historical_trades.missing_ticker_id"),
        ("/historical_trades", {"ticker_id": "ETH_DOGE"}, 404, "record.not_found"),
        (
            "/historical_trades",
            {"ticker_id": "BTC_USDT", "type": "hold"},
            422,
            "coingecko.historical_trades.invalid_type",
        ),
        (
            "/historical_trades",
            {"ticker_id": "BTC_USDT", "limit": 1001},
            422,
            "coingecko.historical_trades.invalid_limit",
        ),
        (
            "/historical_trades",
            {"ticker_id": "BTC_USDT", "limit": "ten"},
            422,
            "coingecko.historical_trades.non_integer_limit",
        ),
        (
            "/historical_trades",
            {"ticker_id": "BTC_USDT", "start_time": "yesterday"},
            422,
            "coingecko.historical_trades.non_integer_start_time",
        ),
        (
            "/historical_trades",
            {"ticker_id": "BTC_USDT", "end_time": -1},
            422,
            "coingecko.historical_trades.invalid_end_time",
        ),
    ]
    for path, params, status, code in refused:
        assert_error(await get(api, CG + path, **params), status, code)
