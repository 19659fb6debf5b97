"""Peatio's admin deposits (``/api/v2/peatio/admin/deposits``): every member's fiat and
coin deposits, with what went wrong (``error``: e.g. a reorganisation that took back the
block of a credited deposit), and the actions staff take on them (accept a checked fiat
deposit, reject one: ``bursa.custody.admin_deposits``).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from bursa.api.bodies import body_of, codes
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import Sessions, engine
from bursa.api.peatio.admin.fields import MOST_ID, AdminBody
from bursa.api.peatio.admin.lists import AdminList, CurrencyId, Uid, currency_of, member_filter
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Errors
from bursa.custody import admin_deposits
from bursa.plain_input import PlainInt
from bursa.trading import deposits
from bursa.trading.audit import Actor

router = APIRouter(prefix=f"{PREFIX}/deposits", tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
AREA = admin_deposits.AREA

Reader = Annotated[Actor, Depends(admin_gate("read", "Deposit"))]
Manager = Annotated[Actor, Depends(admin_gate("manage", "Deposit"))]


class AdminDeposit(BaseModel):
    """Peatio's admin ``Deposit``, with Bursa's ``error`` and block details."""

    id: int
    tid: str
    uid: str
    currency: str
    type: str
    amount: str
    fee: str
    state: str
    transfer_type: str
    txid: str | None
    txout: int | None
    address: str | None
    blockchain_key: str | None
    block_number: int | None
    confirmations: int | str
    error: dict[str, Any] | None
    created_at: str
    updated_at: str
    completed_at: str | None


class DepositAction(AdminBody):
    """``deposits/actions``: ``accept`` (a fiat deposit) or ``reject``."""

    id: Annotated[PlainInt, Field(ge=1, le=MOST_ID)] = Field(
        json_schema_extra=codes(f"{AREA}.non_integer_id", missing=f"{AREA}.missing_id")
    )
    action: admin_deposits.Action = Field(
        json_schema_extra=codes(f"{AREA}.invalid_action", missing=f"{AREA}.missing_action")
    )


@router.get("", summary="Deposits, newest first", responses=_ERRORS)
async def list_deposits(
    _: Reader,
    session: Session,
    response: Response,
    params: Annotated[AdminList, Depends()],
    currency: CurrencyId = None,
    uid: Uid = None,
    id: Annotated[
        PlainInt | None,
        Query(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id")),
    ] = None,
    state: Annotated[
        Literal[deposits.STATES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code(f"{AREA}.invalid_state")),
    ] = None,
    type: Annotated[
        Literal["fiat", "coin"] | None,
        Query(json_schema_extra=error_code(f"{AREA}.invalid_type")),
    ] = None,
    txid: Annotated[str | None, Query(max_length=128)] = None,
    tid: Annotated[str | None, Query(max_length=64)] = None,
    address: Annotated[str | None, Query(max_length=128)] = None,
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
    flagged: Annotated[
        bool | None, Query(description="only deposits with an error (true) or without")
    ] = None,
) -> list[AdminDeposit]:
    member_id, nobody = await member_filter(session, uid)
    if nobody:
        paginate(response, 0, params.page, params.limit)
        return []
    found = await deposits.listed(
        session,
        deposits.DepositFilter(
            member_id=member_id,
            currency=await currency_of(session, currency),
            state=state,
            blockchain_key=blockchain_key,
            txid=txid,
            tid=tid,
            type=type,
            address=address,
            flagged=flagged,
            id=id,
        ),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    return [AdminDeposit(**shown) for shown in await admin_deposits.views(session, found.rows)]


@router.get("/{id}", summary="One deposit", responses=_ERRORS)
async def get_deposit(
    _: Reader,
    session: Session,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
    ],
) -> AdminDeposit:
    return AdminDeposit(**await admin_deposits.find(session, id))


@router.post("/actions", status_code=201, summary="Act on a deposit", responses=_ERRORS)
async def act(
    actor: Manager,
    body: Annotated[DepositAction, body_of(DepositAction)],
    runner: Runner,
    sessions: Sessions,
    session: Transaction,
) -> AdminDeposit:
    """Asking again for an action already done answers the deposit as it stands."""
    done = await admin_deposits.act(session, sessions, engine(runner), actor, body.id, body.action)
    return AdminDeposit(**done)
