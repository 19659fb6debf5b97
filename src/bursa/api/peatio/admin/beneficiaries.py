"""Peatio's admin beneficiaries (``/api/v2/peatio/admin/beneficiaries``): every member's
withdrawal destinations, and the actions staff take on them (``activate``, ``archive``:
``bursa.custody.staff_beneficiaries`` says when each is refused)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.bodies import body_of, codes
from bursa.api.deps import Session, Transaction
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import ERRORS
from bursa.api.peatio.admin.fields import MOST_ID, AdminBody
from bursa.api.peatio.admin.lists import (
    CurrencyId,
    Paging,
    Uid,
    currency_of,
    member_filter,
    sort_by,
)
from bursa.api.peatio.params import paginate
from bursa.custody import staff_beneficiaries as staff
from bursa.custody.beneficiary_tables import BENEFICIARY_STATES
from bursa.formats import iso
from bursa.identity.service import Identity
from bursa.plain_input import PlainInt
from bursa.secrets.keystore import KeyStore
from bursa.trading.audit import Actor

router = APIRouter(prefix=f"{PREFIX}/beneficiaries", tags=["peatio admin"])
AREA = staff.AREA
State = Literal[BENEFICIARY_STATES]  # type: ignore[valid-type]

Reader = Annotated[Actor, Depends(admin_gate("read", "Beneficiary"))]
Manager = Annotated[Actor, Depends(admin_gate("manage", "Beneficiary"))]


class AdminBeneficiary(BaseModel):
    """Peatio's admin ``Beneficiary`` (a fiat ``account_number`` masked)."""

    id: int
    uid: str
    currency: str
    blockchain_key: str | None
    name: str
    description: str
    data: dict[str, Any]
    state: str
    sent_at: str | None
    created_at: str
    updated_at: str


def present(item: staff.StaffBeneficiary) -> AdminBeneficiary:
    return AdminBeneficiary(
        id=item.id,
        uid=item.uid,
        currency=item.currency,
        blockchain_key=item.blockchain_key,
        name=item.name,
        description=item.description,
        data=item.data,
        state=item.state,
        sent_at=iso(item.sent_at),
        created_at=iso(item.created_at) or "",
        updated_at=iso(item.updated_at) or "",
    )


def keystore_of(request: Request) -> KeyStore:
    """The key store sealing beneficiaries' ``data`` (the member API's)."""
    identity: Identity = request.app.state.identity
    return identity.keystore


class BeneficiaryAction(AdminBody):
    """``beneficiaries/actions``: ``activate`` or ``archive`` one beneficiary."""

    id: Annotated[PlainInt, Field(ge=1, le=MOST_ID)] = Field(
        json_schema_extra=codes(f"{AREA}.non_integer_id", missing=f"{AREA}.missing_id")
    )
    action: staff.Action = Field(
        json_schema_extra=codes(f"{AREA}.invalid_action", missing=f"{AREA}.missing_action")
    )


StateFilter = Annotated[
    list[State] | None,
    Query(
        description="pending, active or archived; repeat it for several",
        json_schema_extra=error_code(f"{AREA}.invalid_state"),
    ),
]


@router.get("", summary="Every member's beneficiaries", responses=ERRORS)
async def list_beneficiaries(
    _: Reader,
    session: Session,
    request: Request,
    response: Response,
    params: Paging,
    uid: Uid = None,
    id: Annotated[
        PlainInt | None,
        Query(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id")),
    ] = None,
    currency: CurrencyId = None,
    state: StateFilter = None,
    states: Annotated[
        list[State] | None,
        Query(alias="state[]", json_schema_extra=error_code(f"{AREA}.invalid_state")),
    ] = None,
    blockchain_key: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code(f"{AREA}.blockchain_key_doesnt_exist")),
    ] = None,
    order_by: Annotated[
        Literal[staff.ORDER_COLUMNS],  # type: ignore[valid-type]
        sort_by(*staff.ORDER_COLUMNS),
    ] = "id",
) -> list[AdminBeneficiary]:
    """``state`` may be sent as ``state=…`` or Grape's ``state[]=…``, once or more."""
    member_id, _nobody = await member_filter(session, uid)
    if blockchain_key is not None and not await staff.blockchain_exists(session, blockchain_key):
        raise ApiError(422, f"{AREA}.blockchain_key_doesnt_exist")
    found, total = await staff.listed(
        session,
        keystore_of(request),
        staff.StaffFilter(
            member_id=member_id,
            id=id,
            currency=await currency_of(session, currency),
            states=tuple(sorted({*(state or ()), *(states or ())})),
            blockchain_key=blockchain_key,
        ),
        params.sorting(order_by),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, total, params.page, params.limit)
    return [present(item) for item in found]


@router.post("/actions", status_code=201, summary="Act on a beneficiary", responses=ERRORS)
async def act(
    actor: Manager,
    body: Annotated[BeneficiaryAction, body_of(BeneficiaryAction)],
    request: Request,
    session: Transaction,
) -> AdminBeneficiary:
    """Asking again for what is already so answers the beneficiary as it stands."""
    return present(await staff.act(session, keystore_of(request), actor, body.id, body.action))
