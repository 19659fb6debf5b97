"""Peatio's Management API for transfers (``.../management/transfers/new``, scope
``write_transfers``): balanced movements between ledger accounts in one step.

Each operation debits ``account_src`` and credits ``account_dst`` by ``amount``; codes are
Peatio's chart (101/102 assets, 201/202 members' main, 301/302 revenues, 401/402
expenses), member accounts name their ``uid``. All operations post together through the
engine's ``Transfer`` or none does: each currency's assets - liabilities - revenues +
expenses must stay the same, and no member's balance may go below zero.

Where Bursa differs from Peatio: locked accounts (211/212) are refused, since locked funds
belong to open orders and held withdrawals; a code must fit its currency's type; and a
``key`` sent again with the same request answers the transfer it made (moving nothing),
while with another request it is refused. A refused transfer moved nothing and frees its
key. Amounts are decimal strings (a JSON number would have passed through ``float``).
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner, Session
from bursa.api.management_auth import scope
from bursa.api.peatio.management.common import (
    PREFIX,
    TAG,
    Amount,
    Code,
    Params,
    Uid,
    member_of,
    parse,
    refuse,
    route,
    submit,
    units,
)
from bursa.api.present import decimal_text
from bursa.engine import errors
from bursa.engine.commands import Transfer as TransferCommand
from bursa.engine.core import MAX_TRANSFER_LEGS
from bursa.engine.specs import ASSET, EXPENSE, LIABILITY_LOCKED, LIABILITY_MAIN, REVENUE
from bursa.plain_input import PlainInt
from bursa.trading import admin_queries as queries
from bursa.trading import engine_log, transfers

router = APIRouter(prefix=PREFIX, tags=[TAG])
WriteTransfers = Annotated[dict[str, Any], Depends(scope("peatio", "write_transfers"))]
CHART = sorted(
    code
    for codes in (ASSET, LIABILITY_MAIN, LIABILITY_LOCKED, REVENUE, EXPENSE)
    for code in codes.values()
)
MEMBER_SCOPE = frozenset(LIABILITY_MAIN.values()) | frozenset(LIABILITY_LOCKED.values())
REFUSALS = {
    errors.TRANSFER_UNBALANCED: (
        "Operations do not balance: for each currency, assets - liabilities - revenues"
        " + expenses must stay the same."
    ),
    errors.TRANSFER_INSUFFICIENT_BALANCE: "Account balance is insufficient.",
    errors.TRANSFER_LOCKED_ACCOUNT: (
        "Locked accounts (211, 212) hold open orders and withdrawals; a transfer cannot use them."
    ),
    errors.TRANSFER_INVALID_ACCOUNT: (
        "An account code does not fit its currency: fiat uses 101, 201, 301, 401; coins"
        " use 102, 202, 302, 402."
    ),
}


class Account(Params):
    code: PlainInt
    uid: Uid | None = None


class Operation(Params):
    currency: Code
    amount: Amount
    account_src: Account
    account_dst: Account


class NewTransfer(Params):
    key: str = Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_.:\-]+$")
    category: Literal[transfers.CATEGORIES]  # type: ignore[valid-type]
    description: str = Field(default="", max_length=255)
    operations: list[Operation] = Field(min_length=1, max_length=MAX_TRANSFER_LEGS)


class Transfer(BaseModel):
    """Peatio's management Transfer entity."""

    key: str
    category: str
    description: str


def _present(row: Any) -> Transfer:
    return Transfer(key=row["key"], category=row["category"], description=row["description"])


async def _currency(session: AsyncSession, code: str, where: str) -> Any:
    found = await queries.currency(session, code.lower())
    if found is None:
        raise refuse(422, f"{where}[currency] does not have a valid value")
    return found


def _check_account(account: Account, where: str) -> None:
    """Grape's checks of one account: a code of the chart, a uid for member accounts."""
    if account.code not in CHART:
        raise refuse(422, f"{where}[code] does not have a valid value")
    if account.code in MEMBER_SCOPE and account.uid is None:
        raise refuse(422, f"{where}[uid] is missing")


async def _operations(session: AsyncSession, body: NewTransfer) -> list[dict[str, Any]]:
    """The operations as stored: currency ids, exact amount text, codes and uids."""
    stored = []
    for index, operation in enumerate(body.operations):
        where = f"operations[{index}]"
        currency = await _currency(session, operation.currency, where)
        units(operation.amount, currency["precision"], f"{where}[amount]")
        ends = {}
        for side in ("account_src", "account_dst"):
            account: Account = getattr(operation, side)
            _check_account(account, f"{where}[{side}]")
            ends[side] = {"code": account.code, "uid": account.uid}
        stored.append({"currency": currency["id"], "amount": decimal_text(operation.amount)} | ends)
    return stored


async def _legs(session: AsyncSession, operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The engine's legs: amounts in subunits, members by id (an unknown uid is 404)."""
    legs = []
    for operation in operations:
        currency = await _currency(session, operation["currency"], "currency")
        leg: dict[str, Any] = {
            "currency": currency["id"],
            "amount": units(Decimal(operation["amount"]), currency["precision"]),
        }
        for side, name in (("account_src", "src"), ("account_dst", "dst")):
            account = operation[side]
            uid = account["uid"]
            leg[name] = account["code"]
            leg[f"{name}_member"] = None if uid is None else await member_of(session, uid)
        legs.append(leg)
    return legs


async def _claim(session: AsyncSession, body: NewTransfer, operations: list[Any]) -> Any:
    """The transfer's pending row: new, left pending by an earlier request, or taking
    over a refused one's key. A done transfer sent again is returned as it is."""
    description = body.description
    async with session.begin():
        row = await transfers.create(
            session,
            key=body.key,
            category=body.category,
            description=description,
            operations=operations,
        )
        if row is not None:
            return row
        row = await transfers.find(session, body.key, lock=True)
        assert row is not None  # the conflict was on the key, and transfers stay
        if row["state"] == transfers.REFUSED:
            return await transfers.change(
                session,
                row["id"],
                state=transfers.PENDING,
                attempts=row["attempts"] + 1,
                category=body.category,
                description=description,
                operations=operations,
                error=None,
            )
        if not transfers.same_request(row, body.category, description, operations):
            raise refuse(422, "key has already been taken")
        return row


@router.post("/transfers/new", **route("Move money between ledger accounts", NewTransfer))
async def new_transfer(data: WriteTransfers, session: Session, runner: Runner) -> Transfer:
    """Posts every operation or none. Peatio answered 200; so does Bursa, also when the
    same request is sent again (it then moves nothing)."""
    body = parse(NewTransfer, data)
    async with session.begin():
        operations = await _operations(session, body)
        legs = await _legs(session, operations)
    row = await _claim(session, body, operations)
    if row["state"] == transfers.DONE:
        return _present(row)
    key = transfers.engine_key(row)
    result = await engine_log.logged_result(session, key)
    await session.commit()
    if result is None:
        result = await submit(runner, TransferCommand(key=key, reference=row["key"], legs=legs))
    async with session.begin():
        current = await transfers.find(session, body.key, lock=True)
        assert current is not None
        if current["state"] == transfers.PENDING and current["attempts"] == row["attempts"]:
            failed = result["error"]
            if failed is None:
                current = await transfers.change(
                    session, current["id"], state=transfers.DONE, engine_seq=result["seq"]
                )
            else:
                await transfers.change(
                    session, current["id"], state=transfers.REFUSED, error=failed
                )
        elif current["state"] == transfers.PENDING:
            raise refuse(409, "Another request is posting this transfer; send it again.")
        else:
            failed = current["error"]  # a concurrent request finished this attempt
    if failed is None:
        return _present(current)
    raise refuse(422, REFUSALS.get(failed, f"The engine refused the transfer: {failed}"))
