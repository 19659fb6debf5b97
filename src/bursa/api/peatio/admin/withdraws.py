"""Peatio's admin withdrawals (``/api/v2/peatio/admin/withdraws``): the list, one
withdrawal, and the actions staff take on them (process, reject, retry, fail:
``bursa.custody.admin_withdrawals`` says what each does and when it is refused).
"""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, field_validator

from bursa.api.bodies import body_of, codes
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import Custody, Sessions, engine
from bursa.api.peatio.admin.fields import MOST_ID, AdminBody
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
from bursa.custody import admin_withdraw_metadata, admin_withdrawals
from bursa.plain_input import PlainInt
from bursa.trading import withdrawals as flow
from bursa.trading.audit import Actor

router = APIRouter(prefix=f"{PREFIX}/withdraws", tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
AREA = admin_withdrawals.AREA
STATE = Literal[
    "prepared",
    "rejected",
    "accepted",
    "skipped",
    "processing",
    "succeed",
    "canceled",
    "failed",
    "errored",
    "confirming",
]

Reader = Annotated[Actor, Depends(admin_gate("read", "Withdraw"))]
Manager = Annotated[Actor, Depends(admin_gate("manage", "Withdraw"))]


class AdminWithdraw(BaseModel):
    """Peatio's admin ``Withdraw`` (``amount`` leaves, ``sum`` = amount + fee was held)."""

    id: int
    tid: str
    uid: str
    currency: str
    type: str
    amount: str
    fee: str
    sum: str
    rid: str
    blockchain_key: str | None
    blockchain_txid: str | None
    block_number: int | None
    state: str
    note: str | None
    transfer_type: str | None
    error: dict[str, Any] | None
    attempts: int
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    done_at: str | None


class WithdrawAction(AdminBody):
    """``withdraws/actions``: ``process``, ``reject``, ``retry`` or ``fail``."""

    id: Annotated[PlainInt, Field(ge=1, le=MOST_ID)] = Field(
        json_schema_extra=codes(f"{AREA}.non_integer_id", missing=f"{AREA}.missing_id")
    )
    action: admin_withdrawals.Action = Field(
        json_schema_extra=codes(f"{AREA}.invalid_action", missing=f"{AREA}.missing_action")
    )


@router.get("", summary="Withdrawals", responses=_ERRORS)
async def list_withdraws(
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
        STATE | None, Query(json_schema_extra=error_code(f"{AREA}.invalid_state"))
    ] = None,
    type: Annotated[
        Literal["fiat", "coin"] | None,
        Query(json_schema_extra=error_code(f"{AREA}.invalid_type")),
    ] = None,
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
    order_by: Annotated[
        Literal["id", "created_at", "updated_at", "amount"],
        sort_by("id", "created_at", "updated_at", "amount"),
    ] = "id",
) -> list[AdminWithdraw]:
    member_id, _nobody = await member_filter(session, uid)
    found = await flow.admin_listed(
        session,
        flow.AdminFilter(
            listing=params.listing(order_by, completes=True),
            id=id,
            member_id=member_id,
            currency=await currency_of(session, currency),
            state=state,
            type=type,
            blockchain_key=blockchain_key,
        ),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    return [AdminWithdraw(**admin_withdrawals.view(row)) for row in found.rows]


@router.get("/{id}", summary="One withdrawal", responses=_ERRORS)
async def get_withdraw(
    _: Reader,
    session: Session,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
    ],
) -> AdminWithdraw:
    return AdminWithdraw(**await admin_withdrawals.find(session, id))


@router.post("/actions", status_code=201, summary="Act on a withdrawal", responses=_ERRORS)
async def act(
    actor: Manager,
    body: Annotated[WithdrawAction, body_of(WithdrawAction)],
    runner: Runner,
    plugins: Custody,
    sessions: Sessions,
    session: Transaction,
) -> AdminWithdraw:
    """Asking again for an action already done answers the withdrawal as it stands."""
    done = await admin_withdrawals.act(
        session, sessions, engine(runner), plugins, actor, body.id, body.action
    )
    return AdminWithdraw(**done)


# ------------------------------------- metadata (issue 15)

MOST_METADATA = 4096  # characters of the metadata as JSON


class WithdrawMetadata(AdminBody):
    """``PUT withdraws``: the withdrawal's ``id`` and its new ``metadata`` (a JSON object,
    or its text in a form), which replaces the old."""

    id: Annotated[PlainInt, Field(ge=1, le=MOST_ID)] = Field(
        json_schema_extra=codes(f"{AREA}.non_integer_id", missing=f"{AREA}.missing_id")
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, json_schema_extra=codes(f"{AREA}.invalid_metadata")
    )

    @field_validator("metadata", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value, parse_float=str)
            except ValueError:
                raise ValueError("not JSON") from None
        text = json.dumps(value, default=str)
        if not isinstance(value, dict) or len(text) > MOST_METADATA or "\\u0000" in text:
            raise ValueError("a JSON object of at most 4096 characters")
        return json.loads(text)


@router.put("", summary="Change a withdrawal's metadata", responses=_ERRORS)
async def update_withdraw(
    actor: Manager,
    body: Annotated[WithdrawMetadata, body_of(WithdrawMetadata)],
    session: Transaction,
) -> AdminWithdraw:
    """Only the note changes: no money, state or destination."""
    return AdminWithdraw(
        **await admin_withdraw_metadata.note(session, actor, body.id, body.metadata)
    )
