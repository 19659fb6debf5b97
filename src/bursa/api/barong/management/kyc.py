"""Barong's Management API, KYC part: private labels (which move state and level as the
admin API's do), phones the calling service has verified, and documents uploaded as base64.
Services: ``bursa.identity.management.ManagedUsers``, ``bursa.identity.management_kyc``."""

import base64
import binascii
from datetime import date
from typing import Annotated

from fastapi import Request, Response
from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from bursa.api.barong.management.users import (
    AdminLabel,
    ListWindow,
    Managed,
    ManagedKycDep,
    ManagedUser,
    Params,
    Uid,
    UserWithProfile,
    page_headers,
    present_page,
    router,
    signed,
)
from bursa.api.barong.schemas import Document, Phone
from bursa.api.deps import client_of
from bursa.identity.documents import MAX_UPLOAD
from bursa.identity.management_kyc import NewDocument

LabelText = Annotated[str, Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")]


class UserUid(Params):
    user_uid: Uid


class LabelKey(UserUid):
    key: LabelText


class NewLabel(LabelKey):
    value: LabelText
    description: str | None = Field(default=None, max_length=255)


class LabelChange(NewLabel):
    replace: bool = True


class LabelFilter(ListWindow):
    key: LabelText
    value: LabelText | None = None
    scope: str = Field(default="private", pattern=r"^(public|private)$")
    extended: bool = False


@router.post("/labels/list", status_code=201, summary="A user's labels")
async def list_labels(
    body: Annotated[UserUid, signed("read_users", UserUid)], managed: Managed
) -> list[AdminLabel]:
    return [AdminLabel(**label) for label in await managed.labels_of(body.user_uid)]


@router.post("/labels/filter/users", status_code=201, summary="Users carrying a label")
async def users_with_label(
    body: Annotated[LabelFilter, signed("read_labels", LabelFilter)],
    managed: Managed,
    response: Response,
) -> list[UserWithProfile] | list[ManagedUser]:
    window = body.window()
    label = (body.key, body.value, body.scope)
    total, found = await managed.listed(window, label, full=body.extended)
    page_headers(response, total, window)
    return present_page(found, body.extended)


@router.post("/labels", status_code=201, summary="Create a private label (moves state, level)")
async def create_label(
    body: Annotated[NewLabel, signed("write_labels", NewLabel)], managed: Managed
) -> AdminLabel:
    label = await managed.set_label(body.user_uid, body.key, body.value, create=True, update=False)
    return AdminLabel(**label)


@router.put("/labels", summary="Change a private label (``replace``: create it if missing)")
async def update_label(
    body: Annotated[LabelChange, signed("write_labels", LabelChange)], managed: Managed
) -> AdminLabel:
    label = await managed.set_label(
        body.user_uid, body.key, body.value, create=body.replace, update=True
    )
    return AdminLabel(**label)


@router.post("/labels/delete", status_code=204, summary="Remove a private label")
async def delete_label(
    body: Annotated[LabelKey, signed("write_labels", LabelKey)], managed: Managed
) -> Response:
    await managed.delete_label(body.user_uid, body.key)
    return Response(status_code=204)


# ---------------------------------------------------------------- phones


class PhoneOwner(Params):
    uid: Uid


class PhoneNumber(PhoneOwner):
    number: str = Field(min_length=1, max_length=32)


@router.post("/phones/get", status_code=201, summary="A user's phones (masked)")
async def list_phones(
    body: Annotated[PhoneOwner, signed("read_phones", PhoneOwner)], kyc: ManagedKycDep
) -> list[Phone]:
    return [Phone(**p) for p in await kyc.phones_of(body.uid)]


@router.post("/phones", status_code=201, summary="Add a phone verified by the caller")
async def add_phone(
    body: Annotated[PhoneNumber, signed("write_phones", PhoneNumber)], managed: Managed
) -> Phone:
    return Phone(**await managed.add_phone(body.uid, body.number))


@router.post("/phones/delete", status_code=201, summary="Remove a user's phone")
async def delete_phone(
    body: Annotated[PhoneNumber, signed("write_phones", PhoneNumber)], managed: Managed
) -> Phone:
    return Phone(**await managed.remove_phone(body.uid, body.number))


# ---------------------------------------------------------------- documents


MOST_UPLOAD_TEXT = (MAX_UPLOAD * 4) // 3 + 8


def _decoded(text: object) -> bytes:
    """The file, from its Base64 text (pydantic's words for text that is not text or not
    1 to ``MOST_UPLOAD_TEXT`` characters long)."""
    if not isinstance(text, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    if not text:
        raise PydanticCustomError("string_too_short", "String should have at least 1 character")
    if len(text) > MOST_UPLOAD_TEXT:
        raise PydanticCustomError(
            "string_too_long", f"String should have at most {MOST_UPLOAD_TEXT} characters"
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError("base64", "not valid base64") from None


Upload = Annotated[
    bytes,
    BeforeValidator(_decoded),
    WithJsonSchema({"type": "string", "contentEncoding": "base64", "maxLength": MOST_UPLOAD_TEXT}),
]


class DocumentUpload(Params):
    uid: Uid
    doc_type: str = Field(min_length=1, max_length=32)
    doc_number: str = Field(min_length=1, max_length=128)
    filename: str = Field(min_length=1, max_length=255)  # Barong's; the file is typed by content
    file_ext: str = Field(min_length=1, max_length=16)
    upload: Upload
    doc_expire: date | None = None
    update_labels: bool = True

    def document(self) -> NewDocument:
        return NewDocument(
            doc_type=self.doc_type,
            doc_number=self.doc_number,
            doc_expire=self.doc_expire,
            content=self.upload,
            update_labels=self.update_labels,
        )


@router.post("/documents", status_code=201, summary="Upload a user's document (base64)")
async def upload_document(
    body: Annotated[DocumentUpload, signed("write_documents", DocumentUpload)],
    kyc: ManagedKycDep,
    request: Request,
) -> Document:
    return Document(**await kyc.upload_document(body.uid, body.document(), client_of(request)))
