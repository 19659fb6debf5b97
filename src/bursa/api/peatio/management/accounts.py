"""Peatio's Management API for balances and the ledger (``.../management``): a member's
balance, every holder of a currency, and the operations of each family of accounts
(assets, expenses, revenues, liabilities), read from the engine's tables."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from bursa.api.deps import Session
from bursa.api.management_auth import scope
from bursa.api.peatio.management.common import (
    PREFIX,
    TAG,
    Code,
    Paged,
    Params,
    Seconds,
    Uid,
    currency_of,
    member_of,
    moment,
    parse,
    route,
)
from bursa.api.peatio.params import paginate
from bursa.api.peatio.present import iso
from bursa.api.present import decimal_text
from bursa.engine.core import REFERENCE_TYPES
from bursa.identity import directory
from bursa.plain_input import PlainInt
from bursa.trading import admin_queries as queries

router = APIRouter(prefix=PREFIX, tags=[TAG])
ReadAccounts = Annotated[dict[str, Any], Depends(scope("peatio", "read_accounts"))]
ReadOperations = Annotated[dict[str, Any], Depends(scope("peatio", "read_operations"))]


class Balance(BaseModel):
    uid: str
    balance: str
    locked: str


class Operation(BaseModel):
    """Peatio's management Operation entity: ``credit`` or ``debit``, whichever moved."""

    code: int
    currency: str
    credit: str | None = None
    debit: str | None = None
    uid: str | None = None
    reference_type: str
    created_at: str


class BalanceQuery(Params):
    uid: Uid
    currency: Code


@router.post("/accounts/balance", status_code=201, **route("A member's balance", BalanceQuery))
async def balance(data: ReadAccounts, session: Session) -> Balance:
    body = parse(BalanceQuery, data)
    currency = await currency_of(session, body.currency)
    member_id = await member_of(session, body.uid)
    held = await queries.accounts_of(session, [member_id])
    found = [row for row in held[member_id] if row["currency"] == currency["id"]]
    if not found:
        return Balance(uid=body.uid, balance="0", locked="0")
    return Balance(
        uid=body.uid,
        balance=decimal_text(found[0]["balance"]),
        locked=decimal_text(found[0]["locked"]),
    )


class BalancesQuery(Params):
    currency: Code
    page: PlainInt = Field(default=1, ge=1, le=1_000_000)
    limit: PlainInt = Field(default=1000, ge=1, le=100_000)


@router.post(
    "/accounts/balances",
    status_code=201,
    **route("Every member holding a currency (non-zero balances)", BalancesQuery),
)
async def balances(data: ReadAccounts, session: Session, response: Response) -> list[Balance]:
    body = parse(BalancesQuery, data)
    currency = await currency_of(session, body.currency)
    found = await queries.holders(session, currency["id"], limit=body.limit, page=body.page)
    paginate(response, found.total, body.page, body.limit)
    people = await directory.people(session, (row["member_id"] for row in found.rows))
    return [
        Balance(
            uid=people[row["member_id"]].uid if row["member_id"] in people else "",
            balance=decimal_text(row["balance"]),
            locked=decimal_text(row["locked"]),
        )
        for row in found.rows
    ]


class OperationsQuery(Paged):
    currency: Code | None = None
    time_from: Seconds | None = None
    time_to: Seconds | None = None
    reference_type: Literal[REFERENCE_TYPES] | None = None  # type: ignore[valid-type]


class LiabilitiesQuery(OperationsQuery):
    uid: Uid | None = None


async def _operations(
    session: Session, response: Response, body: OperationsQuery, family: str
) -> list[Operation]:
    member_id = None
    if isinstance(body, LiabilitiesQuery) and body.uid is not None:
        member_id = await member_of(session, body.uid)
    currency = None if body.currency is None else (await currency_of(session, body.currency))["id"]
    found = await queries.operations_of(
        session,
        queries.OperationFilter(
            family=family,
            currency=currency,
            reference_type=body.reference_type,
            member_id=member_id,
            listing=queries.Listing(
                time_from=moment(body.time_from), time_to=moment(body.time_to), ascending=False
            ),
        ),
        limit=body.limit,
        page=body.page,
    )
    paginate(response, found.total, body.page, body.limit)
    people = await directory.people(session, (row["member_id"] for row in found.rows))
    return [
        Operation(
            code=row["code"],
            currency=row["currency_id"],
            credit=decimal_text(row["credit"]) if row["credit"] else None,
            debit=decimal_text(row["debit"]) if row["debit"] else None,
            uid=people[row["member_id"]].uid if row["member_id"] in people else None,
            reference_type=row["reference_type"],
            created_at=iso(row["created_at"]),
        )
        for row in found.rows
    ]


def _platform(family: str) -> Any:
    async def operations(
        data: ReadOperations, session: Session, response: Response
    ) -> list[Operation]:
        return await _operations(session, response, parse(OperationsQuery, data), family)

    return operations


for _family, _path in (("asset", "assets"), ("expense", "expenses"), ("revenue", "revenues")):
    router.add_api_route(
        f"/{_path}",
        _platform(_family),
        methods=["POST"],
        status_code=201,
        operation_id=f"management_{_path}",
        **route(f"Operations of the platform's {_family} accounts, newest first", OperationsQuery),
    )


@router.post(
    "/liabilities",
    status_code=201,
    **route("Operations of the members' accounts, newest first", LiabilitiesQuery),
)
async def liabilities(
    data: ReadOperations, session: Session, response: Response
) -> list[Operation]:
    return await _operations(session, response, parse(LiabilitiesQuery, data), "liability")
