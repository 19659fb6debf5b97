"""``POST /api/v2/barong/resource/addresses``: an address proof (multipart, like
``documents``), reviewed by admins with the documents."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel

from bursa.api.barong.deps import AddressesDep, SessionDep
from bursa.api.barong.schemas import ERRORS
from bursa.api.deps import client_of
from bursa.api.schemas import Moment
from bursa.identity.documents import MAX_UPLOAD

router = APIRouter(prefix="/api/v2/barong/resource/addresses", tags=["barong resource"])
LONG_ENOUGH = 1024  # the service checks the real limits and names the field


class AddressProof(BaseModel):
    id: int
    doc_type: str  # "address"
    doc_expire: date | None
    country: str
    address: str
    city: str
    postcode: str
    content_type: str
    size: int
    state: str
    reason: str | None
    created_at: Moment
    updated_at: Moment


@router.post("", status_code=201, responses=ERRORS, summary="Upload an address proof")
async def upload_address(
    request: Request,
    session: SessionDep,
    proofs: AddressesDep,
    country: Annotated[str, Form(max_length=LONG_ENOUGH)],
    address: Annotated[str, Form(max_length=LONG_ENOUGH)],
    city: Annotated[str, Form(max_length=LONG_ENOUGH)],
    postcode: Annotated[str, Form(max_length=LONG_ENOUGH)],
    upload: Annotated[UploadFile, File()],
) -> AddressProof:
    content = await upload.read(MAX_UPLOAD + 1)
    saved = await proofs.upload(
        session.user, country, address, city, postcode, content, client_of(request)
    )
    return AddressProof(**saved)
