"""KYC documents: upload checked by content and size, stored privately, reviewed by an
admin; a verified document after email and phone makes level 3."""

import io
from pathlib import Path

import httpx

from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    api,
    inbox,
    sign_up,
    sql,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
ADMIN = "/api/v2/barong/admin"


def form(content: bytes, name: str = "passport.png", **fields: str) -> dict[str, object]:
    data = {"doc_type": "passport", "doc_number": "X1234567", "doc_expire": "2031-01-01"}
    return {
        "data": data | fields,
        "files": {"upload": (name, io.BytesIO(content), "image/png")},
    }


async def test_upload_review_and_level(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    user = await sign_up(api, "wes@example.com")
    csrf = {"X-CSRF-Token": user["csrf_token"]}
    url = f"{RESOURCE}/documents"

    exe = await api.post(url, headers=csrf, **form(b"MZ\x90\x00fake", "passport.png"))  # type: ignore[arg-type]
    assert exe.json() == {"errors": ["resource.documents.invalid_format"]}
    kind = await api.post(url, headers=csrf, **form(PNG, doc_type="selfie"))  # type: ignore[arg-type]
    assert kind.json() == {"errors": ["resource.documents.invalid_type"]}
    expired = await api.post(url, headers=csrf, **form(PNG, doc_expire="2020-01-01"))  # type: ignore[arg-type]
    assert expired.json() == {"errors": ["resource.documents.expired"]}
    huge = await api.post(url, headers=csrf, **form(PNG + b"\x00" * (11 * 1024 * 1024)))  # type: ignore[arg-type]
    assert huge.status_code == 413
    assert await sql(api, "SELECT 1 FROM documents") == []

    uploaded = await api.post(url, headers=csrf, **form(PNG))  # type: ignore[arg-type]
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()
    assert (document["state"], document["content_type"], document["size"]) == (
        "pending",
        "image/png",
        len(PNG),
    )
    stored = (await sql(api, "SELECT doc_number, upload FROM documents"))[0]
    assert "X1234567" not in stored["doc_number"]
    storage = api._transport.app.state.documents.storage  # type: ignore[attr-defined]
    saved = Path(storage) / stored["upload"]
    assert saved.read_bytes() == PNG
    assert saved.stat().st_mode & 0o777 == 0o600

    admin, admin_csrf = clients["admin"]
    headers = {"X-CSRF-Token": admin_csrf}
    pending = (await admin.get(f"{ADMIN}/users/documents/pending")).json()
    assert [d["id"] for d in pending] == [document["id"]]
    no_reason = await admin.post(
        f"{ADMIN}/users/documents/review",
        json={"id": document["id"], "state": "rejected"},
        headers=headers,
    )
    assert no_reason.json() == {"errors": ["admin.document.missing_reason"]}
    rejected = await admin.post(
        f"{ADMIN}/users/documents/review",
        json={"id": document["id"], "state": "rejected", "reason": "photo is blurred"},
        headers=headers,
    )
    assert rejected.status_code == 201
    mine = (await api.get(url)).json()
    assert (mine[0]["state"], mine[0]["reason"]) == ("rejected", "photo is blurred")

    second = (await api.post(url, headers=csrf, **form(PNG))).json()  # type: ignore[arg-type]
    await sql(
        api,
        "INSERT INTO labels (user_id, key, value, scope) SELECT id, k, 'verified', 'private' "
        "FROM users, unnest(ARRAY['email', 'phone']) AS k WHERE email = 'wes@example.com'",
    )
    verified = await admin.post(
        f"{ADMIN}/users/documents/review",
        json={"id": second["id"], "state": "verified"},
        headers=headers,
    )
    assert verified.status_code == 201
    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert me["level"] == 3
    member, _ = clients["member"]
    refused = await member.get(f"{ADMIN}/users/documents/pending")
    assert refused.status_code == 401
