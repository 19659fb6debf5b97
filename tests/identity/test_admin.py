"""Barong's admin API, gated by the permission table: search and show users, change role,
state and labels, manage permissions and restrictions; writes are audited."""

import httpx

from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    PASSWORD,
    api,
    inbox,
    outbox_events,
    sign_up,
    sql,
)

ADMIN = "/api/v2/barong/admin"


async def test_only_staff_reach_the_admin_api(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    member, _ = clients["member"]
    refused = await member.get(f"{ADMIN}/users")
    assert refused.status_code == 401
    assert refused.json() == {"errors": ["authz.invalid_permission"]}
    admin, _ = clients["admin"]
    listed = await admin.get(f"{ADMIN}/users", params={"role": "member"})
    assert listed.status_code == 200, listed.text
    assert [u["email"] for u in listed.json()] == ["member@example.com"]
    assert listed.headers["Total"] == "1"
    technical, csrf = clients["technical"]
    assert (await technical.get(f"{ADMIN}/users")).status_code == 200
    write = await technical.post(
        f"{ADMIN}/users/role",
        json={"uid": "ID0000000000", "role": "admin"},
        headers={"X-CSRF-Token": csrf},
    )
    assert write.json() == {"errors": ["authz.invalid_permission"]}


async def test_admin_changes_role_state_and_labels(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    admin, csrf = clients["admin"]
    headers = {"X-CSRF-Token": csrf}
    target = await sign_up(api, "tom@example.com")
    uid = target["uid"]

    shown = await admin.get(f"{ADMIN}/users/{uid}")
    assert shown.status_code == 200
    assert [a["action"] for a in shown.json()["activities"]] == ["signup"]
    missing = await admin.get(f"{ADMIN}/users/ID0000000000")
    assert missing.json() == {"errors": ["admin.user.doesnt_exist"]}

    refused = await admin.post(
        f"{ADMIN}/users/role", json={"uid": uid, "role": "trader"}, headers=headers
    )
    assert refused.json() == {"errors": ["authz.invalid_permission"]}  # admins may not
    root, root_csrf = clients["superadmin"]
    root_headers = {"X-CSRF-Token": root_csrf}
    promoted = await root.post(
        f"{ADMIN}/users/role", json={"uid": uid, "role": "trader"}, headers=root_headers
    )
    assert promoted.status_code == 201, promoted.text
    assert promoted.json()["role"] == "trader"
    updated = [e for e in await outbox_events(api) if e["name"] == "model.user.updated"]
    assert (updated[-1]["record"]["role"], updated[-1]["changes"]) == ("trader", {"role": "member"})
    bad_role = await root.post(
        f"{ADMIN}/users/role", json={"uid": uid, "role": "king"}, headers=root_headers
    )
    assert bad_role.json() == {"errors": ["admin.user.invalid_role"]}

    banned = await admin.post(
        f"{ADMIN}/users/labels", json={"uid": uid, "key": "ban", "value": "fraud"}, headers=headers
    )
    assert banned.status_code == 201
    assert banned.json()["state"] == "banned"
    login = await api.post(
        f"{IDENTITY}/sessions", json={"email": "tom@example.com", "password": PASSWORD}
    )
    assert login.json() == {"errors": ["identity.session.banned"]}

    audited = await sql(api, "SELECT data FROM activities WHERE topic = 'audit' ORDER BY id")
    assert [r["data"] for r in audited] == [
        "POST /api/v2/barong/admin/users/role",
        "POST /api/v2/barong/admin/users/role",
        "POST /api/v2/barong/admin/users/labels",
    ]


async def test_permissions_and_restrictions_are_managed_through_the_api(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    admin, _ = clients["admin"]
    drop = await admin.get(f"{ADMIN}/permissions")
    assert drop.json() == {"errors": ["authz.invalid_permission"]}  # admins may not

    root, csrf = clients["superadmin"]
    headers = {"X-CSRF-Token": csrf}
    table = (await root.get(f"{ADMIN}/permissions")).json()
    assert ("member", "ALL", "api/v2/peatio/market", "ACCEPT") in {
        (p["role"], p["verb"], p["path"], p["action"]) for p in table
    }
    added = await root.post(
        f"{ADMIN}/permissions",
        json={
            "role": "member",
            "verb": "GET",
            "path": "api/v2/barong/admin/users",
            "action": "ACCEPT",
        },
        headers=headers,
    )
    assert added.status_code == 201, added.text
    member, _ = clients["member"]
    assert (await member.get(f"{ADMIN}/users")).status_code == 200  # at once
    removed = await root.delete(f"{ADMIN}/permissions/{added.json()['id']}", headers=headers)
    assert removed.status_code == 204
    assert (await member.get(f"{ADMIN}/users")).status_code == 401

    blocked = await root.post(
        f"{ADMIN}/restrictions",
        json={"scope": "ip", "value": "203.0.113.7", "category": "blocklogin"},
        headers=headers,
    )
    assert blocked.status_code == 201
    assert blocked.json()["code"] == 401
    bad = await root.post(
        f"{ADMIN}/restrictions",
        json={"scope": "planet", "value": "mars", "category": "blacklist"},
        headers=headers,
    )
    assert bad.status_code == 422
    listed = (await root.get(f"{ADMIN}/restrictions")).json()
    assert [(r["scope"], r["category"]) for r in listed] == [("ip", "blocklogin")]


async def test_state_changes_go_through_labels_so_they_last(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    admin, csrf = clients["admin"]
    headers = {"X-CSRF-Token": csrf}
    member, _ = clients["member"]
    uid = (await member.get("/api/v2/barong/resource/users/me")).json()["uid"]

    banned = await admin.put(
        f"{ADMIN}/users", json={"uid": uid, "state": "banned"}, headers=headers
    )
    assert banned.json()["state"] == "banned"
    # Another private label recomputes the state from the labels: the ban stays.
    vip = await admin.post(
        f"{ADMIN}/users/labels", json={"uid": uid, "key": "vip", "value": "gold"}, headers=headers
    )
    assert vip.json()["state"] == "banned"
    assert (await member.get("/api/v2/barong/resource/users/me")).status_code == 401

    active = await admin.put(
        f"{ADMIN}/users", json={"uid": uid, "state": "active"}, headers=headers
    )
    assert active.json()["state"] == "active"
    assert {(x["key"], x["value"]) for x in active.json()["labels"]} >= {("vip", "gold")}
    assert "ban" not in {x["key"] for x in active.json()["labels"]}

    unconfirmed = await sign_up(api, "new@example.com")
    refused = await admin.put(
        f"{ADMIN}/users", json={"uid": unconfirmed["uid"], "state": "active"}, headers=headers
    )
    assert refused.json() == {"errors": ["admin.user.activation_requirements"]}
    pending = await admin.put(
        f"{ADMIN}/users", json={"uid": uid, "state": "pending"}, headers=headers
    )
    assert pending.json() == {"errors": ["admin.user.invalid_state"]}

    removed = await admin.delete(
        f"{ADMIN}/users/labels", params={"uid": uid, "key": "email"}, headers=headers
    )
    assert removed.status_code == 204
    shown = (await admin.get(f"{ADMIN}/users/{uid}")).json()
    assert (shown["state"], shown["level"]) == ("pending", 0)
    again = await admin.delete(
        f"{ADMIN}/users/labels", params={"uid": uid, "key": "email"}, headers=headers
    )
    assert again.json() == {"errors": ["admin.label.doesnt_exist"]}
