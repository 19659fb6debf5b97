"""Withdrawal limits by member group and KYC level, as admins set them (the admin API's
``withdraw_limits``); ``withdraw_limits`` checks them when a member asks to withdraw.

Limits live in the database only (the engine never reads them), so a change is the
request's one transaction, holding the configuration lock, with its audit entry; it is
committed at the boundary, never here. Limits are amounts of the platform currency, exact
to its precision (18 places while it is not configured).
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.withdraw_limit_tables import withdraw_limits
from bursa.db.metadata import AMOUNT_SCALE
from bursa.db.pages import Page, page_of
from bursa.engine.specs import ANY
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies
from bursa.trading import audit
from bursa.trading.admin_queries import Listing, ordered
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND, hold_configuration_lock

RECORD = "withdraw_limit"
AMOUNTS = ("limit_24_hour", "limit_1_month")
ALREADY_EXISTS = "admin.withdraw_limit.already_exists"


class LimitFields(TypedDict, total=False):
    """What a request sets on a limit (a field left out keeps its value; a new limit's key
    is ``any`` where not given)."""

    group: str  # a member group, or ``any``
    kyc_level: str  # a level as text ("1", ...), or ``any``
    limit_24_hour: Decimal  # 0: no limit
    limit_1_month: Decimal


async def amount_places(session: AsyncSession, platform: str) -> int:
    """The decimals a limit may have: the platform currency's precision."""
    precision = await session.scalar(
        select(currencies.c.precision).where(currencies.c.id == platform)
    )
    return AMOUNT_SCALE if precision is None else int(precision)


def over_precise(amounts: Mapping[str, Any], places: int) -> list[str]:
    """The codes of the limits in ``amounts`` finer than ``places`` decimals."""
    refused = []
    for name in AMOUNTS:
        if name in amounts:
            try:
                to_units(amounts[name], places)
            except OverPrecise:
                refused.append(f"admin.{RECORD}.invalid_{name}")
    return refused


async def listed(
    session: AsyncSession,
    *,
    group: str | None,
    kyc_level: str | None,
    limit: int,
    page: int,
    sorting: Listing | None = None,
) -> Page:
    """The limits (of one ``group`` and ``kyc_level`` if given, any case), oldest first
    unless ``sorting`` says otherwise."""
    query = select(withdraw_limits)
    if group is not None:
        query = query.where(withdraw_limits.c.group == group.strip().lower())
    if kyc_level is not None:
        query = query.where(withdraw_limits.c.kyc_level == kyc_level.strip().lower())
    sorting = sorting or Listing()
    column = withdraw_limits.c
    return await page_of(
        session, ordered(query, sorting, column[sorting.order_by], column.id), limit, page
    )


async def create_limit(
    session: AsyncSession, actor: Actor, platform: str, fields: LimitFields
) -> dict[str, Any]:
    """Add the limit of ``fields``' group and level; refused if that pair has one."""
    await hold_configuration_lock(session)
    await _check_places(session, platform, fields)
    values: dict[str, Any] = {
        "group": ANY,
        "kyc_level": ANY,
        **dict.fromkeys(AMOUNTS, Decimal(0)),
        **fields,
    }
    if await _taken(session, values["group"], values["kyc_level"]):
        raise BursaError(Refusal.INVALID, ALREADY_EXISTS)
    inserted = await session.execute(
        insert(withdraw_limits).values(**values).returning(withdraw_limits)
    )
    created = dict(inserted.mappings().one())
    await audit.record(session, actor, f"{RECORD}.create", RECORD, created["id"], after=created)
    return created


async def update_limit(
    session: AsyncSession, actor: Actor, platform: str, limit_id: int, fields: LimitFields
) -> dict[str, Any]:
    """Change limit ``limit_id`` (refused if moved onto a pair that has one); as stored."""
    await hold_configuration_lock(session)
    before = await _stored(session, limit_id)
    await _check_places(session, platform, fields)
    changed = {**before, **fields}
    moved = (changed["group"], changed["kyc_level"]) != (before["group"], before["kyc_level"])
    if moved and await _taken(session, changed["group"], changed["kyc_level"]):
        raise BursaError(Refusal.INVALID, ALREADY_EXISTS)
    updated = await session.execute(
        update(withdraw_limits)
        .where(withdraw_limits.c.id == limit_id)
        .values(**fields, updated_at=func.now())
        .returning(withdraw_limits)
    )
    after = dict(updated.mappings().one())
    await audit.record(
        session, actor, f"{RECORD}.update", RECORD, limit_id, before=before, after=after
    )
    return after


async def delete_limit(session: AsyncSession, actor: Actor, limit_id: int) -> dict[str, Any]:
    """Remove limit ``limit_id``; the limit as it was."""
    await hold_configuration_lock(session)
    before = await _stored(session, limit_id)
    await session.execute(delete(withdraw_limits).where(withdraw_limits.c.id == limit_id))
    await audit.record(session, actor, f"{RECORD}.delete", RECORD, limit_id, before=before)
    return before


async def _check_places(session: AsyncSession, platform: str, fields: LimitFields) -> None:
    refused = over_precise(fields, await amount_places(session, platform))
    if refused:
        raise BursaError(Refusal.INVALID, *refused)


async def _stored(session: AsyncSession, limit_id: int) -> dict[str, Any]:
    query = select(withdraw_limits).where(withdraw_limits.c.id == limit_id)
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return dict(row)


async def _taken(session: AsyncSession, group: str, kyc_level: str) -> bool:
    query = select(withdraw_limits.c.id).where(
        withdraw_limits.c.group == group, withdraw_limits.c.kyc_level == kyc_level
    )
    return (await session.execute(query)).first() is not None
