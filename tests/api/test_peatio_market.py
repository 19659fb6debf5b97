"""The member's trading API over HTTP, a real engine runner and a real PostgreSQL: two
members (one with a session cookie + CSRF, one with a signed API key) trade with each other,
cancel, and are refused what their key, level or input does not allow."""

import dataclasses
from datetime import datetime
from typing import Any

import httpx
import pytest

from bursa.identity.directory import SERVICE_ACCOUNT_MEMBERS
from tests.api.members import (
    ACCOUNT,
    MARKET,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

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
    "client_id",
    "time_in_force",
    "post_only",
    "trigger_price",
    "trigger_condition",
    "oco_id",
}
TRADE_FIELDS = {
    "id",
    "price",
    "amount",
    "total",
    "fee_currency",
    "fee",
    "fee_amount",
    "market",
    "market_type",
    "created_at",
    "taker_type",
    "side",
    "order_id",
}


async def balances(member: Caller) -> dict[str, tuple[str, str]]:
    found = await member.get(f"{ACCOUNT}/balances", nonzero="true")
    assert found.status_code == 200, found.text
    return {a["currency"]: (a["balance"], a["locked"]) for a in found.json()}


async def traders(exchange: Exchange) -> tuple[Caller, Caller]:
    """Alice (session cookie) with 1 BTC; Bob (API key, read+trade) with 100,000 USDT."""
    alice = await exchange.member("alice@example.com")
    bob_session = await exchange.member("bob@example.com")
    bob = await exchange.with_key(bob_session, "read,trade")
    await exchange.credit(alice, "btc", "1")
    await exchange.credit(bob, "usdt", "100000")
    return alice, bob


async def test_crossing_orders_trade_and_show_on_both_sides(exchange: Exchange) -> None:
    alice, bob = await traders(exchange)

    sell = await alice.post(
        f"{MARKET}/orders",
        {"market": "btcusdt", "side": "sell", "volume": "0.5", "price": "30000.5"},
    )
    assert sell.status_code == 201, sell.text
    ask = sell.json()
    assert set(ask) == ORDER_FIELDS
    assert ask | {"id": 0, "uuid": "", "created_at": "", "updated_at": ""} == {
        "id": 0,
        "uuid": "",
        "side": "sell",
        "ord_type": "limit",
        "price": "30000.5",
        "avg_price": "0",
        "state": "wait",  # after the engine's commit: resting in the book
        "market": "btcusdt",
        "market_type": "spot",
        "created_at": "",
        "updated_at": "",
        "origin_volume": "0.5",
        "remaining_volume": "0.5",
        "executed_volume": "0",
        "maker_fee": "0.001",
        "taker_fee": "0.002",
        "trades_count": 0,
        "client_id": None,
        "time_in_force": "gtc",
        "post_only": False,
        "trigger_price": None,
        "trigger_condition": None,
        "oco_id": None,
    }
    assert datetime.fromisoformat(ask["created_at"]).tzinfo is not None
    assert await balances(alice) == {"btc": ("0.5", "0.5")}

    # JSON numbers are read exactly (never as floats), and a retry with the same
    # Idempotency-Key answers the same order without placing another.
    body = {
        "market": "btcusdt",
        "side": "buy",
        "volume": 0.2,
        "price": "31000",
        "client_id": "bot-1",
    }
    retry = {"Idempotency-Key": "buy-0001"}
    buy = await bob.post(f"{MARKET}/orders", body, headers=retry)
    assert buy.status_code == 201, buy.text
    bid = buy.json()
    assert {k: bid[k] for k in ("state", "executed_volume", "avg_price", "trades_count")} == {
        "state": "done",  # filled against Alice's order at her price
        "executed_volume": "0.2",
        "avg_price": "30000.5",
        "trades_count": 1,
    }
    assert bid["client_id"] == "bot-1"
    again = await bob.post(f"{MARKET}/orders", body, headers=retry)
    assert again.status_code == 201
    assert again.json()["id"] == bid["id"]
    assert len((await bob.get(f"{MARKET}/orders")).json()) == 1

    # Alice's order, partly filled; by id and by UUID, with its trades.
    mine = await alice.get(f"{MARKET}/orders/{ask['id']}")
    assert mine.status_code == 200, mine.text
    shown = mine.json()
    assert shown["state"] == "wait"
    assert shown["remaining_volume"] == "0.3"
    assert shown["executed_volume"] == "0.2"
    assert shown["avg_price"] == "30000.5"
    assert [t["side"] for t in shown["trades"]] == ["sell"]
    assert (await alice.get(f"{MARKET}/orders/{ask['uuid']}")).json()["id"] == ask["id"]

    # Each side sees the trade as theirs: side, order, fee in what they received.
    (alice_trade,) = (await alice.get(f"{MARKET}/trades")).json()
    (bob_trade,) = (await bob.get(f"{MARKET}/trades")).json()
    assert set(alice_trade) == TRADE_FIELDS
    assert alice_trade["id"] == bob_trade["id"]
    assert {k: alice_trade[k] for k in ("side", "order_id", "fee_currency", "fee")} == {
        "side": "sell",
        "order_id": ask["id"],
        "fee_currency": "usdt",
        "fee": "0.001",  # maker
    }
    assert alice_trade["fee_amount"] == "6.0001"  # 0.001 × 6000.1
    assert {k: bob_trade[k] for k in ("side", "order_id", "fee_currency", "fee_amount")} == {
        "side": "buy",
        "order_id": bid["id"],
        "fee_currency": "btc",
        "fee_amount": "0.0004",  # taker: 0.002 × 0.2
    }
    assert (alice_trade["price"], alice_trade["amount"], alice_trade["total"]) == (
        "30000.5",
        "0.2",
        "6000.1",
    )
    assert alice_trade["taker_type"] == "buy"

    assert await balances(alice) == {"btc": ("0.5", "0.3"), "usdt": ("5994.0999", "0")}
    assert await balances(bob) == {"btc": ("0.1996", "0"), "usdt": ("93999.9", "0")}

    # Other members' orders do not exist for you.
    assert_error(await bob.get(f"{MARKET}/orders/{ask['id']}"), 404, "record.not_found")
    assert_error(await bob.post(f"{MARKET}/orders/{ask['id']}/cancel"), 404, "record.not_found")

    # Cancel: the answer is the committed state; the rest of the lock comes back.
    cancelled = await alice.post(f"{MARKET}/orders/{ask['uuid']}/cancel")
    assert cancelled.status_code == 201, cancelled.text
    assert cancelled.json()["state"] == "cancel"
    assert await balances(alice) == {"btc": ("0.8", "0"), "usdt": ("5994.0999", "0")}
    assert_error(
        await alice.post(f"{MARKET}/orders/{ask['id']}/cancel"), 422, "market.order.cancel_error"
    )
    assert_error(await alice.get(f"{MARKET}/orders/12x"), 422, "market.order.invaild_id_or_uuid")


async def test_cancel_all_by_market_and_side(exchange: Exchange) -> None:
    alice, _ = await traders(exchange)
    await exchange.credit(alice, "eth", "10")
    placed = []
    for market, side, volume, price in (
        ("btcusdt", "sell", "0.1", "40000"),
        ("btcusdt", "sell", "0.1", "41000"),
        ("ethusdt", "sell", "1", "3000"),
    ):
        response = await alice.post(
            f"{MARKET}/orders", {"market": market, "side": side, "volume": volume, "price": price}
        )
        assert response.status_code == 201, response.text
        placed.append(response.json()["id"])
    assert_error(
        await alice.post(f"{MARKET}/orders/cancel", {"market": "nope"}),
        422,
        "market.market.doesnt_exist",
    )
    assert_error(
        await alice.post(f"{MARKET}/orders/cancel", {"side": "up"}),
        422,
        "market.order.invalid_side",
    )
    first = await alice.post(f"{MARKET}/orders/cancel", {"market": "btcusdt", "side": "sell"})
    assert first.status_code == 201, first.text
    assert sorted(o["id"] for o in first.json()) == placed[:2]
    assert {o["state"] for o in first.json()} == {"cancel"}
    rest = await alice.post(f"{MARKET}/orders/cancel")
    assert [o["id"] for o in rest.json()] == [placed[2]]

    listed = await alice.get(f"{MARKET}/orders", state="cancel", market="btcusdt")
    assert listed.headers["Total"] == "2"
    assert [o["id"] for o in listed.json()] == placed[:2][::-1]  # newest first
    ascending = await alice.get(f"{MARKET}/orders", order_by="asc", limit=1, page=2)
    assert (ascending.headers["Total"], ascending.headers["Page"]) == ("3", "2")
    assert [o["id"] for o in ascending.json()] == [placed[1]]
    assert (await alice.get(f"{MARKET}/orders", state="wait")).json() == []
    assert await balances(alice) == {"btc": ("1", "0"), "eth": ("10", "0")}


async def test_time_in_force_post_only_and_market_orders(exchange: Exchange) -> None:
    alice, bob = await traders(exchange)
    place = f"{MARKET}/orders"
    resting = {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "30000"}
    assert (await alice.post(place, resting)).json()["state"] == "wait"

    fok = {"market": "btcusdt", "side": "buy", "volume": "0.2", "price": "30000"}
    killed = await bob.post(place, fok | {"time_in_force": "fok"})
    assert killed.status_code == 201, killed.text
    assert (killed.json()["state"], killed.json()["executed_volume"]) == ("cancel", "0")
    ioc = await bob.post(place, fok | {"time_in_force": "IOC"})
    assert ioc.json()["state"] == "cancel"
    assert ioc.json()["executed_volume"] == "0.1"
    assert ioc.json()["time_in_force"] == "ioc"

    assert (await alice.post(place, resting)).json()["state"] == "wait"
    crossing = {"market": "btcusdt", "side": "buy", "volume": "0.1", "price": "30000"}
    assert_error(
        await bob.post(place, crossing | {"post_only": True}),
        422,
        "market.order.post_only_would_match",
    )
    market_buy = await bob.post(
        place, {"market": "btcusdt", "side": "buy", "volume": "0.05", "ord_type": "market"}
    )
    assert market_buy.status_code == 201, market_buy.text
    assert (market_buy.json()["state"], market_buy.json()["price"]) == ("done", None)
    assert market_buy.json()["avg_price"] == "30000"

    both = {"market": "btcusdt", "side": "sell", "volume": "0.01", "price": "35000"}
    assert (await alice.post(place, both | {"client_id": "a-1"})).status_code == 201
    assert_error(
        await alice.post(place, both | {"client_id": "a-1"}),
        422,
        "market.order.duplicate_client_id",
    )
    by_client = await alice.get(f"{MARKET}/orders", client_id="a-1")
    assert [o["client_id"] for o in by_client.json()] == ["a-1"]


BAD_ORDERS: list[tuple[dict[str, Any], int, list[str]]] = [
    ({}, 422, ["market.order.missing_market", "market.order.missing_side",
               "market.order.missing_volume", "market.order.missing_price"]),
    ({"market": "dogeusdt"}, 422, ["market.market.doesnt_exist_or_not_enabled"]),
    ({"side": "long"}, 422, ["market.order.invalid_side"]),
    ({"volume": "abc"}, 422, ["market.order.non_decimal_volume"]),
    ({"volume": True}, 422, ["market.order.non_decimal_volume"]),
    ({"volume": "NaN"}, 422, ["market.order.non_decimal_volume"]),
    ({"volume": "-1"}, 422, ["market.order.non_positive_volume"]),
    ({"volume": "0"}, 422, ["market.order.non_positive_volume"]),
    ({"volume": "0.0000001"}, 422, ["market.order.invalid_volume_or_price"]),  # 7 > 6 decimals
    ({"volume": "1" + "0" * 40}, 422, ["market.order.invalid_volume_or_price"]),
    ({"volume": "1e1"}, 422, ["market.order.non_decimal_volume"]),  # plain notation only
    ({"price": "30000.001"}, 422, ["market.order.invalid_volume_or_price"]),  # 3 > 2 decimals
    ({"price": "-5"}, 422, ["market.order.non_positive_price"]),
    ({"price": [1]}, 422, ["market.order.non_decimal_price"]),
    ({"ord_type": "stop"}, 422, ["market.order.invalid_type"]),
    ({"ord_type": "market"}, 422, ["market.order.market_order_price"]),
    ({"time_in_force": "day"}, 422, ["market.order.invalid_time_in_force"]),
    ({"post_only": "maybe"}, 422, ["market.order.invalid_post_only"]),
    ({"client_id": "no spaces"}, 422, ["market.order.invalid_client_id"]),
    ({"stp": "never"}, 422, ["market.order.invalid_self_trade_prevention"]),
    # The engine's rules: minimum amount, balance.
    ({"volume": "0.00001"}, 422, ["market.order.invalid_volume_or_price"]),  # < 0.0001
    ({"volume": "2"}, 422, ["market.account.insufficient_balance"]),
    ({"time_in_force": "ioc", "post_only": True}, 422, ["market.order.invalid_post_only"]),
]  # fmt: skip


@pytest.mark.parametrize(("change", "status", "codes"), BAD_ORDERS)
async def test_bad_orders_are_refused_and_change_nothing(
    exchange: Exchange, change: dict[str, Any], status: int, codes: list[str]
) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1")
    good = {"market": "btcusdt", "side": "sell", "volume": "0.5", "price": "30000"}
    body = {} if not change else good | change
    assert_error(await alice.post(f"{MARKET}/orders", body), status, *codes)
    assert await balances(alice) == {"btc": ("1", "0")}
    assert (await alice.get(f"{MARKET}/orders")).json() == []


async def test_malformed_and_disabled(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1")
    raw = await alice.client.post(
        f"{MARKET}/orders",
        content=b"[1, 2",
        headers={"X-CSRF-Token": alice.csrf, "Content-Type": "application/json"},
    )
    assert_error(raw, 400, "server.request.invalid_json")
    form = await alice.client.post(
        f"{MARKET}/orders",
        data={"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "30000"},
        headers={"X-CSRF-Token": alice.csrf},
    )
    assert form.status_code == 201, form.text  # Peatio's clients send forms too

    spec = exchange.runner.engine.books["btcusdt"].spec
    exchange.runner.engine.add_market(dataclasses.replace(spec, tradable=False))
    disabled = await alice.post(
        f"{MARKET}/orders", {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "1"}
    )
    assert_error(disabled, 422, "market.market.doesnt_exist_or_not_enabled")

    for params, code in (
        ({"limit": 0}, "market.order.invalid_limit"),
        ({"page": 0}, "market.order.non_positive_page"),
        ({"state": "open"}, "market.order.invalid_state"),
        ({"market": "nope"}, "market.market.doesnt_exist"),
        ({"order_by": "up"}, "market.order.invalid_order_by"),
        ({"time_from": "yesterday"}, "market.order.invalid_time_from"),
        ({"ord_type": "stop"}, "market.order.invalid_ord_type"),
    ):
        assert_error(await alice.get(f"{MARKET}/orders", **params), 422, code)
    assert_error(
        await alice.post(f"{MARKET}/orders", {}, headers={"Idempotency-Key": "bad key!"}),
        422,
        "market.order.invalid_idempotency_key",
    )


async def test_scopes_levels_and_states(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1")
    order = {"market": "btcusdt", "side": "sell", "volume": "0.1", "price": "30000"}

    reader = await exchange.with_key(alice, "read")
    assert (await reader.get(f"{ACCOUNT}/balances")).status_code == 200
    assert (await reader.get(f"{MARKET}/orders")).status_code == 200
    assert_error(await reader.post(f"{MARKET}/orders", order), 403, "authz.insufficient_scope")
    assert_error(await reader.post(f"{MARKET}/orders/cancel"), 403, "authz.insufficient_scope")

    trader = await exchange.with_key(alice, "trade")
    assert (await trader.post(f"{MARKET}/orders", order)).status_code == 201
    assert_error(await trader.get(f"{MARKET}/orders"), 403, "authz.insufficient_scope")
    assert_error(await trader.post(f"{ACCOUNT}/withdraws"), 403, "authz.insufficient_scope")
    withdrawer = await exchange.with_key(alice, "withdraw")
    assert_error(
        await withdrawer.post(f"{ACCOUNT}/withdraws"), 403, "account.withdraw.not_permitted"
    )

    # Without a session or key; and CSRF on cookie writes.
    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://x") as nobody:
        assert_error(await nobody.get(f"{MARKET}/orders"), 401, "authz.invalid_session")
    no_csrf = await alice.client.post(f"{MARKET}/orders", json=order)
    assert_error(no_csrf, 401, "authz.missing_csrf_token")

    # Below the trading level (no confirmed email: level 0), then not active at all.
    await exchange.sql("DELETE FROM labels WHERE user_id = $1 AND key = 'email'", alice.id)
    await exchange.sql("UPDATE users SET level = 0, state = 'active' WHERE id = $1", alice.id)
    assert_error(await alice.post(f"{MARKET}/orders", order), 403, "market.trade.not_permitted")
    assert_error(await alice.get(f"{MARKET}/trades"), 403, "market.trade.not_permitted")
    assert_error(await alice.get(f"{ACCOUNT}/deposits"), 403, "account.deposit.not_permitted")
    assert (await alice.get(f"{ACCOUNT}/balances")).status_code == 200  # authentication only
    await exchange.sql("UPDATE users SET level = 1, state = 'pending' WHERE id = $1", alice.id)
    assert_error(await alice.post(f"{MARKET}/orders", order), 401, "authz.user_not_active")
    assert_error(await alice.get(f"{ACCOUNT}/balances"), 401, "authz.user_not_active")

    # A role the permission table does not let trade.
    await exchange.sql("UPDATE users SET state = 'active' WHERE id = $1", alice.id)
    await exchange.sql(
        "INSERT INTO permissions (role, verb, path, action) "
        "VALUES ('member', 'POST', 'api/v2/peatio/market/orders', 'DROP')"
    )
    app: Any = exchange.transport.app
    app.state.authorizer.forget_cache()  # it caches permissions for 10 s
    assert_error(await alice.post(f"{MARKET}/orders", order), 401, "authz.invalid_permission")


async def test_a_service_account_trades_as_a_member_of_its_own(exchange: Exchange) -> None:
    """Peatio gives every uid a member: a market maker's service account has balances and
    orders of its own, apart from its owner's."""
    admin = await exchange.member("admin@example.com", "admin")
    owner = await exchange.member("owner@example.com")
    await exchange.with_key(owner, "read")  # turns on the owner's 2FA
    created = await admin.post(
        "/api/v2/barong/admin/service_accounts",
        {"owner_uid": owner.uid, "service_account_role": "sa_maker"},
    )
    assert created.status_code == 201, created.text
    sa_uid = created.json()["uid"]
    await exchange.sql("UPDATE users SET otp_last_step = NULL")
    key = await owner.post(
        "/api/v2/barong/resource/service_accounts/api_keys",
        {"service_account_uid": sa_uid, "scope": "read,trade", "totp_code": owner.totp.now()},
    )
    assert key.status_code == 201, key.text
    sa_id = (await exchange.sql("SELECT id FROM service_accounts WHERE uid = $1", sa_uid))[0]["id"]
    bare = httpx.AsyncClient(transport=exchange.transport, base_url="http://bursa.test")
    exchange.clients.append(bare)
    secret = (key.json()["kid"], key.json()["secret"])
    bot = Caller(bare, sa_uid, SERVICE_ACCOUNT_MEMBERS + sa_id, key=secret)
    await exchange.credit(bot, "usdt", "500")

    placed = await bot.post(
        f"{MARKET}/orders", {"market": "btcusdt", "side": "buy", "volume": "0.01", "price": "1000"}
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["state"] == "wait"
    assert await balances(bot) == {"usdt": ("490", "10")}
    assert await balances(owner) == {}
    me = (await bot.get(f"{ACCOUNT}/members/me")).json()
    assert (me["uid"], me["email"]) == (sa_uid, created.json()["email"])
