"""What Barong's Management API does to users' KYC records: a user's whole record (labels,
phones, profiles, documents, data storages, comments), their phones, a profile filed in
any review state, a document uploaded on their behalf.

Each goes through the KYC services members and admins use (``Kyc``, ``ProfileReview``,
``Documents``), so labels, state, level and events follow as they do everywhere else; a
review made here is attributed to no user, trusted as a superadmin's.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from bursa.identity.comments import Comments
from bursa.identity.documents import Documents
from bursa.identity.kyc import Kyc
from bursa.identity.management import ManagedUsers
from bursa.identity.profile_review import ProfileReview
from bursa.identity.service import Client
from bursa.identity.tables import documents

# Who the activity log names for a review made through the Management API.
MANAGEMENT_REVIEWER: Mapping[str, Any] = {"id": None, "uid": "", "role": "superadmin"}
REVIEWED = ("verified", "rejected")


@dataclass(frozen=True, slots=True)
class KycRecord:
    """A user loaded whole (``load_user(full=True)``), their documents' rows and the
    admins' comments on them."""

    user: dict[str, Any]
    documents: list[dict[str, Any]]
    comments: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A document to file for a user: ``content`` is the file itself."""

    doc_type: str
    doc_number: str
    doc_expire: date | None
    content: bytes
    update_labels: bool = True


class ManagedKyc:
    def __init__(self, users: ManagedUsers, kyc: Kyc, documents: Documents) -> None:
        self.users = users
        self.kyc = kyc
        self.documents = documents

    async def record_of(
        self, *, uid: str | None = None, email: str | None = None, phone: str | None = None
    ) -> KycRecord:
        """The user named by ``uid``, ``email`` or phone number, with their KYC records."""
        identity = self.users.identity
        async with identity.engine.connect() as conn:
            user_id = await self.users.user_id(conn, uid=uid, email=email, phone=phone)
        notes = await Comments(identity).of_user(user_id)
        async with identity.engine.connect() as conn:
            user = await identity.load_user(conn, user_id, full=True)
            rows = await conn.execute(
                select(documents).where(documents.c.user_id == user_id).order_by(documents.c.id)
            )
            found = [dict(row) for row in rows.mappings()]
        return KycRecord(user, found, notes)

    async def phones_of(self, uid: str) -> list[dict[str, Any]]:
        """The user's phones, masked."""
        async with self.users.identity.engine.connect() as conn:
            user_id = await self.users.user_id(conn, uid=uid)
        return await self.kyc.list_phones(user_id)

    async def _user(self, uid: str) -> dict[str, Any]:
        identity = self.users.identity
        async with identity.engine.connect() as conn:
            user_id = await self.users.user_id(conn, uid=uid)
            user: dict[str, Any] = await identity.load_user(conn, user_id)
        return user

    async def file_profile(
        self, uid: str, fields: dict[str, Any], state: str, client: Client
    ) -> dict[str, Any]:
        """Save the user's profile as the member would (sealed; ``submitted`` and beyond
        set the ``profile`` label), then, for ``verified`` or ``rejected``, review it as an
        admin would."""
        user = await self._user(uid)
        saved = await self.kyc.save_profile(user, fields, state != "drafted", client)
        if state in REVIEWED:
            review = ProfileReview(self.users.identity, self.kyc)
            reason = "rejected through the management API" if state == "rejected" else None
            saved = await review.review(uid, state, reason, dict(MANAGEMENT_REVIEWER), client)
        return saved

    async def upload_document(self, uid: str, new: NewDocument, client: Client) -> dict[str, Any]:
        """File ``new`` for the user, as if they had uploaded it."""
        user = await self._user(uid)
        return await self.documents.upload(
            user,
            new.doc_type,
            new.doc_number,
            new.doc_expire,
            new.content,
            client,
            update_labels=new.update_labels,
        )
