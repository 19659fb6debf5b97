"""KYC-level withdrawal limits over HTTP, on a real engine and PostgreSQL: prices come from
real trades, limits from ``/admin/withdraw_limits``; the most specific row for the member's
level and group applies, withdrawals of every currency are valued in the platform currency,
and a refusal holds nothing and writes nothing."""

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bursa.config.settings import Settings
from bursa.trading.member_levels import MemberLevels
from tests.api.members import MARKET, Caller, Exchange, assert_error, exchange  # noqa: F401
from tests.api.test_peatio_admin_config import audit_rows
from tests.custody.test_withdraw_requests import (
    WITHDRAWS,
    Inbox,
    active_beneficiary,
    balance,
    desk,  # noqa: F401 - fixture
    eth_address,
    fresh_otp,
    inbox,  # noqa: F401 - fixture
    send,
    withdrawer,
)
from tests.test_settings import deployment_settings

LIMITS = "/api/v2/peatio/admin/withdraw_limits"


@pytest.fixture
async def bank(desk: Exchange) -> Exchange:
    """The exchange letting level 1 withdraw, so that levels 1 and 2 can differ."""
    desk.app.state.member_levels = MemberLevels(deposit=1, withdraw=1, trading=1)
    return desk


async def trade_at(exchange: Exchange, market: str, base: str, quote: str, price: str) -> None:
    """One real trade of 0.01 base at ``price`` between two fresh members."""
    tag = f"{market}-{price}".replace(".", "_")
    seller = await exchange.member(f"seller-{tag}@example.com")
    buyer = await exchange.member(f"buyer-{tag}@example.com")
    await exchange.credit(seller, base, "1")
    await exchange.credit(buyer, quote, str(Decimal(price) * 2))
    for who, side in ((seller, "sell"), (buyer, "buy")):
        placed = await who.post(
            f"{MARKET}/orders", {"market": market, "side": side, "volume": "0.01", "price": price}
        )
        assert placed.status_code == 201, placed.text
    (row,) = await exchange.sql(
        "SELECT price FROM trades WHERE market_id = $1 ORDER BY id DESC LIMIT 1", market
    )
    assert row["price"] == Decimal(price)


async def member_at(
    exchange: Exchange, inbox: Inbox, email: str, level: int, **funds: str
) -> tuple[Caller, dict[str, int]]:
    """A member at ``level`` with 2FA, ``funds`` credited and an active beneficiary for
    each funded currency."""
    member = await withdrawer(exchange, email)
    await exchange.sql("UPDATE users SET level = $2 WHERE id = $1", member.id, level)
    beneficiaries = {}
    for currency, amount in funds.items():
        await exchange.credit(member, currency, amount)
        beneficiaries[currency] = await active_beneficiary(
            exchange, inbox, member, eth_address(), currency
        )
    return member, beneficiaries


async def withdraw(
    exchange: Exchange, member: Caller, beneficiaries: dict[str, int], currency: str, amount: str
) -> Any:
    ask = {
        "currency": currency,
        "amount": amount,
        "beneficiary_id": beneficiaries[currency],
        "otp": await fresh_otp(exchange, member),
    }
    return await send(member, "POST", WITHDRAWS, ask)


async def add_limit(root: Caller, **fields: str) -> dict[str, Any]:
    created = await send(root, "POST", LIMITS, fields)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_the_level_limit_counts_every_currency_at_the_last_price(
    bank: Exchange, inbox: tuple[Inbox, int]
) -> None:
    root = await bank.member("root@example.com", "superadmin")
    await add_limit(root, kyc_level="1", limit_24_hour="1000", limit_1_month="5000")
    await add_limit(root, kyc_level="2", limit_24_hour="10000", limit_1_month="50000")
    await trade_at(bank, "ethusdt", "eth", "usdt", "1500")
    await trade_at(bank, "ethusdt", "eth", "usdt", "2000")  # the last trade is the price
    alice, alice_to = await member_at(bank, inbox[0], "alice@example.com", 1, eth="5", usdt="900")
    bob, bob_to = await member_at(bank, inbox[0], "bob@example.com", 2, eth="5")

    first = await withdraw(bank, alice, alice_to, "eth", "0.3")  # 600 usdt
    assert first.status_code == 201, first.text
    held = await balance(alice, "eth")
    assert_error(
        await withdraw(bank, alice, alice_to, "eth", "0.3"),  # 1,200 > 1,000
        422,
        "account.withdraw.limit_24_hour_exceeded",
    )
    # Another currency counts too: 600 + 401 usdt > 1,000; 600 + 400 fits exactly.
    assert_error(
        await withdraw(bank, alice, alice_to, "usdt", "401"),
        422,
        "account.withdraw.limit_24_hour_exceeded",
    )
    # A refusal holds nothing and writes nothing.
    assert await balance(alice, "eth") == held
    assert await balance(alice, "usdt") == ("900", "0")
    assert len(await bank.sql("SELECT id FROM withdraws WHERE member_id = $1", alice.id)) == 1
    fits = await withdraw(bank, alice, alice_to, "usdt", "400")
    assert fits.status_code == 201, fits.text

    sums = (await alice.get(f"{WITHDRAWS}/limits", currency="eth")).json()
    assert sums == [
        {
            "currency": "eth",
            "last_24_hours": "0.3",
            "last_72_hours": "0.3",
            "limit_24_hours": "100",
            "limit_72_hours": "300",
            "platform_currency": "usdt",
            "kyc_last_24_hours": "1000",
            "kyc_last_1_month": "1000",
            "kyc_limit_24_hour": "1000",
            "kyc_limit_1_month": "5000",
        }
    ]

    # Level 2 has a higher row: the same withdrawals go through.
    for _ in range(2):
        done = await withdraw(bank, bob, bob_to, "eth", "0.3")
        assert done.status_code == 201, done.text

    # A canceled withdrawal no longer counts.
    await bank.sql("UPDATE withdraws SET state = 'canceled' WHERE member_id = $1", alice.id)
    again = await withdraw(bank, alice, alice_to, "eth", "0.45")
    assert again.status_code == 201, again.text


async def test_the_month_limit_counts_thirty_days(bank: Exchange, inbox: tuple[Inbox, int]) -> None:
    root = await bank.member("root@example.com", "superadmin")
    await add_limit(root, kyc_level="1", limit_24_hour="0", limit_1_month="1000")
    await trade_at(bank, "ethusdt", "eth", "usdt", "2000")
    alice, to = await member_at(bank, inbox[0], "alice@example.com", 1, eth="5")
    assert (await withdraw(bank, alice, to, "eth", "0.3")).status_code == 201
    # Ten days ago: out of the day, still in the month.
    await bank.sql("UPDATE withdraws SET created_at = now() - interval '10 days'")
    assert_error(
        await withdraw(bank, alice, to, "eth", "0.21"),  # 600 + 420 > 1,000
        422,
        "account.withdraw.limit_1_month_exceeded",
    )
    # Thirty-one days ago: out of the month too.
    await bank.sql("UPDATE withdraws SET created_at = now() - interval '31 days'")
    assert (await withdraw(bank, alice, to, "eth", "0.45")).status_code == 201


async def test_the_most_specific_row_wins_and_no_row_means_no_limit(
    bank: Exchange, inbox: tuple[Inbox, int]
) -> None:
    root = await bank.member("root@example.com", "superadmin")
    await trade_at(bank, "ethusdt", "eth", "usdt", "1000")
    alice, to = await member_at(bank, inbox[0], "alice@example.com", 1, eth="20")

    # No row: unlimited (the currency's own 100 ETH a day is the only limit).
    assert (await withdraw(bank, alice, to, "eth", "2")).status_code == 201
    await bank.sql("UPDATE withdraws SET state = 'canceled'")

    everyone = await add_limit(root, limit_24_hour="100", limit_1_month="0")  # any, any
    assert (everyone["group"], everyone["kyc_level"]) == ("any", "any")
    assert_error(
        await withdraw(bank, alice, to, "eth", "0.2"),
        422,
        "account.withdraw.limit_24_hour_exceeded",
    )
    # Her group (weight 1) beats any/any.
    await add_limit(root, group="vip-0", limit_24_hour="300", limit_1_month="0")
    assert (await withdraw(bank, alice, to, "eth", "0.2")).status_code == 201
    # Her level with any group (weight 10) beats her group: 200 + 200 > 250.
    level = await add_limit(root, kyc_level="1", limit_24_hour="250", limit_1_month="0")
    assert_error(
        await withdraw(bank, alice, to, "eth", "0.2"),
        422,
        "account.withdraw.limit_24_hour_exceeded",
    )
    # Level and group (weight 11) beat everything; 0 means no limit on the day.
    await add_limit(root, group="vip-0", kyc_level="1", limit_24_hour="0", limit_1_month="0")
    assert (await withdraw(bank, alice, to, "eth", "3")).status_code == 201
    # Another group's row does not apply to her.
    await bank.sql("DELETE FROM withdraw_limits WHERE kyc_level = '1' AND \"group\" = 'vip-0'")
    await add_limit(root, group="vip-9", kyc_level="1", limit_24_hour="0", limit_1_month="0")
    sums = (await alice.get(f"{WITHDRAWS}/limits", currency="eth")).json()[0]
    assert (sums["kyc_limit_24_hour"], sums["kyc_last_24_hours"]) == ("250", "3200")
    assert level["limit_24_hour"] == "250"


async def test_no_price_is_refused_while_a_limit_applies(
    bank: Exchange, inbox: tuple[Inbox, int]
) -> None:
    root = await bank.member("root@example.com", "superadmin")
    alice, to = await member_at(bank, inbox[0], "alice@example.com", 1, eth="5")
    limit = await add_limit(root, kyc_level="1", limit_24_hour="1000", limit_1_month="0")
    # ETH has never traded against USDT: it cannot be valued, so it is refused.
    assert_error(
        await withdraw(bank, alice, to, "eth", "0.1"), 422, "account.withdraw.limit_unpriced"
    )
    assert await balance(alice, "eth") == ("5", "0")
    # Once it trades it has a price.
    await trade_at(bank, "ethusdt", "eth", "usdt", "2000")
    assert (await withdraw(bank, alice, to, "eth", "0.1")).status_code == 201

    # Another platform currency: ETH priced by ethbtc, USDT by the inverse of btcusdt.
    bank.app.state.platform_currency = "btc"
    updated = await send(
        root, "PUT", LIMITS, {"id": limit["id"], "limit_24_hour": "0.03", "limit_1_month": "0"}
    )
    assert updated.status_code == 200, updated.text
    assert_error(  # nothing trades on ethbtc yet
        await withdraw(bank, alice, to, "eth", "0.1"), 422, "account.withdraw.limit_unpriced"
    )
    sums = (await alice.get(f"{WITHDRAWS}/limits", currency="eth")).json()[0]
    assert (sums["kyc_last_24_hours"], sums["kyc_limit_24_hour"]) == (None, "0.03")
    await trade_at(bank, "ethbtc", "eth", "btc", "0.05")
    await trade_at(bank, "btcusdt", "btc", "usdt", "40000")
    sums = (await alice.get(f"{WITHDRAWS}/limits", currency="eth")).json()[0]
    assert (sums["platform_currency"], sums["kyc_last_24_hours"]) == ("btc", "0.005")
    # 0.005 + 0.6 ETH (0.03 BTC) > 0.03 BTC; 0.005 + 0.5 ETH (0.025 BTC) fits exactly.
    assert_error(
        await withdraw(bank, alice, to, "eth", "0.6"),
        422,
        "account.withdraw.limit_24_hour_exceeded",
    )
    assert (await withdraw(bank, alice, to, "eth", "0.5")).status_code == 201
    carol, carol_to = await member_at(bank, inbox[0], "carol@example.com", 1, usdt="2000")
    # 1,200 USDT is 0.03 BTC; 1,201 is over.
    assert_error(
        await withdraw(bank, carol, carol_to, "usdt", "1201"),
        422,
        "account.withdraw.limit_24_hour_exceeded",
    )
    assert (await withdraw(bank, carol, carol_to, "usdt", "1200")).status_code == 201


async def test_admins_manage_limits_with_audit_and_refusals(bank: Exchange) -> None:
    root = await bank.member("root@example.com", "superadmin")
    created = await add_limit(
        root, group="VIP-1", kyc_level="2", limit_24_hour="1000.5", limit_1_month="20000"
    )
    assert {k: created[k] for k in ("group", "kyc_level", "limit_24_hour", "limit_1_month")} == {
        "group": "vip-1",
        "kyc_level": "2",
        "limit_24_hour": "1000.5",
        "limit_1_month": "20000",
    }
    updated = await send(root, "PUT", LIMITS, {"id": created["id"], "limit_1_month": "30000"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["limit_1_month"] == "30000"
    assert updated.json()["limit_24_hour"] == "1000.5"
    listed = await root.get(LIMITS, group="vip-1")
    assert [row["limit_1_month"] for row in listed.json()] == ["30000"]
    assert listed.headers["Total"] == "1"

    # Refusals, all reported at once, change nothing.
    assert_error(
        await send(
            root, "POST", LIMITS, {"group": "vip 1", "kyc_level": "x", "limit_24_hour": "-1"}
        ),
        422,
        "admin.withdraw_limit.invalid_group",
        "admin.withdraw_limit.invalid_kyc_level",
        "admin.withdraw_limit.invalid_limit_24_hour",
        "admin.withdraw_limit.missing_limit_1_month",
    )
    assert_error(  # usdt has 8 decimals
        await send(root, "POST", LIMITS, {"limit_24_hour": "1.000000001", "limit_1_month": "abc"}),
        422,
        "admin.withdraw_limit.invalid_limit_24_hour",
        "admin.withdraw_limit.invalid_limit_1_month",
    )
    assert_error(
        await send(
            root,
            "POST",
            LIMITS,
            {"group": "vip-1", "kyc_level": 2, "limit_24_hour": "1", "limit_1_month": "1"},
        ),
        422,
        "admin.withdraw_limit.already_exists",
    )
    assert_error(
        await send(root, "PUT", LIMITS, {"id": 999, "limit_24_hour": "1"}), 404, "record.not_found"
    )
    assert_error(
        await send(root, "PUT", LIMITS, {"id": "x"}), 422, "admin.withdraw_limit.invalid_id"
    )
    assert_error(
        await send(root, "PUT", LIMITS, {"id": created["id"], "limit_1_month": "-5"}),
        422,
        "admin.withdraw_limit.invalid_limit_1_month",
    )
    compliance = await bank.member("compliance@example.com", "compliance")
    assert (await compliance.get(LIMITS)).status_code == 200
    refused = await send(compliance, "DELETE", f"{LIMITS}/{created['id']}")
    assert refused.status_code in (401, 403), refused.text
    member = await bank.member("member@example.com")
    assert (await member.get(LIMITS)).status_code in (401, 403)
    (row,) = await bank.sql("SELECT limit_24_hour, limit_1_month FROM withdraw_limits")
    assert (row["limit_24_hour"], row["limit_1_month"]) == (Decimal("1000.5"), Decimal(30000))

    deleted = await send(root, "DELETE", f"{LIMITS}/{created['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["limit_1_month"] == "30000"
    assert (await root.get(LIMITS)).json() == []
    assert_error(await send(root, "DELETE", f"{LIMITS}/{created['id']}"), 404, "record.not_found")

    entries = await audit_rows(bank, "withdraw_limit")
    assert [(e["actor_uid"], e["action"]) for e in entries] == [
        (root.uid, "withdraw_limit.create"),
        (root.uid, "withdraw_limit.update"),
        (root.uid, "withdraw_limit.delete"),
    ]
    assert entries[1]["before"]["limit_1_month"] == "20000.000000000000000000"
    assert entries[1]["after"]["limit_1_month"] == "30000.000000000000000000"
    assert entries[2]["after"] is None


def test_the_platform_currency_is_a_currency_code(monkeypatch: pytest.MonkeyPatch) -> None:
    assert deployment_settings(monkeypatch).platform_currency == "usdt"
    monkeypatch.setenv("BURSA_PLATFORM_CURRENCY", "usd")
    assert Settings().platform_currency == "usd"
    for bad in ("USDT", "us dt", "toolongcode1", ""):
        with pytest.raises(ValidationError):
            deployment_settings(monkeypatch, platform_currency=bad)
