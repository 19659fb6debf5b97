"""Peatio's Management API single ledger operations (``assets/new``, ``expenses/new``,
``revenues/new``, ``liabilities/new``), signed with test keys, on a real engine: each posts
with its counterpart (the ledger verifies), a key posts once, bad requests change nothing;
and beneficiaries, deposit addresses and engines."""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bursa.api.management_auth import ManagementPolicy
from tests.api.management import POLICY, Management
from tests.api.members import (
    ACCOUNT,
    Caller,
    Exchange,
    exchange,  # noqa: F401 - fixture
)

MORE_SCOPES = (
    "write_operations",
    "read_beneficiaries",
    "write_beneficiaries",
    "write_payment_addresses",
    "read_engines",
    "write_engines",
)


@pytest.fixture
async def management(exchange: Exchange) -> AsyncIterator[Management]:
    scopes = {
        name: {"permitted_signers": ["applogic"], "mandatory_signers": ["applogic"]}
        for name in MORE_SCOPES
    }
    known: dict[str, Any] = dict(POLICY["scopes"])  # type: ignore[call-overload]
    policy = POLICY | {"scopes": known | scopes}
    exchange.app.state.management = {"peatio": ManagementPolicy.from_mapping(policy)}
    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://peatio") as http:
        yield Management(exchange, http)


async def _balance(member: Caller, currency: str) -> Decimal:
    answer = await member.get(f"{ACCOUNT}/balances/{currency}")
    return Decimal(answer.json()["balance"])


async def _operations(management: Management) -> Any:
    rows = await management.exchange.sql(
        "SELECT code, debit, credit FROM operations WHERE reference_type = 'transfer' ORDER BY id"
    )
    return [(r["code"], r["debit"], r["credit"]) for r in rows]


async def test_single_operations_post_with_their_counterparts(management: Management) -> None:
    exchange = management.exchange
    alice = await exchange.member("alice@example.com")

    paid = await management.call(
        "liabilities/new", {"currency": "USD", "code": 201, "uid": alice.uid, "credit": "12.5"}
    )
    assert paid.status_code == 201, paid.text
    assert paid.json() | {"created_at": ""} == {
        "code": 201,
        "currency": "usd",
        "credit": "12.5",
        "uid": alice.uid,
        "reference_type": "transfer",
        "created_at": "",
    }
    assert await _balance(alice, "usd") == Decimal("12.5")

    asset = await management.call(
        "assets/new", {"currency": "btc", "code": 102, "credit": "0.5", "key": "found-1"}
    )
    assert asset.status_code == 201, asset.text
    assert asset.json()["credit"] == "0.5" and "debit" not in asset.json()
    again = await management.call(
        "assets/new", {"currency": "btc", "code": 102, "credit": "0.5", "key": "found-1"}
    )
    assert again.status_code == 201, again.text  # the first result; nothing posted again

    expense = await management.call("expenses/new", {"currency": "usd", "code": 401, "credit": "2"})
    assert expense.status_code == 201, expense.text
    revenue = await management.call(
        "revenues/new", {"currency": "usd", "code": 301, "debit": "1", "uid": alice.uid}
    )
    assert revenue.status_code == 201, revenue.text
    assert revenue.json()["debit"] == "1"
    assert await _balance(alice, "usd") == Decimal("13.5")

    zero = Decimal(0)
    assert await _operations(management) == [
        (301, Decimal("12.5"), zero),  # the member paid from revenue
        (201, zero, Decimal("12.5")),
        (402, Decimal("0.5"), zero),  # assets gained: expenses recovered
        (102, zero, Decimal("0.5")),
        (101, Decimal(2), zero),  # an expense paid from assets
        (401, zero, Decimal(2)),
        (301, Decimal(1), zero),  # revenue given back to the member
        (201, zero, Decimal(1)),
    ]
    audited = await exchange.sql(
        "SELECT count(*) AS n FROM admin_audit WHERE action = $1", "operation.create"
    )
    assert audited[0]["n"] == 4
    await exchange.ledger_ok()


async def test_bad_operations_change_nothing(management: Management) -> None:
    exchange = management.exchange
    alice = await exchange.member("alice@example.com")
    refused = [
        (
            "assets/new",
            {"currency": "usd", "code": 201, "credit": "1"},
            "code does not have a valid value",
        ),
        (
            "assets/new",
            {"currency": "usd", "code": 101},
            "debit, credit are missing, exactly one parameter must be provided",
        ),
        (
            "assets/new",
            {"currency": "usd", "code": 101, "credit": "1", "debit": "1"},
            "debit, credit are mutually exclusive",
        ),
        ("assets/new", {"currency": "usd", "code": 101, "credit": 1.5}, None),
        ("assets/new", {"currency": "usd", "code": 101, "credit": "-1"}, None),
        ("revenues/new", {"currency": "usd", "code": 301, "credit": "1"}, "uid is missing"),
        (
            "liabilities/new",
            {"currency": "usd", "code": 211, "credit": "1", "uid": alice.uid},
            None,
        ),
        (
            "liabilities/new",
            {"currency": "usd", "code": 201, "debit": "1", "uid": alice.uid},
            "Account balance is insufficient.",
        ),
        ("expenses/new", {"currency": "usd", "code": 402, "credit": "1"}, None),  # coin code, fiat
        ("expenses/new", {"currency": "usd", "code": 401, "credit": "0.001"}, None),
        ("expenses/new", {"currency": "nope", "code": 401, "credit": "1"}, None),
    ]
    for path, data, message in refused:
        answer = await management.call(path, data)
        assert answer.status_code in (404, 422), (path, data, answer.text)
        if message is not None:
            assert answer.json() == {"error": message}, (path, data)
    unknown = await management.call(
        "liabilities/new", {"currency": "usd", "code": 201, "credit": "1", "uid": "ID0000000000"}
    )
    assert unknown.status_code == 404, unknown.text
    assert await _operations(management) == []
    await exchange.ledger_ok()
