"""``/api/v2/barong/resource/documents``: the member's identity documents — list them, upload
one (multipart: the file and its type, number and expiry). Files are checked by content and
stored sealed; an admin verifies or rejects each (``bursa.identity.documents``)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile

from bursa.api.barong.deps import DocumentsDep, ReaderDep, SessionDep
from bursa.api.barong.schemas import ERRORS, Document
from bursa.api.deps import client_of
from bursa.identity.documents import MAX_UPLOAD

router = APIRouter(prefix="/api/v2/barong/resource/documents", tags=["barong resource"])


@router.get("", responses=ERRORS, summary="The member's documents")
async def list_documents(user: ReaderDep, docs: DocumentsDep) -> list[Document]:
    return [Document(**d) for d in await docs.of_user(user["id"])]


@router.post("", status_code=201, responses=ERRORS, summary="Upload an identity document")
async def upload_document(
    request: Request,
    session: SessionDep,
    docs: DocumentsDep,
    doc_type: Annotated[str, Form(max_length=32)],
    doc_number: Annotated[str, Form(min_length=1, max_length=128)],
    upload: Annotated[UploadFile, File()],
    doc_expire: Annotated[date | None, Form()] = None,
) -> Document:
    content = await upload.read(MAX_UPLOAD + 1)
    saved = await docs.upload(
        session.user, doc_type, doc_number, doc_expire, content, client_of(request)
    )
    return Document(**saved)
