"""Withdrawals as a server asks for them over Peatio's Management API
(``.../management/withdraws``): AppLogic or a payment gateway names the member, the
destination (``rid``) and what the member pays; the flow is ``bursa.trading.withdrawals``.

``create`` checks what the request names against the currency and the member (Peatio's
``amount`` is what the member pays: the currency's ``withdraw_fee`` comes out of it and
the rest leaves), then records, holds and accepts the withdrawal; with ``process`` a fiat
one settles at once and a coin one waits in ``processing`` for custody's sender. Each step
commits on its own around the engine, so a crash half-way is repaired by asking again.

Refusals are ``BursaError``s named by their Peatio code (Grape's message).
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.db.pages import Page
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.identity import directory
from bursa.trading import withdrawals
from bursa.trading.withdrawals import Ask, Submit, Withdrawals, WithdrawFilter

NOT_FOUND = "record.not_found"
INVALID_AMOUNT = "account.withdraw.invalid_amount"


@dataclass(frozen=True, slots=True)
class Requested:
    """A ``withdraws/new`` as read: ``amount`` is what the member pays, fee included;
    no ``tid`` takes a new one; ``transfer_type`` and ``blockchain_key`` default to the
    currency's."""

    uid: str
    currency: str
    amount: Decimal
    rid: str
    tid: str | None = None
    note: str | None = None
    blockchain_key: str | None = None
    transfer_type: str | None = None
    process: bool = False


async def _email_of(session: AsyncSession, member_id: int) -> str:
    person = (await directory.people(session, [member_id])).get(member_id)
    return "" if person is None else person.email


def _flow(sessions: async_sessionmaker[AsyncSession], submit: Submit) -> Withdrawals:
    return Withdrawals(sessions, submit, _email_of)


async def _checked(session: AsyncSession, requested: Requested) -> Ask:
    """The withdrawal ``requested`` names, once its currency allows it, its amount fits
    and its member exists."""
    currency = await withdrawals.currency(session, requested.currency.lower())
    if currency is None:
        raise BursaError(Refusal.INVALID, "currency does not have a valid value")
    if not currency["withdrawal_enabled"] or currency["state"] == "disabled":
        raise BursaError(Refusal.INVALID, "account.currency.withdrawal_disabled")
    amount = requested.amount
    try:
        to_units(amount, currency["precision"])
    except OverPrecise:
        raise BursaError(Refusal.INVALID, INVALID_AMOUNT) from None
    fee: Decimal = currency["withdraw_fee"]
    if amount <= fee or amount < currency["min_withdraw_amount"]:
        raise BursaError(Refusal.INVALID, INVALID_AMOUNT)
    member_id = await directory.member_id(session, uid=requested.uid)
    if member_id is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    coin = currency["type"] == "coin"
    return Ask(
        tid=requested.tid or f"TID{secrets.token_hex(5).upper()}",
        member_id=member_id,
        uid=requested.uid,
        currency=currency["id"],
        type=currency["type"],
        precision=currency["precision"],
        amount=amount - fee,
        fee=fee,
        rid=requested.rid,
        note=requested.note,
        transfer_type=requested.transfer_type or ("crypto" if coin else "fiat"),
        blockchain_key=requested.blockchain_key or (currency["blockchain_key"] if coin else None),
    )


async def create(
    sessions: async_sessionmaker[AsyncSession], submit: Submit, requested: Requested
) -> Any:
    """Record the withdrawal, hold what the member pays, accept it (and process it when
    asked). The same ``tid`` again answers the first withdrawal; with other content it is
    refused."""
    async with sessions() as session:
        ask = await _checked(session, requested)
    return await _flow(sessions, submit).create(ask, process=requested.process)


async def act(
    sessions: async_sessionmaker[AsyncSession], submit: Submit, tid: str, action: str
) -> Any:
    """``process`` or ``cancel`` the withdrawal ``tid``; a done action again answers it
    as it stands."""
    return await _flow(sessions, submit).act(tid, action)


async def find(session: AsyncSession, tid: str) -> Any:
    """One withdrawal by ``tid``."""
    row = await withdrawals.find(session, tid)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return row


async def listed(
    session: AsyncSession,
    *,
    uid: str | None,
    currency: str | None,
    state: str | None,
    limit: int,
    page: int,
) -> Page:
    """Withdrawals, newest first."""
    found = WithdrawFilter(uid=uid, currency=currency and currency.lower(), state=state)
    return await withdrawals.listed(session, found, limit=limit, page=page)
