"""Identity documents: upload (type, number, expiry, one file), and admin review.

The file is checked by its first bytes (JPEG, PNG or PDF, whatever the name or declared
type says) and its size, then kept in the storage folder under a random name; the document
number is sealed by the key store. An upload sets the private label ``document: pending``;
the review sets ``verified`` (level 3 once email and phone are verified) or ``rejected``
with a reason the member can read. Address proofs (``bursa.identity.addresses``) are
documents of type ``address`` and go through the same review, under the label ``address``.
"""

import os
import secrets
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from bursa.errors import Refusal
from bursa.formats import iso
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import documents, users

DOCUMENT_KEY = "bursa-pii"
DOC_TYPES = ("passport", "identity_card", "driver_license", "utility_bill")
ADDRESS_PROOF = "address"  # the doc_type of an address proof; its label key too
MAX_UPLOAD = 10 * 1024 * 1024
SIGNATURES = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"%PDF-": ("application/pdf", "pdf"),
}


def sniff(content: bytes, scope: str = "resource.documents") -> tuple[str, str]:
    for magic, kind in SIGNATURES.items():
        if content.startswith(magic):
            return kind
    raise IdentityError(Refusal.INVALID, f"{scope}.invalid_format", "upload a JPEG, PNG or PDF")


def check_upload(content: bytes, scope: str) -> tuple[str, str]:
    """Content type and file extension of an acceptable upload (size, then first bytes)."""
    if not 0 < len(content) <= MAX_UPLOAD:
        raise IdentityError(Refusal.INVALID, f"{scope}.invalid_size", "1 byte to 10 MB")
    return sniff(content, scope)


class Documents:
    def __init__(self, identity: Identity, storage: Path) -> None:
        self.identity = identity
        self.storage = storage

    async def upload(
        self,
        user: dict[str, Any],
        doc_type: str,
        doc_number: str,
        doc_expire: date | None,
        content: bytes,
        client: Client,
        *,
        update_labels: bool = True,
    ) -> dict[str, Any]:
        if doc_type not in DOC_TYPES:
            raise IdentityError(
                Refusal.INVALID, "resource.documents.invalid_type", ", ".join(DOC_TYPES)
            )
        content_type, extension = check_upload(content, "resource.documents")
        if doc_expire is not None and doc_expire <= date.today():
            raise IdentityError(Refusal.INVALID, "resource.documents.expired")
        sealed = await self.identity.keystore.encrypt(DOCUMENT_KEY, doc_number.encode())
        values = {"doc_type": doc_type, "doc_number": sealed, "doc_expire": doc_expire}
        return await self.file(
            user,
            "document",
            values,
            content,
            content_type,
            extension,
            client,
            update_labels=update_labels,
        )

    async def file(
        self,
        user: dict[str, Any],
        label: str,
        values: dict[str, Any],
        content: bytes,
        content_type: str,
        extension: str,
        client: Client,
        *,
        update_labels: bool = True,
    ) -> dict[str, Any]:
        """Keep the checked upload and its row (``values`` sealed already), and set the
        private label ``label: pending`` that puts it in the admins' review queue (unless
        ``update_labels`` is off: the Management API may file a document silently)."""
        name = self.keep_file(content, extension)
        async with self.identity.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        insert(documents)
                        .values(
                            user_id=user["id"],
                            upload=name,
                            content_type=content_type,
                            size=len(content),
                            **values,
                        )
                        .returning(documents)
                    )
                )
                .mappings()
                .one()
            )
            if update_labels:
                await self.identity.set_label(conn, user["id"], label, "pending", "private")
            await self.identity.record(
                conn, user["id"], client, "account", f"{label} uploaded", "succeed"
            )
            if label == "document":  # Barong's event, without the number (sealed) or file
                await self.identity.emit(
                    conn,
                    "model.document.created",
                    user,
                    record={
                        "doc_type": row["doc_type"],
                        "doc_expire": row["doc_expire"] and row["doc_expire"].isoformat(),
                        "created_at": iso(row["created_at"]),
                        "updated_at": iso(row["updated_at"]),
                    },
                )
        return dict(row)

    def keep_file(self, content: bytes, extension: str) -> str:
        """Write an upload under a new random name, readable by this process only."""
        name = f"{secrets.token_hex(16)}.{extension}"
        self.storage.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.storage / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        return name

    async def of_user(self, user_id: int) -> list[dict[str, Any]]:
        async with self.identity.engine.connect() as conn:
            rows = await conn.execute(
                select(documents).where(documents.c.user_id == user_id).order_by(documents.c.id)
            )
            return [dict(r) for r in rows.mappings()]

    async def pending(self) -> list[dict[str, Any]]:
        async with self.identity.engine.connect() as conn:
            rows = await conn.execute(
                select(documents).where(documents.c.state == "pending").order_by(documents.c.id)
            )
            return [dict(r) for r in rows.mappings()]

    async def review(
        self,
        document_id: int,
        state: str,
        reason: str | None,
        reviewer: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Verify or reject a pending document or address proof (the admin API audits who
        did it); the label is ``document`` or ``address`` after what was reviewed. A
        ``reviewer`` must outrank the owner (``Identity.subordinate``): nobody raises their
        own KYC level, or a peer's."""
        if state not in ("verified", "rejected"):
            raise IdentityError(Refusal.INVALID, "admin.document.invalid_state")
        if state == "rejected" and not reason:
            raise IdentityError(Refusal.INVALID, "admin.document.missing_reason")
        async with self.identity.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        update(documents)
                        .where(documents.c.id == document_id, documents.c.state == "pending")
                        .values(state=state, reason=reason, updated_at=func.now())
                        .returning(documents)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.document.doesnt_exist")
            if reviewer is not None:
                owner_uid = await conn.scalar(
                    select(users.c.uid).where(users.c.id == row["user_id"])
                )
                await self.identity.subordinate(conn, reviewer, str(owner_uid))
            key = ADDRESS_PROOF if row["doc_type"] == ADDRESS_PROOF else "document"
            await self.identity.set_label(conn, row["user_id"], key, state, "private")
            if key == "document":
                owner = dict(
                    (await conn.execute(select(users).where(users.c.id == row["user_id"])))
                    .mappings()
                    .one()
                )
                await self.identity.emit(
                    conn, f"system.document.{state}", owner, label=(key, state, "private")
                )
        return dict(row)
