"""Who may act on whom in Barong's admin API: the rank order (superadmin > admin > the four
staff roles > members), actor role × target role × action, over HTTP. A refusal is 403
and changes nothing; only a superadmin changes roles, whatever the permission table says."""

import io
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from bursa.custody.withdraw_requests import REVIEW_LABEL
from bursa.identity.public_labels import RESERVED_KEYS
from bursa.identity.rules import RANKS, ROLES
from tests.identity.test_authz import logged_in
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    api,
    inbox,
    sql,
)

ADMIN = "/api/v2/barong/admin"
ACTORS = ("superadmin", "admin", "support")
TARGETS = ("superadmin", "admin", "support", "member", "self")
# Whom each actor may act on (state, 2FA, labels); roles: superadmins only, same targets.
BELOW = {
    "superadmin": {"admin", "support", "member"},
    "admin": {"support", "member"},
    "support": {"member"},
}
RANK_TOO_LOW = {"errors": ["admin.user.rank_too_low"]}
SUPERADMIN_ONLY = {"errors": ["admin.user.superadmin_only"]}


def test_every_role_has_a_rank() -> None:
    assert set(RANKS) == set(ROLES)
    assert REVIEW_LABEL in RESERVED_KEYS  # custody reads it: never a member's own label


class Staff:
    """Signed-in actors, each with 2FA on and a private ``note`` label (so that acting on
    themselves would visibly change something), and a superadmin's eye to check."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.clients: dict[str, tuple[httpx.AsyncClient, str]] = {}
        self.uids: dict[str, str] = {}

    async def start(self) -> None:
        for role in ACTORS:
            client, csrf = await logged_in(self.api, role, f"{role}@example.com")
            self.clients[role] = (client, csrf)
            self.uids[role] = (await client.get(f"{RESOURCE}/users/me")).json()["uid"]
        await sql(self.api, "UPDATE users SET otp = true")
        await sql(
            self.api,
            "INSERT INTO labels (user_id, key, value, scope) "
            "SELECT id, 'note', 'checked', 'private' FROM users",
        )
        # The permission table lets support write users (as an operator may) and no longer
        # keeps admins from users/role: from here on the rank rule alone decides.
        await self.request("superadmin", "POST", "/permissions", json={
            "role": "support", "verb": "ALL", "path": "api/v2/barong/admin/users",
            "action": "ACCEPT",
        })  # fmt: skip
        table = (await self.request("superadmin", "GET", "/permissions")).json()
        (drop,) = [
            p["id"]
            for p in table
            if (p["role"], p["path"], p["action"])
            == ("admin", "api/v2/barong/admin/users/role", "DROP")
        ]
        assert (await self.request("superadmin", "DELETE", f"/permissions/{drop}")).is_success

    async def request(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        client, csrf = self.clients[role]
        return await client.request(
            method, f"{ADMIN}{path}", headers={"X-CSRF-Token": csrf}, **kwargs
        )

    async def target(self, actor: str, role: str) -> str:
        """A new user of ``role`` (2FA on, a ``note`` label), or the actor themselves."""
        if role == "self":
            return self.uids[actor]
        uid = "ID" + uuid.uuid4().hex[:10].upper()
        await sql(
            self.api,
            "WITH made AS (INSERT INTO users (uid, email, password_hash, role, otp) "
            "SELECT $1, $2, password_hash, $3, true FROM users LIMIT 1 RETURNING id) "
            "INSERT INTO labels (user_id, key, value, scope) "
            "SELECT id, 'note', 'checked', 'private' FROM made",
            uid,
            f"{uid.lower()}@example.com",
            role,
        )
        return uid

    async def shown(self, uid: str) -> dict[str, Any]:
        found = await self.request("superadmin", "GET", f"/users/{uid}")
        assert found.status_code == 200, found.text
        return dict(found.json())


@pytest.fixture
async def staff(api: httpx.AsyncClient) -> AsyncIterator[Staff]:
    made = Staff(api)
    await made.start()
    yield made
    for client, _ in made.clients.values():
        await client.aclose()


def _labels(user: dict[str, Any]) -> set[tuple[str, str]]:
    return {(label["key"], label["value"]) for label in user["labels"]}


# action → (method, path, request arguments for a uid, success status, "it happened")
Action = tuple[str, str, Callable[[str], dict[str, Any]], int, Callable[[dict[str, Any]], bool]]
ACTIONS: dict[str, Action] = {
    "ban": (
        "PUT",
        "/users",
        lambda uid: {"json": {"uid": uid, "state": "banned"}},
        200,
        lambda user: user["state"] == "banned",
    ),
    "2fa off": (
        "POST",
        "/users/update",
        lambda uid: {"json": {"uid": uid, "otp": False}},
        201,
        lambda user: user["otp"] is False,
    ),
    "set label": (
        "POST",
        "/users/labels",
        lambda uid: {"json": {"uid": uid, "key": "vip", "value": "gold", "scope": "private"}},
        201,
        lambda user: ("vip", "gold") in _labels(user),
    ),
    "remove label": (
        "DELETE",
        "/users/labels",
        lambda uid: {"params": {"uid": uid, "key": "note", "scope": "private"}},
        204,
        lambda user: ("note", "checked") not in _labels(user),
    ),
    "role": (
        "POST",
        "/users/role",
        lambda uid: {"json": {"uid": uid, "role": "trader"}},
        201,
        lambda user: user["role"] == "trader",
    ),
}


CASES = [(action, actor, role) for action in ACTIONS for actor in ACTORS for role in TARGETS]


def refusal(action: str, actor: str, role: str) -> dict[str, list[str]] | None:
    """What ``actor`` is answered for ``action`` on a ``role`` target (None: it is done)."""
    if action == "role" and actor != "superadmin":
        return SUPERADMIN_ONLY
    return None if role in BELOW[actor] else RANK_TOO_LOW


async def test_actor_role_by_target_role(staff: Staff) -> None:
    """Every (action, actor, target) of ``CASES`` against one set of signed-in actors (a
    fresh target each time): signing staff in is the slow part, so it is done once."""
    for action, actor, role in CASES:
        method, path, arguments, success, happened = ACTIONS[action]
        uid = await staff.target(actor, role)
        answer = await staff.request(actor, method, path, **arguments(uid))
        case = (action, actor, role, answer.text)
        refused = refusal(action, actor, role)
        if refused is None:
            assert answer.status_code == success, case
            assert happened(await staff.shown(uid)), case
        else:
            assert (answer.status_code, answer.json()) == (403, refused), case
            assert not happened(await staff.shown(uid)), case


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PROFILE = {"first_name": "Ada", "last_name": "Byron", "dob": "1985-12-10", "country": "GB"}


async def test_nobody_reviews_their_own_kyc_or_a_peers(api: httpx.AsyncClient) -> None:
    """A document or profile review sets a private label (and the KYC level): an admin may
    not verify their own, nor another admin's; a superadmin may."""
    clients = {
        name: await logged_in(api, role, f"{name}@example.com")
        for name, role in (("root", "superadmin"), ("ann", "admin"), ("bob", "admin"))
    }

    def call(name: str, method: str, path: str, **kwargs: Any) -> Any:
        client, csrf = clients[name]
        return client.request(method, path, headers={"X-CSRF-Token": csrf}, **kwargs)

    uploaded = await call(
        "ann",
        "POST",
        f"{RESOURCE}/documents",
        data={"doc_type": "passport", "doc_number": "X1234567", "doc_expire": "2031-01-01"},
        files={"upload": ("passport.png", io.BytesIO(PNG), "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text
    (document,) = await sql(api, "SELECT id FROM documents")
    profile = await call("ann", "POST", f"{RESOURCE}/profiles", json=PROFILE | {"confirm": True})
    assert profile.status_code == 201, profile.text
    ann_uid = (await call("ann", "GET", f"{RESOURCE}/users/me")).json()["uid"]

    verify = {"id": document["id"], "state": "verified"}
    for name in ("ann", "bob"):
        own_or_peer = await call(name, "POST", f"{ADMIN}/users/documents/review", json=verify)
        assert (own_or_peer.status_code, own_or_peer.json()) == (403, RANK_TOO_LOW), name
    peer = await call("bob", "PUT", f"{ADMIN}/profiles", json={"uid": ann_uid, "state": "verified"})
    assert (peer.status_code, peer.json()) == (403, RANK_TOO_LOW)
    labels = await sql(api, "SELECT key, value FROM labels WHERE key IN ('document', 'profile')")
    assert {(r["key"], r["value"]) for r in labels} == {
        ("document", "pending"),
        ("profile", "submitted"),
    }

    by_root = await call("root", "POST", f"{ADMIN}/users/documents/review", json=verify)
    assert by_root.status_code == 201, by_root.text
    root_profile = await call(
        "root", "PUT", f"{ADMIN}/profiles", json={"uid": ann_uid, "state": "verified"}
    )
    assert root_profile.status_code == 200, root_profile.text
    for client, _ in clients.values():
        await client.aclose()
