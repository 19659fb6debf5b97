"""Adjustments over HTTP, maker/checker, with a real engine: one admin proposes, another
accepts (the engine posts it) or rejects; bad proposals, repeated decisions, the proposer's
own acceptance and staff without the ability are refused, and change nothing."""

from typing import Any

from bursa.engine.commands import Adjust
from tests.api.members import (
    ACCOUNT,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

ADJUSTMENTS = "/api/v2/peatio/admin/adjustments"


def proposal(member: Caller, amount: str, **changes: Any) -> dict[str, Any]:
    return {
        "reason": "Deposit credited by hand",
        "description": "Bank wire 42 arrived without a reference",
        "category": "refund",
        "amount": amount,
        "currency_id": "usd",
        "asset_account_code": 101,
        "receiving_account_code": 201,
        "receiving_member_uid": member.uid,
    } | changes


async def balance(member: Caller, currency: str) -> str:
    found = await member.get(f"{ACCOUNT}/balances/{currency}")
    assert found.status_code == 200, found.text
    return str(found.json()["balance"])


async def test_maker_proposes_checker_accepts(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    maker = await exchange.member("maker@example.com", role="admin")
    checker = await exchange.member("checker@example.com", role="superadmin")

    created = await maker.post(f"{ADJUSTMENTS}/new", proposal(alice, "150.25"))
    assert created.status_code == 201, created.text
    pending = created.json()
    assert pending | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "reason": "Deposit credited by hand",
        "description": "Bank wire 42 arrived without a reference",
        "category": "refund",
        "amount": "150.25",
        "currency": "usd",
        "creator_uid": maker.uid,
        "validator_uid": None,
        "asset": pending["asset"],
        "liability": pending["liability"],
        "revenue": None,
        "expense": None,
        "state": "pending",
        "asset_account_code": 101,
        "receiving_account_code": "201",
        "receiving_member_uid": alice.uid,
        "created_at": "",
        "updated_at": "",
    }
    # What accepting will post, shown before anyone accepts.
    assert (pending["asset"]["id"], pending["asset"]["code"], pending["asset"]["credit"]) == (
        None,
        101,
        "150.25",
    )
    assert (pending["liability"]["uid"], pending["liability"]["credit"]) == (alice.uid, "150.25")
    assert await balance(alice, "usd") == "0"
    number = pending["id"]

    # Four eyes: the proposer cannot accept it.
    mine = await maker.post(f"{ADJUSTMENTS}/action", {"id": number, "action": "accept"})
    assert_error(mine, 403, "admin.adjustment.creator_cannot_accept")
    assert await balance(alice, "usd") == "0"

    accepted = await checker.post(f"{ADJUSTMENTS}/action", {"id": str(number), "action": "accept"})
    assert accepted.status_code == 201, accepted.text
    done = accepted.json()
    assert (done["state"], done["validator_uid"]) == ("accepted", checker.uid)
    assert (done["asset"]["code"], done["asset"]["credit"]) == (101, "150.25")
    assert isinstance(done["liability"]["id"], int)
    assert done["liability"]["rid"] == f"adjustment:{number}"
    assert await balance(alice, "usd") == "150.25"

    twice = await checker.post(f"{ADJUSTMENTS}/action", {"id": number, "action": "accept"})
    assert_error(twice, 422, "admin.adjustment.cannot_perform_accept_action")
    late = await checker.post(f"{ADJUSTMENTS}/action", {"id": number, "action": "reject"})
    assert_error(late, 422, "admin.adjustment.cannot_perform_reject_action")
    assert await balance(alice, "usd") == "150.25"

    # Taking back more than the member has is refused by the engine; the adjustment stays
    # pending, and is accepted once the member has enough.
    debit = await maker.post(f"{ADJUSTMENTS}/new", proposal(alice, "-200", category="misc"))
    assert debit.status_code == 201, debit.text
    short = await checker.post(
        f"{ADJUSTMENTS}/action", {"id": debit.json()["id"], "action": "accept"}
    )
    assert_error(short, 422, "admin.adjustment.user_insufficient_balance")
    assert await balance(alice, "usd") == "150.25"
    top_up = await maker.post(f"{ADJUSTMENTS}/new", proposal(alice, "100"))
    await checker.post(f"{ADJUSTMENTS}/action", {"id": top_up.json()["id"], "action": "accept"})
    retried = await checker.post(
        f"{ADJUSTMENTS}/action", {"id": debit.json()["id"], "action": "accept"}
    )
    assert retried.status_code == 201, retried.text
    assert retried.json()["liability"]["debit"] == "200"
    assert await balance(alice, "usd") == "50.25"

    # An accept whose request failed after the engine posted it, retried once the engine
    # has forgotten its key: the ledger shows it posted, so it is not posted again.
    crashed = (await maker.post(f"{ADJUSTMENTS}/new", proposal(alice, "7"))).json()["id"]
    posted = await exchange.runner.submit(
        Adjust(
            key=f"adjustment:{crashed}", member_id=alice.id, currency="usd", amount=700, reason="x"
        )
    )
    exchange.runner.engine.results.pop(f"adjustment:{crashed}")  # as the window's end does
    recovered = await checker.post(f"{ADJUSTMENTS}/action", {"id": crashed, "action": "accept"})
    assert recovered.status_code == 201, recovered.text
    assert await balance(alice, "usd") == "57.25"
    stored = await exchange.sql("SELECT engine_seq FROM adjustments WHERE id = $1", crashed)
    assert stored[0]["engine_seq"] == posted["seq"]

    rejected_one = await maker.post(f"{ADJUSTMENTS}/new", proposal(alice, "5"))
    rejected = await maker.post(
        f"{ADJUSTMENTS}/action", {"id": rejected_one.json()["id"], "action": "reject"}
    )
    assert rejected.status_code == 201, rejected.text
    assert (rejected.json()["state"], rejected.json()["asset"]) == ("rejected", None)
    accept_rejected = await checker.post(
        f"{ADJUSTMENTS}/action", {"id": rejected_one.json()["id"], "action": "accept"}
    )
    assert_error(accept_rejected, 422, "admin.adjustment.cannot_perform_accept_action")
    assert await balance(alice, "usd") == "57.25"

    listed = await checker.get(ADJUSTMENTS, state="accepted", ordering="desc")
    assert listed.status_code == 200, listed.text
    assert listed.headers["Total"] == "4"
    assert [a["amount"] for a in listed.json()] == ["7", "100", "-200", "150.25"]  # by id
    assert (await checker.get(ADJUSTMENTS, category="misc")).json()[0]["state"] == "accepted"
    one = await checker.get(f"{ADJUSTMENTS}/{number}")
    assert one.json() == done
    assert_error(await checker.get(f"{ADJUSTMENTS}/999"), 404, "record.not_found")
    assert_error(
        await checker.get(ADJUSTMENTS, state="done"), 422, "admin.adjustment.invalid_state"
    )

    log = await checker.get("/api/v2/peatio/admin/audit", target_type="Adjustment")
    actions = [(e["action"], e["actor_uid"]) for e in log.json()]
    assert actions.count(("adjustment.create", maker.uid)) == 5
    assert ("adjustment.accept", checker.uid) in actions
    assert ("adjustment.reject", maker.uid) in actions
    entry = next(
        e for e in log.json() if e["target_id"] == str(number) and e["after"]["state"] == "accepted"
    )
    assert entry["before"]["state"] == "pending"

    verified = await checker.get("/api/v2/peatio/admin/ledger/verification")
    assert verified.json()["ok"] is True

    # Accountants propose adjustments too (Peatio's abilities, OpenDAX's table).
    accountant = await exchange.member("books@example.com", role="accountant")
    booked = await accountant.post(f"{ADJUSTMENTS}/new", proposal(alice, "1"))
    assert booked.status_code == 201, booked.text
    await checker.post(f"{ADJUSTMENTS}/action", {"id": booked.json()["id"], "action": "accept"})
    assert await balance(alice, "usd") == "58.25"


async def test_bad_proposals_and_staff_without_the_ability_change_nothing(
    exchange: Exchange,
) -> None:
    alice = await exchange.member("alice@example.com")
    admin = await exchange.member("root@example.com", role="admin")
    support = await exchange.member("help@example.com", role="support")
    technical = await exchange.member("tech@example.com", role="technical")

    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": "abc"}, "admin.adjustment.non_decimal_amount"),
        ({"amount": "0"}, "admin.adjustment.invalid_amount"),
        ({"amount": "0.001"}, "admin.adjustment.invalid_amount"),  # usd has 2 decimals
        ({"category": "gift"}, "admin.adjustment.invalid_category"),
        ({"reason": " "}, "admin.adjustment.missing_reason"),
        ({"currency_id": "doge"}, "admin.adjustment.currency_doesnt_exist"),
        ({"asset_account_code": 102}, "admin.adjustment.invalid_asset_account_code"),
        ({"asset_account_code": "x"}, "admin.adjustment.non_integer_asset_account_code"),
        ({"receiving_account_code": 202}, "admin.adjustment.invalid_receiving_account_code"),
        ({"receiving_account_code": 999}, "admin.adjustment.invalid_receiving_account_code"),
        ({"receiving_account_code": 211}, "admin.adjustment.unsupported_account"),
        ({"receiving_account_code": 301}, "admin.adjustment.unsupported_account"),
        (
            {"receiving_account_code": 401},
            "admin.adjustment.redundant_receiving_member_uid",
        ),
        ({"receiving_member_uid": None}, "admin.adjustment.missing_receiving_member_uid"),
        ({"receiving_member_uid": "ID0000000000"}, "admin.user.doesnt_exist"),
    ]
    for changes, code in cases:
        refused = await admin.post(f"{ADJUSTMENTS}/new", proposal(alice, "10") | changes)
        assert_error(refused, 422, code)
    several = await admin.post(f"{ADJUSTMENTS}/new", {"amount": "1"})
    assert several.status_code == 422
    assert "admin.adjustment.missing_reason" in several.json()["errors"]
    assert "admin.adjustment.missing_currency_id" in several.json()["errors"]
    coin = await admin.post(
        f"{ADJUSTMENTS}/new",
        proposal(
            alice,
            "0.000000001",
            currency_id="btc",
            asset_account_code=102,
            receiving_account_code=202,
        ),
    )
    assert_error(coin, 422, "admin.adjustment.invalid_amount")  # btc has 8 decimals

    # Nothing a client sends breaks the endpoints.
    odd: dict[str, Any]
    for odd in (
        {"amount": "1e999999999"},
        {"amount": "1E-50"},
        {"amount": ["1"]},
        {"reason": "a\x00b"},
        {"currency_id": {"code": "btc"}},
        {"asset_account_code": 1.5},
        {"receiving_account_code": 2**80},
        {"receiving_member_uid": "x" * 300},
        {"category": None},
    ):
        answer = await admin.post(f"{ADJUSTMENTS}/new", proposal(alice, "10") | odd)
        assert answer.status_code == 422, (odd, answer.text)
    for odd in ({"id": 2**80, "action": "accept"}, {"id": -1, "action": "reject"}, {"id": None}):
        answer = await admin.post(f"{ADJUSTMENTS}/action", odd)
        assert answer.status_code in (404, 422), (odd, answer.text)
    listed_body = await admin.client.post(
        f"{ADJUSTMENTS}/new", content=b"[1]", headers={"X-CSRF-Token": admin.csrf}
    )
    assert_error(listed_body, 400, "server.request.invalid_json")

    for body, code in (
        ({"action": "accept"}, "admin.adjustment.missing_id"),
        ({"id": "one", "action": "accept"}, "admin.adjustment.non_integer_id"),
        ({"id": 1, "action": "approve"}, "admin.adjustment.invalid_action"),
    ):
        assert_error(await admin.post(f"{ADJUSTMENTS}/action", body), 422, code)
    missing = await admin.post(f"{ADJUSTMENTS}/action", {"id": 999, "action": "accept"})
    assert_error(missing, 404, "record.not_found")

    # Support and technical staff cannot see adjustments (Peatio's abilities; the
    # permission table drops technical's already), let alone propose one; nor can members.
    assert_error(await support.get(ADJUSTMENTS), 403, "admin.ability.not_permitted")
    by_support = await support.post(f"{ADJUSTMENTS}/new", proposal(alice, "10"))
    assert by_support.status_code in (401, 403), by_support.text
    assert (await technical.get(ADJUSTMENTS)).status_code in (401, 403)
    assert (await alice.get(ADJUSTMENTS)).status_code in (401, 403)
    by_member = await alice.post(f"{ADJUSTMENTS}/new", proposal(alice, "10"))
    assert by_member.status_code in (401, 403)

    assert (await admin.get(ADJUSTMENTS)).json() == []
    assert (await admin.get("/api/v2/peatio/admin/audit")).json() == []
    assert await balance(alice, "usd") == "0"


# (proposer, decider, action, status, the adjustment's state or the refusal's code)
DECISIONS = [
    ("books", "books", "accept", 403, "admin.adjustment.creator_cannot_accept"),
    ("books", "ledger", "accept", 403, "admin.ability.not_permitted"),  # accountants make
    ("books", "ledger", "reject", 403, "admin.ability.not_permitted"),
    ("boss", "books", "accept", 403, "admin.ability.not_permitted"),
    ("boss", "boss", "accept", 403, "admin.adjustment.creator_cannot_accept"),
    ("books", "books", "reject", 201, "rejected"),  # a proposer withdraws their own
    ("boss", "boss", "reject", 201, "rejected"),
    ("books", "boss", "accept", 201, "accepted"),  # checkers: admins and superadmins
    ("boss", "root", "accept", 201, "accepted"),
    ("books", "root", "reject", 201, "rejected"),
]


async def test_only_checkers_decide_and_a_proposer_only_withdraws(exchange: Exchange) -> None:
    """Maker/checker by role: accountants propose, only admins and superadmins accept or
    reject another's proposal, and a proposer may reject (withdraw) but never accept their
    own. A refusal moves nothing and leaves the adjustment pending."""
    alice = await exchange.member("alice@example.com")
    roles = {"books": "accountant", "ledger": "accountant", "boss": "admin", "root": "superadmin"}
    staff = {
        name: await exchange.member(f"{name}@example.com", role) for name, role in roles.items()
    }
    credited = 0
    for proposer, decider, action, status, outcome in DECISIONS:
        case = (proposer, decider, action)
        proposed = await staff[proposer].post(f"{ADJUSTMENTS}/new", proposal(alice, "1"))
        assert proposed.status_code == 201, (case, proposed.text)
        number = proposed.json()["id"]
        decided = await staff[decider].post(
            f"{ADJUSTMENTS}/action", {"id": number, "action": action}
        )
        assert decided.status_code == status, (case, decided.text)
        shown = (await staff["root"].get(f"{ADJUSTMENTS}/{number}")).json()
        if status == 201:
            assert (shown["state"], shown["validator_uid"]) == (outcome, staff[decider].uid), case
        else:
            assert decided.json() == {"errors": [outcome]}, case
            assert (shown["state"], shown["validator_uid"]) == ("pending", None), case
        credited += outcome == "accepted"
        assert await balance(alice, "usd") == str(credited), case
