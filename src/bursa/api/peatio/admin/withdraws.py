"""Peatio's admin withdrawals (``/api/v2/peatio/admin/withdraws``): the list, one
withdrawal, and the actions staff take on them.

Actions (``POST /withdraws/actions``, ``id`` and ``action``):
* ``process``: approve an ``accepted`` withdrawal (coin: ``processing``, custody sends it;
  fiat: settled, ``succeed``);
* ``reject``: refuse an ``accepted`` one (``rejected``, the held funds back to the member);
* ``retry``: a ``skipped`` or ``errored`` one is handed to the sender again (``processing``);
* ``fail``: a withdrawal whose transaction the admin declares lost, or one that cannot be
  sent (``confirming``, ``skipped``, ``errored`` → ``failed``, funds released). For a
  ``confirming`` one the node is asked first: a transaction that is mined or waiting in
  the node's pool is refused (``transaction_on_chain``), and so is any while the node
  cannot answer (``chain_unreachable``). Past that the admin answers for it: a lost
  transaction broadcast again by someone else and mined would pay out released money.

Every request of an action leaves an audit entry; asking again for an action already done
answers the withdrawal as it stands.
"""

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner, Session
from bursa.api.errors import NOT_FOUND, ApiError, error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.lists import (
    AdminList,
    CurrencyId,
    Uid,
    action_request,
    currency_of,
    member_filter,
    sort_by,
)
from bursa.api.peatio.market.orders import submit
from bursa.api.peatio.params import paginate, read_body
from bursa.api.schemas import Errors
from bursa.custody.chain import FAILED, ChainError
from bursa.custody.sender import email_of, sent_status
from bursa.engine.commands import Command
from bursa.errors import Refusal
from bursa.events.records import decimal_text, iso
from bursa.plain_input import PlainInt
from bursa.trading import audit
from bursa.trading import withdrawals as flow
from bursa.trading.audit import Actor

router = APIRouter(prefix=f"{PREFIX}/withdraws", tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
log = logging.getLogger(__name__)

AREA = "admin.withdraw"
MOST_ID = 2**63 - 1
ACTIONS = ("process", "reject", "retry", "fail")
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
    created_at: str
    updated_at: str
    done_at: str | None


def shown(row: Any) -> AdminWithdraw:
    return AdminWithdraw(
        id=row["id"],
        tid=row["tid"],
        uid=row["uid"],
        currency=row["currency_id"],
        type=row["type"],
        amount=decimal_text(row["amount"]),
        fee=decimal_text(row["fee"]),
        sum=decimal_text(row["sum"]),
        rid=row["rid"],
        blockchain_key=row["blockchain_key"],
        blockchain_txid=row["txid"],
        block_number=row["block_number"],
        state=row["state"],
        note=row["note"],
        transfer_type=row["transfer_type"],
        error=row["error"],
        attempts=row["attempts"],
        created_at=iso(row["created_at"]) or "",
        updated_at=iso(row["updated_at"]) or "",
        done_at=iso(row["completed_at"]),
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
            listing=params.listing(order_by),
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
    return [shown(row) for row in found.rows]


@router.get("/{id}", summary="One withdrawal", responses=_ERRORS)
async def get_withdraw(
    _: Reader,
    session: Session,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
    ],
) -> AdminWithdraw:
    row = await flow.by_id(session, id)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return shown(row)


async def _refuse_if_on_chain(session: AsyncSession, request: Request, row: Any) -> None:
    try:
        status = await sent_status(session, request.app.state.custody, row)
    except (ChainError, LookupError, OSError) as exc:
        log.warning("withdraw %s: cannot fail it, the node did not answer: %s", row["id"], exc)
        raise ApiError(422, f"{AREA}.chain_unreachable") from exc
    if status not in (FAILED, "unknown"):
        raise ApiError(422, f"{AREA}.transaction_on_chain")


@router.post("/actions", status_code=201, summary="Act on a withdrawal", responses=_ERRORS)
async def act(actor: Manager, request: Request, runner: Runner, session: Session) -> AdminWithdraw:
    """Form or JSON: ``id`` and ``action`` (process, reject, retry, fail)."""
    withdraw_id, action = action_request(await read_body(request), AREA, ACTIONS)
    row = await flow.by_id(session, withdraw_id)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    before = shown(row).model_dump()
    if action == "fail" and row["state"] == flow.CONFIRMING:
        await _refuse_if_on_chain(session, request, row)
    await session.rollback()  # the flow locks the row in transactions of its own

    async def engine(command: Command) -> dict[str, Any]:
        return await submit(runner, command)

    withdrawals = flow.Withdrawals(request.app.state.session_factory, engine, email_of)
    tid = row["tid"]
    try:
        if action == "process":
            changed = await withdrawals.act(tid, "process")
        elif action == "reject":
            changed = await withdrawals.release(tid, flow.REJECTED, allowed=(flow.ACCEPTED,))
        elif action == "retry":
            changed = await withdrawals.move(
                tid,
                flow.PROCESSING,
                allowed=(flow.SKIPPED, flow.ERRORED),
                values={"attempts": 0, "next_attempt_at": None},
            )
        else:
            changed = await withdrawals.release(
                tid, flow.FAILED, allowed=(flow.CONFIRMING, flow.SKIPPED, flow.ERRORED)
            )
    except flow.WithdrawalRefused as exc:
        if exc.kind is Refusal.NOT_FOUND:
            raise ApiError(404, NOT_FOUND) from exc
        raise ApiError(422, f"{AREA}.cannot_perform_{action}_action") from exc
    after = shown(changed)
    await audit.record(
        session,
        actor,
        f"withdraw.{action}",
        "Withdraw",
        withdraw_id,
        before=before,
        after=after.model_dump(),
    )
    await session.commit()
    return after
