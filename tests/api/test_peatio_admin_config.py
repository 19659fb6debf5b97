"""The Peatio admin API's configuration over HTTP, with a real engine runner and PostgreSQL:
currencies, markets, trading fees by group and members' groups reach the running engine at
once, every change is in the audit log with before and after, and bad input or a role
without the ability changes nothing."""

import json
from typing import Any, cast

import pytest

from tests.api.members import MARKET, Caller, Exchange, assert_error
from tests.api.members import exchange as exchange

ADMIN = "/api/v2/peatio/admin"
PUBLIC = "/api/v2/peatio/public"


async def audit_rows(exchange: Exchange, target_type: str) -> list[dict[str, Any]]:
    rows = await exchange.sql(
        "SELECT actor_uid, action, target_id, before, after FROM admin_audit"
        " WHERE target_type = $1 ORDER BY id",
        target_type,
    )
    return [
        {
            **dict(r),
            "before": json.loads(r["before"]) if r["before"] else None,
            "after": json.loads(r["after"]) if r["after"] else None,
        }
        for r in rows
    ]


SOL = {"code": "SOL", "type": "coin", "precision": 9, "name": "Solana", "withdraw_fee": "0.01"}
SOLUSDT = {
    "base_currency": "sol",
    "quote_currency": "usdt",
    "min_price": "0.001",
    "min_amount": "0.01",
    "amount_precision": 2,
    "price_precision": 3,
    "maker_fee": "0.001",
    "taker_fee": "0.002",
}


async def test_a_new_currency_and_market_trade_at_once_and_a_disabled_market_refuses_orders(
    exchange: Exchange,
) -> None:
    root = await exchange.member("root@example.com", "superadmin")
    trader = await exchange.member("trader@example.com")

    created = await root.post(f"{ADMIN}/currencies/new", SOL)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "sol"
    assert (created.json()["precision"], created.json()["withdraw_fee"]) == (9, "0.01")
    assert "sol" in exchange.runner.engine.currencies
    assert_error(await root.post(f"{ADMIN}/currencies/new", SOL), 422, "admin.currency.code_taken")
    assert_error(
        await root.post(f"{ADMIN}/currencies/update", {"code": "sol", "precision": 6}),
        422,
        "admin.currency.precision_immutable",
    )
    renamed = await root.post(f"{ADMIN}/currencies/update", {"code": "sol", "name": "SOL"})
    assert renamed.json()["name"] == "SOL"

    market = await root.post(f"{ADMIN}/markets/new", SOLUSDT)
    assert market.status_code == 201, market.text
    assert (market.json()["id"], market.json()["state"]) == ("solusdt", "enabled")
    assert (await root.get(f"{ADMIN}/markets/solusdt")).json()["min_price"] == "0.001"
    await exchange.credit(trader, "usdt", "100")
    order = {"market": "solusdt", "side": "buy", "volume": "1.5", "price": "20.5"}
    placed = await trader.post(f"{MARKET}/orders", order)
    assert placed.status_code == 201, placed.text
    assert (placed.json()["state"], placed.json()["taker_fee"]) == ("wait", "0.002")

    disabled = await root.post(f"{ADMIN}/markets/update", {"id": "solusdt", "state": "disabled"})
    assert disabled.json()["state"] == "disabled"
    assert_error(
        await trader.post(f"{MARKET}/orders", order),
        422,
        "market.market.doesnt_exist_or_not_enabled",
    )
    assert (
        await root.post(f"{ADMIN}/markets/update", {"symbol": "solusdt", "state": "enabled"})
    ).status_code == 201
    assert (await trader.post(f"{MARKET}/orders", order)).status_code == 201

    currencies = await audit_rows(exchange, "currency")
    assert [(r["action"], r["actor_uid"]) for r in currencies] == [
        ("currency.create", root.uid),
        ("currency.update", root.uid),
    ]
    assert (currencies[1]["before"]["name"], currencies[1]["after"]["name"]) == ("Solana", "SOL")
    markets = await audit_rows(exchange, "market")
    assert [r["action"] for r in markets] == ["market.create", "market.update", "market.update"]
    assert markets[0]["before"] is None
    assert (markets[1]["before"]["state"], markets[1]["after"]["state"]) == ("enabled", "disabled")


@pytest.mark.parametrize(
    ("change", "codes"),
    [
        ({"min_price": "0.0001"}, ["admin.market.invalid_min_price"]),
        ({"min_price": "-1"}, ["admin.market.invalid_min_price"]),
        (
            {"min_amount": "abc", "state": "open"},
            ["admin.market.invalid_state", "admin.market.invalid_min_amount"],
        ),
        ({"maker_fee": "0.6"}, ["admin.market.invalid_maker_fee"]),
        ({"amount_precision": 3}, ["admin.market.currencies_and_precisions_immutable"]),
        ({"min_price": "10", "max_price": "5"}, ["admin.market.invalid_min_price_or_amount"]),
    ],
)
async def test_bad_market_changes_are_refused_and_change_nothing(
    exchange: Exchange, change: dict[str, Any], codes: list[str]
) -> None:
    root = await exchange.member("root@example.com", "superadmin")
    before = (await root.get(f"{ADMIN}/markets/btcusdt")).json()
    response = await root.post(f"{ADMIN}/markets/update", {"id": "btcusdt", **change})
    assert response.status_code == 422, response.text
    assert sorted(response.json()["errors"]) == sorted(codes)
    assert (await root.get(f"{ADMIN}/markets/btcusdt")).json() == before
    assert await audit_rows(exchange, "market") == []


async def test_group_fees_apply_to_the_members_new_orders(exchange: Exchange) -> None:
    root = await exchange.member("root@example.com", "superadmin")
    vip = await exchange.member("vip@example.com")
    plain = await exchange.member("plain@example.com")
    for member in (vip, plain):
        await exchange.credit(member, "usdt", "1000")

    fee = await root.post(
        f"{ADMIN}/trading_fees/new", {"group": "vip-1", "maker": "0", "taker": "0.0005"}
    )
    assert fee.status_code == 201, fee.text
    assert (fee.json()["market_id"], fee.json()["group"]) == ("any", "vip-1")
    assert_error(
        await root.post(
            f"{ADMIN}/trading_fees/new", {"group": "vip-1", "maker": "0", "taker": "0"}
        ),
        422,
        "admin.trading_fee.already_exists",
    )
    grouped = await root.client.put(
        f"{ADMIN}/members/{vip.uid}", json={"group": "vip-1"}, headers={"X-CSRF-Token": root.csrf}
    )
    assert grouped.json() == {"uid": vip.uid, "email": "vip@example.com", "group": "vip-1"}
    assert "vip-1" in (await root.get(f"{ADMIN}/members/groups")).json()
    me = (await vip.get("/api/v2/peatio/account/members/me")).json()
    assert (me["uid"], me["email"], me["group"]) == (vip.uid, "vip@example.com", "vip-1")
    assert {"currency": "usdt", "balance": "1000", "locked": "0"} in me["accounts"]
    assert (await plain.get("/api/v2/peatio/account/members/me")).json()["group"] == "vip-0"

    order = {"market": "btcusdt", "side": "buy", "volume": "0.001", "price": "1000"}
    mine = (await vip.post(f"{MARKET}/orders", order)).json()
    theirs = (await plain.post(f"{MARKET}/orders", order)).json()
    assert (mine["maker_fee"], mine["taker_fee"]) == ("0", "0.0005")
    assert (theirs["maker_fee"], theirs["taker_fee"]) == ("0.001", "0.002")  # the market's
    listed = (await root.get(f"{PUBLIC}/trading_fees", group="vip-1")).json()
    assert [(f["id"], f["taker"]) for f in listed] == [(fee.json()["id"], "0.0005")]

    moved = await root.post(
        f"{ADMIN}/trading_fees/update", {"id": fee.json()["id"], "market_id": "btcusdt"}
    )
    assert (moved.json()["market_id"], moved.json()["taker"]) == ("btcusdt", "0.0005")
    deleted = await root.post(f"{ADMIN}/trading_fees/delete", {"id": moved.json()["id"]})
    assert deleted.status_code == 201
    assert (await root.get(f"{ADMIN}/trading_fees")).json() == []
    assert exchange.runner.engine.fees == {}
    again = (await vip.post(f"{MARKET}/orders", order)).json()
    assert again["taker_fee"] == "0.002"
    actions = [r["action"] for r in await audit_rows(exchange, "trading_fee")]
    assert actions == ["trading_fee.create", "trading_fee.update", "trading_fee.delete"]
    assert [r["after"] for r in await audit_rows(exchange, "member")] == [{"group": "vip-1"}]


async def test_roles_without_the_ability_change_nothing(exchange: Exchange) -> None:
    accountant = await exchange.member("accountant@example.com", "accountant")
    technical = await exchange.member("technical@example.com", "technical")
    member = await exchange.member("member@example.com")
    change = {"id": "btcusdt", "state": "disabled"}

    # The gateway's table lets accountants write only adjustments.
    assert_error(
        await accountant.post(f"{ADMIN}/markets/update", change), 401, "authz.invalid_permission"
    )
    response = await member.post(f"{ADMIN}/markets/update", change)
    assert response.status_code in (401, 403)
    assert (await member.get(f"{ADMIN}/markets")).status_code in (401, 403)
    assert (await accountant.get(f"{ADMIN}/markets")).status_code == 200
    assert exchange.runner.engine.markets["btcusdt"].tradable
    assert await audit_rows(exchange, "market") == []

    done = await technical.post(f"{ADMIN}/markets/update", change)  # technical staff may
    assert done.json()["state"] == "disabled"
    assert not exchange.runner.engine.markets["btcusdt"].tradable


async def test_bad_currency_and_fee_parameters(exchange: Exchange) -> None:
    root: Caller = await exchange.member("root@example.com", "superadmin")
    bad_currency = await root.post(
        f"{ADMIN}/currencies/new", {"code": "Sol!", "type": "token", "precision": 40}
    )
    assert_error(
        bad_currency,
        422,
        "admin.currency.invalid_code",
        "admin.currency.invalid_type",
        "admin.currency.invalid_precision",
    )
    assert_error(
        await root.post(f"{ADMIN}/trading_fees/new", {"maker": "0.0000001", "market_id": "doge"}),
        422,
        "admin.trading_fee.invalid_market_id",
        "admin.trading_fee.invalid_maker",
        "admin.trading_fee.missing_taker",
    )
    assert_error(
        await root.post(f"{ADMIN}/trading_fees/delete", {"id": 99}), 404, "record.not_found"
    )
    assert (await root.get(f"{ADMIN}/currencies", type="coin")).status_code == 200
    assert await audit_rows(exchange, "currency") == []
    assert await audit_rows(exchange, "trading_fee") == []


async def test_a_token_goes_on_a_chain_with_its_contract_and_bad_settings_change_nothing(
    exchange: Exchange,
) -> None:
    root: Caller = await exchange.member("root@example.com", "superadmin")
    await exchange.sql(
        "INSERT INTO blockchains (key, name, client) VALUES ('ethereum', 'Ethereum', 'ethereum')"
    )
    contract = "0x" + "aB" * 20
    token = {"erc20_contract_address": contract, "decimals": 6, "min_collection_amount": "50"}

    changed = await root.post(
        f"{ADMIN}/currencies/update",
        {"code": "usdt", "blockchain_key": "ethereum", "options": token},
    )

    assert changed.status_code == 201, changed.text
    shown = changed.json()
    assert shown["blockchain_key"] == "ethereum"
    assert shown["options"] == {**token, "erc20_contract_address": contract.lower()}
    assert (await root.get(f"{ADMIN}/currencies/usdt")).json()["options"] == shown["options"]
    as_text = await root.post(  # a form sends the options as JSON text
        f"{ADMIN}/currencies/update", {"code": "usdt", "options": json.dumps({"decimals": 6})}
    )
    assert as_text.json()["options"] == {"decimals": 6}  # replaced whole
    assert len(await audit_rows(exchange, "currency")) == 2

    for body, code in [
        ({"options": {"decimals": 40}}, "admin.currency.invalid_options"),
        ({"options": {"erc20_contract_address": "0x12"}}, "admin.currency.invalid_options"),
        ({"options": "{not json"}, "admin.currency.invalid_options"),
        ({"options": ["decimals", 6]}, "admin.currency.invalid_options"),
        ({"options": {"send_surplus": "yes"}}, "admin.currency.invalid_options"),
        ({"blockchain_key": "Ethereum Main!"}, "admin.currency.invalid_blockchain_key"),
        ({"blockchain_key": "solana"}, "admin.currency.blockchain_key_doesnt_exist"),
    ]:
        assert_error(
            await root.post(
                f"{ADMIN}/currencies/update", {"code": "usdt", **cast(dict[str, Any], body)}
            ),
            422,
            code,
        )
    fiat = await root.post(
        f"{ADMIN}/currencies/update", {"code": "usd", "blockchain_key": "ethereum"}
    )
    assert_error(fiat, 422, "admin.currency.invalid_blockchain_key")
    (usdt,) = await exchange.sql("SELECT blockchain_key, options FROM currencies WHERE id = 'usdt'")
    assert (usdt["blockchain_key"], json.loads(usdt["options"])) == ("ethereum", {"decimals": 6})
    assert len(await audit_rows(exchange, "currency")) == 2

    off = await root.post(f"{ADMIN}/currencies/update", {"code": "usdt", "blockchain_key": ""})
    assert off.json()["blockchain_key"] is None


async def test_deposits_need_the_chains_confirmations_unless_the_currency_overrides_them(
    exchange: Exchange,
) -> None:
    root: Caller = await exchange.member("root@example.com", "superadmin")
    public = await exchange.member("someone@example.com")
    await exchange.sql(
        "INSERT INTO blockchains (key, name, client, min_confirmations)"
        " VALUES ('ethereum', 'Ethereum', 'ethereum', 7)"
    )

    async def needed() -> tuple[Any, Any, Any]:
        listed = (await public.get(f"{PUBLIC}/currencies/eth")).json()["min_confirmations"]
        admin = (await root.get(f"{ADMIN}/currencies/eth")).json()
        return listed, admin["min_confirmations"], admin["min_confirmations_override"]

    assert await needed() == (7, 7, None)  # the blockchain's, as in Peatio 3
    assert (await public.get(f"{PUBLIC}/currencies/btc")).json()["min_confirmations"] is None
    overridden = await root.post(
        f"{ADMIN}/currencies/update", {"code": "eth", "min_confirmations": 2}
    )
    assert overridden.status_code == 201, overridden.text
    assert await needed() == (2, 2, 2)
    await root.post(f"{ADMIN}/blockchains/update", {"key": "ethereum", "min_confirmations": 9})
    assert await needed() == (2, 2, 2)  # an override stays until cleared
    for bad in (0, -1, "two"):
        assert_error(
            await root.post(
                f"{ADMIN}/currencies/update", {"code": "eth", "min_confirmations": bad}
            ),
            422,
            "admin.currency.invalid_min_confirmations",
        )
    cleared = await root.post(
        f"{ADMIN}/currencies/update", {"code": "eth", "min_confirmations": ""}
    )
    assert cleared.status_code == 201, cleared.text
    assert await needed() == (9, 9, None)
