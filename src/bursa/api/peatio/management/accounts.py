"""Peatio's Management API for balances and the ledger (``.../management``): a member's
balance, every holder of a currency, and the operations of each family of accounts
(assets, expenses, revenues, liabilities). Service: ``bursa.custody.management_records``."""

from typing import Annotated, Any, Literal

from fastapi import Response
from pydantic import BaseModel, Field

from bursa.api.deps import Session
from bursa.api.peatio.management.common import (
    Code,
    Paged,
    Params,
    Seconds,
    Uid,
    peatio_router,
    signed,
)
from bursa.api.peatio.params import moment, paginate
from bursa.custody import management_records as records
from bursa.custody.management_records import Holding, Listed, OperationsAsk
from bursa.engine.core import REFERENCE_TYPES
from bursa.formats import decimal_text, iso
from bursa.plain_input import PlainInt

router = peatio_router()


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


def _balance(held: Holding) -> Balance:
    return Balance(
        uid=held.uid, balance=decimal_text(held.balance), locked=decimal_text(held.locked)
    )


def _operations(found: Listed) -> list[Operation]:
    people = found.people
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


class BalanceQuery(Params):
    uid: Uid
    currency: Code


@router.post(
    "/accounts/balance",
    status_code=201,
    summary="A member's balance",
)
async def balance(
    body: Annotated[BalanceQuery, signed("read_accounts", BalanceQuery)], session: Session
) -> Balance:
    return _balance(await records.balance(session, body.uid, body.currency))


class BalancesQuery(Params):
    currency: Code
    page: PlainInt = Field(default=1, ge=1, le=1_000_000)
    limit: PlainInt = Field(default=1000, ge=1, le=100_000)


@router.post(
    "/accounts/balances",
    status_code=201,
    summary="Every member holding a currency (non-zero balances)",
)
async def balances(
    body: Annotated[BalancesQuery, signed("read_accounts", BalancesQuery)],
    session: Session,
    response: Response,
) -> list[Balance]:
    found = await records.holders(session, body.currency, limit=body.limit, page=body.page)
    paginate(response, found.total, body.page, body.limit)
    people = found.people
    return [
        _balance(
            Holding(
                people[row["member_id"]].uid if row["member_id"] in people else "",
                row["balance"],
                row["locked"],
            )
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


def _ask(family: str, body: OperationsQuery, uid: str | None = None) -> OperationsAsk:
    return OperationsAsk(
        family=family,
        currency=body.currency,
        reference_type=body.reference_type,
        uid=uid,
        time_from=moment(body.time_from),
        time_to=moment(body.time_to),
    )


def _platform(family: str) -> Any:
    async def operations(
        body: Annotated[OperationsQuery, signed("read_operations", OperationsQuery)],
        session: Session,
        response: Response,
    ) -> list[Operation]:
        found = await records.operations(
            session, _ask(family, body), limit=body.limit, page=body.page
        )
        paginate(response, found.total, body.page, body.limit)
        return _operations(found)

    return operations


for _family, _path in (("asset", "assets"), ("expense", "expenses"), ("revenue", "revenues")):
    router.add_api_route(
        f"/{_path}",
        _platform(_family),
        methods=["POST"],
        status_code=201,
        operation_id=f"management_{_path}",
        summary=f"Operations of the platform's {_family} accounts, newest first",
    )


@router.post(
    "/liabilities",
    status_code=201,
    summary="Operations of the members' accounts, newest first",
)
async def liabilities(
    body: Annotated[LiabilitiesQuery, signed("read_operations", LiabilitiesQuery)],
    session: Session,
    response: Response,
) -> list[Operation]:
    ask = _ask("liability", body, body.uid)
    found = await records.operations(session, ask, limit=body.limit, page=body.page)
    paginate(response, found.total, body.page, body.limit)
    return _operations(found)
