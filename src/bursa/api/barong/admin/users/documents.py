"""``/api/v2/barong/admin/users/documents``: identity documents and address proofs waiting
for review (``pending``), and the review (``verified`` or ``rejected`` with a reason). An
admin reviews only documents of users ranked below them, never their own."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bursa.api.barong.deps import AddressesDep, Admin, DocumentsDep
from bursa.api.barong.schemas import Document
from bursa.api.bodies import body_of
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/users/documents", tags=["barong admin"])


class Review(BaseModel):
    id: PlainInt
    state: str = Field(pattern=r"^(verified|rejected)$")
    reason: str | None = Field(default=None, max_length=1024)


class PendingDocument(Document):
    """A document or an address proof (``doc_type`` ``address``, with its address)."""

    user_id: int
    country: str | None = None
    address: str | None = None
    city: str | None = None
    postcode: str | None = None


@router.get("/pending", summary="Documents and address proofs to review")
async def pending_documents(_: Admin, addresses: AddressesDep) -> list[PendingDocument]:
    return [PendingDocument(**d) for d in await addresses.pending_reviews()]


@router.post("/review", status_code=201, summary="Verify or reject a document or address proof")
async def review_document(
    admin: Admin, docs: DocumentsDep, body: Annotated[Review, body_of(Review)]
) -> Document:
    return Document(**await docs.review(body.id, body.state, body.reason, admin))
