"""Order entry and cancel-on-disconnect over a real websocket (uvicorn, the engine runner,
PostgreSQL): each request answered with its id after the commit, bad requests answered
with REST's codes and changing nothing, and a dropped connection's orders cancelled once
its grace period is over, not before."""

import asyncio
import time
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from bursa.api.peatio.market.rate_limit import OrderEntryLimits
from bursa.api.ranger.order_entry import MOST_GRACE_S
from bursa.identity.limits import Rule
from tests.api.members import MARKET, Caller, Exchange, exchange  # noqa: F401
from tests.api.test_peatio_market import balances, traders
from tests.api.test_ranger import cookie_of, ranger, receive  # noqa: F401

LIMIT = {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "40000"}


async def request(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    """Send ``message`` and wait for the answer naming its id (stream frames skipped)."""
    await ws.send(orjson.dumps(message).decode())
    while True:
        found = await receive(ws)
        if isinstance(found, dict) and "event" in found and found.get("id") == message.get("id"):
            return found


def private(ranger: str, member: Caller, streams: str = "") -> Any:
    """A private connection of ``member``: their session cookie, or their signed key."""
    headers = member._headers(False) if member.key is not None else cookie_of(member)
    return connect(f"{ranger}/private{streams}", additional_headers=headers)


async def open_orders(member: Caller) -> list[dict[str, Any]]:
    found = await member.get(f"{MARKET}/orders", state="wait")
    assert found.status_code == 200, found.text
    orders: list[dict[str, Any]] = found.json()
    return orders


async def test_place_cancel_and_cancel_all_answered_with_the_request_id(
    exchange: Exchange, ranger: str
) -> None:
    alice, bob = await traders(exchange)
    async with private(ranger, alice) as ws:
        placed = await request(ws, {"event": "order", "id": "r1", "params": LIMIT})
        assert placed["event"] == "order"
        order = placed["result"]
        assert order["state"] == "wait"
        assert order["side"] == "sell"
        assert order["price"] == "40000"
        assert order["remaining_volume"] == "0.1"
        # Committed: REST sees it, and the funds are locked.
        assert [o["id"] for o in await open_orders(alice)] == [order["id"]]
        assert (await balances(alice))["btc"] == ("0.9", "0.1")

        cancelled = await request(ws, {"event": "cancel", "id": 7, "params": {"id": order["id"]}})
        assert cancelled == {"event": "cancel", "id": 7, "result": cancelled["result"]}
        assert cancelled["result"]["id"] == order["id"]
        assert cancelled["result"]["state"] == "cancel"

        second = await request(ws, {"event": "order", "id": "r3", "params": LIMIT})
        by_uuid = {"uuid": second["result"]["uuid"].upper()}
        answer = await request(ws, {"event": "cancel", "id": "r4", "params": by_uuid})
        assert answer["result"]["state"] == "cancel"

        for n in range(3):
            await request(ws, {"event": "order", "id": f"p{n}", "params": LIMIT})
        everything = await request(
            ws, {"event": "cancel_all", "id": "r5", "params": {"market": "btcusdt"}}
        )
        assert len(everything["result"]) == 3
        assert {o["state"] for o in everything["result"]} == {"cancel"}
        assert await open_orders(alice) == []
        assert (await balances(alice))["btc"] == ("1", "0")

    # Bob, signed in with an API key, buys what Alice sells; his answer is the fill.
    async with private(ranger, alice) as a_ws, private(ranger, bob) as b_ws:
        ask = await request(a_ws, {"event": "order", "id": "a", "params": LIMIT})
        bid = LIMIT | {"side": "buy", "volume": "0.04", "price": "41000"}
        filled = await request(b_ws, {"event": "order", "id": "b", "params": bid})
        assert filled["result"]["state"] == "done"
        assert filled["result"]["avg_price"] == "40000"
        assert ask["result"]["state"] == "wait"
    await exchange.ledger_ok()


async def test_a_retry_with_the_same_idempotency_key_places_once(
    exchange: Exchange, ranger: str
) -> None:
    alice, _ = await traders(exchange)
    message = {"event": "order", "id": "x", "params": LIMIT, "idempotency_key": "k-1"}
    async with private(ranger, alice) as ws:
        first = await request(ws, message)
    async with private(ranger, alice) as ws:  # a retry after a reconnection
        again = await request(ws, message | {"id": "y"})
    assert again["result"]["id"] == first["result"]["id"]
    # REST's Idempotency-Key is the same key: a retry there answers the same order.
    rest = await alice.post(f"{MARKET}/orders", LIMIT, headers={"Idempotency-Key": "k-1"})
    assert rest.json()["id"] == first["result"]["id"]
    assert len(await open_orders(alice)) == 1


async def test_bad_requests_are_answered_with_codes_and_change_nothing(
    exchange: Exchange, ranger: str
) -> None:
    alice, _ = await traders(exchange)
    before = await balances(alice)
    refused: list[tuple[dict[str, Any], list[str]]] = [
        ({"params": LIMIT | {"volume": "-1"}}, ["market.order.non_positive_volume"]),
        ({"params": LIMIT | {"volume": "1e3"}}, ["market.order.non_decimal_volume"]),
        (
            {"params": {"market": "btcusdt", "side": "sell", "volume": "0.1"}},
            ["market.order.missing_price"],
        ),
        ({"params": LIMIT | {"market": "nosuch"}}, ["market.market.doesnt_exist_or_not_enabled"]),
        (
            {"params": LIMIT | {"side": "up", "price": "x"}},
            ["market.order.invalid_side", "market.order.non_decimal_price"],
        ),
        (
            {"params": LIMIT | {"price": "40000.123456789"}},
            ["market.order.invalid_volume_or_price"],
        ),
        ({"params": LIMIT | {"volume": "5"}}, ["market.account.insufficient_balance"]),
        ({"params": LIMIT | {"client_id": "no spaces"}}, ["market.order.invalid_client_id"]),
        (
            {"params": LIMIT, "idempotency_key": "bad key!"},
            ["market.order.invalid_idempotency_key"],
        ),
        ({"params": ["not", "an", "object"]}, ["ranger.invalid_params"]),
    ]
    async with private(ranger, alice) as ws:
        for n, (message, codes) in enumerate(refused):
            answer = await request(ws, {"event": "order", "id": f"bad{n}"} | message)
            assert answer == {"event": "order", "id": f"bad{n}", "errors": codes}, message
        for params, code in [
            ({"id": 999_999}, "record.not_found"),
            ({"id": "abc"}, "market.order.invaild_id_or_uuid"),
            (
                {"id": 1, "uuid": "00000000-0000-0000-0000-000000000000"},
                "market.order.invaild_id_or_uuid",
            ),
            ({}, "market.order.invaild_id_or_uuid"),
        ]:
            answer = await request(ws, {"event": "cancel", "id": "c", "params": params})
            assert answer["errors"] == [code], params
        answer = await request(ws, {"event": "cancel_all", "id": "ca", "params": {"side": "up"}})
        assert answer["errors"] == ["market.order.invalid_side"]
        for timeout in (-1, MOST_GRACE_S + 1, "5", True, None):
            arm = {"event": "cancel_on_disconnect", "id": "t", "params": {"timeout": timeout}}
            assert (await request(ws, arm))["errors"] == ["ranger.invalid_timeout"]
        # A request without a usable id is answered all the same, with a null id.
        await ws.send(orjson.dumps({"event": "order", "id": {"x": 1}, "params": LIMIT}).decode())
        assert await receive(ws) == {
            "event": "order",
            "id": None,
            "errors": ["ranger.invalid_request_id"],
        }
        # The connection stays open and still speaks Rango's protocol.
        await ws.send("ping")
        assert await receive(ws) == "pong"
    assert await open_orders(alice) == []
    assert await balances(alice) == before


async def test_order_entry_needs_a_member_allowed_to_trade(exchange: Exchange, ranger: str) -> None:
    alice, _ = await traders(exchange)
    async with connect(f"{ranger}/public") as ws:
        answer = await request(ws, {"event": "order", "id": 1, "params": LIMIT})
        assert answer["errors"] == ["authz.invalid_session"]
    reader = await exchange.with_key(alice, "read")  # may follow the streams, not trade
    async with private(ranger, reader) as ws:
        answer = await request(ws, {"event": "order", "id": 2, "params": LIMIT})
        assert answer["errors"] == ["authz.insufficient_scope"]
        await ws.send("ping")
        assert await receive(ws) == "pong"
    await exchange.sql("UPDATE users SET level = 0 WHERE id = $1", alice.id)
    async with private(ranger, alice) as ws:
        answer = await request(ws, {"event": "order", "id": 3, "params": LIMIT})
        assert answer["errors"] == ["market.trade.not_permitted"]
    assert await exchange.sql("SELECT id FROM orders WHERE member_id = $1", alice.id) == []


async def test_bulk_items_answered_each_in_its_place(exchange: Exchange, ranger: str) -> None:
    alice, _ = await traders(exchange)
    async with private(ranger, alice) as ws:
        first = await request(ws, {"event": "order", "id": 1, "params": LIMIT})
        await request(ws, {"event": "order", "id": 2, "params": LIMIT | {"client_id": "mm-2"}})
        bulk = {
            "cancel": [
                {"id": first["result"]["id"]},
                {"client_id": "mm-2"},
                {"id": 999_999},
                {"uuid": "x"},
            ],
            "orders": [
                LIMIT | {"price": "42000"},
                LIMIT | {"volume": "0"},
                LIMIT | {"volume": "50"},
            ],
        }
        answer = await request(ws, {"event": "bulk", "id": "b1", "params": bulk})
        cancelled, placed = answer["result"]["cancelled"], answer["result"]["orders"]
        assert [c.get("state") for c in cancelled[:2]] == ["cancel", "cancel"]
        assert cancelled[2:] == [
            {"errors": ["record.not_found"]},
            {"errors": ["market.order.invalid_bulk_item"]},
        ]
        assert placed[0]["state"] == "wait"
        assert placed[0]["price"] == "42000"
        assert placed[1:] == [
            {"errors": ["market.order.non_positive_volume"]},
            {"errors": ["market.account.insufficient_balance"]},
        ]
        assert [o["id"] for o in await open_orders(alice)] == [placed[0]["id"]]
        too_many = {"orders": [LIMIT] * 101}
        refused = await request(ws, {"event": "bulk", "id": "b2", "params": too_many})
        assert refused["errors"] == ["market.order.too_many_orders"]
        empty = await request(ws, {"event": "bulk", "id": "b3", "params": {}})
        assert empty["errors"] == ["market.order.too_many_orders"]
    assert [o["id"] for o in await open_orders(alice)] == [placed[0]["id"]]
    await exchange.ledger_ok()


async def test_amend_and_cancel_by_client_id(exchange: Exchange, ranger: str) -> None:
    alice, _ = await traders(exchange)
    async with private(ranger, alice) as ws:
        placed = await request(
            ws, {"event": "order", "id": 1, "params": LIMIT | {"client_id": "q1"}}
        )
        order_id = placed["result"]["id"]
        smaller = {"uuid": placed["result"]["uuid"], "volume": "0.08"}
        kept = await request(ws, {"event": "amend", "id": 2, "params": smaller})
        assert kept["result"]["id"] == order_id  # in place: same id, same queue place
        assert kept["result"]["remaining_volume"] == "0.08"
        by_client_id = {"client_id": "q1", "volume": "0.05"}
        kept = await request(ws, {"event": "amend", "id": 8, "params": by_client_id})
        assert (kept["result"]["id"], kept["result"]["remaining_volume"]) == (order_id, "0.05")
        assert (await balances(alice))["btc"] == ("0.95", "0.05")
        moved = await request(
            ws, {"event": "amend", "id": 3, "params": {"id": order_id, "price": "41000"}}
        )
        replaced = moved["result"]
        assert replaced["id"] != order_id
        assert (replaced["client_id"], replaced["price"]) == ("q1", "41000")
        old = await alice.get(f"{MARKET}/orders/{order_id}")
        assert old.json()["state"] == "cancel"
        nothing = await request(ws, {"event": "amend", "id": 4, "params": {"id": replaced["id"]}})
        assert nothing["errors"] == ["market.order.amend_nothing"]
        bad = {"id": replaced["id"], "price": "-3"}
        assert (await request(ws, {"event": "amend", "id": 5, "params": bad}))["errors"] == [
            "market.order.non_positive_price"
        ]
        gone = await request(ws, {"event": "cancel", "id": 6, "params": {"client_id": "q1"}})
        assert gone["result"]["id"] == replaced["id"]
        assert gone["result"]["state"] == "cancel"
        again = await request(ws, {"event": "cancel", "id": 7, "params": {"client_id": "q1"}})
        assert again["errors"] == ["record.not_found"]
    assert await open_orders(alice) == []
    assert (await balances(alice))["btc"] == ("1", "0")


async def test_order_entry_spends_the_rest_rate_limit(exchange: Exchange, ranger: str) -> None:
    alice, _ = await traders(exchange)
    exchange.app.state.order_limits = OrderEntryLimits(
        exchange.app.state.limiter, Rule("order-entry", 2, window_s=60)
    )
    async with private(ranger, alice) as ws:
        answers = [
            await request(ws, {"event": "order", "id": n, "params": LIMIT}) for n in range(3)
        ]
    assert ["result" in a for a in answers] == [True, True, False]
    assert answers[2]["errors"] == ["market.order.rate_limit_exceeded"]
    rest = await alice.post(f"{MARKET}/orders", LIMIT)  # the same budget
    assert rest.status_code == 429
    assert len(await open_orders(alice)) == 2


async def until_cancelled(member: Caller, order_id: int, within_s: float) -> float:
    """Seconds until the order's state is ``cancel`` (polled over REST)."""
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        found = await member.get(f"{MARKET}/orders/{order_id}")
        if found.json()["state"] == "cancel":
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {order_id} still open after {within_s} s")


async def test_orders_cancelled_once_a_dropped_connection_grace_is_over(
    exchange: Exchange, ranger: str
) -> None:
    alice, _ = await traders(exchange)
    ws = await private(ranger, alice)
    arm = {"event": "cancel_on_disconnect", "id": "d", "params": {"timeout": 2}}
    assert (await request(ws, arm))["result"] == {"timeout": 2, "claimed": 0}
    placed = await request(ws, {"event": "order", "id": "o", "params": LIMIT})
    rested = await alice.post(f"{MARKET}/orders", LIMIT | {"price": "45000"})  # over REST
    ws.transport.abort()  # broken, not closed: no close frame, the TCP connection reset
    dropped = time.monotonic()
    await asyncio.sleep(1.0)
    still = {o["id"] for o in await open_orders(alice)}
    assert still == {placed["result"]["id"], rested.json()["id"]}, "cancelled before the grace"
    await until_cancelled(alice, placed["result"]["id"], within_s=5)
    assert time.monotonic() - dropped >= 2
    assert await open_orders(alice) == []  # every open order of the member
    await exchange.ledger_ok()


async def test_disarmed_or_claimed_switch_cancels_nothing(exchange: Exchange, ranger: str) -> None:
    alice, _ = await traders(exchange)
    async with private(ranger, alice) as ws:
        arm = {"event": "cancel_on_disconnect", "id": 1, "params": {"timeout": 1}}
        await request(ws, arm)
        disarm = {"event": "cancel_on_disconnect", "id": 2, "params": {"timeout": 0}}
        assert (await request(ws, disarm))["result"] == {"timeout": 0, "claimed": 0}
        first = await request(ws, {"event": "order", "id": 3, "params": LIMIT})
    # Armed again on a new connection, which drops; a third one claims the pending timer.
    async with private(ranger, alice) as ws:
        await request(ws, {"event": "cancel_on_disconnect", "id": 4, "params": {"timeout": 1}})
    async with private(ranger, alice) as ws:
        claimed = await request(ws, disarm)
        assert claimed["result"] == {"timeout": 0, "claimed": 1}
        await asyncio.sleep(1.5)  # past both grace periods
        assert [o["id"] for o in await open_orders(alice)] == [first["result"]["id"]]
