"""Peatio's admin airdrops (``POST /api/v2/peatio/admin/airdrops``): a CSV upload
(``uid``, ``currency_id``, ``amount``) crediting members from the platform's revenues in
one engine transfer, every row checked first, the same rows credited once
(``bursa.custody.admin_airdrops``). Moving the ledger's money: Peatio's abilities on
``Operations`` decide who may (superadmins and admins)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel

from bursa.api.deps import Runner, Transaction
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import Sessions, engine
from bursa.api.schemas import Errors
from bursa.custody import admin_airdrops, csv_uploads
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 409, 422, 503)
}
Manager = Annotated[Actor, Depends(admin_gate("manage", "Operations"))]


class AirdropResult(BaseModel):
    """Peatio's ``result``, and what Bursa did: the transfer's ``key`` (its postings'
    ``rid`` in ``admin/revenues`` and ``admin/liabilities``), its ``state``, the ``rows``
    credited, and ``created`` (false: these rows were airdropped before, nothing moved)."""

    result: str
    key: str
    state: str
    rows: int
    created: bool


@router.post("/airdrops", status_code=201, summary="Airdrop from a CSV file", responses=_ERRORS)
async def airdrop(
    actor: Manager,
    runner: Runner,
    sessions: Sessions,
    session: Transaction,
    file: Annotated[UploadFile, File()],
) -> AirdropResult:
    """A bad row refuses the whole file (its code and ``admin.airdrop.line_N``): nothing
    moves. At most 100 rows."""
    content = await file.read(csv_uploads.MOST_BYTES + 1)
    done = await admin_airdrops.airdrop(session, sessions, engine(runner), actor, content)
    result = "Airdrop processed" if done.created else "Airdrop already processed"
    return AirdropResult(
        result=result, key=done.key, state=done.state, rows=done.rows, created=done.created
    )
