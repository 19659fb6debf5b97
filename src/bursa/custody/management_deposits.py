"""Fiat deposits as payment gateways record them over Peatio's Management API
(``.../management/deposits``): record one (and optionally load it at once), accept or
cancel a submitted one, list and find them.

A deposit is written with its ``model.deposit.created`` event in one transaction, and each
state change with its ``model.deposit.updated`` event. Loading money is
``crediting.accept``, the money workflow of ``bursa.trading.engine_requests`` (its steps
commit around the engine, so a crash anywhere is finished by asking again): the same
``tid`` sent twice answers the first deposit and credits once.

Refusals are ``BursaError``s whose codes are Grape's messages.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import crediting
from bursa.db.pages import Page
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.identity import directory
from bursa.trading import deposits
from bursa.trading.engine_requests import Submit

NOT_FOUND = "record.not_found"


@dataclass(frozen=True, slots=True)
class Payment:
    """A fiat payment a gateway reports: ``amount`` is what was paid (the currency's
    deposit fee comes out of it); no ``tid`` takes a new one; ``accept`` loads it at once."""

    uid: str
    currency: str
    amount: Decimal
    tid: str | None
    accept: bool
    transfer_type: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """The deposit as it stands, and whether this request created it (False: the same
    ``tid`` was recorded before)."""

    row: Any
    created: bool


def _invalid(message: str) -> BursaError:
    return BursaError(Refusal.INVALID, message)


async def record(session: AsyncSession, submit: Submit, payment: Payment) -> Recorded:
    """Record ``payment`` as a ``submitted`` fiat deposit (with its event) and, when asked
    or when an earlier request left it ``accepting``, load it into the member's balance.
    A ``tid`` sent again answers its first deposit; with another payment it is refused."""
    tid = payment.tid or deposits.new_tid()
    async with session.begin():
        currency = await deposits.currency_rules(session, payment.currency.lower())
        if currency is None or currency["type"] != "fiat":
            raise _invalid("currency does not have a valid value")
        try:
            to_units(payment.amount, currency["precision"])
        except OverPrecise:
            precision = currency["precision"]
            raise _invalid(f"amount has more than {precision} decimal places") from None
        fee = currency["deposit_fee"]
        if payment.amount < currency["min_deposit_amount"] or payment.amount <= fee:
            raise _invalid("amount is less than the currency's minimum deposit")
        member_id = await directory.member_id(session, uid=payment.uid)
        if member_id is None:
            raise _invalid("uid does not belong to a member")
        row, created = await deposits.create(
            session,
            tid=tid,
            member_id=member_id,
            uid=payment.uid,
            currency_id=currency["id"],
            type="fiat",
            amount=payment.amount - fee,
            fee=fee,
            transfer_type=payment.transfer_type,
        )
        if created:
            await crediting.created(session, row)
    if not created:
        paid = (row["member_id"], row["currency_id"], row["amount"] + row["fee"])
        if paid != (member_id, currency["id"], payment.amount):
            raise _invalid("tid has already been taken")
    if row["state"] == deposits.ACCEPTING or (created and payment.accept):
        row = await crediting.accept(session, submit, tid)
    return Recorded(row, created)


async def change_state(session: AsyncSession, submit: Submit, tid: str, state: str) -> Any:
    """Only a ``submitted`` deposit changes: ``accepted`` loads the money, ``canceled``
    drops it (with its event)."""
    if state == deposits.ACCEPTED:
        return await crediting.accept(session, submit, tid)
    async with session.begin():
        row = await deposits.find(session, tid, lock=True)
        if row is None:
            raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
        if row["state"] != deposits.SUBMITTED:
            raise _invalid(f"Cannot cancel a deposit in state {row['state']}.")
        after = await deposits.change(
            session, row["id"], state=deposits.CANCELED, completed_at=func.now()
        )
        await crediting.updated(session, row, after)
    return after


@dataclass(frozen=True, slots=True)
class DepositsAsk:
    """Which deposits: every filter optional; ``from_id`` lists those after that id."""

    uid: str | None = None
    currency: str | None = None
    state: str | None = None
    blockchain_key: str | None = None
    from_id: int | None = None


async def listed(session: AsyncSession, ask: DepositsAsk, *, limit: int, page: int) -> Page:
    """Deposits, newest first; a uid of nobody has none."""
    member_id = None
    if ask.uid is not None:
        member_id = await directory.member_id(session, uid=ask.uid)
        if member_id is None:
            return Page([], 0)
    return await deposits.listed(
        session,
        deposits.DepositFilter(
            member_id=member_id,
            currency=None if ask.currency is None else ask.currency.lower(),
            state=ask.state,
            blockchain_key=ask.blockchain_key,
            from_id=ask.from_id,
        ),
        limit=limit,
        page=page,
    )


async def find(session: AsyncSession, tid: str) -> Any:
    """One deposit by ``tid``."""
    row = await deposits.find(session, tid)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return row
