"""Barong's admin API, the rest of its contract: users by label and the labels in use,
changing a label; permissions and restrictions changed or removed by an id in the body or
query string; whitelinks (single use, expiring) and ``identity/users/access``; a profile an
admin enters; sign-up and login metrics; abilities; API keys in pages."""

from datetime import timedelta

import httpx

from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    PASSWORD,
    api,
    clock_of,
    inbox,
    sign_up,
    sql,
)

ADMIN = "/api/v2/barong/admin"
AUTH = "/api/v2/auth"
Clients = dict[str, tuple[httpx.AsyncClient, str]]


async def test_labels_users_by_label_labels_in_use_and_updates(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    admin, csrf = clients["admin"]
    headers = {"X-CSRF-Token": csrf}
    uids = [(await sign_up(api, f"l{n}@example.com"))["uid"] for n in range(3)]
    for uid in uids[:2]:
        made = await admin.post(
            f"{ADMIN}/users/labels",
            json={"uid": uid, "key": "tier", "value": "gold"},
            headers=headers,
        )
        assert made.status_code == 201, made.text

    found = await admin.get(
        f"{ADMIN}/users/labels", params={"key": "tier", "value": "gold", "limit": 1, "page": 2}
    )
    assert found.status_code == 200, found.text
    assert [u["uid"] for u in found.json()] == [uids[1]]
    assert (found.headers["Total"], found.headers["Page"], found.headers["Per-Page"]) == (
        "2",
        "2",
        "1",
    )
    missing_value = await admin.get(f"{ADMIN}/users/labels", params={"key": "tier"})
    assert missing_value.status_code == 422

    in_use = (await admin.get(f"{ADMIN}/users/labels/list")).json()
    assert in_use['["tier", "gold"]'] == 2
    assert in_use['["email", "verified"]'] >= 1  # the staff's

    # PUT changes an existing label only; POST update creates it unless replace=false.
    changed = await admin.put(
        f"{ADMIN}/users/labels",
        json={"uid": uids[0], "key": "tier", "scope": "private", "value": "silver"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert ("tier", "silver") in {(lb["key"], lb["value"]) for lb in changed.json()["labels"]}
    absent = await admin.put(
        f"{ADMIN}/users/labels",
        json={"uid": uids[2], "key": "tier", "scope": "private", "value": "silver"},
        headers=headers,
    )
    assert (absent.status_code, absent.json()) == (404, {"errors": ["admin.label.doesnt_exist"]})
    refused = await admin.post(
        f"{ADMIN}/users/labels/update",
        json={
            "uid": uids[2],
            "key": "tier",
            "scope": "private",
            "value": "bronze",
            "replace": False,
        },
        headers=headers,
    )
    assert refused.json() == {"errors": ["admin.label.doesnt_exist"]}
    created = await admin.post(
        f"{ADMIN}/users/labels/update",
        json={"uid": uids[2], "key": "tier", "scope": "private", "value": "bronze"},
        headers=headers,
    )
    assert created.status_code == 200, created.text
    banned = await admin.post(
        f"{ADMIN}/users/labels/update",
        json={"uid": uids[2], "key": "ban", "scope": "private", "value": "fraud"},
        headers=headers,
    )
    assert banned.json()["state"] == "banned"  # a private label still moves the state
    reserved = await admin.put(
        f"{ADMIN}/users/labels",
        json={"uid": uids[0], "key": "role", "scope": "private", "value": "admin"},
        headers=headers,
    )
    assert reserved.json() == {"errors": ["admin.label.reserved_key"]}
    bad = await admin.put(
        f"{ADMIN}/users/labels",
        json={"uid": uids[0], "key": "tier", "scope": "secret", "value": "X!"},
        headers=headers,
    )
    assert bad.status_code == 422
    root_uid = (await sql(api, "SELECT uid FROM users WHERE role = 'superadmin'"))[0]["uid"]
    upwards = await admin.put(
        f"{ADMIN}/users/labels",
        json={"uid": root_uid, "key": "email", "scope": "private", "value": "verified"},
        headers=headers,
    )
    assert (upwards.status_code, upwards.json()) == (403, {"errors": ["admin.user.rank_too_low"]})
    recorded = await sql(api, "SELECT action FROM activities WHERE topic = 'admin' ORDER BY id")
    assert [r["action"] for r in recorded] == ["label updated", "label created", "label created"]

    member, _ = clients["member"]
    assert (await member.get(f"{ADMIN}/users/labels/list")).status_code == 401


async def test_permissions_and_restrictions_by_id_parameter(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    root, csrf = clients["superadmin"]
    headers = {"X-CSRF-Token": csrf}
    member, _ = clients["member"]
    added = await root.post(
        f"{ADMIN}/permissions",
        json={
            "role": "member",
            "verb": "GET",
            "path": "api/v2/barong/admin/levels",
            "action": "DROP",
        },
        headers=headers,
    )
    permission_id = added.json()["id"]
    changed = await root.put(
        f"{ADMIN}/permissions", json={"id": permission_id, "action": "ACCEPT"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["action"] == "ACCEPT"
    assert (await member.get(f"{ADMIN}/levels")).status_code == 200  # applies at once
    by_query = await root.put(
        f"{ADMIN}/permissions", params={"id": permission_id, "verb": "POST"}, headers=headers
    )
    assert by_query.json()["verb"] == "POST"
    by_path = await root.put(
        f"{ADMIN}/permissions/{permission_id}", json={"verb": "GET"}, headers=headers
    )
    assert by_path.json()["verb"] == "GET"
    for body, code in [
        ({"id": permission_id}, "admin.permission.one_of_role_verb_path_action"),
        ({"id": permission_id, "role": "king"}, "admin.permission.invalid_role"),
        ({"action": "DROP"}, "admin.permission.missing_id"),
        ({"id": "x1", "action": "DROP"}, "admin.permission.invalid_id"),
    ]:
        refused = await root.put(f"{ADMIN}/permissions", json=body, headers=headers)
        assert (refused.status_code, refused.json()) == (422, {"errors": [code]}), body
    unknown = await root.put(
        f"{ADMIN}/permissions", json={"id": 999999, "action": "DROP"}, headers=headers
    )
    assert unknown.json() == {"errors": ["admin.permission.doesnt_exist"]}
    removed = await root.delete(
        f"{ADMIN}/permissions", params={"id": permission_id}, headers=headers
    )
    assert removed.status_code == 204
    assert (await member.get(f"{ADMIN}/levels")).status_code == 401
    again = await root.delete(f"{ADMIN}/permissions", params={"id": permission_id}, headers=headers)
    assert (again.status_code, again.json()) == (404, {"errors": ["admin.permission.doesnt_exist"]})

    # blocklogin (only the login path) keeps the admin's own calls from this address open
    login = f"{AUTH}/api/v2/barong/identity/sessions"
    blocked = await root.post(
        f"{ADMIN}/restrictions",
        json={"scope": "ip", "value": "203.0.113.7", "category": "blocklogin", "state": "disabled"},
        headers=headers,
    )
    restriction_id = blocked.json()["id"]
    assert blocked.json()["state"] == "disabled"
    assert (await member.post(login)).status_code == 200
    enabled = await root.put(
        f"{ADMIN}/restrictions",
        json={"id": restriction_id, "state": "enabled", "code": 403},
        headers=headers,
    )
    assert (enabled.json()["state"], enabled.json()["code"]) == ("enabled", 403)
    restricted = await member.post(login)
    assert (restricted.status_code, restricted.json()) == (
        403,
        {"errors": ["authz.restrict.blocklogin"]},
    )
    bad = await root.put(
        f"{ADMIN}/restrictions", json={"id": restriction_id, "scope": "planet"}, headers=headers
    )
    assert bad.json() == {"errors": ["admin.restriction.invalid_scope"]}
    nothing = await root.put(f"{ADMIN}/restrictions", json={"id": restriction_id}, headers=headers)
    assert nothing.json() == {"errors": ["admin.restriction.nothing_to_change"]}
    gone = await root.delete(
        f"{ADMIN}/restrictions", params={"id": restriction_id}, headers=headers
    )
    assert gone.status_code == 204
    assert (await member.post(login)).status_code == 200
    missing = await root.delete(
        f"{ADMIN}/restrictions", params={"id": restriction_id}, headers=headers
    )
    assert missing.json() == {"errors": ["admin.restriction.doesnt_exist"]}

    admin, admin_csrf = clients["admin"]  # the table drops permissions for admins
    dropped = await admin.put(
        f"{ADMIN}/permissions",
        json={"id": 1, "action": "DROP"},
        headers={"X-CSRF-Token": admin_csrf},
    )
    assert (dropped.status_code, dropped.json()) == (401, {"errors": ["authz.invalid_permission"]})


async def test_a_whitelink_whitelists_its_holder_once(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    admin, csrf = clients["admin"]
    headers = {"X-CSRF-Token": csrf}
    made = await admin.post(
        f"{ADMIN}/restrictions/whitelink", json={"expire_time": 2, "range": "hour"}, headers=headers
    )
    assert made.status_code == 201, made.text
    token = made.json()["whitelink_token"]
    await admin.post(
        f"{ADMIN}/restrictions",
        json={"scope": "all", "value": "all", "category": "maintenance"},
        headers=headers,
    )  # from now on, this address (everyone's here) is closed until whitelisted
    member, _ = clients["member"]
    closed = await member.get(f"{AUTH}/api/v2/peatio/account/balances")
    assert (closed.status_code, closed.json()) == (471, {"errors": ["authz.restrict.maintenance"]})
    # The redeeming path is never restricted at the gateway.
    assert (await member.post(f"{AUTH}/api/v2/barong/identity/users/access")).status_code == 200
    stored = await sql(api, "SELECT token_digest, used_at FROM whitelinks")
    assert len(stored) == 1 and token not in stored[0]["token_digest"]  # only its digest

    async with httpx.AsyncClient(transport=api._transport, base_url="http://testserver") as anyone:
        for body, code in [
            ({}, "identity.user.missing_whitelink_token"),
            ({"whitelink_token": "forged"}, "identity.user.access.invalid_token"),
        ]:
            refused = await anyone.post(f"{IDENTITY}/users/access", json=body)
            assert (refused.status_code, refused.json()) == (422, {"errors": [code]})
        granted = await anyone.post(f"{IDENTITY}/users/access", json={"whitelink_token": token})
        assert granted.status_code == 201, granted.text
        assert granted.json() == {"ip": "203.0.113.7"}
        reused = await anyone.post(f"{IDENTITY}/users/access", json={"whitelink_token": token})
        assert reused.json() == {"errors": ["identity.user.access.invalid_token"]}
    assert (await member.get(f"{AUTH}/api/v2/peatio/account/balances")).status_code == 200
    whitelisted = await sql(
        api, "SELECT scope, value, category, state FROM restrictions WHERE category = 'whitelist'"
    )
    assert [tuple(r) for r in whitelisted] == [("ip", "203.0.113.7", "whitelist", "enabled")]

    for wrong, code in [
        ({"expire_time": 31}, "admin.restriction.invalid_expire"),
        ({"range": "week"}, "admin.restriction.invalid_range"),
    ]:
        bad = await admin.post(f"{ADMIN}/restrictions/whitelink", json=wrong, headers=headers)
        assert (bad.status_code, bad.json()) == (422, {"errors": [code]})
    member, member_csrf = clients["member"]
    denied = await member.post(
        f"{ADMIN}/restrictions/whitelink", json={}, headers={"X-CSRF-Token": member_csrf}
    )
    assert (denied.status_code, denied.json()) == (401, {"errors": ["authz.invalid_permission"]})
    late = await admin.post(
        f"{ADMIN}/restrictions/whitelink", json={"range": "hour"}, headers=headers
    )
    clock_of(api).advance(timedelta(hours=1, seconds=1))
    expired = await api.post(
        f"{IDENTITY}/users/access", json={"whitelink_token": late.json()["whitelink_token"]}
    )
    assert expired.json() == {"errors": ["identity.user.access.invalid_token"]}
    audited = await sql(
        api, "SELECT action FROM activities WHERE topic = 'admin' AND action LIKE 'whitelink%'"
    )
    assert sorted(r["action"] for r in audited) == [
        "whitelink created",
        "whitelink created",
        "whitelink used",
    ]


async def test_an_admin_enters_a_profile_another_admin_verifies(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    admin, csrf = clients["admin"]
    headers = {"X-CSRF-Token": csrf}
    uid = (await sign_up(api, "kyc@example.com"))["uid"]
    body = {"uid": uid, "first_name": "Ada", "last_name": "Lovelace", "country": "gb"}
    created = await admin.post(f"{ADMIN}/profiles", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert (created.json()["state"], created.json()["country"], created.json()["uid"]) == (
        "submitted",
        "GB",
        uid,
    )
    twice = await admin.post(f"{ADMIN}/profiles", json=body, headers=headers)
    assert twice.json() == {"errors": ["admin.profiles.already_submitted"]}
    for bad, code in [
        ({"uid": "ID0000000000"}, "admin.user.doesnt_exist"),
        ({"uid": uid, "dob": "yesterday"}, "server.request.invalid_parameter"),
    ]:
        refused = await admin.post(f"{ADMIN}/profiles", json=bad, headers=headers)
        assert refused.json() == {"errors": [code]}

    own = await admin.put(
        f"{ADMIN}/profiles", json={"uid": uid, "state": "verified"}, headers=headers
    )
    assert own.json() == {"errors": ["admin.profiles.second_admin_approval"]}
    root, root_csrf = clients["superadmin"]
    verified = await root.put(
        f"{ADMIN}/profiles",
        json={"uid": uid, "state": "verified"},
        headers={"X-CSRF-Token": root_csrf},
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["state"] == "verified"

    technical, technical_csrf = clients["technical"]
    denied = await technical.post(
        f"{ADMIN}/profiles", json=body, headers={"X-CSRF-Token": technical_csrf}
    )
    assert denied.json() == {"errors": ["authz.invalid_permission"]}


async def test_metrics_count_signups_and_logins_by_day(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    admin, _ = clients["admin"]
    await sign_up(api, "new@example.com")
    wrong = await api.post(
        f"{IDENTITY}/sessions", json={"email": "new@example.com", "password": "Wrong-pass-1"}
    )
    assert wrong.status_code == 401
    await sql(
        api,
        "INSERT INTO labels (user_id, key, value, scope) "
        "SELECT id, 'document', 'pending', 'private' FROM users WHERE email = 'new@example.com'",
    )
    found = await admin.get(f"{ADMIN}/metrics")
    assert found.status_code == 200, found.text
    metrics = found.json()
    today = (await sql(api, "SELECT (now() AT TIME ZONE 'UTC')::date AS d"))[0]["d"].isoformat()
    assert metrics["signups"] == {today: 5}  # four staff, one sign-up
    assert metrics["sucessful_logins"] == {today: 4}
    assert metrics["failed_logins"] == {today: 1}
    assert metrics["pending_applications"] == 1
    before = await admin.get(f"{ADMIN}/metrics", params={"created_to": "2000-01-01"})
    assert before.json()["signups"] == {}
    same_day = await admin.get(
        f"{ADMIN}/metrics", params={"created_from": today, "created_to": today}
    )
    assert same_day.json()["signups"] == {today: 5}
    for params, code in [
        ({"created_from": "yesterday"}, "admin.metrics.invalid_created_from"),
        ({"created_to": "2024-13-40"}, "admin.metrics.invalid_created_to"),
        (
            {"created_from": "2024-02-01", "created_to": "2024-01-01"},
            "admin.metrics.invalid_period",
        ),
    ]:
        bad = await admin.get(f"{ADMIN}/metrics", params=params)
        assert (bad.status_code, bad.json()) == (422, {"errors": [code]}), params
    member, _ = clients["member"]
    assert (await member.get(f"{ADMIN}/metrics")).status_code == 401


async def test_abilities_follow_the_permission_table(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    root, _ = clients["superadmin"]
    everything = (await root.get(f"{ADMIN}/abilities")).json()
    assert "read" not in everything and {"User", "Permission", "Activity"} <= set(
        everything["manage"]
    )
    admin, _ = clients["admin"]
    granted = (await admin.get(f"{ADMIN}/abilities")).json()
    assert "Permission" not in granted.get("manage", []) + granted.get("read", [])
    assert {"User", "Label", "Restriction", "Profile"} <= set(granted["manage"])
    technical, _ = clients["technical"]
    reader = (await technical.get(f"{ADMIN}/abilities")).json()
    assert "manage" not in reader and {"User", "Level", "Ability"} <= set(reader["read"])
    member, _ = clients["member"]
    refused = await member.get(f"{ADMIN}/abilities")
    assert (refused.status_code, refused.json()) == (401, {"errors": ["authz.invalid_permission"]})


async def test_member_api_keys_in_pages(api: httpx.AsyncClient, clients: Clients) -> None:
    admin, _ = clients["admin"]
    uid = (await sql(api, "SELECT uid FROM users WHERE email = 'member@example.com'"))[0]["uid"]
    for kid in ("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"):
        await sql(
            api,
            "INSERT INTO api_keys (kid, user_id, algorithm, secret) "
            "SELECT $1, id, 'HS256', 'sealed' FROM users WHERE uid = $2",
            kid,
            uid,
        )
    page = await admin.get(
        f"{ADMIN}/api_keys", params={"uid": uid, "limit": 2, "page": 1, "ordering": "desc"}
    )
    assert page.status_code == 200, page.text
    assert [k["kid"] for k in page.json()] == ["cccccccccccccccc", "bbbbbbbbbbbbbbbb"]
    assert (page.headers["Total"], page.headers["Per-Page"]) == ("3", "2")
    for params, code in [
        ({"uid": uid, "ordering": "up"}, "api_keys.ordering.invalid_ordering"),
        ({"uid": uid, "order_by": "secret"}, "api_keys.ordering.invalid_attribute"),
        ({"uid": "ID0000000000"}, "admin.user.doesnt_exist"),
    ]:
        bad = await admin.get(f"{ADMIN}/api_keys", params=params)
        assert bad.json() == {"errors": [code]}, params
