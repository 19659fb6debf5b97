"""Trading fees by market and member group, and members' fee groups (the admin API's
``trading_fees`` and ``members/{uid}``, the Management API's ``members``).

Both live in the engine: every change is one ``SetTradingFee`` or ``SetMemberGroup``,
which the engine applies to new orders at once and writes to ``trading_fees`` and
``member_groups`` in the batch that logs it. Changes hold the configuration lock
(``config_changes``), and the audit entry joins the request's transaction once the engine
has committed; the transaction is committed at the boundary, never here.

``users`` is identity's table, named here by the columns read only (``trading`` and
``identity`` are independent), as ``confirmations`` names custody's ``blockchains``.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import BigInteger, String, column, select, table, union
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.engine.commands import SetMemberGroup, SetTradingFee
from bursa.engine.specs import ANY, DEFAULT_GROUP
from bursa.engine.tables import member_groups, trading_fees
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.trading import audit
from bursa.trading.admin_queries import Listing, ordered
from bursa.trading.audit import Actor
from bursa.trading.config_changes import (
    NOT_FOUND,
    Submit,
    change_key,
    hold_configuration_lock,
    submit_configuration,
)
from bursa.trading.market_config import FEE_PLACES

ALREADY_EXISTS = "admin.trading_fee.already_exists"
REMOVE = -1  # maker and taker of a ``SetTradingFee`` that removes the entry

_users = table("users", column("id", BigInteger), column("uid", String), column("email", String))


class FeeFields(TypedDict, total=False):
    """What a request sets on a trading fee entry (a field left out keeps its value)."""

    market_id: str  # a market's symbol, or ``any``
    group: str  # a member group, or ``any``
    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class GroupedMember:
    uid: str
    email: str
    group: str


# ---------------------------------------------------------------------- trading fees


async def listed(
    session: AsyncSession,
    *,
    group: str | None,
    market_id: str | None,
    limit: int,
    page: int,
    sorting: Listing | None = None,
) -> Page:
    """Stored entries (any case of ``group`` and ``market_id``), oldest first unless
    ``sorting`` says otherwise."""
    query = select(trading_fees)
    if group is not None:
        query = query.where(trading_fees.c.group == group.lower())
    if market_id is not None:
        query = query.where(trading_fees.c.market_id == market_id.lower())
    sorting = sorting or Listing()
    column = trading_fees.c
    return await page_of(
        session, ordered(query, sorting, column[sorting.order_by], column.id), limit, page
    )


async def create_fee(
    session: AsyncSession, submit: Submit, actor: Actor, fields: FeeFields
) -> dict[str, Any]:
    """Add the entry of ``fields``' market and group (``any`` where not given); refused if
    that pair has one. The entry as stored."""
    entry = {"market_id": ANY, "group": ANY, **fields}
    command = _command(entry)
    await hold_configuration_lock(session)
    if await _entry_at(session, command.market, command.group) is not None:
        raise BursaError(Refusal.INVALID, ALREADY_EXISTS)
    await submit_configuration(submit, command)
    after = await _entry_at(session, command.market, command.group)
    assert after is not None  # the engine wrote it in the commit it answered after
    await audit.record(
        session, actor, "trading_fee.create", "trading_fee", after["id"], after=after
    )
    return after


async def update_fee(
    session: AsyncSession, submit: Submit, actor: Actor, fee_id: int, fields: FeeFields
) -> dict[str, Any]:
    """Change entry ``fee_id``; moved to another market or group, it is removed from the
    old pair (refused if the new pair has an entry). The entry as stored after."""
    await hold_configuration_lock(session)
    before = await _stored(session, fee_id)
    command = _command({**before, **fields})
    moved = (command.market, command.group) != (before["market_id"], before["group"])
    if moved and await _entry_at(session, command.market, command.group) is not None:
        raise BursaError(Refusal.INVALID, ALREADY_EXISTS)
    await submit_configuration(submit, command)
    if moved:
        await submit_configuration(submit, _removal(before))
    after = await _entry_at(session, command.market, command.group)
    assert after is not None
    await audit.record(
        session, actor, "trading_fee.update", "trading_fee", after["id"], before=before, after=after
    )
    return after


async def delete_fee(
    session: AsyncSession, submit: Submit, actor: Actor, fee_id: int
) -> dict[str, Any]:
    """Remove entry ``fee_id``; the entry as it was."""
    await hold_configuration_lock(session)
    before = await _stored(session, fee_id)
    await submit_configuration(submit, _removal(before))
    await audit.record(
        session, actor, "trading_fee.delete", "trading_fee", before["id"], before=before
    )
    return before


def _command(entry: dict[str, Any]) -> SetTradingFee:
    """The entry's engine command; a rate finer than a millionth is refused (both named)."""
    rates: dict[str, int] = {}
    refused: list[str] = []
    for name in ("maker", "taker"):
        try:
            rates[name] = to_units(entry.get(name) or Decimal(0), FEE_PLACES)
        except OverPrecise:
            refused.append(f"admin.trading_fee.invalid_{name}")
    if refused:
        raise BursaError(Refusal.INVALID, *refused)
    return SetTradingFee(
        key=change_key("fee"), market=entry["market_id"], group=entry["group"], **rates
    )


def _removal(entry: dict[str, Any]) -> SetTradingFee:
    return SetTradingFee(
        key=change_key("fee"),
        market=entry["market_id"],
        group=entry["group"],
        maker=REMOVE,
        taker=REMOVE,
    )


async def _stored(session: AsyncSession, fee_id: int) -> dict[str, Any]:
    query = select(trading_fees).where(trading_fees.c.id == fee_id)
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return dict(row)


async def _entry_at(session: AsyncSession, market: str, group: str) -> dict[str, Any] | None:
    query = select(trading_fees).where(
        trading_fees.c.market_id == market, trading_fees.c.group == group
    )
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row is not None else None


# ---------------------------------------------------------------------- member groups


async def groups_in_use(session: AsyncSession) -> list[str]:
    """The default group, every member's, and every group a trading fee names."""
    found = await session.scalars(
        union(
            select(member_groups.c.group),
            select(trading_fees.c.group).where(trading_fees.c.group != ANY),
        )
    )
    return sorted({DEFAULT_GROUP, *found})


async def put_in_group(
    session: AsyncSession, submit: Submit, actor: Actor, uid: str, group: str
) -> GroupedMember:
    """Put member ``uid`` in fee ``group`` (the engine refuses a name that is not one): their
    new orders get that group's fees."""
    await hold_configuration_lock(session)
    query = select(_users.c.id, _users.c.uid, _users.c.email).where(_users.c.uid == uid)
    user = (await session.execute(query)).mappings().first()
    if user is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    before = await session.scalar(
        select(member_groups.c.group).where(member_groups.c.member_id == user["id"])
    )
    await submit_configuration(
        submit, SetMemberGroup(key=change_key("group"), member_id=user["id"], group=group)
    )
    await audit.record(
        session,
        actor,
        "member.group",
        "member",
        uid,
        before={"group": before or DEFAULT_GROUP},
        after={"group": group},
    )
    return GroupedMember(uid=user["uid"], email=user["email"], group=group)
