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

The route reads the request; ``bursa.trading.management_transfers`` checks and posts it.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner, Session
from bursa.api.management import engine_submit
from bursa.api.peatio.management.common import (
    ENGINE_UNAVAILABLE,
    Amount,
    Code,
    Params,
    Uid,
    peatio_router,
    signed,
)
from bursa.engine.core import MAX_TRANSFER_LEGS
from bursa.identity import directory
from bursa.plain_input import PlainInt
from bursa.trading import management_transfers as posting
from bursa.trading import transfers

router = peatio_router()


class Account(Params):
    code: PlainInt
    uid: Uid | None = None

    def ask(self) -> posting.Account:
        return posting.Account(self.code, self.uid)


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

    def ask(self) -> posting.TransferAsk:
        operations = [
            posting.Operation(o.currency, o.amount, o.account_src.ask(), o.account_dst.ask())
            for o in self.operations
        ]
        return posting.TransferAsk(self.key, self.category, self.description, operations)


class Transfer(BaseModel):
    """Peatio's management Transfer entity."""

    key: str
    category: str
    description: str


async def _member_id(session: AsyncSession, uid: str) -> int | None:
    return await directory.member_id(session, uid=uid)


@router.post("/transfers/new", summary="Move money between ledger accounts")
async def new_transfer(
    body: Annotated[NewTransfer, signed("write_transfers", NewTransfer)],
    session: Session,
    runner: Runner,
) -> Transfer:
    """Posts every operation or none. Peatio answered 200; so does Bursa, also when the
    same request is sent again (it then moves nothing). The money workflow commits its own
    steps around the engine (``bursa.trading.engine_requests``), so the session comes
    without a transaction."""
    submit = engine_submit(runner, ENGINE_UNAVAILABLE)
    row = await posting.post(session, submit, _member_id, body.ask())
    return Transfer(key=row["key"], category=row["category"], description=row["description"])
