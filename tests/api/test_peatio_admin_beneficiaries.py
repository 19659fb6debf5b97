"""Members' beneficiaries through staff's doors, over HTTP: the Management API adds one for
a member (pending with a mailed code, or active at once) and lists a member's; the admin
API lists every member's with Peatio's filters and activates or archives one, audited.
Non-staff, unsigned or wrongly signed callers and bad input are refused, changing
nothing."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bursa.api.management_auth import ManagementPolicy
from tests.api.management import POLICY, Management
from tests.api.members import (
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

ADMIN = "/api/v2/peatio/admin"
SCOPES = ("read_beneficiaries", "write_beneficiaries")
BANK = {"full_name": "Alice Doe", "account_number": "DE89370400440532013000"}
ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@pytest.fixture
async def management(exchange: Exchange) -> AsyncIterator[Management]:
    scopes = {
        name: {"permitted_signers": ["applogic"], "mandatory_signers": ["applogic"]}
        for name in SCOPES
    }
    known: dict[str, Any] = dict(POLICY["scopes"])  # type: ignore[call-overload]
    policy = POLICY | {"scopes": known | scopes}
    exchange.app.state.management = {"peatio": ManagementPolicy.from_mapping(policy)}
    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://peatio") as http:
        yield Management(exchange, http)


async def _count(exchange: Exchange) -> int:
    rows = await exchange.sql("SELECT count(*) AS n FROM beneficiaries")
    return int(rows[0]["n"])


async def test_management_adds_and_lists_a_members_beneficiaries(management: Management) -> None:
    exchange = management.exchange
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")

    bank = await management.call(
        "beneficiaries",
        {"uid": alice.uid, "currency": "USD", "name": "Salary", "data": BANK},
    )
    assert bank.status_code == 201, bank.text
    made = bank.json()
    assert made["state"] == "pending" and made["sent_at"]
    assert made["uid"] == alice.uid and made["currency"] == "usd"
    assert made["data"] == {"full_name": "Alice Doe", "account_number": "DE****************3000"}

    coin = await management.call(
        "beneficiaries",
        {
            "uid": alice.uid,
            "currency": "btc",
            "name": "Cold storage",
            "description": "my own",
            "data": f'{{"address": "{ADDRESS}"}}',  # a JSON string, as a form sends it
            "state": "active",
        },
    )
    assert coin.status_code == 201, coin.text
    assert coin.json()["state"] == "active" and "sent_at" not in coin.json()
    assert coin.json()["data"] == {"address": ADDRESS}

    listed = await management.call("beneficiaries/list", {"uid": alice.uid})
    assert listed.status_code == 201, listed.text
    assert [b["name"] for b in listed.json()] == ["Salary", "Cold storage"]
    assert listed.headers["Total"] == "2"
    active = await management.call("beneficiaries/list", {"uid": alice.uid, "state": "active"})
    assert [b["name"] for b in active.json()] == ["Cold storage"]
    usd = await management.call("beneficiaries/list", {"uid": alice.uid, "currency": "USD"})
    assert [b["name"] for b in usd.json()] == ["Salary"]
    assert (await management.call("beneficiaries/list", {"uid": bob.uid})).json() == []

    # the member sees the one added active as usable, the pending one waiting for its code
    mine = await alice.get("/api/v2/peatio/account/beneficiaries")
    assert {b["name"]: b["state"] for b in mine.json()} == {
        "Salary": "pending",
        "Cold storage": "active",
    }

    refused: list[tuple[str, dict[str, Any], int, str | None]] = [
        ("beneficiaries/list", {"uid": "ID0000000000"}, 404, "Couldn't find record."),
        ("beneficiaries/list", {}, 422, None),
        ("beneficiaries/list", {"uid": alice.uid, "state": "archived"}, 422, None),
        ("beneficiaries/list", {"uid": alice.uid, "currency": "doge"}, 422, None),
        ("beneficiaries/list", {"uid": alice.uid, "blockchain_key": "nope"}, 422, None),
        (
            "beneficiaries",
            {"uid": "ID0000000000", "currency": "usd", "name": "x", "data": BANK},
            404,
            "Couldn't find record.",
        ),
        (
            "beneficiaries",
            {"uid": alice.uid, "currency": "btc", "name": "Again", "data": {"address": ADDRESS}},
            422,
            "account.beneficiary.duplicate_address",
        ),
        ("beneficiaries", {"uid": alice.uid, "currency": "usd", "name": "x"}, 422, None),
        (
            "beneficiaries",
            {"uid": alice.uid, "currency": "usd", "name": "x", "data": "{not json"},
            422,
            None,
        ),
        (
            "beneficiaries",
            {"uid": alice.uid, "currency": "usd", "name": "x", "data": {"bank": "b"}},
            422,
            "account.beneficiary.missing_full_name_in_data",
        ),
        (
            "beneficiaries",
            {"uid": alice.uid, "currency": "usd", "name": "x", "data": BANK, "state": "archived"},
            422,
            None,
        ),
    ]
    for path, data, status, message in refused:
        answer = await management.call(path, data)
        assert answer.status_code == status, (path, data, answer.text)
        if message is not None:
            assert answer.json() == {"error": message}, (path, data)
    assert await _count(exchange) == 2

    # signed by a key the scope does not take: refused
    wrong = await management.call(
        "beneficiaries",
        {"uid": alice.uid, "currency": "usd", "name": "x", "data": BANK},
        signers=("reporter",),
    )
    assert wrong.status_code == 401, wrong.text
    assert await _count(exchange) == 2


async def test_admins_list_activate_and_archive_beneficiaries(management: Management) -> None:
    exchange = management.exchange
    admin = await exchange.member("root@example.com", role="superadmin")
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    made = []
    for uid, currency, name, data in (
        (alice.uid, "usd", "Salary", BANK),
        (alice.uid, "btc", "Cold", {"address": ADDRESS}),
        (bob.uid, "btc", "Savings", {"address": ADDRESS}),
    ):
        answer = await management.call(
            "beneficiaries", {"uid": uid, "currency": currency, "name": name, "data": data}
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["id"])
    salary, cold, bobs = made

    every = await admin.get(f"{ADMIN}/beneficiaries")
    assert every.status_code == 200, every.text
    assert [b["id"] for b in every.json()] == [salary, cold, bobs]
    assert every.headers["Total"] == "3" and every.headers["Per-Page"] == "100"
    assert every.json()[0]["uid"] == alice.uid
    assert every.json()[0]["data"]["account_number"] == "DE****************3000"
    newest = await admin.get(f"{ADMIN}/beneficiaries", ordering="desc", limit=1, page=2)
    assert [b["id"] for b in newest.json()] == [cold] and newest.headers["Page"] == "2"
    assert [b["id"] for b in (await admin.get(f"{ADMIN}/beneficiaries", uid=bob.uid)).json()] == [
        bobs
    ]
    btc = await admin.get(f"{ADMIN}/beneficiaries", currency="BTC")
    assert [b["id"] for b in btc.json()] == [cold, bobs]
    one = await admin.get(f"{ADMIN}/beneficiaries", id=salary)
    assert [b["id"] for b in one.json()] == [salary]

    activated = await admin.post(
        f"{ADMIN}/beneficiaries/actions", {"id": cold, "action": "activate"}
    )
    assert activated.status_code == 201, activated.text
    assert activated.json()["state"] == "active"
    again = await admin.post(f"{ADMIN}/beneficiaries/actions", {"id": cold, "action": "activate"})
    assert again.status_code == 201 and again.json()["state"] == "active"
    archived = await admin.post(f"{ADMIN}/beneficiaries/actions", {"id": bobs, "action": "archive"})
    assert archived.json()["state"] == "archived"
    assert_error(
        await admin.post(f"{ADMIN}/beneficiaries/actions", {"id": bobs, "action": "activate"}),
        422,
        "admin.beneficiary.cannot_activate",
    )

    by_state = await admin.get(f"{ADMIN}/beneficiaries", state=["active", "archived"])
    assert [b["id"] for b in by_state.json()] == [cold, bobs]
    grape = await admin.get(f"{ADMIN}/beneficiaries", **{"state[]": "pending"})
    assert [b["id"] for b in grape.json()] == [salary]
    # an archived one is gone from the member's and the Management API's lists
    assert [b["id"] for b in (await bob.get("/api/v2/peatio/account/beneficiaries")).json()] == []
    listed = await management.call("beneficiaries/list", {"uid": bob.uid})
    assert listed.json() == []

    audited = await exchange.sql(
        "SELECT action, target_id, before, after FROM admin_audit"
        " WHERE target_type = 'Beneficiary' ORDER BY id"
    )
    assert [(r["action"], r["target_id"]) for r in audited] == [
        ("beneficiary.activate", str(cold)),
        ("beneficiary.archive", str(bobs)),
    ]
    assert "data" not in str(audited[0]["after"]) and ADDRESS not in str(audited[0]["after"])

    for params, code in (
        ({"uid": "ID0000000000"}, "admin.user.doesnt_exist"),
        ({"currency": "doge"}, "admin.currency.doesnt_exist"),
        ({"state": "lost"}, "admin.beneficiary.invalid_state"),
        ({"id": "x"}, "admin.beneficiary.non_integer_id"),
        ({"blockchain_key": "nope"}, "admin.beneficiary.blockchain_key_doesnt_exist"),
        ({"order_by": "data"}, "admin.pagination.invalid_order_by"),
        ({"limit": 0}, "admin.pagination.invalid_limit"),
    ):
        assert_error(await admin.get(f"{ADMIN}/beneficiaries", **params), 422, code)
    for body, status, code in (
        ({"id": salary, "action": "delete"}, 422, "admin.beneficiary.invalid_action"),
        ({"action": "archive"}, 422, "admin.beneficiary.missing_id"),
        ({"id": "one", "action": "archive"}, 422, "admin.beneficiary.non_integer_id"),
        ({"id": 999_999, "action": "archive"}, 404, "record.not_found"),
    ):
        assert_error(await admin.post(f"{ADMIN}/beneficiaries/actions", body), status, code)

    # a member is not staff: refused, nothing changes
    refused = await alice.get(f"{ADMIN}/beneficiaries")
    assert refused.status_code in (401, 403), refused.text
    acting = await alice.post(
        f"{ADMIN}/beneficiaries/actions", {"id": salary, "action": "activate"}
    )
    assert acting.status_code in (401, 403), acting.text
    states = await exchange.sql("SELECT id, state FROM beneficiaries ORDER BY id")
    assert [r["state"] for r in states] == ["pending", "active", "archived"]
