"""Peatio's Management API ``transfers/new``, signed with test keys, on a real engine and
PostgreSQL: every operation posts or none does, the books stay balanced, a key moves money
once, and bad requests change nothing."""

from decimal import Decimal
from typing import Any

import asyncpg

from bursa.ledger.verify import verify_ledger
from tests.api.management import (
    Management,
    management,  # noqa: F401 - fixture
)
from tests.api.members import (
    ACCOUNT,
    Caller,
    exchange,  # noqa: F401 - fixture
)


def operation(currency: str, amount: str, src: dict[str, Any], dst: dict[str, Any]) -> Any:
    return {"currency": currency, "amount": amount, "account_src": src, "account_dst": dst}


async def _balance(member: Caller, currency: str) -> Decimal:
    answer = await member.get(f"{ACCOUNT}/balances/{currency}")
    return Decimal(answer.json()["balance"])


async def _ledger(management: Management) -> Any:
    conn = await asyncpg.connect(management.exchange.database_url)
    try:
        return await verify_ledger(conn)
    finally:
        await conn.close()


async def _funded(management: Management, member: Caller, amount: str, tid: str) -> None:
    paid = {"uid": member.uid, "currency": "usd", "amount": amount, "tid": tid}
    answer = await management.call("deposits/new", paid | {"state": "accepted"})
    assert answer.status_code == 201, answer.text


async def _snapshot(management: Management) -> Any:
    return await management.exchange.sql(
        "SELECT (SELECT count(*) FROM operations) AS ops,"
        " (SELECT coalesce(sum(balance), 0) FROM accounts) AS held,"
        " (SELECT count(*) FROM transfers WHERE state = 'done') AS done"
    )


async def test_a_transfer_moves_money_between_members_and_revenue_once(
    management: Management,
) -> None:
    exchange = management.exchange
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await _funded(management, alice, "100", "PAY-T1")
    request = {
        "key": "refund-2026-11-27",
        "category": "refund",
        "description": "Goodwill refund of fees",
        "operations": [
            operation(
                "USD", "25.5", {"code": 201, "uid": alice.uid}, {"code": 201, "uid": bob.uid}
            ),
            operation("usd", "1.25", {"code": 301}, {"code": 201, "uid": bob.uid}),
        ],
    }

    made = await management.call("transfers/new", request)

    assert made.status_code == 200, made.text
    assert made.json() == {
        "key": "refund-2026-11-27",
        "category": "refund",
        "description": "Goodwill refund of fees",
    }
    assert await _balance(alice, "usd") == Decimal("74.5")
    assert await _balance(bob, "usd") == Decimal("26.75")
    # What each member sees in their own history.
    bob_history = (await bob.get(f"{ACCOUNT}/ledger", type="transfer")).json()
    assert sorted(Decimal(t["credit"]) for t in bob_history) == [Decimal("1.25"), Decimal("25.5")]
    assert {t["rid"] for t in bob_history} == {"refund-2026-11-27"}
    # What the back office sees: the revenue account paid 1.25.
    ops = await management.call(
        "revenues", {"currency": "usd", "reference_type": "transfer"}, signers=("reporter",)
    )
    assert ops.status_code == 201, ops.text
    assert [(o["code"], o.get("debit"), o.get("credit")) for o in ops.json()] == [
        (301, "1.25", None)
    ]

    # The same request again answers the same transfer and moves nothing.
    again = await management.call("transfers/new", request)
    assert again.status_code == 200, again.text
    assert again.json() == made.json()
    assert await _balance(bob, "usd") == Decimal("26.75")
    # A request that died after the engine posted but before the transfer said so: sent
    # again, the logged result finishes it without posting twice.
    await exchange.sql("UPDATE transfers SET state = 'pending', engine_seq = NULL")
    operations_before = await _snapshot(management)
    recovered = await management.call("transfers/new", request)
    assert recovered.status_code == 200, recovered.text
    assert await _balance(bob, "usd") == Decimal("26.75")
    after = await _snapshot(management)
    assert (after[0]["ops"], after[0]["held"]) == (
        operations_before[0]["ops"],
        operations_before[0]["held"],
    )
    # The same key for another request is refused.
    other = request | {"description": "something else"}
    taken = await management.call("transfers/new", other)
    assert (taken.status_code, taken.json()) == (422, {"error": "key has already been taken"})

    report = await _ledger(management)
    assert report.ok, report.breaks
    usd = next(t for t in report.totals if t.currency == "usd")
    assert (usd.assets, usd.liabilities, usd.revenues) == (
        Decimal("100"),
        Decimal("101.25"),
        Decimal("-1.25"),
    )


async def test_refused_transfers_move_nothing_and_free_their_key(
    management: Management,
) -> None:
    exchange = management.exchange
    carol = await exchange.member("carol@example.com")
    dave = await exchange.member("dave@example.com")
    await _funded(management, carol, "10", "PAY-T2")
    before = await _snapshot(management)
    to_dave = {"code": 201, "uid": dave.uid}

    def request(*operations: Any, key: str = "gift-1") -> dict[str, Any]:
        return {"key": key, "category": "wire", "operations": list(operations)}

    too_much = request(operation("usd", "10.01", {"code": 201, "uid": carol.uid}, to_dave))
    refused = await management.call("transfers/new", too_much)
    assert (refused.status_code, refused.json()) == (
        422,
        {"error": "Account balance is insufficient."},
    )
    # An asset credited against a member's balance is one side of the books only.
    unbalanced = await management.call(
        "transfers/new", request(operation("usd", "5", {"code": 101}, to_dave))
    )
    assert unbalanced.status_code == 422
    assert unbalanced.json()["error"].startswith("Operations do not balance")
    # The second operation fails, so the first (which alone was fine) moves nothing either.
    half = request(
        operation("usd", "4", {"code": 201, "uid": carol.uid}, to_dave),
        operation("usd", "7", {"code": 201, "uid": carol.uid}, to_dave),
    )
    assert (await management.call("transfers/new", half)).status_code == 422
    locked = request(operation("usd", "1", {"code": 211, "uid": carol.uid}, to_dave))
    answer = await management.call("transfers/new", locked)
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("Locked accounts (211, 212)")
    coin_code = request(operation("usd", "1", {"code": 202, "uid": carol.uid}, to_dave))
    answer = await management.call("transfers/new", coin_code)
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("An account code does not fit")
    assert await _snapshot(management) == before
    assert await _balance(carol, "usd") == Decimal("10")

    # Nothing moved under the key, so a corrected request may use it.
    fixed = request(operation("usd", "4", {"code": 201, "uid": carol.uid}, to_dave))
    done = await management.call("transfers/new", fixed)
    assert done.status_code == 200, done.text
    assert await _balance(carol, "usd") == Decimal("6")
    assert await _balance(dave, "usd") == Decimal("4")
    rows = await exchange.sql("SELECT state, attempts FROM transfers WHERE key = 'gift-1'")
    assert [(r["state"], r["attempts"]) for r in rows] == [("done", 5)]
    assert (await _ledger(management)).ok


async def test_bad_transfer_requests_are_refused_before_the_engine(
    management: Management,
) -> None:
    exchange = management.exchange
    erin = await exchange.member("erin@example.com")
    await _funded(management, erin, "10", "PAY-T3")
    before = await _snapshot(management)
    erin_main = {"code": 201, "uid": erin.uid}
    good = operation("usd", "1", erin_main, {"code": 301})

    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"category": "wire", "operations": [good]}, 422, "key Field required"),
        ({"key": "k1", "category": "bribe", "operations": [good]}, 422, "category"),
        ({"key": "k1", "category": "wire", "operations": []}, 422, "operations"),
        ({"key": "k 1", "category": "wire", "operations": [good]}, 422, "key"),
        ({"key": "k" * 31, "category": "wire", "operations": [good]}, 422, "key"),
        (
            {"key": "k1", "category": "wire", "operations": [good | {"amount": "-1"}]},
            422,
            "operations.0.amount must be positive",
        ),
        (
            {"key": "k1", "category": "wire", "operations": [good | {"amount": 0.1}]},
            422,
            "operations.0.amount must be a decimal string",
        ),
        (
            {"key": "k1", "category": "wire", "operations": [good | {"amount": "0.001"}]},
            422,
            "operations[0][amount] has more than 2 decimal places",
        ),
        (
            {"key": "k1", "category": "wire", "operations": [good | {"currency": "doge"}]},
            422,
            "operations[0][currency] does not have a valid value",
        ),
        (
            {
                "key": "k1",
                "category": "wire",
                "operations": [good | {"account_dst": {"code": 999}}],
            },
            422,
            "operations[0][account_dst][code] does not have a valid value",
        ),
        (
            {
                "key": "k1",
                "category": "wire",
                "operations": [good | {"account_src": {"code": 201}}],
            },
            422,
            "operations[0][account_src][uid] is missing",
        ),
        (
            {
                "key": "k1",
                "category": "wire",
                "operations": [good | {"account_src": {"code": 201, "uid": "IDNOBODY00"}}],
            },
            404,
            "Couldn't find record.",
        ),
    ]
    for data, status, message in cases:
        answer = await management.call("transfers/new", data)
        assert answer.status_code == status, (data, answer.text)
        assert message in answer.json()["error"], (data, answer.text)

    # Signed by a signer the scope does not permit.
    wrong_signer = await management.call(
        "transfers/new",
        {"key": "k2", "category": "wire", "operations": [good]},
        signers=("reporter",),
    )
    assert wrong_signer.status_code == 401
    assert await _snapshot(management) == before
    assert await exchange.sql("SELECT key FROM transfers") == []
