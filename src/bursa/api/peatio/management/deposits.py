"""Peatio's Management API for deposits (``.../management/deposits``): payment gateways
record fiat deposits and load them into members' balances. Service:
``bursa.custody.management_deposits`` (why a crash half-way is finished by asking again is
there and in ``bursa.custody.crediting``)."""

from typing import Annotated, Any, Literal

from fastapi import Response
from pydantic import BaseModel, Field

from bursa.api.deps import Runner, Session
from bursa.api.management import engine_submit
from bursa.api.peatio.management.common import (
    ENGINE_UNAVAILABLE,
    Amount,
    Code,
    Paged,
    Params,
    Uid,
    peatio_router,
    signed,
)
from bursa.api.peatio.params import paginate
from bursa.custody import management_deposits
from bursa.custody.management_deposits import DepositsAsk, Payment
from bursa.formats import decimal_text, iso
from bursa.plain_input import PlainInt
from bursa.trading import deposits

router = peatio_router()
Tid = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
TRANSFER_TYPES = ("fiat", "crypto", "card", "wire", "swift", "sepa")


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
        completed_at=iso(row["completed_at"]),
        txid=None if coin else row["txid"],
        address=row["address"],
        blockchain_key=row["blockchain_key"],
        blockchain_txid=row["txid"] if coin else None,
    )


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
    summary="Create a fiat deposit (optionally accepted at once)",
)
async def new_deposit(
    body: Annotated[NewDeposit, signed("write_deposits", NewDeposit)],
    session: Session,
    runner: Runner,
    response: Response,
) -> Deposit:
    """A fiat deposit, ``submitted``; with ``state: accepted`` the money is loaded at once.
    ``amount`` is what was paid: the currency's deposit fee goes to revenue, the rest to
    the member. A ``tid`` sent again returns its first deposit (200; a different payment
    under the same ``tid`` is refused)."""
    payment = Payment(
        uid=body.uid,
        currency=body.currency,
        amount=body.amount,
        tid=body.tid,
        accept=body.state == deposits.ACCEPTED,
        transfer_type=body.transfer_type,
    )
    submit = engine_submit(runner, ENGINE_UNAVAILABLE)
    recorded = await management_deposits.record(session, submit, payment)
    if not recorded.created:
        response.status_code = 200
    return present(recorded.row)


class StateChange(Params):
    tid: Tid
    state: Literal["accepted", "canceled"]


@router.put("/deposits/state", summary="Accept or cancel a submitted deposit")
async def change_state(
    body: Annotated[StateChange, signed("write_deposits", StateChange)],
    session: Session,
    runner: Runner,
) -> Deposit:
    """Only a ``submitted`` deposit changes: ``accepted`` loads the money, ``canceled``
    drops it."""
    submit = engine_submit(runner, ENGINE_UNAVAILABLE)
    return present(await management_deposits.change_state(session, submit, body.tid, body.state))


class DepositList(Paged):
    uid: Uid | None = None
    currency: Code | None = None
    state: Literal[deposits.STATES] | None = None  # type: ignore[valid-type]
    blockchain_key: str | None = Field(default=None, max_length=32)
    from_id: PlainInt | None = Field(default=None, ge=0, le=2**63 - 1)


@router.post("/deposits", status_code=201, summary="Deposits, newest first")
async def list_deposits(
    body: Annotated[DepositList, signed("read_deposits", DepositList)],
    session: Session,
    response: Response,
) -> list[Deposit]:
    ask = DepositsAsk(
        uid=body.uid,
        currency=body.currency,
        state=body.state,
        blockchain_key=body.blockchain_key,
        from_id=body.from_id,
    )
    found = await management_deposits.listed(session, ask, limit=body.limit, page=body.page)
    paginate(response, found.total, body.page, body.limit)
    return [present(row) for row in found.rows]


class DepositGet(Params):
    tid: Tid


@router.post("/deposits/get", status_code=201, summary="One deposit by tid")
async def get_deposit(
    body: Annotated[DepositGet, signed("read_deposits", DepositGet)], session: Session
) -> Deposit:
    return present(await management_deposits.find(session, body.tid))
