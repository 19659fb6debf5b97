"""Peatio's Management API for configuration, members, orders and trades, signed with test
keys: changes go through the engine and the audit log like the admin API's."""

from tests.api.management import (
    MANAGEMENT,
    Management,
    management,  # noqa: F401 - fixture
)
from tests.api.members import (
    MARKET,
    exchange,  # noqa: F401 - fixture
)
from tests.api.test_peatio_admin_config import SOL, SOLUSDT

READER = ("reporter",)


async def test_currencies_and_markets_are_configured_through_the_engine(
    management: Management,
) -> None:
    exchange = management.exchange
    # §11.20: creating a currency needs write_currencies, not read_currencies
    refused = await management.call("currencies/create", SOL, signers=READER)
    assert refused.status_code == 401
    created = await management.call("currencies/create", SOL)
    assert created.status_code == 201, created.text
    assert (created.json()["code"], created.json()["precision"]) == ("sol", 9)
    assert "sol" in exchange.runner.engine.currencies
    taken = await management.call("currencies/create", SOL)
    assert (taken.status_code, taken.json()) == (422, {"error": "admin.currency.code_taken"})
    renamed = await management.call("currencies/update", {"id": "sol", "name": "SOL"}, method="PUT")
    assert renamed.json()["name"] == "SOL"
    shown = await management.call("currencies/sol", signers=READER)
    assert (shown.status_code, shown.json()["name"]) == (201, "SOL")
    missing = await management.call("currencies/xyz", signers=READER)
    assert (missing.status_code, missing.json()) == (404, {"error": "Couldn't find record."})
    fiat = await management.call("currencies/list", {"type": "fiat"}, signers=READER)
    assert [c["code"] for c in fiat.json()] == ["usd"]

    market = await management.call("markets/new", SOLUSDT)
    assert market.status_code == 201, market.text
    assert "solusdt" in exchange.runner.engine.markets
    disabled = await management.call(
        "markets/update", {"id": "solusdt", "state": "disabled"}, method="PUT"
    )
    assert disabled.json()["state"] == "disabled"
    assert not exchange.runner.engine.markets["solusdt"].tradable
    one = await management.call("markets/solusdt")
    assert one.json()["state"] == "disabled"
    listed = await management.call("markets/list")
    assert "solusdt" in [m["id"] for m in listed.json()]

    audited = await exchange.sql(
        "SELECT action, actor_uid, actor_role FROM admin_audit ORDER BY id"
    )
    assert [(r["action"], r["actor_uid"], r["actor_role"]) for r in audited] == [
        ("currency.create", "mgmt:applogic", "management"),
        ("currency.update", "mgmt:applogic", "management"),
        ("market.create", "mgmt:applogic", "management"),
        ("market.update", "mgmt:applogic", "management"),
    ]


async def test_members_orders_trades_and_fees(management: Management) -> None:
    exchange = management.exchange
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.credit(alice, "btc", "1")
    await exchange.credit(bob, "usdt", "100000")

    synced = await management.call(
        "members",
        {
            "uid": alice.uid,
            "email": "alice@example.com",
            "level": 1,
            "role": "member",
            "state": "active",
            "group": "vip-1",
        },
    )
    assert synced.status_code == 201, synced.text
    assert synced.json()["group"] == "vip-1"
    assert synced.json()["uid"] == alice.uid
    assert exchange.runner.engine.member_groups.get(alice.id) == "vip-1"
    wrong = await management.call(
        "members",
        synced.json() | {"email": "mallory@example.com"},
    )
    assert wrong.status_code == 422
    grouped = await management.call("members/group", {"uid": bob.uid, "group": "vip-2"})
    assert grouped.json()["group"] == "vip-2"
    nobody = await management.call("members/group", {"uid": "ID0000000000", "group": "vip-2"})
    assert nobody.status_code == 404

    sell = {"market": "btcusdt", "side": "sell", "volume": "0.5", "price": "30000"}
    assert (await alice.post(f"{MARKET}/orders", sell)).status_code == 201
    buy = {"market": "btcusdt", "side": "buy", "volume": "0.1", "price": "30000"}
    assert (await bob.post(f"{MARKET}/orders", buy)).status_code == 201
    another = {"market": "btcusdt", "side": "sell", "volume": "0.2", "price": "31000"}
    assert (await alice.post(f"{MARKET}/orders", another)).status_code == 201

    orders = await management.call("orders", {"uid": alice.uid, "state": "wait"})
    assert orders.status_code == 201, orders.text
    assert [o["origin_volume"] for o in orders.json()] == ["0.2", "0.5"]
    trades = await management.call("trades", {"market": "btcusdt"})
    assert [(t["amount"], t["price"]) for t in trades.json()] == [("0.1", "30000")]
    first = orders.json()[1]["id"]
    canceled = await management.call(f"orders/{first}/cancel")
    assert canceled.status_code == 201, canceled.text
    assert canceled.json()["state"] == "cancel"
    again = await management.call(f"orders/{first}/cancel")
    assert again.status_code == 422
    rest = await management.call("orders/cancel", {"market": "btcusdt", "uid": alice.uid})
    assert [o["state"] for o in rest.json()] == ["cancel"]
    balance = await management.call("accounts/balance", {"uid": alice.uid, "currency": "btc"})
    assert balance.json()["locked"] == "0"
    bad_market = await management.call("orders/cancel", {"market": "nope"})
    assert bad_market.status_code == 422

    fees = await management.call("fee_schedule/trading_fees", {"group": "any"})
    assert fees.status_code == 201, fees.text
    now = await management.call("timestamp")
    assert now.status_code == 201
    assert now.json()["timestamp"].endswith("+00:00")


async def test_the_schema_documents_the_management_paths(management: Management) -> None:
    schema = (await management.client.get("/api/v2/peatio/openapi.json")).json()
    paths = {p: v for p, v in schema["paths"].items() if p.startswith(MANAGEMENT)}
    assert f"{MANAGEMENT}/deposits/new" in paths
    assert f"{MANAGEMENT}/accounts/balance" in paths
    assert f"{MANAGEMENT}/markets/update" in paths
    for path, operations in paths.items():
        for verb, operation in operations.items():
            assert verb in ("post", "put"), path
            assert operation["summary"], path
            assert "requestBody" in operation, path
