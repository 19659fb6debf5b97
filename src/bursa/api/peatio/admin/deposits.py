"""Peatio's admin deposits (``/api/v2/peatio/admin/deposits``): every member's fiat and
coin deposits, with what went wrong (``error``: e.g. a reorganisation that took back the
block of a credited deposit), and the actions staff take on them.

Actions (``POST /deposits/actions``, ``id`` and ``action``):
* ``accept``: credit a ``submitted`` **fiat** deposit (a payment the admin has checked).
  Coin deposits are credited only by their scanner, at their confirmations: an admin
  cannot credit coins the chain has not confirmed.
* ``reject``: refuse a ``submitted`` deposit (``rejected``; a coin deposit so marked is
  never credited).

Every action leaves an audit entry; asking again for an action already done answers the
deposit as it stands.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import func

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
)
from bursa.api.peatio.market.orders import submit
from bursa.api.peatio.params import paginate, read_body
from bursa.api.schemas import Errors
from bursa.custody import crediting, registry
from bursa.engine.commands import Command
from bursa.events.records import decimal_text, iso
from bursa.plain_input import PlainInt
from bursa.trading import audit, deposits
from bursa.trading.audit import Actor

router = APIRouter(prefix=f"{PREFIX}/deposits", tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
AREA = "admin.deposit"
MOST_ID = 2**63 - 1
ACTIONS = ("accept", "reject")

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


def shown(row: Any, heights: dict[str, int]) -> AdminDeposit:
    confirmations: int | str = "N/A"
    if row["block_number"] is not None and row["blockchain_key"] in heights:
        confirmations = max(0, heights[row["blockchain_key"]] - row["block_number"] + 1)
    return AdminDeposit(
        id=row["id"],
        tid=row["tid"],
        uid=row["uid"],
        currency=row["currency_id"],
        type=row["type"],
        amount=decimal_text(row["amount"]),
        fee=decimal_text(row["fee"]),
        state=row["state"],
        transfer_type=row["transfer_type"],
        txid=row["txid"],
        txout=row["txout"],
        address=row["address"],
        blockchain_key=row["blockchain_key"],
        block_number=row["block_number"],
        confirmations=confirmations,
        error=row["error"],
        created_at=iso(row["created_at"]) or "",
        updated_at=iso(row["updated_at"]) or "",
        completed_at=iso(row["completed_at"]),
    )


async def _heights(session: Session, rows: list[Any]) -> dict[str, int]:
    keys = {r["blockchain_key"] for r in rows if r["blockchain_key"]}
    return await registry.scanned_heights(session, keys)


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
    heights = await _heights(session, list(found.rows))
    return [shown(row, heights) for row in found.rows]


@router.get("/{id}", summary="One deposit", responses=_ERRORS)
async def get_deposit(
    _: Reader,
    session: Session,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
    ],
) -> AdminDeposit:
    row = await deposits.by_id(session, id)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return shown(row, await _heights(session, [row]))


@router.post("/actions", status_code=201, summary="Act on a deposit", responses=_ERRORS)
async def act(actor: Manager, request: Request, runner: Runner, session: Session) -> AdminDeposit:
    """Form or JSON: ``id`` and ``action`` (accept a fiat deposit, reject)."""
    deposit_id, action = action_request(await read_body(request), AREA, ACTIONS)
    row = await deposits.by_id(session, deposit_id)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    heights = await _heights(session, [row])
    before = shown(row, heights).model_dump()
    await session.rollback()  # the steps below hold the row in transactions of their own
    done = {"accept": deposits.ACCEPTED, "reject": deposits.REJECTED}[action]
    if row["state"] == done:
        changed = row  # asked again: answered as it stands
    elif action == "accept":
        if row["type"] != "fiat" or row["state"] not in (deposits.SUBMITTED, deposits.ACCEPTING):
            raise ApiError(422, f"{AREA}.cannot_perform_accept_action")

        async def engine(command: Command) -> dict[str, Any]:
            return await submit(runner, command)

        try:
            changed = await crediting.accept(session, engine, row["tid"])
        except crediting.DepositRefused as exc:
            raise ApiError(422, f"{AREA}.cannot_perform_accept_action") from exc
    else:
        async with session.begin():
            current = await deposits.find(session, row["tid"], lock=True)
            assert current is not None
            if current["state"] != deposits.SUBMITTED:
                raise ApiError(422, f"{AREA}.cannot_perform_reject_action")
            changed = await deposits.change(
                session, current["id"], state=deposits.REJECTED, completed_at=func.now()
            )
            await crediting.updated(session, current, changed)
    after = shown(changed, heights)
    async with session.begin():
        await audit.record(
            session,
            actor,
            f"deposit.{action}",
            "Deposit",
            deposit_id,
            before=before,
            after=after.model_dump(),
        )
    return after
