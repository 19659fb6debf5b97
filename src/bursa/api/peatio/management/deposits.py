"""Peatio's Management API for deposits (``.../management/deposits``): payment gateways
record fiat deposits and load them into members' balances.

A deposit is written with its ``model.deposit.created`` event in one transaction, and
each state change with its ``model.deposit.updated`` event (``changes``: the previous
values). Loading money goes through the engine's ``Credit`` (see ``bursa.trading.deposits``
for the ``accepting`` step that makes a crash recoverable): the same ``tid`` sent twice
returns the first deposit and credits once.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner, Session
from bursa.api.errors import status_of
from bursa.api.management_auth import scope
from bursa.api.peatio.management.common import (
    NOT_FOUND,
    PREFIX,
    TAG,
    Amount,
    Code,
    Paged,
    Params,
    Uid,
    parse,
    refuse,
    route,
    submit,
    units,
)
from bursa.api.peatio.params import paginate
from bursa.api.peatio.present import iso
from bursa.api.present import decimal_text
from bursa.custody import crediting
from bursa.engine.commands import Command
from bursa.identity import directory
from bursa.plain_input import PlainInt
from bursa.trading import deposits

router = APIRouter(prefix=PREFIX, tags=[TAG])
Tid = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
TRANSFER_TYPES = ("fiat", "crypto", "card", "wire", "swift", "sepa")
ReadDeposits = Annotated[dict[str, Any], Depends(scope("peatio", "read_deposits"))]
WriteDeposits = Annotated[dict[str, Any], Depends(scope("peatio", "write_deposits"))]


class Deposit(BaseModel):
    """Peatio's management Deposit entity (``null`` fields are left out)."""

    tid: str
    uid: str
    currency: str
    type: str
    amount: str
    fee: str
    state: str
    transfer_type: str
    created_at: str
    completed_at: str | None = None
    txid: str | None = None
    address: str | None = None
    blockchain_key: str | None = None
    blockchain_txid: str | None = None


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def present(row: Any) -> Deposit:
    coin = row["type"] == "coin"
    return Deposit(
        tid=row["tid"],
        uid=row["uid"],
        currency=row["currency_id"],
        type=row["type"],
        amount=decimal_text(row["amount"]),
        fee=decimal_text(row["fee"]),
        state=row["state"],
        transfer_type=row["transfer_type"],
        created_at=iso(row["created_at"]),
        completed_at=_time(row["completed_at"]),
        txid=None if coin else row["txid"],
        address=row["address"],
        blockchain_key=row["blockchain_key"],
        blockchain_txid=row["txid"] if coin else None,
    )


async def _accept(session: AsyncSession, runner: Runner, tid: str) -> Any:
    """Load the deposit into the member's balance (see ``bursa.custody.crediting``)."""

    async def to_engine(command: Command) -> dict[str, Any]:
        return await submit(runner, command)  # 503 when the engine is not running

    try:
        return await crediting.accept(session, to_engine, tid)
    except crediting.DepositRefused as exc:
        raise refuse(status_of(exc), exc.code) from exc


# ---------------------------------------------------------------------- endpoints


class NewDeposit(Params):
    uid: Uid
    currency: Code
    amount: Amount
    tid: Tid | None = None
    state: Literal["accepted"] | None = None
    transfer_type: Literal[TRANSFER_TYPES] = "fiat"  # type: ignore[valid-type]


@router.post(
    "/deposits/new",
    status_code=201,
    **route("Create a fiat deposit (optionally accepted at once)", NewDeposit),
)
async def new_deposit(
    data: WriteDeposits, session: Session, runner: Runner, response: Response
) -> Deposit:
    """A fiat deposit, ``submitted``; with ``state: accepted`` the money is loaded at once.
    ``amount`` is what was paid: the currency's deposit fee goes to revenue, the rest to
    the member. A ``tid`` sent again returns its first deposit (a different payment under
    the same ``tid`` is refused)."""
    body = parse(NewDeposit, data)
    tid = body.tid or deposits.new_tid()
    async with session.begin():
        currency = await deposits.currency_rules(session, body.currency.lower())
        if currency is None or currency["type"] != "fiat":
            raise refuse(422, "currency does not have a valid value")
        units(body.amount, currency["precision"])
        if body.amount < currency["min_deposit_amount"] or body.amount <= currency["deposit_fee"]:
            raise refuse(422, "amount is less than the currency's minimum deposit")
        member_id = await directory.member_id(session, uid=body.uid)
        if member_id is None:
            raise refuse(422, "uid does not belong to a member")
        row, created = await deposits.create(
            session,
            tid=tid,
            member_id=member_id,
            uid=body.uid,
            currency_id=currency["id"],
            type="fiat",
            amount=body.amount - currency["deposit_fee"],
            fee=currency["deposit_fee"],
            transfer_type=body.transfer_type,
        )
        if created:
            await crediting.created(session, row)
    if not created:
        paid = (row["member_id"], row["currency_id"], row["amount"] + row["fee"])
        if paid != (member_id, currency["id"], body.amount):
            raise refuse(422, "tid has already been taken")
    if row["state"] == deposits.ACCEPTING or (created and body.state == deposits.ACCEPTED):
        row = await _accept(session, runner, tid)
    if not created:
        response.status_code = 200
    return present(row)


class StateChange(Params):
    tid: Tid
    state: Literal["accepted", "canceled"]


@router.put("/deposits/state", **route("Accept or cancel a submitted deposit", StateChange))
async def change_state(data: WriteDeposits, session: Session, runner: Runner) -> Deposit:
    """Only a ``submitted`` deposit changes: ``accepted`` loads the money, ``canceled``
    drops it."""
    body = parse(StateChange, data)
    if body.state == deposits.ACCEPTED:
        return present(await _accept(session, runner, body.tid))
    async with session.begin():
        row = await deposits.find(session, body.tid, lock=True)
        if row is None:
            raise refuse(404, NOT_FOUND)
        if row["state"] != deposits.SUBMITTED:
            raise refuse(422, f"Cannot cancel a deposit in state {row['state']}.")
        after = await deposits.change(
            session, row["id"], state=deposits.CANCELED, completed_at=func.now()
        )
        await crediting.updated(session, row, after)
    return present(after)


class DepositList(Paged):
    uid: Uid | None = None
    currency: Code | None = None
    state: Literal[deposits.STATES] | None = None  # type: ignore[valid-type]
    blockchain_key: str | None = Field(default=None, max_length=32)
    from_id: PlainInt | None = Field(default=None, ge=0, le=2**63 - 1)


@router.post("/deposits", status_code=201, **route("Deposits, newest first", DepositList))
async def list_deposits(data: ReadDeposits, session: Session, response: Response) -> list[Deposit]:
    body = parse(DepositList, data)
    member_id = None
    if body.uid is not None:
        member_id = await directory.member_id(session, uid=body.uid)
        if member_id is None:
            paginate(response, 0, body.page, body.limit)
            return []
    found = await deposits.listed(
        session,
        deposits.DepositFilter(
            member_id=member_id,
            currency=None if body.currency is None else body.currency.lower(),
            state=body.state,
            blockchain_key=body.blockchain_key,
            from_id=body.from_id,
        ),
        limit=body.limit,
        page=body.page,
    )
    paginate(response, found.total, body.page, body.limit)
    return [present(row) for row in found.rows]


class DepositGet(Params):
    tid: Tid


@router.post("/deposits/get", status_code=201, **route("One deposit by tid", DepositGet))
async def get_deposit(data: ReadDeposits, session: Session) -> Deposit:
    body = parse(DepositGet, data)
    row = await deposits.find(session, body.tid)
    if row is None:
        raise refuse(404, NOT_FOUND)
    return present(row)
