"""Admins' comments on users: added, edited and deleted by their author only, shown with the
user to staff (never to the member), refused without CSRF or permission, audited."""

import httpx

from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    api,
    inbox,
    sign_up,
    sql,
)

ADMIN = "/api/v2/barong/admin"
COMMENTS = f"{ADMIN}/users/comments"


async def _uid(client: httpx.AsyncClient) -> str:
    return str((await client.get(f"{RESOURCE}/users/me")).json()["uid"])


async def test_comment_life_cycle(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    member = await sign_up(api, "mona@example.com")
    uid = member["uid"]
    admin, csrf = clients["admin"]
    headers = {"X-CSRF-Token": csrf}
    admin_uid = await _uid(admin)

    added = await admin.post(
        COMMENTS,
        json={"uid": uid, "title": "call", "data": "Asked about the withdrawal limit."},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert added.json()["uid"] == uid
    (comment,) = added.json()["comments"]
    assert (comment["author_uid"], comment["title"], comment["data"]) == (
        admin_uid,
        "call",
        "Asked about the withdrawal limit.",
    )
    shown = (await admin.get(f"{ADMIN}/users/{uid}")).json()
    assert shown["comments"] == [comment]
    technical, _ = clients["technical"]  # staff read it too
    assert (await technical.get(f"{ADMIN}/users/{uid}")).json()["comments"] == [comment]
    mine = (await api.get(f"{RESOURCE}/users/me")).json()
    assert "comments" not in mine  # the member never sees staff notes

    edited = await admin.put(
        COMMENTS, json={"id": comment["id"], "title": "phone call"}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    (changed,) = edited.json()["comments"]
    assert (changed["title"], changed["data"]) == ("phone call", comment["data"])

    root, root_csrf = clients["superadmin"]
    root_headers = {"X-CSRF-Token": root_csrf}
    foreign = await root.put(
        COMMENTS, json={"id": comment["id"], "data": "rewritten"}, headers=root_headers
    )
    assert foreign.status_code == 403
    assert foreign.json() == {"errors": ["admin.comment.not_author"]}
    not_mine = await root.delete(COMMENTS, params={"id": comment["id"]}, headers=root_headers)
    assert not_mine.json() == {"errors": ["admin.comment.not_author"]}

    removed = await admin.delete(COMMENTS, params={"id": comment["id"]}, headers=headers)
    assert removed.status_code == 204
    assert (await admin.get(f"{ADMIN}/users/{uid}")).json()["comments"] == []
    again = await admin.delete(COMMENTS, params={"id": comment["id"]}, headers=headers)
    assert again.status_code == 404
    assert again.json() == {"errors": ["admin.comment.doesnt_exist"]}

    audited = await sql(api, "SELECT data FROM activities WHERE topic = 'audit' ORDER BY id")
    assert [r["data"] for r in audited] == [
        "POST /api/v2/barong/admin/users/comments",
        "PUT /api/v2/barong/admin/users/comments",
        "PUT /api/v2/barong/admin/users/comments",
        "DELETE /api/v2/barong/admin/users/comments",
        "DELETE /api/v2/barong/admin/users/comments",
        "DELETE /api/v2/barong/admin/users/comments",
    ]


async def test_bad_comments_change_nothing(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    uid = (await sign_up(api, "nils@example.com"))["uid"]
    admin, csrf = clients["admin"]
    headers = {"X-CSRF-Token": csrf}
    note = {"uid": uid, "title": "kyc", "data": "Passport photo was blurred."}

    unknown = await admin.post(COMMENTS, json=note | {"uid": "ID0000000000"}, headers=headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"errors": ["admin.user.doesnt_exist"]}
    blank = await admin.post(COMMENTS, json=note | {"title": "  "}, headers=headers)
    assert blank.json() == {"errors": ["admin.comment.invalid_title"]}
    empty = await admin.post(COMMENTS, json=note | {"data": ""}, headers=headers)
    assert empty.json() == {"errors": ["admin.comment.invalid_data"]}
    no_csrf = await admin.post(COMMENTS, json=note)
    assert no_csrf.status_code == 401
    assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
    member, member_csrf = clients["member"]
    denied = await member.post(COMMENTS, json=note, headers={"X-CSRF-Token": member_csrf})
    assert denied.json() == {"errors": ["authz.invalid_permission"]}
    technical, technical_csrf = clients["technical"]  # staff: read-only
    read_only = await technical.post(COMMENTS, json=note, headers={"X-CSRF-Token": technical_csrf})
    assert read_only.json() == {"errors": ["authz.invalid_permission"]}
    assert await sql(api, "SELECT 1 FROM comments") == []

    kept = (await admin.post(COMMENTS, json=note, headers=headers)).json()["comments"][0]
    nothing = await admin.put(COMMENTS, json={"id": kept["id"]}, headers=headers)
    assert nothing.json() == {"errors": ["admin.comment.missing_params"]}
    missing = await admin.put(COMMENTS, json={"id": kept["id"] + 1, "data": "x"}, headers=headers)
    assert missing.json() == {"errors": ["admin.comment.doesnt_exist"]}
    blank_data = await admin.put(COMMENTS, json={"id": kept["id"], "data": " "}, headers=headers)
    assert blank_data.json() == {"errors": ["admin.comment.invalid_data"]}
    no_csrf_delete = await admin.delete(COMMENTS, params={"id": kept["id"]})
    assert no_csrf_delete.json() == {"errors": ["authz.missing_csrf_token"]}
    rows = await sql(api, "SELECT title, data FROM comments")
    assert [(r["title"], r["data"]) for r in rows] == [("kyc", "Passport photo was blurred.")]
