"""The Peatio admin API's records over HTTP, a real engine runner and a real PostgreSQL:
staff list every member's orders and trades, cancel them through the engine (audited),
read members, the ledger's operations and its verification; members and staff without
the ability are refused, and bad input changes nothing."""

from decimal import Decimal

import httpx

from tests.api.members import (
    ACCOUNT,
    MARKET,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

ADMIN = "/api/v2/peatio/admin"


async def balances(member: Caller) -> dict[str, tuple[str, str]]:
    found = await member.get(f"{ACCOUNT}/balances", nonzero="true")
    assert found.status_code == 200, found.text
    return {a["currency"]: (a["balance"], a["locked"]) for a in found.json()}


async def trading(exchange: Exchange) -> tuple[Caller, Caller, Caller]:
    """Alice sells 0.5 BTC at 30000 and 0.1 at 32000; Bob buys 0.2 at 31000 (one trade),
    and bids 0.1 at 29000; an admin watches."""
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    admin = await exchange.member("root@example.com", role="admin")
    await exchange.credit(alice, "btc", "1")
    await exchange.credit(bob, "usdt", "100000")
    for member, side, volume, price in (
        (alice, "sell", "0.5", "30000"),
        (bob, "buy", "0.2", "31000"),
        (alice, "sell", "0.1", "32000"),
        (bob, "buy", "0.1", "29000"),
    ):
        placed = await member.post(
            f"{MARKET}/orders",
            {"market": "btcusdt", "side": side, "volume": volume, "price": price},
        )
        assert placed.status_code == 201, placed.text
    return alice, bob, admin


async def test_orders_and_trades_of_every_member(exchange: Exchange) -> None:
    alice, bob, admin = await trading(exchange)

    listed = await admin.get(f"{ADMIN}/orders")
    assert listed.status_code == 200, listed.text
    assert (listed.headers["Total"], listed.headers["Page"], listed.headers["Per-Page"]) == (
        "4",
        "1",
        "100",
    )
    orders = listed.json()
    assert [o["id"] for o in orders] == sorted(o["id"] for o in orders)  # Peatio: id, asc
    first = orders[0]
    assert (first["uid"], first["email"], first["side"], first["state"]) == (
        alice.uid,
        "alice@example.com",
        "sell",
        "wait",
    )
    assert (first["executed_volume"], first["remaining_volume"]) == ("0.2", "0.3")
    assert {o["state"] for o in orders} == {"wait", "done"}

    def ids(response: httpx.Response) -> list[int]:
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()]

    everything = [o["id"] for o in orders]
    by_uid = ids(await admin.get(f"{ADMIN}/orders", uid=bob.uid, ordering="desc"))
    assert by_uid == [everything[3], everything[1]]
    assert ids(await admin.get(f"{ADMIN}/orders", email="ALICE@example.com", type="sell")) == [
        everything[0],
        everything[2],
    ]
    assert ids(await admin.get(f"{ADMIN}/orders", state="done")) == [everything[1]]
    assert ids(await admin.get(f"{ADMIN}/orders", price="32000.00")) == [everything[2]]
    assert ids(await admin.get(f"{ADMIN}/orders", email="nobody@example.com")) == []
    assert ids(await admin.get(f"{ADMIN}/orders", market_type="qe")) == []
    paged = await admin.get(f"{ADMIN}/orders", limit=3, page=2)
    assert ids(paged) == [everything[3]]
    assert paged.headers["Total"] == "4"

    for params, code in (
        ({"market": "dogeusd"}, "admin.market.doesnt_exist"),
        ({"state": "open"}, "admin.order.invalid_state"),
        ({"type": "bid"}, "admin.order.invalid_type"),
        ({"price": "abc"}, "admin.order.non_decimal_price"),
        ({"price": "-1"}, "admin.order.non_positive_price"),
        ({"uid": "ID0000000000"}, "admin.user.doesnt_exist"),
        ({"limit": "0"}, "admin.pagination.invalid_limit"),
        ({"limit": "x"}, "admin.pagination.non_integer_limit"),
        ({"ordering": "up"}, "admin.pagination.invalid_ordering"),
        ({"order_by": "password"}, "admin.pagination.invalid_order_by"),
        ({"range": "completed"}, "admin.filter.invalid_range"),
        ({"from": "yesterday"}, "admin.filter.non_integer_range_from"),
        ({"to": "-1"}, "admin.filter.invalid_range_to"),
        ({"page": "0"}, "admin.pagination.invalid_page"),
    ):
        assert_error(await admin.get(f"{ADMIN}/orders", **params), 422, code)
    assert_error(
        await admin.get(f"{ADMIN}/liabilities", code="x"), 422, "admin.operation.invalid_code"
    )
    assert_error(await admin.get(f"{ADMIN}/members", uid="x" * 17), 422, "admin.member.invalid_uid")

    trades = await admin.get(f"{ADMIN}/trades")
    assert trades.status_code == 200, trades.text
    assert trades.headers["Total"] == "1"
    (trade,) = trades.json()
    assert trade | {"id": 0, "created_at": ""} == {
        "id": 0,
        "created_at": "",
        "price": "30000",
        "amount": "0.2",
        "total": "6000",
        "market": "btcusdt",
        "market_type": "spot",
        "taker_type": "buy",
        "maker_order_email": "alice@example.com",
        "maker_uid": alice.uid,
        "maker_fee": "0.001",
        "maker_fee_amount": "6",  # the seller pays in quote
        "maker_fee_currency": "usdt",
        "taker_order_email": "bob@example.com",
        "taker_uid": bob.uid,
        "taker_fee": "0.002",
        "taker_fee_amount": "0.0004",  # the buyer pays in base
        "taker_fee_currency": "btc",
    }
    assert (await admin.get(f"{ADMIN}/trades", uid=alice.uid)).json() == [trade]
    assert (await admin.get(f"{ADMIN}/trades", order_id=everything[1])).json() == [trade]
    assert (await admin.get(f"{ADMIN}/trades", order_id=everything[2])).json() == []
    one = await admin.get(f"{ADMIN}/trades/{trade['id']}")
    assert one.status_code == 200, one.text
    assert one.json()["maker_order"]["id"] == everything[0]
    assert one.json()["taker_order"]["uid"] == bob.uid
    assert_error(await admin.get(f"{ADMIN}/trades/999"), 404, "record.not_found")
    assert_error(await admin.get(f"{ADMIN}/trades/x"), 422, "admin.trade.non_integer_id")


async def test_cancels_go_through_the_engine_and_are_audited(exchange: Exchange) -> None:
    alice, bob, admin = await trading(exchange)
    support = await exchange.member("help@example.com", role="support")
    orders = (await admin.get(f"{ADMIN}/orders")).json()
    resting = orders[0]["id"]  # Alice's 0.5 sell, 0.3 left

    # Support reads orders but changes nothing; a member reaches no admin route.
    assert (await support.get(f"{ADMIN}/orders")).status_code == 200
    refused = await support.post(f"{ADMIN}/orders/{resting}/cancel")
    assert refused.status_code in (401, 403), refused.text
    assert (await alice.get(f"{ADMIN}/orders")).status_code in (401, 403)
    assert (await alice.post(f"{ADMIN}/orders/cancel", {"market": "btcusdt"})).status_code in (
        401,
        403,
    )
    assert_error(await admin.post(f"{ADMIN}/orders/999/cancel"), 404, "record.not_found")
    done = orders[1]["id"]
    assert_error(await admin.post(f"{ADMIN}/orders/{done}/cancel"), 422, "admin.order.cancel_error")
    assert await balances(alice) == {"btc": ("0.4", "0.4"), "usdt": ("5994", "0")}

    cancelled = await admin.post(f"{ADMIN}/orders/{resting}/cancel")
    assert cancelled.status_code == 201, cancelled.text
    assert (cancelled.json()["state"], cancelled.json()["uid"]) == ("cancel", alice.uid)
    assert await balances(alice) == {"btc": ("0.7", "0.1"), "usdt": ("5994", "0")}
    again = await admin.post(f"{ADMIN}/orders/{resting}/cancel")
    assert_error(again, 422, "admin.order.cancel_error")

    for body, code in (
        ({}, "admin.order.missing_market"),
        ({"market": "dogeusd"}, "admin.market.doesnt_exist"),
        ({"market": ["btcusdt"]}, "admin.market.doesnt_exist"),
        ({"market": "btcusdt", "side": "bid"}, "admin.order.invalid_side"),
    ):
        assert_error(await admin.post(f"{ADMIN}/orders/cancel", body), 422, code)
    sells = await admin.post(f"{ADMIN}/orders/cancel", {"market": "btcusdt", "side": "sell"})
    assert sells.status_code == 201, sells.text
    assert [(o["uid"], o["side"], o["state"]) for o in sells.json()] == [
        (alice.uid, "sell", "cancel")
    ]
    rest = await admin.post(f"{ADMIN}/orders/cancel", {"market": "BTCUSDT"})
    assert [(o["uid"], o["side"]) for o in rest.json()] == [(bob.uid, "buy")]
    assert (await admin.post(f"{ADMIN}/orders/cancel", {"market": "btcusdt"})).json() == []
    assert await balances(alice) == {"btc": ("0.8", "0"), "usdt": ("5994", "0")}
    assert await balances(bob) == {"btc": ("0.1996", "0"), "usdt": ("94000", "0")}

    log = await admin.get(f"{ADMIN}/audit", action="order.cancel")
    assert log.status_code == 200, log.text
    assert log.headers["Total"] == "3"
    newest = log.json()[0]
    assert (newest["actor_uid"], newest["actor_role"], newest["target_type"]) == (
        admin.uid,
        "admin",
        "Order",
    )
    assert (newest["before"]["state"], newest["after"]["state"]) == ("wait", "cancel")
    mine = await admin.get(f"{ADMIN}/audit", target_type="Order", target_id=str(resting))
    assert [e["after"]["remaining_volume"] for e in mine.json()] == ["0.3"]
    assert (await support.get(f"{ADMIN}/audit")).status_code == 200
    assert_error(
        await admin.get(f"{ADMIN}/audit", limit=1001), 422, "admin.pagination.invalid_limit"
    )


async def test_members_operations_and_the_ledger(exchange: Exchange) -> None:
    alice, bob, admin = await trading(exchange)
    technical = await exchange.member("tech@example.com", role="technical")

    abilities = await admin.get(f"{ADMIN}/abilities")
    assert abilities.status_code == 200, abilities.text
    assert "Adjustment" in abilities.json()["manage"]
    assert "Trade" in abilities.json()["read"]
    tech = (await technical.get(f"{ADMIN}/abilities")).json()
    assert "Adjustment" not in tech["read"]
    assert tech["manage"] == sorted(tech["manage"])
    assert (await alice.get(f"{ADMIN}/abilities")).status_code in (401, 403)

    members = await admin.get(f"{ADMIN}/members", role="member")
    assert members.status_code == 200, members.text
    assert [m["email"] for m in members.json()] == ["alice@example.com", "bob@example.com"]
    shown = members.json()[0]
    assert (shown["id"], shown["uid"], shown["group"], shown["state"]) == (
        alice.id,
        alice.uid,
        "vip-0",
        "active",
    )
    assert {a["currency"]: a["locked"] for a in shown["accounts"]} == {"btc": "0.4", "usdt": "0"}
    assert (await admin.get(f"{ADMIN}/members", email="BOB@example.com")).json()[0][
        "uid"
    ] == bob.uid
    assert (await admin.get(f"{ADMIN}/members", ordering="desc")).headers["Total"] == "4"
    grouped = await admin.client.put(
        f"{ADMIN}/members/{bob.uid}", json={"group": "vip-1"}, headers={"X-CSRF-Token": admin.csrf}
    )
    assert grouped.status_code == 200, grouped.text
    assert [m["uid"] for m in (await admin.get(f"{ADMIN}/members", group="vip-1")).json()] == [
        bob.uid
    ]
    in_default = (await admin.get(f"{ADMIN}/members", group="vip-0", role="member")).json()
    assert [m["uid"] for m in in_default] == [alice.uid]
    one = await admin.get(f"{ADMIN}/members/{bob.uid}")
    assert one.json()["group"] == "vip-1"
    assert one.status_code == 200, one.text
    assert {(a["currency"], a["balance"]) for a in one.json()["accounts"]} == {
        ("btc", "0.1996"),
        ("usdt", "91100"),
    }
    assert_error(await admin.get(f"{ADMIN}/members/ID0000000000"), 404, "record.not_found")
    assert_error(await admin.get(f"{ADMIN}/members", role="king"), 422, "admin.member.invalid_role")
    assert (await technical.get(f"{ADMIN}/members")).status_code == 200

    assets = await admin.get(f"{ADMIN}/assets")
    assert assets.status_code == 200, assets.text
    assert {(o["code"], o["currency"], o["credit"], o["uid"]) for o in assets.json()} == {
        (102, "btc", "1", None),
        (102, "usdt", "100000", None),
    }
    revenues = (await admin.get(f"{ADMIN}/revenues", currency="usdt")).json()
    assert [(o["code"], o["credit"], o["reference_type"]) for o in revenues] == [
        (302, "6", "trade")
    ]
    assert (await admin.get(f"{ADMIN}/expenses")).json() == []
    bobs = await admin.get(f"{ADMIN}/liabilities", uid=bob.uid, currency="btc")
    assert bobs.status_code == 200, bobs.text
    assert [(o["account_kind"], o["credit"], o["uid"]) for o in bobs.json()] == [
        ("main", "0.1996", bob.uid)
    ]
    locked = await admin.get(f"{ADMIN}/liabilities", code=212, ordering="desc", limit=1)
    assert locked.json()[0]["account_kind"] == "locked"
    assert int(locked.headers["Total"]) > 1
    assert_error(
        await admin.get(f"{ADMIN}/assets", currency="doge"), 422, "admin.currency.doesnt_exist"
    )
    assert_error(
        await admin.get(f"{ADMIN}/liabilities", uid="ID0000000000"), 422, "admin.user.doesnt_exist"
    )
    assert (await technical.get(f"{ADMIN}/liabilities")).status_code == 200

    verified = await admin.get(f"{ADMIN}/ledger/verification")
    assert verified.status_code == 200, verified.text
    report = verified.json()
    assert (report["ok"], report["problems"]) == (True, [])
    assert report["accounts_checked"] == 4
    totals = {t["currency"]: t for t in report["totals"]}
    assert Decimal(totals["usdt"]["assets"]) == Decimal(100000)
    assert Decimal(totals["usdt"]["revenues"]) == Decimal(6)

    # A ledger that no longer adds up is reported, not hidden.
    await exchange.sql(
        "UPDATE accounts SET balance = balance + 1 WHERE member_id = $1 AND currency_id = 'btc'",
        alice.id,
    )
    broken = (await admin.get(f"{ADMIN}/ledger/verification")).json()
    assert broken["ok"] is False
    assert [(p["check"], p["member_id"]) for p in broken["problems"]] == [
        ("balance = main operations", alice.id)
    ]
