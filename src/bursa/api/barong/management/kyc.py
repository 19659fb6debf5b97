"""Barong's Management API, KYC part: private labels (which move state and level as the
admin API's do), phones the calling service has verified, and documents uploaded as base64.
"""

import base64
import binascii
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import Field

from bursa.api.barong.management.users import (
    AdminLabel,
    Data,
    ListWindow,
    ManagedUser,
    Params,
    ReadUsers,
    Uid,
    UserWithProfile,
    identity_of,
    managed,
    page_headers,
    parse,
    router,
    users_page,
)
from bursa.api.barong.routes import Document, Phone, client_of, get_documents
from bursa.api.management_auth import ManagementRefused, scope
from bursa.identity.documents import MAX_UPLOAD

ReadLabels = Annotated[Data, Depends(scope("barong", "read_labels"))]
WriteLabels = Annotated[Data, Depends(scope("barong", "write_labels"))]
ReadPhones = Annotated[Data, Depends(scope("barong", "read_phones"))]
WritePhones = Annotated[Data, Depends(scope("barong", "write_phones"))]
WriteDocuments = Annotated[Data, Depends(scope("barong", "write_documents"))]
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
async def list_labels(data: ReadUsers, request: Request) -> list[AdminLabel]:
    params = parse(UserUid, data)
    return [AdminLabel(**label) for label in await managed(request).labels_of(params.user_uid)]


@router.post("/labels/filter/users", status_code=201, summary="Users carrying a label")
async def users_with_label(
    data: ReadLabels, request: Request, response: Response
) -> list[UserWithProfile] | list[ManagedUser]:
    params = parse(LabelFilter, data)
    window = params.window()
    total, ids = await managed(request).page(window, (params.key, params.value, params.scope))
    page_headers(response, total, window)
    return await users_page(identity_of(request), ids, params.extended)


@router.post("/labels", status_code=201, summary="Create a private label (moves state, level)")
async def create_label(data: WriteLabels, request: Request) -> AdminLabel:
    params = parse(NewLabel, data)
    label = await managed(request).set_label(
        params.user_uid, params.key, params.value, create=True, update=False
    )
    return AdminLabel(**label)


@router.put("/labels", summary="Change a private label (``replace``: create it if missing)")
async def update_label(data: WriteLabels, request: Request) -> AdminLabel:
    params = parse(LabelChange, data)
    label = await managed(request).set_label(
        params.user_uid, params.key, params.value, create=params.replace, update=True
    )
    return AdminLabel(**label)


@router.post("/labels/delete", status_code=204, summary="Remove a private label")
async def delete_label(data: WriteLabels, request: Request) -> Response:
    params = parse(LabelKey, data)
    await managed(request).delete_label(params.user_uid, params.key)
    return Response(status_code=204)


# ---------------------------------------------------------------- phones


class PhoneOwner(Params):
    uid: Uid


class PhoneNumber(PhoneOwner):
    number: str = Field(min_length=1, max_length=32)


@router.post("/phones/get", status_code=201, summary="A user's phones (masked)")
async def list_phones(data: ReadPhones, request: Request) -> list[Phone]:
    params = parse(PhoneOwner, data)
    identity = identity_of(request)
    async with identity.engine.connect() as conn:
        user_id = await managed(request).user_id(conn, uid=params.uid)
    return [Phone(**p) for p in await request.app.state.kyc.list_phones(user_id)]


@router.post("/phones", status_code=201, summary="Add a phone verified by the caller")
async def add_phone(data: WritePhones, request: Request) -> Phone:
    params = parse(PhoneNumber, data)
    return Phone(**await managed(request).add_phone(params.uid, params.number))


@router.post("/phones/delete", status_code=201, summary="Remove a user's phone")
async def delete_phone(data: WritePhones, request: Request) -> Phone:
    params = parse(PhoneNumber, data)
    return Phone(**await managed(request).remove_phone(params.uid, params.number))


# ---------------------------------------------------------------- documents


class NewDocument(Params):
    uid: Uid
    doc_type: str = Field(min_length=1, max_length=32)
    doc_number: str = Field(min_length=1, max_length=128)
    filename: str = Field(min_length=1, max_length=255)  # Barong's; the file is typed by content
    file_ext: str = Field(min_length=1, max_length=16)
    upload: str = Field(min_length=1, max_length=(MAX_UPLOAD * 4) // 3 + 8)
    doc_expire: date | None = None
    update_labels: bool = True


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ManagementRefused(422, "upload: not valid base64") from None


@router.post("/documents", status_code=201, summary="Upload a user's document (base64)")
async def upload_document(data: WriteDocuments, request: Request) -> Document:
    params = parse(NewDocument, data)
    content = _decoded(params.upload)
    identity = identity_of(request)
    async with identity.engine.connect() as conn:
        user_id = await managed(request).user_id(conn, uid=params.uid)
        user: dict[str, Any] = await identity.load_user(conn, user_id)
    saved = await get_documents(request).upload(
        user,
        params.doc_type,
        params.doc_number,
        params.doc_expire,
        content,
        client_of(request),
        update_labels=params.update_labels,
    )
    return Document(**saved)
