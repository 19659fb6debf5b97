"""What admins audit and support fixes: every member's activities, staff actions, a
member's API keys, and turning off a member's 2FA after a lost phone."""

import httpx

from tests.identity.test_api_keys import member_with_2fa
from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    PASSWORD,
    RESOURCE,
    api,
    inbox,
    sql,
)

ADMIN = "/api/v2/barong/admin"
Clients = dict[str, tuple[httpx.AsyncClient, str]]


async def test_activity_log_for_admins_and_staff_actions_for_superadmins(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    wrong = await api.post(
        f"{IDENTITY}/sessions", json={"email": "member@example.com", "password": "Wrong-pass1!"}
    )
    assert wrong.status_code == 401
    admin, csrf = clients["admin"]
    member_uid = (await clients["member"][0].get(f"{RESOURCE}/users/me")).json()["uid"]

    failed = await admin.get(f"{ADMIN}/activities", params={"uid": member_uid, "result": "failed"})
    assert failed.status_code == 200, failed.text
    assert [(a["topic"], a["action"], a["user_uid"]) for a in failed.json()] == [
        ("session", "login", member_uid)
    ]
    everyone = await admin.get(f"{ADMIN}/activities", params={"limit": 2})
    assert len(everyone.json()) == 2
    assert int(everyone.headers["Total"]) > 2
    future = await admin.get(f"{ADMIN}/activities", params={"time_from": 4_000_000_000})
    assert future.json() == []
    bad = await admin.get(f"{ADMIN}/activities", params={"result": "maybe"})
    assert bad.status_code == 422

    # A staff write is audited; only superadmins read the staff log (OpenDAX's seeds).
    labelled = await admin.post(
        f"{ADMIN}/users/labels",
        json={"uid": member_uid, "key": "vip", "value": "gold", "scope": "private"},
        headers={"X-CSRF-Token": csrf},
    )
    assert labelled.status_code == 201
    assert (await admin.get(f"{ADMIN}/activities/admin")).json() == {
        "errors": ["authz.invalid_permission"]
    }
    root, _ = clients["superadmin"]
    staff = (await root.get(f"{ADMIN}/activities/admin")).json()
    assert [(a["topic"], a["data"], a["user_email"]) for a in staff] == [
        ("audit", "POST /api/v2/barong/admin/users/labels", "admin@example.com")
    ]
    member, _ = clients["member"]
    assert (await member.get(f"{ADMIN}/activities")).json() == {
        "errors": ["authz.invalid_permission"]
    }


async def test_support_turns_off_a_members_2fa_and_sees_their_keys(
    api: httpx.AsyncClient,
) -> None:
    csrf, (totp, step) = await member_with_2fa(api, "lost@example.com")
    key = (
        await api.post(
            f"{RESOURCE}/api_keys",
            json={"scope": "read", "totp_code": totp.at(step * 30)},
            headers=csrf,
        )
    ).json()
    uid = (await api.get(f"{RESOURCE}/users/me")).json()["uid"]
    support, support_csrf = await logged_in(api, "support", "help@example.com")
    admin, admin_csrf = await logged_in(api, "admin", "boss@example.com")
    try:
        keys = (await support.get(f"{ADMIN}/api_keys", params={"uid": uid})).json()
        assert [(k["kid"], k["state"], k["secret"]) for k in keys] == [(key["kid"], "active", None)]
        # Support reads; the seeded table lets only admins write.
        refused = await support.post(
            f"{ADMIN}/users/update",
            json={"uid": uid, "otp": False},
            headers={"X-CSRF-Token": support_csrf},
        )
        assert refused.json() == {"errors": ["authz.invalid_permission"]}
        enable = await admin.post(
            f"{ADMIN}/users/update",
            json={"uid": uid, "otp": True},
            headers={"X-CSRF-Token": admin_csrf},
        )
        assert enable.json() == {"errors": ["admin.user.otp_enable_by_user"]}
        done = await admin.post(
            f"{ADMIN}/users/update",
            json={"uid": uid, "otp": False},
            headers={"X-CSRF-Token": admin_csrf},
        )
        assert done.status_code == 201, done.text
        assert done.json()["otp"] is False
        keys = (await admin.get(f"{ADMIN}/api_keys", params={"uid": uid})).json()
        assert [k["state"] for k in keys] == ["inactive"]
        again = await admin.post(
            f"{ADMIN}/users/update",
            json={"uid": uid, "otp": False},
            headers={"X-CSRF-Token": admin_csrf},
        )
        assert again.json() == {"errors": ["admin.user.otp_not_enabled"]}
        login = await api.post(
            f"{IDENTITY}/sessions", json={"email": "lost@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200  # no code asked any more
        mine = await sql(
            api,
            "SELECT action FROM activities a JOIN users u ON u.id = a.user_id"
            " WHERE u.email = 'lost@example.com' AND topic = 'otp' ORDER BY a.id",
        )
        assert [r["action"] for r in mine] == ["enable", "disabled by support"]
    finally:
        await support.aclose()
        await admin.aclose()
