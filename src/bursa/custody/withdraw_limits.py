"""Withdrawal limits by KYC level and member group (Peatio's ``WithdrawLimit``), on top of
each currency's own 24 h / 72 h limits.

A member's limit is the ``withdraw_limits`` row whose group is theirs or ``any`` and whose
level is theirs or ``any``, the most specific winning: a level outweighs a group (weights
10 and 1, as Peatio). No row, no limit; a limit of 0 leaves its period unlimited.

What counts is every withdrawal of the member in the period (24 hours, or 30 days for the
month), in any currency and any state but canceled, rejected and failed, valued in the
platform currency at the current price: the last trade of ``<currency><platform>``, or the
inverse of ``<platform><currency>``'s. A currency without a price cannot be valued, so
while a limit applies its withdrawals are refused rather than let through unmeasured.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.withdraw_limit_tables import withdraw_limits
from bursa.engine.specs import ANY, DEFAULT_GROUP
from bursa.engine.tables import member_groups, trades
from bursa.errors import BursaError, Refusal
from bursa.identity.tables import users
from bursa.trading.tables import markets
from bursa.trading.withdrawal_tables import withdraws

DEFAULT_PLATFORM_CURRENCY = "usdt"
NOT_COUNTED = ("canceled", "rejected", "failed")
DAY = timedelta(hours=24)
MONTH = timedelta(days=30)
ZERO = Decimal(0)


class LimitRefused(BursaError):
    """A withdrawal over a KYC limit, or one that cannot be valued while a limit applies."""

    def __init__(self, code: str) -> None:
        super().__init__(Refusal.INVALID, code)


@dataclass(frozen=True, slots=True)
class Limit:
    """The limits in force for a member (0: none on that period), and the row they come
    from (``None``: no row matches, nothing is limited)."""

    id: int | None
    group: str
    kyc_level: str
    limit_24_hour: Decimal
    limit_1_month: Decimal

    @property
    def applies(self) -> bool:
        return self.limit_24_hour > 0 or self.limit_1_month > 0


@dataclass(frozen=True, slots=True)
class Valued:
    """The member's withdrawals in the platform currency; ``unpriced`` are the currencies
    withdrawn in the month that have no price (the values leave them out)."""

    last_24_hours: Decimal
    last_1_month: Decimal
    unpriced: tuple[str, ...]


async def limit_of(session: AsyncSession, member_id: int) -> Limit:
    """The most specific row for the member's group and KYC level."""
    level = await session.scalar(select(users.c.level).where(users.c.id == member_id))
    group = await session.scalar(
        select(member_groups.c.group).where(member_groups.c.member_id == member_id)
    )
    group = group or DEFAULT_GROUP
    kyc_level = str(level if level is not None else 0)
    w = withdraw_limits.c
    weight = case((w.kyc_level != ANY, 10), else_=0) + case((w.group != ANY, 1), else_=0)
    row = (
        (
            await session.execute(
                select(withdraw_limits)
                .where(w.group.in_((group, ANY)), w.kyc_level.in_((kyc_level, ANY)))
                .order_by(weight.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return Limit(None, group, kyc_level, ZERO, ZERO)
    return Limit(
        row["id"], row["group"], row["kyc_level"], row["limit_24_hour"], row["limit_1_month"]
    )


async def prices(session: AsyncSession, codes: list[str], platform: str) -> dict[str, Decimal]:
    """Each currency's value in ``platform`` (1 for the platform itself); a currency with
    no traded market against the platform is missing."""
    found = {code: Decimal(1) for code in codes if code == platform}
    wanted = [code for code in codes if code != platform]
    if not wanted:
        return found
    last = (
        select(trades.c.price)
        .where(trades.c.market_id == markets.c.id)
        .order_by(trades.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(markets.c.base_unit, markets.c.quote_unit, last.label("last")).where(
            or_(
                and_(markets.c.base_unit.in_(wanted), markets.c.quote_unit == platform),
                and_(markets.c.quote_unit.in_(wanted), markets.c.base_unit == platform),
            )
        )
    )
    inverse: dict[str, Decimal] = {}
    for base, quote, price in rows:
        if price is None or price <= 0:
            continue
        if quote == platform:
            found[base] = price
        else:
            inverse[quote] = Decimal(1) / price
    return inverse | found  # a direct market wins over an inverse one


async def valued(
    session: AsyncSession,
    member_id: int,
    platform: str,
    now: datetime,
    extra: tuple[str, Decimal] | None = None,
) -> Valued:
    """The member's counted withdrawals of the last day and month in ``platform``, with
    ``extra`` (currency, amount) counted in both as the one being asked for."""
    w = withdraws.c
    in_day = case((w.created_at > now - DAY, w.amount), else_=literal(0))
    rows = await session.execute(
        select(w.currency_id, func.sum(in_day), func.sum(w.amount))
        .where(
            w.member_id == member_id,
            w.state.notin_(NOT_COUNTED),
            w.created_at > now - MONTH,
        )
        .group_by(w.currency_id)
    )
    amounts = {code: (Decimal(day), Decimal(month)) for code, day, month in rows}
    if extra is not None:
        code, amount = extra
        day, month = amounts.get(code, (ZERO, ZERO))
        amounts[code] = (day + amount, month + amount)
    price = await prices(session, sorted(amounts), platform)
    unpriced = tuple(code for code, (_, month) in amounts.items() if month and code not in price)
    day_value = sum((day * price[c] for c, (day, _) in amounts.items() if c in price), ZERO)
    month_value = sum((month * price[c] for c, (_, month) in amounts.items() if c in price), ZERO)
    return Valued(day_value, month_value, tuple(sorted(unpriced)))


async def check(
    session: AsyncSession,
    member_id: int,
    currency: str,
    amount: Decimal,
    platform: str,
    now: datetime,
) -> None:
    """Refuse a withdrawal of ``amount`` that would take the member over their limits
    (the caller holds the member's withdrawal lock)."""
    limit = await limit_of(session, member_id)
    if not limit.applies:
        return
    found = await valued(session, member_id, platform, now, (currency, amount))
    if found.unpriced:
        raise LimitRefused("account.withdraw.limit_unpriced")
    if limit.limit_24_hour > 0 and found.last_24_hours > limit.limit_24_hour:
        raise LimitRefused("account.withdraw.limit_24_hour_exceeded")
    if limit.limit_1_month > 0 and found.last_1_month > limit.limit_1_month:
        raise LimitRefused("account.withdraw.limit_1_month_exceeded")
