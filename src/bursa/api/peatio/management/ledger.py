"""Peatio's Management API for single ledger operations (scope ``write_operations``):
``assets/new``, ``expenses/new``, ``revenues/new``, ``liabilities/new``.

Each names one account (``code``), a ``currency`` and exactly one of ``credit`` (raise its
balance) or ``debit`` (lower it). Bursa never writes one side alone: the engine posts it
with its counterpart (``bursa.trading.ledger_operations``: assets against expenses,
members' liabilities against revenues, revenues against the member ``uid`` names), as
one management transfer. ``key`` (a Bursa extension, as ``transfers/new``'s) makes a
retry answer the first result instead of posting again; without one each request is new
(its envelope's ``jti`` is still used once only). Answers Peatio's ``Operation``: the
named account's posting.
"""

from typing import Annotated, Any
from uuid import uuid4

from fastapi import Request
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner, Session
from bursa.api.management import CODED, engine_submit
from bursa.api.peatio.management.accounts import Operation
from bursa.api.peatio.management.common import (
    ENGINE_UNAVAILABLE,
    Amount,
    Code,
    Params,
    Uid,
    actor_of,
    peatio_router,
    signed,
)
from bursa.formats import decimal_text, iso
from bursa.identity import directory
from bursa.plain_input import PlainInt
from bursa.trading import ledger_operations

router = peatio_router()
SCOPE = "write_operations"


class NewOperation(Params):
    currency: Code
    code: PlainInt
    debit: Amount | None = None
    credit: Amount | None = None
    uid: Uid | None = None
    key: str | None = Field(
        default=None, min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_.:\-]+$"
    )

    @model_validator(mode="after")
    def _one_side(self) -> "NewOperation":
        if self.debit is not None and self.credit is not None:
            raise PydanticCustomError(CODED, "debit, credit are mutually exclusive")
        if self.debit is None and self.credit is None:
            raise PydanticCustomError(
                CODED, "debit, credit are missing, exactly one parameter must be provided"
            )
        return self

    def ask(self, family: str) -> ledger_operations.OperationAsk:
        amount = self.credit if self.credit is not None else self.debit
        assert amount is not None  # one side is given (checked above)
        return ledger_operations.OperationAsk(
            family=family,
            key=self.key or f"op:{uuid4().hex[:24]}",
            currency=self.currency,
            code=self.code,
            amount=amount,
            credit=self.credit is not None,
            uid=self.uid,
        )


async def _member_id(session: AsyncSession, uid: str) -> int | None:
    return await directory.member_id(session, uid=uid)


def _new(family: str) -> Any:
    async def new_operation(
        body: Annotated[NewOperation, signed(SCOPE, NewOperation)],
        request: Request,
        session: Session,
        runner: Runner,
    ) -> Operation:
        """The money workflow commits its own steps around the engine, so the session
        comes without a transaction."""
        submit = engine_submit(runner, ENGINE_UNAVAILABLE)
        row = await ledger_operations.post(
            session, submit, _member_id, actor_of(request), body.ask(family)
        )
        people = await directory.people(session, [row["member_id"]] if row["member_id"] else [])
        return Operation(
            code=row["code"],
            currency=row["currency_id"],
            credit=decimal_text(row["credit"]) if row["credit"] else None,
            debit=decimal_text(row["debit"]) if row["debit"] else None,
            uid=people[row["member_id"]].uid if row["member_id"] in people else None,
            reference_type=row["reference_type"],
            created_at=iso(row["created_at"]) or "",
        )

    return new_operation


for _family, _path in (
    ("asset", "assets"),
    ("expense", "expenses"),
    ("revenue", "revenues"),
    ("liability", "liabilities"),
):
    router.add_api_route(
        f"/{_path}/new",
        _new(_family),
        methods=["POST"],
        status_code=201,
        operation_id=f"management_{_path}_new",
        summary=f"Post one {_family} operation with its counterpart",
    )
