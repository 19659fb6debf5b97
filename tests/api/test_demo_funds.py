"""Demo funds: on a demo exchange a member claims a fixed set of balances once, over HTTP.
Each credit is a double-entry adjustment by the engine under a key of its own (member and
currency), so a second claim, or two at once, pays nothing more; the ledger verifies; an
exchange without them says so; a currency that is not the exchange's stops the start."""

import asyncio
import logging
from decimal import Decimal

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import ValidationError

from bursa.api.peatio.account import demo_funds as demo_funds_api
from bursa.config.settings import DEFAULT_DEMO_FUNDS, Settings
from bursa.db.session import create_engine, create_session_factory
from bursa.events.bus import BALANCE
from bursa.trading.demo_funds import DemoFunds, DemoFundsMisconfigured
from tests.api.members import ACCOUNT, Caller, Exchange, assert_error
from tests.api.members import exchange as exchange

DEMO_FUNDS = f"{ACCOUNT}/demo_funds"
FUNDS = {
    "usdt": Decimal("10000"),
    "btc": Decimal("1"),
    "eth": Decimal("10"),
    "usd": Decimal("10000.50"),
}
SHOWN = [
    {"currency": "usdt", "amount": "10000"},
    {"currency": "btc", "amount": "1"},
    {"currency": "eth", "amount": "10"},
    {"currency": "usd", "amount": "10000.5"},
]


async def _faucet(exchange: Exchange, funds: dict[str, Decimal]) -> None:
    """The exchange's app with demo funds (the router too, until ``create_app`` has it)."""
    served = {
        included.path
        for included in iter_route_contexts(exchange.app.routes)
        if isinstance(included.original_route, APIRoute)
    }
    if DEMO_FUNDS not in served:
        exchange.app.include_router(demo_funds_api.router)
    engine = create_engine(exchange.database_url, pool_size=1)
    try:
        sessions = create_session_factory(engine)
        faucet = await DemoFunds.at_start(sessions, funds, embedded=True)
    finally:
        await engine.dispose()
    exchange.app.state.demo_funds = faucet


async def _balances(member: Caller) -> dict[str, str]:
    found = await member.get(f"{ACCOUNT}/balances")
    assert found.status_code == 200, found.text
    return {row["currency"]: row["balance"] for row in found.json() if row["balance"] != "0"}


async def _demo_rows(exchange: Exchange) -> tuple[int, int]:
    """Applied demo-funds commands in the engine's log, and their ledger postings."""
    commands = await exchange.sql(
        "SELECT count(*) FROM engine_commands"
        " WHERE idempotency_key LIKE 'demo-funds:%' AND result->>'error' IS NULL"
    )
    postings = await exchange.sql(
        "SELECT count(*) FROM operations WHERE reference_id LIKE 'demo-funds:%'"
    )
    return commands[0]["count"], postings[0]["count"]


async def test_a_member_claims_the_demo_funds_once(exchange: Exchange) -> None:
    await _faucet(exchange, FUNDS)
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.credit(alice, "btc", "0.5")  # a deposit before: the funds add to it

    offer = await alice.get(DEMO_FUNDS)
    assert offer.status_code == 200, offer.text
    assert offer.json() == {"available": True, "granted": False, "funds": SHOWN}

    with exchange.runner.bus.subscribe(BALANCE) as stream:
        claimed = await alice.post(DEMO_FUNDS)
        assert claimed.status_code == 201, claimed.text
        assert claimed.json() == SHOWN
        heard = {(await stream.get()).data["currency"] for _ in FUNDS}
    assert heard == set(FUNDS)  # each new balance goes out as any credit's does

    assert await _balances(alice) == {
        "usdt": "10000",
        "btc": "1.5",
        "eth": "10",
        "usd": "10000.5",
    }
    assert (await alice.get(DEMO_FUNDS)).json() == {
        "available": True,
        "granted": True,
        "funds": SHOWN,
    }
    await exchange.ledger_ok()
    assert await _demo_rows(exchange) == (4, 8)  # asset and liability, per currency

    # The command log and the postings say where the money came from.
    logged = await exchange.sql(
        "SELECT idempotency_key, payload->>'reason' AS reason FROM engine_commands"
        " WHERE idempotency_key LIKE 'demo-funds:%' ORDER BY seq"
    )
    assert [(row["idempotency_key"], row["reason"]) for row in logged] == [
        (f"demo-funds:{alice.id}:{code}", "demo funds") for code in FUNDS
    ]
    ledger = (await alice.get(f"{ACCOUNT}/ledger", currency="usdt")).json()
    assert [(row["reference_type"], row["rid"], row["credit"]) for row in ledger] == [
        ("adjustment", f"demo-funds:{alice.id}:usdt", "10000")
    ]

    # Asked again: refused, and nothing changes.
    assert_error(await alice.post(DEMO_FUNDS), 422, "account.demo_funds.already_granted")
    assert await _balances(alice) == {
        "usdt": "10000",
        "btc": "1.5",
        "eth": "10",
        "usd": "10000.5",
    }
    assert await _demo_rows(exchange) == (4, 8)

    # Another member claims their own.
    assert (await bob.get(DEMO_FUNDS)).json()["granted"] is False
    assert (await bob.post(DEMO_FUNDS)).status_code == 201
    assert (await _balances(bob))["eth"] == "10"
    assert await _demo_rows(exchange) == (8, 16)
    await exchange.ledger_ok()


async def test_two_claims_at_once_pay_once(exchange: Exchange) -> None:
    await _faucet(exchange, FUNDS)
    alice = await exchange.member("alice@example.com")

    answers = await asyncio.gather(*(alice.post(DEMO_FUNDS) for _ in range(3)))

    assert sorted(answer.status_code for answer in answers) == [201, 422, 422]
    for answer in answers:
        if answer.status_code == 422:
            assert_error(answer, 422, "account.demo_funds.already_granted")
    assert await _balances(alice) == {
        "usdt": "10000",
        "btc": "1",
        "eth": "10",
        "usd": "10000.5",
    }
    assert await _demo_rows(exchange) == (4, 8)
    await exchange.ledger_ok()


async def test_a_currency_added_later_is_claimed_alone(exchange: Exchange) -> None:
    await _faucet(exchange, {"usdt": Decimal("100")})
    alice = await exchange.member("alice@example.com")
    assert (await alice.post(DEMO_FUNDS)).json() == [{"currency": "usdt", "amount": "100"}]

    await _faucet(exchange, {"usdt": Decimal("100"), "btc": Decimal("0.25")})
    assert (await alice.get(DEMO_FUNDS)).json()["granted"] is False
    assert (await alice.post(DEMO_FUNDS)).json() == [{"currency": "btc", "amount": "0.25"}]
    assert await _balances(alice) == {"usdt": "100", "btc": "0.25"}
    await exchange.ledger_ok()


async def test_api_keys_need_the_trade_scope_to_claim(exchange: Exchange) -> None:
    await _faucet(exchange, FUNDS)
    alice = await exchange.member("alice@example.com")

    reader = await exchange.with_key(alice, "read")
    assert (await reader.get(DEMO_FUNDS)).json()["granted"] is False
    assert_error(await reader.post(DEMO_FUNDS), 403, "authz.insufficient_scope")
    trader = await exchange.with_key(alice, "trade")
    assert (await trader.post(DEMO_FUNDS)).status_code == 201
    assert (await reader.get(DEMO_FUNDS)).json()["granted"] is True

    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://x") as nobody:
        assert_error(await nobody.get(DEMO_FUNDS), 401, "authz.invalid_session")
    assert_error(await alice.client.post(DEMO_FUNDS), 401, "authz.missing_csrf_token")


async def test_an_exchange_without_demo_funds_says_so(exchange: Exchange) -> None:
    await _faucet(exchange, {})
    alice = await exchange.member("alice@example.com")

    assert (await alice.get(DEMO_FUNDS)).json() == {
        "available": False,
        "granted": False,
        "funds": [],
    }
    assert_error(await alice.post(DEMO_FUNDS), 422, "account.demo_funds.disabled")
    assert await _balances(alice) == {}
    assert await _demo_rows(exchange) == (0, 0)

    del exchange.app.state.demo_funds  # an app built without them: off too
    assert (await alice.get(DEMO_FUNDS)).json()["available"] is False


async def test_demo_funds_that_do_not_fit_stop_the_start(
    fresh_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(fresh_database_url, pool_size=1)
    sessions = create_session_factory(engine)
    try:
        with pytest.raises(DemoFundsMisconfigured) as unknown:
            await DemoFunds.at_start(
                sessions, {"usdt": Decimal(1), "doge": Decimal(5)}, embedded=True
            )
        assert str(unknown.value) == (
            "BURSA_DEMO_FUNDS names doge: not a currency of this exchange"
            " (its currencies: btc, eth, usd, usdt)"
        )
        with pytest.raises(DemoFundsMisconfigured, match="usd has 2 decimals"):
            await DemoFunds.at_start(sessions, {"usd": Decimal("0.001")}, embedded=True)

        assert await DemoFunds.at_start(sessions, {}, embedded=False) == DemoFunds.off()
        with caplog.at_level(logging.WARNING, logger="bursa.trading.demo_funds"):
            on = await DemoFunds.at_start(sessions, {"usdt": Decimal(5)}, embedded=True)
            assert on.available and not caplog.records  # the embedded default: quiet
            await DemoFunds.at_start(sessions, {"usdt": Decimal(5)}, embedded=False)
        assert "outside the embedded default" in caplog.records[0].getMessage()
    finally:
        await engine.dispose()


def _read(monkeypatch: pytest.MonkeyPatch, value: str | None, **others: str) -> Settings:
    """The settings as a process reads them, with ``BURSA_DEMO_FUNDS`` set to ``value``."""
    for name in ("BURSA_DEMO_FUNDS", "BURSA_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    if value is not None:
        monkeypatch.setenv("BURSA_DEMO_FUNDS", value)
    for name, setting in others.items():
        monkeypatch.setenv(name, setting)
    return Settings()


def test_the_setting_is_read_strictly_and_on_only_for_the_demo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = _read(monkeypatch, " USDT:10000, btc:0.5 ")
    assert read.demo_funds == {"usdt": Decimal(10000), "btc": Decimal("0.5")}
    assert _read(monkeypatch, "off").demo_funds == {}
    assert _read(monkeypatch, "").demo_funds == {}
    for bad in ("usdt", "usdt:-1", "usdt:0", "usdt:1e3", "usdt:1,usdt:2", "usdt:1;btc:2"):
        with pytest.raises(ValidationError, match="demo_funds"):
            _read(monkeypatch, bad)

    real = {"BURSA_DATABASE_URL": "postgresql://db/bursa"}
    embedded = _read(monkeypatch, None)
    assert embedded.demo_funds is None
    assert embedded.demo_funds_in_effect(demo_seeds=True) == DEFAULT_DEMO_FUNDS
    assert embedded.demo_funds_in_effect(demo_seeds=False) == {}
    # `bursa up --demo` on a real database: off unless the operator sets it.
    assert _read(monkeypatch, None, **real).demo_funds_in_effect(demo_seeds=True) == {}
    chosen = _read(monkeypatch, "usd:5", **real)
    assert chosen.demo_funds_in_effect(demo_seeds=False) == {"usd": Decimal(5)}
    assert _read(monkeypatch, "off").demo_funds_in_effect(demo_seeds=True) == {}


def test_the_embedded_demo_lets_a_newcomer_withdraw_at_level_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one-machine demo lowers the withdrawal level (2FA and activated beneficiaries
    still apply); a real database keeps 3, and an operator's own choice always wins."""
    monkeypatch.delenv("BURSA_MIN_WITHDRAW_LEVEL", raising=False)
    embedded = _read(monkeypatch, None)
    assert embedded.withdraw_level_in_effect(demo_seeds=True) == 1
    assert embedded.withdraw_level_in_effect(demo_seeds=False) == 3
    real = _read(monkeypatch, None, BURSA_DATABASE_URL="postgresql://db/bursa")
    assert real.withdraw_level_in_effect(demo_seeds=True) == 3
    monkeypatch.setenv("BURSA_MIN_WITHDRAW_LEVEL", "3")
    assert _read(monkeypatch, None).withdraw_level_in_effect(demo_seeds=True) == 3
