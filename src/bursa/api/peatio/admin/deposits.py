"""Peatio's admin deposits (``/api/v2/peatio/admin/deposits``): every member's fiat and
coin deposits, with what went wrong (``error``: e.g. a reorganisation that took back the
block of a credited deposit), and the actions staff take on them (accept a checked fiat
deposit, reject one: ``bursa.custody.admin_deposits``).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, BeforeValidator, Field

from bursa.api.bodies import PositiveAmount, body_of, codes
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import Sessions, engine
from bursa.api.peatio.admin.fields import MOST_ID, AdminBody, required_text, text
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
from bursa.custody import admin_deposits, admin_fiat_deposits
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
    confirmations: int
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


@router.get("", summary="Deposits", responses=_ERRORS)
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
    order_by: Annotated[
        Literal["id", "created_at", "updated_at", "completed_at", "amount"],
        sort_by("id", "created_at", "updated_at", "completed_at", "amount"),
    ] = "id",
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
            listing=params.listing(order_by, completes=True),
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


# ------------------------------------- recording and refunding (issue 15)


class NewFiatDeposit(AdminBody):
    """``deposits/new``: a fiat payment ``uid`` made (``amount``, before the currency's
    deposit fee); a ``tid`` sent again with the same payment answers its deposit."""

    uid: Annotated[str, BeforeValidator(required_text(32))] = Field(
        json_schema_extra=codes(f"{AREA}.member_doesnt_exist", missing=f"{AREA}.missing_uid")
    )
    currency: Annotated[str, BeforeValidator(text(10, lower=True))] = Field(
        min_length=1,
        json_schema_extra=codes(
            admin_fiat_deposits.CURRENCY_NOT_FIAT, missing=f"{AREA}.missing_currency"
        ),
    )
    amount: PositiveAmount = Field(
        json_schema_extra=codes(
            f"{AREA}.invalid_amount",
            missing=f"{AREA}.missing_amount",
            non_decimal=f"{AREA}.non_decimal_amount",
            non_positive=f"{AREA}.non_positive_amount",
        )
    )
    tid: Annotated[str, BeforeValidator(required_text(64))] | None = Field(
        default=None, json_schema_extra=codes(f"{AREA}.invalid_tid")
    )

    def payment(self) -> admin_fiat_deposits.FiatPayment:
        return admin_fiat_deposits.FiatPayment(self.uid, self.currency, self.amount, self.tid)


class Refund(AdminBody):
    """``deposits/{id}/refund``: where to send the deposit back."""

    address: Annotated[str, BeforeValidator(required_text(128))] = Field(
        json_schema_extra=codes(f"{AREA}.invalid_address", missing=f"{AREA}.missing_address")
    )


@router.post("/new", status_code=201, summary="Record a fiat deposit", responses=_ERRORS)
async def new_deposit(
    actor: Manager,
    body: Annotated[NewFiatDeposit, body_of(NewFiatDeposit)],
    session: Transaction,
) -> AdminDeposit:
    """A ``submitted`` fiat deposit: ``deposits/actions`` ``accept`` credits it."""
    return AdminDeposit(**await admin_fiat_deposits.record(session, actor, body.payment()))


@router.post("/{id}/refund", status_code=201, summary="Refund a deposit", responses=_ERRORS)
async def refund_deposit(
    _: Manager,
    body: Annotated[Refund, body_of(Refund)],
    session: Session,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
    ],
) -> AdminDeposit:
    """Not built: a coin deposit Bursa never credited (skipped, rejected) is refused with
    ``admin.deposit.refund_not_supported`` (sending it back needs an on-chain payment
    from the member's deposit address); any other with ``admin.deposit.cannot_refund``."""
    return AdminDeposit(**await admin_fiat_deposits.refund(session, id, body.address))
