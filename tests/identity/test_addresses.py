"""Address proofs: fields and file checked, the address sealed at rest, the label
``address: pending``, then the admin document review verifies or rejects them."""

import io
from pathlib import Path

import httpx

from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_documents import ADMIN, PNG
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    api,
    inbox,
    sign_up,
    sql,
)

URL = f"{RESOURCE}/addresses"
FIELDS = {"country": "fr", "address": "12 Rue de la Paix", "city": "Paris", "postcode": "75002"}


def form(content: bytes = PNG, **fields: str) -> dict[str, object]:
    return {
        "data": FIELDS | fields,
        "files": {"upload": ("bill.png", io.BytesIO(content), "image/png")},
    }


def files_in(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.exists() else []


async def address_label(api: httpx.AsyncClient) -> list[str]:
    rows = await sql(api, "SELECT value FROM labels WHERE key = 'address' AND scope = 'private'")
    return [r["value"] for r in rows]


async def test_address_proof_upload_and_review(
    api: httpx.AsyncClient, clients: dict[str, tuple[httpx.AsyncClient, str]]
) -> None:
    csrf = {"X-CSRF-Token": (await sign_up(api, "willa@example.com"))["csrf_token"]}
    storage = Path(api._transport.app.state.documents.storage)  # type: ignore[attr-defined]

    for kwargs, code in (
        ({"country": "F1"}, "resource.addresses.invalid_country"),
        ({"address": "   "}, "resource.addresses.invalid_address"),
        ({"city": "c" * 256}, "resource.addresses.invalid_city"),
        ({"postcode": "9" * 33}, "resource.addresses.invalid_postcode"),
        ({"content": b"MZ\x90\x00not-an-image"}, "resource.addresses.invalid_format"),
        ({"content": b""}, "resource.addresses.invalid_size"),
    ):
        refused = await api.post(URL, headers=csrf, **form(**kwargs))  # type: ignore[arg-type]
        assert refused.status_code == 422, kwargs
        assert refused.json() == {"errors": [code]}, kwargs
    huge = await api.post(URL, headers=csrf, **form(PNG + b"\x00" * (11 * 1024 * 1024)))  # type: ignore[arg-type]
    assert huge.status_code == 413
    no_csrf = await api.post(URL, **form())  # type: ignore[arg-type]
    assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
    assert await sql(api, "SELECT 1 FROM documents") == []
    assert await address_label(api) == []
    assert files_in(storage) == []

    big_scan = PNG + b"\x00" * (300 * 1024)  # over the 64 KB every other body is allowed
    uploaded = await api.post(URL, headers=csrf, **form(big_scan))  # type: ignore[arg-type]
    assert uploaded.status_code == 201, uploaded.text
    proof = uploaded.json()
    assert (proof["doc_type"], proof["state"], proof["country"], proof["city"]) == (
        "address",
        "pending",
        "FR",
        "Paris",
    )
    assert (proof["size"], proof["content_type"]) == (len(big_scan), "image/png")
    assert await address_label(api) == ["pending"]
    stored = (await sql(api, "SELECT country, address, doc_number, upload FROM documents"))[0]
    assert stored["country"] == "FR"
    assert stored["doc_number"] is None
    for plain in ("Rue de la Paix", "Paris", "75002"):
        assert plain not in stored["address"]
    saved = storage / stored["upload"]
    assert saved.read_bytes() == big_scan
    assert saved.stat().st_mode & 0o777 == 0o600

    admin, admin_csrf = clients["admin"]
    headers = {"X-CSRF-Token": admin_csrf}
    pending = (await admin.get(f"{ADMIN}/users/documents/pending")).json()
    assert [
        (p["id"], p["doc_type"], p["country"], p["address"], p["city"], p["postcode"])
        for p in pending
    ] == [(proof["id"], "address", "FR", "12 Rue de la Paix", "Paris", "75002")]
    rejected = await admin.post(
        f"{ADMIN}/users/documents/review",
        json={"id": proof["id"], "state": "rejected", "reason": "bill older than 3 months"},
        headers=headers,
    )
    assert rejected.status_code == 201, rejected.text
    assert await address_label(api) == ["rejected"]
    mine = (await api.get(f"{RESOURCE}/documents")).json()
    assert [(d["doc_type"], d["state"], d["reason"]) for d in mine] == [
        ("address", "rejected", "bill older than 3 months")
    ]

    second = (await api.post(URL, headers=csrf, **form())).json()  # type: ignore[arg-type]
    assert await address_label(api) == ["pending"]
    verified = await admin.post(
        f"{ADMIN}/users/documents/review",
        json={"id": second["id"], "state": "verified"},
        headers=headers,
    )
    assert verified.status_code == 201
    assert await address_label(api) == ["verified"]
    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert ("address", "verified") in {(x["key"], x["value"]) for x in me["labels"]}
    assert "document" not in {x["key"] for x in me["labels"]}
    assert me["level"] == 0  # an address proof is not the identity document of level 3
