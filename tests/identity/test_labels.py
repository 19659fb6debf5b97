"""The member's labels: all readable, only public ones writable; keys and values are
lower-cased and checked; a private (or reserved) key is refused and left as it was."""

import httpx

from tests.identity.test_authz import logged_in
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    Inbox,
    api,
    inbox,
    outbox_events,
    sql,
)
from tests.identity.test_kyc import confirmed_member

LABELS = f"{RESOURCE}/labels"


async def public_labels(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    rows = await sql(api, "SELECT key, value FROM labels WHERE scope = 'public' ORDER BY id")
    return [(r["key"], r["value"]) for r in rows]


async def test_member_labels(api: httpx.AsyncClient, inbox: tuple[Inbox, int]) -> None:
    csrf = await confirmed_member(api, inbox[0], "tara@example.com")
    listed = (await api.get(LABELS)).json()
    assert [(x["key"], x["value"], x["scope"]) for x in listed] == [
        ("email", "verified", "private")
    ]

    for body, code in (
        ({"key": "ab", "value": "gold"}, "resource.label.invalid_key"),
        ({"key": "has space", "value": "gold"}, "resource.label.invalid_key"),
        ({"key": "tier", "value": "x"}, "resource.label.invalid_value"),
        ({"key": "tier", "value": "gold!"}, "resource.label.invalid_value"),
        ({"key": "email", "value": "unverified"}, "resource.label.private_key"),
        ({"key": "ban", "value": "nope"}, "resource.label.private_key"),
    ):
        refused = await api.post(LABELS, json=body, headers=csrf)
        assert refused.status_code == 422, body
        assert refused.json() == {"errors": [code]}, body
    assert (await api.post(LABELS, json={"key": "tier", "value": "gold"})).json() == {
        "errors": ["authz.missing_csrf_token"]
    }
    assert await public_labels(api) == []

    created = await api.post(LABELS, json={"key": "Tier", "value": "Gold-Tier"}, headers=csrf)
    assert created.status_code == 201, created.text
    label = created.json()
    assert (label["key"], label["value"], label["scope"]) == ("tier", "gold-tier", "public")
    assert {"created_at", "updated_at"} <= label.keys()
    again = await api.post(LABELS, json={"key": "tier", "value": "silver"}, headers=csrf)
    assert again.json() == {"errors": ["resource.label.already_exists"]}

    assert (await api.get(f"{LABELS}/TIER")).json()["value"] == "gold-tier"
    assert (await api.get(f"{LABELS}/email")).json()["scope"] == "private"
    missing = await api.get(f"{LABELS}/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"errors": ["resource.label.doesnt_exist"]}
    listed = (await api.get(LABELS)).json()
    assert [(x["key"], x["scope"]) for x in listed] == [("tier", "public"), ("email", "private")]
    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert ("tier", "gold-tier", "public") in {
        (x["key"], x["value"], x["scope"]) for x in me["labels"]
    }

    patched = await api.patch(f"{LABELS}/tier", json={"value": "silver"}, headers=csrf)
    assert patched.status_code == 200, patched.text
    assert patched.json()["value"] == "silver"
    bad_value = await api.patch(f"{LABELS}/tier", json={"value": "S"}, headers=csrf)
    assert bad_value.json() == {"errors": ["resource.label.invalid_value"]}
    unknown = await api.patch(f"{LABELS}/nothing", json={"value": "gold"}, headers=csrf)
    assert unknown.status_code == 404

    # private labels: the member can read them but not touch them
    await sql(
        api,
        "INSERT INTO labels (user_id, key, value, scope) "
        "SELECT id, 'kyc_tier', 'premium', 'private' FROM users",
    )
    for response in (
        await api.patch(f"{LABELS}/email", json={"value": "unverified"}, headers=csrf),
        await api.patch(f"{LABELS}/kyc_tier", json={"value": "basic"}, headers=csrf),
        await api.delete(f"{LABELS}/email", headers=csrf),
        await api.delete(f"{LABELS}/kyc_tier", headers=csrf),
        await api.post(LABELS, json={"key": "kyc_tier", "value": "basic"}, headers=csrf),
    ):
        assert response.status_code == 422
        assert response.json() == {"errors": ["resource.label.private_key"]}
    private = await sql(api, "SELECT key, value FROM labels WHERE scope = 'private' ORDER BY key")
    assert [tuple(r) for r in private] == [("email", "verified"), ("kyc_tier", "premium")]
    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert (me["state"], me["level"]) == ("active", 1)

    removed = await api.delete(f"{LABELS}/tier", headers=csrf)
    assert removed.status_code == 204
    assert (await api.get(f"{LABELS}/tier")).status_code == 404
    gone = await api.delete(f"{LABELS}/tier", headers=csrf)
    assert gone.json() == {"errors": ["resource.label.doesnt_exist"]}
    assert await public_labels(api) == []


async def test_label_events(api: httpx.AsyncClient, inbox: tuple[Inbox, int]) -> None:
    csrf = await confirmed_member(api, inbox[0], "ugo@example.com")
    seen = len(await outbox_events(api))
    await api.post(LABELS, json={"key": "language", "value": "fr"}, headers=csrf)
    await api.post(LABELS, json={"key": "language", "value": "fra"}, headers=csrf)
    await api.patch(f"{LABELS}/language", json={"value": "deu"}, headers=csrf)
    await api.delete(f"{LABELS}/language", headers=csrf)
    events = (await outbox_events(api))[seen:]
    assert [(e["name"], e["record"]["value"]) for e in events] == [
        ("model.label.created", "fra"),
        ("model.label.updated", "deu"),
        ("model.label.deleted", "deu"),
    ]
    assert events[0]["record"]["scope"] == "public"


ACCESS_KEYS = ("role", "level", "state", "otp", "email", "phone", "document", "profile")


async def test_names_bursa_reads_for_access_are_not_free_labels(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    """A member never labels themselves ``role`` (or any name Bursa reads for access); an
    admin never writes a label named after a column (role, level, state, 2FA), nor a public
    one that looks like a KYC or state label; private KYC labels stay the admin's tool."""
    csrf = await confirmed_member(api, inbox[0], "rex@example.com")
    for key in (*ACCESS_KEYS, "withdraw_review"):
        refused = await api.post(LABELS, json={"key": key, "value": "superadmin"}, headers=csrf)
        assert (refused.status_code, refused.json()) == (
            422,
            {"errors": ["resource.label.private_key"]},
        ), key
    assert await public_labels(api) == []
    # One set before the names were reserved can be removed, never changed.
    await sql(
        api,
        "INSERT INTO labels (user_id, key, value, scope) SELECT id, 'role', 'admin', 'public' "
        "FROM users",
    )
    changed = await api.patch(f"{LABELS}/role", json={"value": "superadmin"}, headers=csrf)
    assert changed.json() == {"errors": ["resource.label.private_key"]}
    assert await public_labels(api) == [("role", "admin")]
    assert (await api.delete(f"{LABELS}/role", headers=csrf)).status_code == 204

    uid = (await api.get(f"{RESOURCE}/users/me")).json()["uid"]
    admin, admin_csrf = await logged_in(api, "admin", "admin@example.com")
    url, headers = "/api/v2/barong/admin/users/labels", {"X-CSRF-Token": admin_csrf}
    for key, scope in (*((k, "private") for k in ("role", "level", "state", "otp")),
                       *((k, "public") for k in ACCESS_KEYS)):  # fmt: skip
        body = {"uid": uid, "key": key, "value": "superadmin", "scope": scope}
        refused = await admin.post(url, json=body, headers=headers)
        assert (refused.status_code, refused.json()) == (
            422,
            {"errors": ["admin.label.reserved_key"]},
        ), (key, scope)
    kyc = {"uid": uid, "key": "phone", "value": "verified", "scope": "private"}
    assert (await admin.post(url, json=kyc, headers=headers)).status_code == 201
    stored = await sql(
        api,
        "SELECT key, value, scope FROM labels JOIN users ON users.id = user_id "
        "WHERE uid = $1 ORDER BY labels.id",
        uid,
    )
    assert [tuple(r) for r in stored] == [
        ("email", "verified", "private"),
        ("phone", "verified", "private"),
    ]
    await admin.aclose()
