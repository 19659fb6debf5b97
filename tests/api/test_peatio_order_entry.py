"""Market makers' order entry over HTTP, on a real engine runner and PostgreSQL: trigger
orders (stop-limit, stop-market), one-cancels-the-other pairs, bulk requests with good and
bad items, and amending a resting order (keeping or losing its place in the queue)."""

from typing import Any

from websockets.asyncio.client import connect

from tests.api.members import (
    ACCOUNT,
    MARKET,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)
from tests.api.test_ranger import cookie_of, receive, served

ORDERS = f"{MARKET}/orders"


async def _traders(exchange: Exchange) -> tuple[Caller, Caller]:
    """Alice (session) with 2 BTC and 10,000 USDT; Bob (API key) with 2 BTC, 100,000 USDT."""
    alice = await exchange.member("alice@example.com")
    bob = await exchange.with_key(await exchange.member("bob@example.com"), "read,trade")
    await exchange.credit(alice, "btc", "2")
    await exchange.credit(alice, "usdt", "10000")
    await exchange.credit(bob, "btc", "2")
    await exchange.credit(bob, "usdt", "100000")
    return alice, bob


async def _balances(member: Caller) -> dict[str, tuple[str, str]]:
    found = await member.get(f"{ACCOUNT}/balances", nonzero="true")
    assert found.status_code == 200, found.text
    return {a["currency"]: (a["balance"], a["locked"]) for a in found.json()}


async def _order(member: Caller, order_id: int) -> dict[str, Any]:
    found = await member.get(f"{ORDERS}/{order_id}")
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


async def _trade(seller: Caller, buyer: Caller, price: str, volume: str = "0.01") -> None:
    """One trade at ``price``: it becomes the market's last trade price."""
    ask = await seller.post(
        ORDERS, {"market": "btcusdt", "side": "sell", "volume": volume, "price": price}
    )
    assert ask.status_code == 201, ask.text
    bid = await buyer.post(
        ORDERS, {"market": "btcusdt", "side": "buy", "volume": volume, "price": price}
    )
    assert bid.status_code == 201, bid.text
    assert bid.json()["state"] == "done", bid.text


async def test_a_stop_limit_waits_locked_then_fires_when_the_price_crosses(
    exchange: Exchange,
) -> None:
    alice, bob = await _traders(exchange)
    await _trade(bob, alice, "30000")

    stop = await alice.post(
        ORDERS,
        {
            "market": "btcusdt",
            "side": "sell",
            "ord_type": "stop_limit",
            "volume": "0.5",
            "price": "28000",
            "trigger_price": "29000",
        },
    )
    assert stop.status_code == 201, stop.text
    placed = stop.json()
    assert (placed["state"], placed["ord_type"]) == ("trigger_wait", "stop_limit")
    assert (placed["trigger_price"], placed["trigger_condition"]) == ("29000", "below")
    # Funds are locked at placement, and the order is nowhere in the book.
    assert await _balances(alice) == {"btc": ("1.50998", "0.5"), "usdt": ("9700", "0")}
    depth = await alice.get("/api/v2/peatio/public/markets/btcusdt/depth")
    assert depth.json()["asks"] == []
    waiting = await alice.get(ORDERS, state="trigger_wait")
    assert [o["id"] for o in waiting.json()] == [placed["id"]]

    # A trade at 29,500 does not cross it; one at 29,000 does, in that same commit.
    await _trade(bob, alice, "29500")
    assert (await _order(alice, placed["id"]))["state"] == "trigger_wait"
    bid = await bob.post(
        ORDERS, {"market": "btcusdt", "side": "buy", "volume": "0.2", "price": "28500"}
    )
    assert bid.status_code == 201
    await _trade(bob, alice, "29000")
    fired = await _order(alice, placed["id"])
    # It rested as a sell at 28,000, so it met Bob's bid at 28,500 at once.
    assert (fired["state"], fired["executed_volume"], fired["avg_price"]) == (
        "wait",
        "0.2",
        "28500",
    )
    await exchange.ledger_ok()


async def test_a_stop_order_already_crossed_or_malformed_is_refused(exchange: Exchange) -> None:
    alice, bob = await _traders(exchange)
    await _trade(bob, alice, "30000")
    before = await _balances(alice)
    stop = {"market": "btcusdt", "side": "buy", "ord_type": "stop_market", "volume": "0.1"}
    assert_error(
        await alice.post(ORDERS, stop | {"trigger_price": "29000"}),
        422,
        "market.order.trigger_already_crossed",
    )
    assert_error(await alice.post(ORDERS, stop), 422, "market.order.missing_trigger_price")
    assert_error(
        await alice.post(ORDERS, stop | {"trigger_price": "31000", "price": "31000"}),
        422,
        "market.order.market_order_price",
    )
    assert_error(
        await alice.post(
            ORDERS,
            {
                "market": "btcusdt",
                "side": "buy",
                "volume": "0.1",
                "price": "1",
                "trigger_price": "2",
            },
        ),
        422,
        "market.order.trigger_price_not_allowed",
    )
    assert_error(
        await alice.post(ORDERS, stop | {"trigger_price": "31000", "trigger_condition": "up"}),
        422,
        "market.order.invalid_trigger_condition",
    )
    assert await _balances(alice) == before


async def test_an_oco_fires_its_stop_and_cancels_the_limit_in_one_commit(
    exchange: Exchange,
) -> None:
    alice, bob = await _traders(exchange)
    await _trade(bob, alice, "30000")

    pair = await alice.post(
        f"{ORDERS}/oco",
        {
            "market": "btcusdt",
            "side": "sell",
            "volume": "1",
            "price": "32000",
            "trigger_price": "29000",
            "client_id": "oco-1",
        },
    )
    assert pair.status_code == 201, pair.text
    limit, stop = pair.json()
    assert (limit["ord_type"], limit["state"], limit["client_id"]) == ("limit", "wait", "oco-1")
    assert (stop["ord_type"], stop["state"]) == ("stop_market", "trigger_wait")
    assert (limit["oco_id"], stop["oco_id"]) == (stop["id"], limit["id"])
    # The pair locks one BTC once, not twice.
    assert (await _balances(alice))["btc"] == ("1.00998", "1")

    bid = await bob.post(
        ORDERS, {"market": "btcusdt", "side": "buy", "volume": "2", "price": "28000"}
    )
    assert bid.status_code == 201
    await _trade(bob, alice, "29000")
    assert (await _order(alice, limit["id"]))["state"] == "cancel"
    fired = await _order(alice, stop["id"])
    assert (fired["state"], fired["executed_volume"]) == ("done", "1")
    assert (await _balances(alice))["btc"] == ("1.01996", "0")
    await exchange.ledger_ok()


async def test_cancelling_one_leg_of_an_oco_cancels_both(exchange: Exchange) -> None:
    alice, bob = await _traders(exchange)
    await _trade(bob, alice, "30000")
    pair = await alice.post(
        f"{ORDERS}/oco",
        {
            "market": "btcusdt",
            "side": "buy",
            "volume": "0.1",
            "price": "29000",
            "trigger_price": "31000",
            "stop_price": "31500",
        },
    )
    assert pair.status_code == 201, pair.text
    limit, stop = pair.json()
    # A buy pair locks the larger of its legs' costs: 0.1 at 31,500.
    assert (await _balances(alice))["usdt"] == ("6550", "3150")
    cancelled = await alice.post(f"{ORDERS}/{stop['id']}/cancel")
    assert cancelled.status_code == 201, cancelled.text
    assert (await _order(alice, limit["id"]))["state"] == "cancel"
    assert (await _balances(alice))["usdt"] == ("9700", "0")
    assert_error(
        await alice.post(
            f"{ORDERS}/oco",
            {
                "market": "btcusdt",
                "side": "buy",
                "volume": "0.1",
                "price": "32000",
                "trigger_price": "31000",
            },
        ),
        422,
        "market.order.invalid_oco_prices",
    )


async def test_a_bulk_request_answers_each_item_and_commits_the_good_ones(
    exchange: Exchange,
) -> None:
    _alice, bob = await _traders(exchange)
    await bob.post(
        ORDERS,
        {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "40000", "client_id": "a"},
    )
    second = await bob.post(
        ORDERS, {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "41000"}
    )
    asked = {
        "cancel": [{"client_id": "a"}, {"id": second.json()["id"]}, {"id": 999999}, {"x": 1}],
        "orders": [
            {"market": "btcusdt", "side": "buy", "volume": "0.1", "price": "20000"},
            {"market": "btcusdt", "side": "buy", "volume": "0.1", "price": "abc"},
            {"market": "nosuch", "side": "buy", "volume": "0.1", "price": "20000"},
            {"market": "btcusdt", "side": "buy", "volume": "1000", "price": "20000"},
            {"market": "btcusdt", "side": "buy", "volume": "0.123456789", "price": "20000"},
            {"market": "btcusdt", "side": "sell", "volume": "0.2", "price": "45000"},
        ],
    }
    answer = await bob.post(f"{ORDERS}/bulk", asked, headers={"Idempotency-Key": "bulk-1"})
    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert [c.get("state") or c["errors"] for c in found["cancelled"]] == [
        "cancel",
        "cancel",
        ["record.not_found"],
        ["market.order.invalid_bulk_item"],
    ]
    assert [o.get("state") or o["errors"] for o in found["orders"]] == [
        "wait",
        ["market.order.non_decimal_price"],
        ["market.market.doesnt_exist_or_not_enabled"],
        ["market.account.insufficient_balance"],
        ["market.order.invalid_volume_or_price"],
        "wait",
    ]
    # The good items are committed together: one engine command.
    placed = [found["orders"][0]["id"], found["orders"][5]["id"]]
    seqs = await exchange.sql(
        "SELECT DISTINCT seq FROM orders WHERE id = ANY($1::bigint[])", placed
    )
    assert len(seqs) == 1
    # A retry with the same key is applied once.
    again = await bob.post(f"{ORDERS}/bulk", asked, headers={"Idempotency-Key": "bulk-1"})
    assert again.status_code == 201
    assert [o.get("id") for o in again.json()["orders"]] == [o.get("id") for o in found["orders"]]
    open_orders = await bob.get(ORDERS, state="wait")
    assert sorted(o["id"] for o in open_orders.json()) == sorted(placed)
    assert_error(await bob.post(f"{ORDERS}/bulk", {}), 422, "market.order.too_many_orders")
    assert_error(
        await bob.post(f"{ORDERS}/bulk", {"cancel": [{"id": 1}] * 101}),
        422,
        "market.order.too_many_orders",
    )
    await exchange.ledger_ok()


async def test_amend_keeps_priority_when_shrinking_and_loses_it_otherwise(
    exchange: Exchange,
) -> None:
    alice, bob = await _traders(exchange)
    first = await alice.post(
        ORDERS,
        {"market": "btcusdt", "side": "sell", "volume": "0.5", "price": "40000", "client_id": "m1"},
    )
    second = await bob.post(
        ORDERS, {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "40000"}
    )
    first_id = first.json()["id"]

    shrunk = await alice.post(f"{ORDERS}/{first_id}/amend", {"volume": "0.3"})
    assert shrunk.status_code == 201, shrunk.text
    assert (shrunk.json()["id"], shrunk.json()["remaining_volume"]) == (first_id, "0.3")
    assert (await _balances(alice))["btc"] == ("1.7", "0.3")
    # Still first in the queue: a buy of 0.3 fills Alice's order, not Bob's.
    taker = await bob.post(
        ORDERS, {"market": "btcusdt", "side": "buy", "volume": "0.3", "price": "40000"}
    )
    assert taker.json()["state"] == "done"
    assert (await _order(alice, first_id))["state"] == "done"

    again = await alice.post(
        ORDERS,
        {"market": "btcusdt", "side": "sell", "volume": "0.5", "price": "40000", "client_id": "m2"},
    )
    grown = await alice.post(f"{ORDERS}/{again.json()['id']}/amend", {"volume": "0.6"})
    assert grown.status_code == 201, grown.text
    replaced = grown.json()
    assert replaced["id"] != again.json()["id"]
    assert (replaced["client_id"], replaced["remaining_volume"]) == ("m2", "0.6")
    assert (await _order(alice, again.json()["id"]))["state"] == "cancel"
    # Now behind Bob's order at the same price: a buy of 0.1 fills Bob's first.
    await alice.post(
        ORDERS, {"market": "btcusdt", "side": "buy", "volume": "0.1", "price": "40000"}
    )
    assert (await _order(bob, second.json()["id"]))["state"] == "done"
    assert (await _order(alice, replaced["id"]))["remaining_volume"] == "0.6"

    moved = await alice.post(f"{ORDERS}/{replaced['id']}/amend", {"price": "41000"})
    assert (moved.json()["price"], moved.json()["client_id"]) == ("41000", "m2")
    before = await _balances(alice)
    assert_error(
        await alice.post(f"{ORDERS}/{moved.json()['id']}/amend", {"volume": "100"}),
        422,
        "market.account.insufficient_balance",
    )
    assert_error(
        await alice.post(f"{ORDERS}/{moved.json()['id']}/amend", {}),
        422,
        "market.order.amend_nothing",
    )
    assert_error(
        await bob.post(f"{ORDERS}/{moved.json()['id']}/amend", {"volume": "0.1"}),
        404,
        "record.not_found",
    )
    assert await _balances(alice) == before
    await exchange.ledger_ok()


async def test_the_private_websocket_shows_a_trigger_order_wait_then_fire(
    exchange: Exchange,
) -> None:
    alice, bob = await _traders(exchange)
    await _trade(bob, alice, "30000")
    async with (
        served(exchange.app) as ranger,
        connect(f"{ranger}/private?stream=order", additional_headers=cookie_of(alice)) as ws,
    ):
        stop = await alice.post(
            ORDERS,
            {
                "market": "btcusdt",
                "side": "sell",
                "ord_type": "stop_market",
                "volume": "0.1",
                "trigger_price": "29000",
            },
        )
        assert stop.status_code == 201, stop.text
        stop_id = stop.json()["id"]

        async def next_state() -> dict[str, Any]:
            while True:
                message = await receive(ws)
                if "order" in message and message["order"]["id"] == stop_id:
                    found: dict[str, Any] = message["order"]
                    return found

        waiting = await next_state()
        assert (waiting["state"], waiting["ord_type"]) == ("trigger_wait", "stop_market")
        assert (waiting["trigger_price"], waiting["trigger_condition"]) == ("29000", "below")
        await bob.post(
            ORDERS, {"market": "btcusdt", "side": "buy", "volume": "0.1", "price": "28000"}
        )
        await _trade(bob, alice, "29000")
        fired = await next_state()
        assert (fired["state"], fired["executed_volume"], fired["avg_price"]) == (
            "done",
            "0.1",
            "28000",
        )
