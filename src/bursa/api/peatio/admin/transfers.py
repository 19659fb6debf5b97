"""Peatio's admin list of members' internal transfers
(``GET /api/v2/peatio/admin/internal_transfers``), in every state, with the filters
Peatio took: ``sender`` and ``receiver`` (uids) and ``currency``."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from bursa.api.deps import Session
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.lists import (
    AdminList,
    CurrencyId,
    Uid,
    currency_of,
    member_filter,
    sort_by,
)
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Errors
from bursa.formats import decimal_text, iso
from bursa.identity import directory
from bursa.trading import internal_transfers as transfers
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Errors} for code in (401, 403, 422)}
Reader = Annotated[Actor, Depends(admin_gate("read", "InternalTransfer"))]


class AdminInternalTransfer(BaseModel):
    id: int
    currency: str
    amount: str
    sender_uid: str | None
    receiver_uid: str | None
    state: str
    error: str | None
    created_at: str
    updated_at: str


@router.get("/internal_transfers", summary="Members' internal transfers", responses=_ERRORS)
async def list_internal_transfers(
    _: Reader,
    session: Session,
    response: Response,
    params: Annotated[AdminList, Depends()],
    sender: Uid = None,
    receiver: Uid = None,
    currency: CurrencyId = None,
    state: Annotated[
        Literal["pending", "completed", "failed"] | None,
        Query(json_schema_extra=error_code("admin.internal_transfer.invalid_state")),
    ] = None,
    order_by: Annotated[
        Literal["id", "created_at", "updated_at", "amount"],
        sort_by("id", "created_at", "updated_at", "amount"),
    ] = "id",
) -> list[AdminInternalTransfer]:
    sender_id, _nobody = await member_filter(session, sender)
    receiver_id, _none = await member_filter(session, receiver)
    found = await transfers.admin_listed(
        session,
        transfers.AdminFilter(
            listing=params.listing(order_by),
            sender_id=sender_id,
            receiver_id=receiver_id,
            currency=await currency_of(session, currency),
            state=state,
        ),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    people = await directory.people(session, transfers.involved(found.rows))
    return [
        AdminInternalTransfer(
            id=row["id"],
            currency=row["currency_id"],
            amount=decimal_text(row["amount"]),
            sender_uid=people[row["sender_id"]].uid if row["sender_id"] in people else None,
            receiver_uid=people[row["receiver_id"]].uid if row["receiver_id"] in people else None,
            state=row["state"],
            error=row["error"],
            created_at=iso(row["created_at"]) or "",
            updated_at=iso(row["updated_at"]) or "",
        )
        for row in found.rows
    ]
