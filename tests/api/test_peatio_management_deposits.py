"""Peatio's Management API for fiat deposits, signed with test keys, on a real engine and
PostgreSQL: money loaded once per tid, visible to the member, the ledger balanced, events
in the outbox, bad requests changing nothing."""

import asyncio
from collections.abc import Mapping
from typing import Any

import asyncpg

from bursa.ledger.verify import verify_ledger
from tests.api.management import (
    Management,
    envelope,
    management,  # noqa: F401 - fixture
)
from tests.api.members import (
    ACCOUNT,
    exchange,  # noqa: F401 - fixture
)


async def _ledger_ok(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        report = await verify_ledger(conn)
    finally:
        await conn.close()
    assert report.ok, report.breaks


async def _outbox(management: Management) -> list[Mapping[str, Any]]:
    """The deposit events in the outbox (users' and the engine's are there too)."""
    events = await management.exchange.outbox()
    return [e for e in events if e["name"].startswith("model.deposit.")]


async def _deposit_count(management: Management) -> int:
    rows = await management.exchange.sql("SELECT count(*) AS n FROM deposits")
    return int(rows[0]["n"])


async def test_an_accepted_deposit_credits_the_member_once(management: Management) -> None:
    exchange = management.exchange
    alice = await exchange.member("alice@example.com")
    await exchange.sql("UPDATE currencies SET deposit_fee = 0.5 WHERE id = 'usd'")
    paid = {"uid": alice.uid, "currency": "USD", "amount": "120.25", "tid": "PAY-0001"}

    first = await management.call("deposits/new", paid | {"state": "accepted"})
    assert first.status_code == 201, first.text
    shown = first.json()
    assert {k: shown[k] for k in ("tid", "uid", "currency", "type", "amount", "fee", "state")} == {
        "tid": "PAY-0001",
        "uid": alice.uid,
        "currency": "usd",
        "type": "fiat",
        "amount": "119.75",
        "fee": "0.5",
        "state": "accepted",
    }
    assert shown["completed_at"] is not None
    again = await management.call("deposits/new", paid | {"state": "accepted"})
    assert again.status_code == 200, again.text
    assert again.json() == shown

    balance = await alice.get(f"{ACCOUNT}/balances/usd")
    assert balance.json() == {"currency": "usd", "balance": "119.75", "locked": "0"}
    history = await alice.get(f"{ACCOUNT}/deposits")
    assert [(d["tid"], d["amount"]) for d in history.json()] == [("PAY-0001", "119.75")]
    await _ledger_ok(exchange.database_url)

    events = await _outbox(management)
    assert [e["name"] for e in events] == ["model.deposit.created", "model.deposit.updated"]
    created, updated = events
    assert created["record"]["state"] == "submitted"
    assert created["record"]["user"] == {"uid": alice.uid, "email": "alice@example.com"}
    assert updated["record"]["state"] == "accepted"
    assert updated["record"]["amount"] == "119.75"
    assert updated["changes"]["state"] == "submitted"
    assert "completed_at" in updated["changes"]

    fetched = await management.call("deposits/get", {"tid": "PAY-0001"})
    assert fetched.status_code == 201
    assert fetched.json() == shown


async def test_a_submitted_deposit_is_accepted_or_canceled_once(management: Management) -> None:
    exchange = management.exchange
    bob = await exchange.member("bob@example.com")
    made = await management.call("deposits/new", {"uid": bob.uid, "currency": "usd", "amount": 50})
    assert made.status_code == 201, made.text
    tid = made.json()["tid"]
    assert tid.startswith("TID") and len(tid) == 13
    assert made.json()["state"] == "submitted"
    assert (await bob.get(f"{ACCOUNT}/balances/usd")).json()["balance"] == "0"

    accepted = await management.call(
        "deposits/state", {"tid": tid, "state": "accepted"}, method="PUT"
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    twice = await management.call("deposits/state", {"tid": tid, "state": "accepted"}, method="PUT")
    assert twice.status_code == 422
    assert twice.json() == {"error": "Cannot accept a deposit in state accepted."}
    late = await management.call("deposits/state", {"tid": tid, "state": "canceled"}, method="PUT")
    assert late.status_code == 422
    assert (await bob.get(f"{ACCOUNT}/balances/usd")).json()["balance"] == "50"

    other = await management.call(
        "deposits/new", {"uid": bob.uid, "currency": "usd", "amount": "20"}
    )
    canceled = await management.call(
        "deposits/state", {"tid": other.json()["tid"], "state": "canceled"}, method="PUT"
    )
    assert canceled.json()["state"] == "canceled"
    assert (await bob.get(f"{ACCOUNT}/balances/usd")).json()["balance"] == "50"
    listed = await management.call("deposits", {"uid": bob.uid, "limit": 1})
    assert listed.status_code == 201
    assert listed.headers["Total"] == "2"
    assert [d["state"] for d in listed.json()] == ["canceled"]
    by_state = await management.call("deposits", {"state": "accepted"})
    assert [d["tid"] for d in by_state.json()] == [tid]
    missing = await management.call("deposits/get", {"tid": "TID0000000000"})
    assert (missing.status_code, missing.json()) == (404, {"error": "Couldn't find record."})
    await _ledger_ok(exchange.database_url)


async def test_an_accepting_deposit_left_by_a_crash_is_finished_once(
    management: Management,
) -> None:
    """The engine applied the credit but the request died before the deposit said so: a
    retry finishes it without crediting again."""
    exchange = management.exchange
    carol = await exchange.member("carol@example.com")
    paid = {"uid": carol.uid, "currency": "usd", "amount": "30", "tid": "CRASH-1"}
    assert (await management.call("deposits/new", paid | {"state": "accepted"})).status_code == 201
    await exchange.sql("UPDATE deposits SET state = 'accepting' WHERE tid = 'CRASH-1'")

    retried = await management.call("deposits/new", paid | {"state": "accepted"})
    assert retried.json()["state"] == "accepted"
    assert (await carol.get(f"{ACCOUNT}/balances/usd")).json()["balance"] == "30"
    credits = await exchange.sql("SELECT count(*) AS n FROM engine_commands WHERE kind = 'credit'")
    assert credits[0]["n"] == 1
    await _ledger_ok(exchange.database_url)


async def test_concurrent_requests_for_one_tid_credit_once(management: Management) -> None:
    exchange = management.exchange
    frank = await exchange.member("frank@example.com")
    paid = {"uid": frank.uid, "currency": "usd", "amount": "40", "tid": "RACE-1"}
    made = await asyncio.gather(
        *(management.call("deposits/new", paid | {"state": "accepted"}) for _ in range(4))
    )
    assert sorted(r.status_code for r in made) == [200, 200, 200, 201]
    accepted = await asyncio.gather(
        *(
            management.call("deposits/state", {"tid": "RACE-1", "state": "accepted"}, method="PUT")
            for _ in range(3)
        )
    )
    assert all(r.status_code in (200, 422) for r in accepted)
    assert (await frank.get(f"{ACCOUNT}/balances/usd")).json()["balance"] == "40"
    await _ledger_ok(exchange.database_url)


async def test_bad_deposits_change_nothing(management: Management) -> None:
    exchange = management.exchange
    dave = await exchange.member("dave@example.com")
    good = {"uid": dave.uid, "currency": "usd", "amount": "25", "tid": "T-1", "state": "accepted"}
    assert (await management.call("deposits/new", good)).status_code == 201
    before = await _outbox(management)

    refused: dict[str, tuple[dict[str, Any], str | None]] = {
        "negative": (good | {"tid": "T-2", "amount": "-5"}, "amount must be positive"),
        "over-precise": (
            good | {"tid": "T-3", "amount": "25.001"},
            "amount has more than 2 decimal places",
        ),
        "not a number": (
            good | {"tid": "T-4", "amount": "lots"},
            "amount must be a decimal string",
        ),
        "a float": (good | {"tid": "T-5", "amount": 25.5}, "amount must be a decimal string"),
        "coin": (good | {"tid": "T-6", "currency": "btc"}, "currency does not have a valid value"),
        "unknown currency": (
            good | {"tid": "T-7", "currency": "xyz"},
            "currency does not have a valid value",
        ),
        "unknown member": (good | {"tid": "T-8", "uid": "ID0000000000"}, None),
        "below the minimum": (
            good | {"tid": "T-9", "amount": "9.99"},
            "amount is less than the currency's minimum deposit",
        ),
        "same tid, other amount": (good | {"amount": "26"}, "tid has already been taken"),
        "missing uid": ({"currency": "usd", "amount": "25"}, "uid Field required"),
    }
    for case, (data, message) in refused.items():
        answer = await management.call("deposits/new", data)
        assert answer.status_code == 422, (case, answer.text)
        if message is not None:
            assert answer.json() == {"error": message}, case

    outsider = await management.call("deposits/new", good | {"tid": "T-10"}, signers=("reporter",))
    assert outsider.status_code == 401
    body = envelope(good | {"tid": "T-11"}, "applogic")
    assert (await management.send("deposits/new", body)).status_code == 201
    replay = await management.send("deposits/new", body)
    assert (replay.status_code, replay.json()) == (401, {"error": "JWT has already been used."})

    assert (await dave.get(f"{ACCOUNT}/balances/usd")).json()["balance"] == "50"
    assert await _deposit_count(management) == 2
    assert len(await _outbox(management)) == len(before) + 2  # T-11: created and updated
    await _ledger_ok(exchange.database_url)


async def test_the_gateway_refuses_management_paths(management: Management) -> None:
    member = await management.exchange.member("eve@example.com")
    answer = await member.get("/api/v2/auth/api/v2/peatio/management/deposits/new")
    assert answer.status_code == 401
    assert answer.json() == {"errors": ["authz.permission_denied"]}
