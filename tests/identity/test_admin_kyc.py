"""Admin KYC review: profiles listed by state, verified or rejected (label, activity, event,
the reason the member reads), refused for bad input and without permission; the levels."""

from typing import Any

import httpx

from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    Inbox,
    api,
    inbox,
    outbox_events,
    sign_up,
    sql,
)
from tests.identity.test_kyc import confirmed_member

ADMIN = "/api/v2/barong/admin"
PROFILE = {"first_name": "Ada", "last_name": "Byron", "dob": "1985-12-10", "country": "GB"}


def _private(user: dict[str, Any]) -> dict[str, str]:
    return {lb["key"]: lb["value"] for lb in user["labels"] if lb["scope"] == "private"}


async def test_profile_review(
    api: httpx.AsyncClient,
    inbox: tuple[Inbox, int],
    clients: dict[str, tuple[httpx.AsyncClient, str]],
) -> None:
    csrf = await confirmed_member(api, inbox[0], "ada@example.com")
    submitted = await api.post(
        f"{RESOURCE}/profiles", json=PROFILE | {"confirm": True}, headers=csrf
    )
    assert submitted.status_code == 201, submitted.text
    uid = (await api.get(f"{RESOURCE}/users/me")).json()["uid"]
    admin, admin_csrf = clients["admin"]
    headers = {"X-CSRF-Token": admin_csrf}

    waiting = await admin.get(f"{ADMIN}/profiles", params={"state": "submitted"})
    assert waiting.status_code == 200, waiting.text
    assert [(p["uid"], p["last_name"], p["state"]) for p in waiting.json()] == [
        (uid, "Byron", "submitted")
    ]
    assert waiting.headers["Total"] == "1"
    technical, _ = clients["technical"]  # staff read
    assert (await technical.get(f"{ADMIN}/profiles")).status_code == 200

    seen = len(await outbox_events(api))
    rejected = await admin.put(
        f"{ADMIN}/profiles",
        json={"uid": uid, "state": "rejected", "reason": "name does not match"},
        headers=headers,
    )
    events = (await outbox_events(api))[seen:]
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["state"], rejected.json()["reason"]) == (
        "rejected",
        "name does not match",
    )
    assert [(e["name"], e["record"]["key"], e["record"]["value"]) for e in events] == [
        ("model.label.updated", "profile", "rejected")
    ]
    assert events[0]["record"]["user"]["uid"] == uid
    mine = (await api.get(f"{RESOURCE}/profiles/me")).json()
    assert (mine["state"], mine["reason"]) == ("rejected", "name does not match")
    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert _private(me)["profile"] == "rejected"
    assert (me["state"], me["level"]) == ("active", 1)
    twice = await admin.put(
        f"{ADMIN}/profiles", json={"uid": uid, "state": "verified"}, headers=headers
    )
    assert twice.status_code == 404
    assert twice.json() == {"errors": ["admin.profiles.doesnt_exist_or_not_editable"]}

    again = await api.put(
        f"{RESOURCE}/profiles",
        json=PROFILE | {"first_name": "Augusta", "confirm": True},
        headers=csrf,
    )
    assert (again.json()["state"], again.json()["reason"]) == ("submitted", None)
    verified = await admin.put(
        f"{ADMIN}/profiles", json={"uid": uid, "state": "verified"}, headers=headers
    )
    assert verified.status_code == 200, verified.text
    assert (verified.json()["first_name"], verified.json()["state"]) == ("Augusta", "verified")
    assert _private((await api.get(f"{RESOURCE}/users/me")).json())["profile"] == "verified"
    done = await admin.get(f"{ADMIN}/profiles", params={"state": "verified"})
    assert [p["uid"] for p in done.json()] == [uid]
    assert (await admin.get(f"{ADMIN}/profiles", params={"state": "submitted"})).json() == []

    recorded = await sql(
        api,
        "SELECT a.action, a.data FROM activities a JOIN users u ON u.id = a.user_id "
        "WHERE a.topic = 'admin' AND u.email = 'admin@example.com' ORDER BY a.id",
    )
    assert [(r["action"], r["data"]) for r in recorded] == [
        ("profile rejected", f"{uid}: name does not match"),
        ("profile verified", uid),
    ]


async def test_bad_reviews_change_nothing(
    api: httpx.AsyncClient,
    inbox: tuple[Inbox, int],
    clients: dict[str, tuple[httpx.AsyncClient, str]],
) -> None:
    csrf = await confirmed_member(api, inbox[0], "bob@example.com")
    await api.post(f"{RESOURCE}/profiles", json=PROFILE | {"confirm": True}, headers=csrf)
    uid = (await api.get(f"{RESOURCE}/users/me")).json()["uid"]
    drafted = await sign_up(api, "dora@example.com")
    await api.post(
        f"{RESOURCE}/profiles", json=PROFILE, headers={"X-CSRF-Token": drafted["csrf_token"]}
    )
    admin, admin_csrf = clients["admin"]
    headers = {"X-CSRF-Token": admin_csrf}
    url = f"{ADMIN}/profiles"

    bad_filter = await admin.get(url, params={"state": "approved"})
    assert bad_filter.status_code == 422
    assert bad_filter.json() == {"errors": ["admin.profiles.invalid_state"]}
    wrong = await admin.put(url, json={"uid": uid, "state": "submitted"}, headers=headers)
    assert wrong.json() == {"errors": ["admin.profiles.invalid_state"]}
    unknown = await admin.put(
        url, json={"uid": "ID0000000000", "state": "verified"}, headers=headers
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"errors": ["admin.user.doesnt_exist"]}
    draft = await admin.put(url, json={"uid": drafted["uid"], "state": "verified"}, headers=headers)
    assert draft.json() == {"errors": ["admin.profiles.doesnt_exist_or_not_editable"]}
    no_csrf = await admin.put(url, json={"uid": uid, "state": "verified"})
    assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
    technical, technical_csrf = clients["technical"]
    read_only = await technical.put(
        url, json={"uid": uid, "state": "verified"}, headers={"X-CSRF-Token": technical_csrf}
    )
    assert read_only.json() == {"errors": ["authz.invalid_permission"]}
    member, _ = clients["member"]
    assert (await member.get(url)).json() == {"errors": ["authz.invalid_permission"]}

    root, root_csrf = clients["superadmin"]
    root_headers = {"X-CSRF-Token": root_csrf}
    await root.post(f"{RESOURCE}/profiles", json=PROFILE | {"confirm": True}, headers=root_headers)
    root_uid = (await root.get(f"{RESOURCE}/users/me")).json()["uid"]
    above = await admin.put(url, json={"uid": root_uid, "state": "verified"}, headers=headers)
    assert above.json() == {"errors": ["admin.profiles.superadmin_change"]}
    own = await root.put(url, json={"uid": root_uid, "state": "verified"}, headers=root_headers)
    assert own.json() == {"errors": ["admin.profiles.own_profile"]}

    states = await sql(api, "SELECT state FROM profiles ORDER BY id")
    assert [r["state"] for r in states] == ["submitted", "drafted", "submitted"]
    assert (
        await sql(api, "SELECT 1 FROM labels WHERE key = 'profile' AND value <> 'submitted'") == []
    )


async def test_levels(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    technical, _ = clients["technical"]
    levels = await technical.get(f"{ADMIN}/levels")
    assert levels.status_code == 200, levels.text
    assert [(lv["id"], lv["key"], lv["value"]) for lv in levels.json()] == [
        (1, "email", "verified"),
        (2, "phone", "verified"),
        (3, "document", "verified"),
    ]
    assert all(lv["description"] for lv in levels.json())
    member, _ = clients["member"]
    assert (await member.get(f"{ADMIN}/levels")).json() == {"errors": ["authz.invalid_permission"]}
    for role in ("support", "compliance"):  # staff read the review queues, never decide
        staff, csrf = await logged_in(api, role, f"{role}@example.com")
        assert (await staff.get(f"{ADMIN}/levels")).status_code == 200
        assert (await staff.get(f"{ADMIN}/profiles")).status_code == 200
        assert (await staff.get(f"{ADMIN}/service_accounts")).status_code == 200
        decide = await staff.put(
            f"{ADMIN}/profiles",
            json={"uid": "ID0000000000", "state": "verified"},
            headers={"X-CSRF-Token": csrf},
        )
        assert decide.json() == {"errors": ["authz.invalid_permission"]}
        await staff.aclose()
