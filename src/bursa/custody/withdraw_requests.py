"""A member's own coin withdrawal (``POST /account/withdraws``): checks, limits, review.

What a member asks is checked before anything moves: the currency, the amount (its
precision and the currency's minimum), the beneficiary (the member's own, active, for that
currency: the address comes from it, never from the request), the 24 h and 72 h limits
and a fresh TOTP code. Then the withdrawal goes through ``bursa.trading.withdrawals`` (the
engine holds ``amount + fee``) and is either processed at once (``processing``: custody's
sender pays it) or left ``accepted`` for an admin or AppLogic to approve, when it is above
the currency's ``withdraw_review_above`` option or the member carries the
``withdraw_review`` label.

Limits count the member's withdrawals of the currency in every state but canceled,
rejected and failed, this one included; on top, the member's KYC-level limits
(``bursa.custody.withdraw_limits``) count all their withdrawals valued in the platform
currency. Requests of one member are serialised by an
advisory lock so two at once cannot both fit under a limit only one of them fits.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.custody import withdraw_limits
from bursa.custody.beneficiaries import Beneficiaries
from bursa.custody.withdraw_limits import DEFAULT_PLATFORM_CURRENCY, NOT_COUNTED, LimitRefused
from bursa.db.pages import Page, page_of
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.identity.service import Client, Identity
from bursa.identity.tables import labels, users
from bursa.ledger.tables import currencies
from bursa.plain_input import NotPlain, read_amount
from bursa.trading import withdrawals
from bursa.trading.withdrawal_tables import withdraws
from bursa.trading.withdrawals import Ask, Withdrawals

REVIEW_OPTION = "withdraw_review_above"  # currencies.options: review above this amount
REVIEW_LABEL = "withdraw_review"  # a member with this label: every withdrawal reviewed
OTP_SCOPE = "account.withdraw"  # require_otp's codes: account.withdraw.{missing,invalid}_otp
LOCK_NAMESPACE = 0x5744  # "WD": advisory lock namespace of members' withdrawal requests
WINDOWS = {"24h": timedelta(hours=24), "72h": timedelta(hours=72)}


class RequestRefused(BursaError):
    """A member's withdrawal request refused, by its Peatio code: nothing was changed."""

    def __init__(self, kind: Refusal, code: str) -> None:
        super().__init__(kind, code)


@dataclass(frozen=True, slots=True)
class MemberWithdraw:
    """A checked ``POST /withdraws`` (types right; the rest is checked here)."""

    member_id: int
    uid: str
    currency: str
    amount: Decimal
    beneficiary_id: int
    otp: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Sums:
    """The member's withdrawals of a currency in the last 24 h and 72 h, and the limits
    (0: none)."""

    currency: str
    last_24h: Decimal
    last_72h: Decimal
    limit_24h: Decimal
    limit_72h: Decimal


async def sums(session: AsyncSession, member_id: int, codes: list[str] | None = None) -> list[Sums]:
    """Per currency (every one, or ``codes``), what counts against the limits now."""
    now = datetime.now(UTC)
    w = withdraws.c
    counted = [w.member_id == member_id, w.state.notin_(NOT_COUNTED)]
    columns = [
        func.coalesce(
            select(func.sum(w.amount))
            .where(*counted, w.currency_id == currencies.c.id, w.created_at > now - window)
            .scalar_subquery(),
            0,
        ).label(name)
        for name, window in WINDOWS.items()
    ]
    query = select(
        currencies.c.id, currencies.c.withdraw_limit_24h, currencies.c.withdraw_limit_72h, *columns
    ).order_by(currencies.c.id)
    if codes is not None:
        query = query.where(currencies.c.id.in_(codes))
    rows = (await session.execute(query)).mappings().all()
    return [
        Sums(
            currency=row["id"],
            last_24h=Decimal(row["24h"]),
            last_72h=Decimal(row["72h"]),
            limit_24h=row["withdraw_limit_24h"],
            limit_72h=row["withdraw_limit_72h"],
        )
        for row in rows
    ]


def _review_threshold(options: Any) -> Decimal | None:
    value = (options or {}).get(REVIEW_OPTION)
    if value is None:
        return None
    try:  # an admin's option: plain notation only, as every amount from outside
        return read_amount(value)
    except NotPlain:
        return Decimal(0)  # a threshold nobody can read reviews everything, never nothing


class WithdrawRequests:
    """Members' withdrawal requests over the database, the identity service (TOTP), the
    beneficiaries and the withdrawal flow."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        identity: Identity,
        beneficiaries: Beneficiaries,
        flow: Withdrawals,
        platform_currency: str = DEFAULT_PLATFORM_CURRENCY,
    ) -> None:
        self._sessions = sessions
        self._identity = identity
        self._beneficiaries = beneficiaries
        self._flow = flow
        self._platform = platform_currency

    async def create(self, ask: MemberWithdraw, client: Client) -> Any:
        """The new withdrawal's row (``processing``, or ``accepted`` awaiting review)."""
        async with self._sessions() as session:
            currency = await self._currency(session, ask)
            rid = await self._beneficiaries.destination(
                session, ask.member_id, ask.beneficiary_id, currency["id"]
            )
            review = await self._needs_review(session, ask, currency)
        request = Ask(
            tid=f"TID{secrets.token_hex(5).upper()}",
            member_id=ask.member_id,
            uid=ask.uid,
            currency=currency["id"],
            type=currency["type"],
            precision=currency["precision"],
            amount=ask.amount,
            fee=currency["withdraw_fee"],
            rid=rid,
            note=ask.note,
            transfer_type="crypto" if currency["type"] == "coin" else "fiat",
            blockchain_key=currency["blockchain_key"],
            beneficiary_id=ask.beneficiary_id,
        )
        async with self._sessions() as session, session.begin():
            await session.execute(select(func.pg_advisory_xact_lock(LOCK_NAMESPACE, ask.member_id)))
            await self._within_limits(session, ask)
            await self._check_otp(ask, client)
            return await self._flow.create(request, process=not review)

    async def _currency(self, session: AsyncSession, ask: MemberWithdraw) -> Any:
        currency = await withdrawals.currency(session, ask.currency)
        if currency is None or currency["state"] == "hidden":
            raise RequestRefused(Refusal.INVALID, "account.currency.doesnt_exist")
        if not currency["withdrawal_enabled"] or currency["state"] == "disabled":
            raise RequestRefused(Refusal.INVALID, "account.currency.withdrawal_disabled")
        try:
            to_units(ask.amount, currency["precision"])
        except OverPrecise as exc:
            raise RequestRefused(Refusal.INVALID, "account.withdraw.invalid_amount") from exc
        if ask.amount < currency["min_withdraw_amount"]:
            raise RequestRefused(Refusal.INVALID, "account.withdraw.invalid_amount")
        return currency

    async def _needs_review(
        self, session: AsyncSession, ask: MemberWithdraw, currency: Any
    ) -> bool:
        options = await session.scalar(
            select(currencies.c.options).where(currencies.c.id == currency["id"])
        )
        threshold = _review_threshold(options)
        if threshold is not None and ask.amount > threshold:
            return True
        labelled = await session.scalar(
            select(func.count())
            .select_from(labels)
            .where(labels.c.user_id == ask.member_id, labels.c.key == REVIEW_LABEL)
        )
        return bool(labelled)

    async def _within_limits(self, session: AsyncSession, ask: MemberWithdraw) -> None:
        (found,) = await sums(session, ask.member_id, [ask.currency])
        if found.limit_24h > 0 and found.last_24h + ask.amount > found.limit_24h:
            raise RequestRefused(Refusal.INVALID, "account.withdraw.limit_24h_exceeded")
        if found.limit_72h > 0 and found.last_72h + ask.amount > found.limit_72h:
            raise RequestRefused(Refusal.INVALID, "account.withdraw.limit_72h_exceeded")
        try:
            await withdraw_limits.check(
                session, ask.member_id, ask.currency, ask.amount, self._platform, datetime.now(UTC)
            )
        except LimitRefused as exc:
            raise RequestRefused(Refusal.INVALID, exc.code) from exc

    async def _check_otp(self, ask: MemberWithdraw, client: Client) -> None:
        """A member without 2FA may not withdraw at all; with it, the code is used up."""
        async with self._identity.transaction() as conn:
            enabled = await conn.scalar(select(users.c.otp).where(users.c.id == ask.member_id))
            if not enabled:
                raise RequestRefused(Refusal.INVALID, "account.withdraw.otp_not_enabled")
            await self._identity.require_otp(conn, ask.member_id, ask.otp, client, OTP_SCOPE)


@dataclass(frozen=True, slots=True)
class MemberFilter:
    member_id: int
    currency: str | None = None
    state: str | None = None
    rid: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def member_withdraws(
    session: AsyncSession, found: MemberFilter, *, limit: int, page: int
) -> Page:
    """The member's withdrawals, newest first."""
    w = withdraws.c
    exact = [(w.currency_id, found.currency), (w.state, found.state), (w.rid, found.rid)]
    query = select(withdraws).where(
        w.member_id == found.member_id, *(c == v for c, v in exact if v is not None)
    )
    if found.created_from is not None:
        query = query.where(w.created_at >= found.created_from)
    if found.created_to is not None:
        query = query.where(w.created_at <= found.created_to)
    return await page_of(session, query.order_by(w.id.desc()), limit, page)
