"""Peatio's single-leg ledger operations (Management API ``assets/new``, ``expenses/new``,
``revenues/new``, ``liabilities/new``) made double-entry.

Peatio wrote the one operation it was given and nothing else, which unbalances the books.
Bursa posts each as one leg of the engine's ``Transfer`` (``management_transfers``), its
counterpart being the account on the same side of the equation assets - liabilities -
revenues + expenses (a ``Transfer`` leg debits one account and credits another, so only
such a pair leaves the equation as it was):

* an asset (101/102) against the expense account (401/402): assets gained are expenses
  recovered, assets spent are expenses (as a network fee is booked);
* an expense against the asset account, likewise;
* a member's main liability (201/202) against the revenue account (301/302): a member
  credited is paid from revenue (a refund, an incentive), a member debited pays revenue;
* a revenue against a member's main liability: ``uid`` names that member (a Bursa
  extension: Peatio's request has no member, and without one there is no counterpart).

``credit`` raises the named account's balance (credits - debits), ``debit`` lowers it.
Locked liabilities (211/212) are refused: they belong to open orders and held
withdrawals. The transfer's record (``transfers``) keeps the request under its ``key``: sent
again with the same request it answers the first result and moves nothing.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine import errors
from bursa.errors import BursaError, Refusal
from bursa.trading import admin_queries as queries
from bursa.trading import audit, management_transfers, transfers
from bursa.trading.audit import Actor
from bursa.trading.engine_requests import Submit
from bursa.trading.management_transfers import Account, MemberOf, Operation, TransferAsk

FAMILIES = {  # the family's codes, and the family of its counterpart
    "asset": ((101, 102), "expense"),
    "expense": ((401, 402), "asset"),
    "revenue": ((301, 302), "liability"),
    "liability": ((201, 202), "revenue"),
}
FAMILY_OF_HUNDREDS = {1: "asset", 2: "liability", 3: "revenue", 4: "expense"}
LOCKED_CODES = (211, 212)
CATEGORY = "operation"  # of the transfers these make (Peatio's own categories are others)
LOCKED = management_transfers.REFUSALS[errors.TRANSFER_LOCKED_ACCOUNT]


@dataclass(frozen=True, slots=True)
class OperationAsk:
    """One single-leg operation: ``credit`` (True) or debit of ``amount`` on account
    ``code`` of ``family``; ``uid`` the member (liabilities: the owner; revenues: the
    counterpart)."""

    family: str
    key: str
    currency: str
    code: int
    amount: Decimal
    credit: bool
    uid: str | None = None


def _counterpart(ask: OperationAsk) -> tuple[Account, Account]:
    """The named account and its counterpart (Grape's words for a misfit)."""
    codes, other = FAMILIES[ask.family]
    if ask.family == "liability" and ask.code in LOCKED_CODES:
        raise BursaError(Refusal.INVALID, LOCKED)
    if ask.code not in codes:
        raise BursaError(Refusal.INVALID, "code does not have a valid value")
    if ask.family in ("liability", "revenue") and ask.uid is None:
        raise BursaError(Refusal.INVALID, "uid is missing")
    kind = ask.code % 100  # 1 fiat, 2 coin: the counterpart keeps the currency's type
    other_code = FAMILIES[other][0][kind - 1]
    named = Account(ask.code, ask.uid if ask.family == "liability" else None)
    paired = Account(other_code, ask.uid if other == "liability" else None)
    return named, paired


async def post(
    session: AsyncSession, submit: Submit, member_of: MemberOf, actor: Actor, ask: OperationAsk
) -> Any:
    """Post ``ask`` with its counterpart through the engine (or answer what its key
    already posted); the posting of the named account (an ``operations`` row). The
    session comes without a transaction."""
    named, paired = _counterpart(ask)
    src, dst = (paired, named) if ask.credit else (named, paired)
    leg = Operation(ask.currency, ask.amount, src, dst)
    description = f"{ask.family} {'credit' if ask.credit else 'debit'} {ask.code}"
    async with session.begin():
        before = await transfers.find(session, ask.key)
    was_done = before is not None and before["state"] == transfers.DONE
    row = await management_transfers.post(
        session, submit, member_of, TransferAsk(ask.key, CATEGORY, description, [leg])
    )
    async with session.begin():
        found = await queries.operations_by_reference(
            session, transfers.REFERENCE_TYPE, [row["key"]]
        )
        posting = next(p for p in found[row["key"]] if p["code"] == named.code)
        if not was_done:
            after = {"key": row["key"], "description": description, "operations": row["operations"]}
            await audit.record(
                session, actor, "operation.create", "Transfer", row["id"], after=after
            )
    return posting
