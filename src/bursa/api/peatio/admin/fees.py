"""The Peatio admin API's trading fees by market and member group, and members' fee groups
(``/api/v2/peatio/admin``). Both change only through engine commands (``SetTradingFee``,
``SetMemberGroup``), which the engine applies to new orders at once and writes to
``trading_fees`` and ``member_groups``; every change is in the audit log."""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api import present
from bursa.api.deps import Runner, Session
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import (
    ERRORS,
    MAX_FEE,
    Limit,
    PageNumber,
    change,
    change_key,
    row_of,
    submit_change,
)
from bursa.api.peatio.admin.params import Params
from bursa.api.peatio.params import paginate, read_body
from bursa.api.schemas import TradingFee
from bursa.db.pages import page_of
from bursa.engine.commands import SetMemberGroup, SetTradingFee
from bursa.engine.specs import ANY, DEFAULT_GROUP
from bursa.engine.tables import member_groups, trading_fees
from bursa.engine.units import OverPrecise, to_units
from bursa.identity.tables import users
from bursa.plain_input import is_digits, parse_digits
from bursa.trading import audit
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["admin"])

ReadFee = Annotated[Actor, Depends(admin_gate("read", "TradingFee"))]
ManageFee = Annotated[Actor, Depends(admin_gate("manage", "TradingFee"))]
ReadMember = Annotated[Actor, Depends(admin_gate("read", "Member"))]
ManageMember = Annotated[Actor, Depends(admin_gate("manage", "Member"))]


class MemberGroup(BaseModel):
    uid: str
    email: str
    group: str


# ---------------------------------------------------------------------- trading fees


def _fee(row: Any) -> TradingFee:
    return present.trading_fee({**row, "market_type": "spot"})


@router.get("/trading_fees", summary="Stored trading fee entries", responses=ERRORS)
async def list_trading_fees(
    _: ReadFee,
    session: Session,
    response: Response,
    group: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code("admin.trading_fee.invalid_group")),
    ] = None,
    market_id: Annotated[
        str | None,
        Query(max_length=20, json_schema_extra=error_code("admin.trading_fee.invalid_market_id")),
    ] = None,
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[TradingFee]:
    """Entries by market (or ``any``) and group (or ``any``); a member's order gets the
    most specific one (group before market), else its market's own fees."""
    query = select(trading_fees)
    if group is not None:
        query = query.where(trading_fees.c.group == group.lower())
    if market_id is not None:
        query = query.where(trading_fees.c.market_id == market_id.lower())
    found = await page_of(session, query.order_by(trading_fees.c.id), limit, page)
    paginate(response, found.total, page, limit)
    return [_fee(row) for row in found.rows]


def _fee_key(params: Params, runner: Runner, current: dict[str, Any]) -> tuple[str, str]:
    group = params.text("group", max_length=32, lower=True)
    market = params.text("market_id", max_length=20, lower=True)
    group = current["group"] if group is None else group
    market = current["market_id"] if market is None else market
    if group != ANY and not valid_group(group):
        params.errors.append("admin.trading_fee.invalid_group")
    if market != ANY and market not in runner.engine.markets:
        params.errors.append("admin.trading_fee.invalid_market_id")
    return market, group


def valid_group(group: str) -> bool:
    return 0 < len(group) <= 32 and all(c.isascii() and (c.isalnum() or c in "_-") for c in group)


def _fee_rates(params: Params, current: dict[str, Any], required: bool) -> tuple[int, int]:
    rates = []
    for name in ("maker", "taker"):
        value = params.decimal(name, required=required, most=MAX_FEE)
        value = current.get(name) if value is None else value
        try:
            rates.append(to_units(value or Decimal(0), 6))
        except OverPrecise:
            params.errors.append(f"admin.trading_fee.invalid_{name}")
            rates.append(0)
    return rates[0], rates[1]


async def _stored_fee(session: AsyncSession, fee_id: Any) -> dict[str, Any]:
    if isinstance(fee_id, str) and is_digits(fee_id) and len(fee_id) <= 19:
        fee_id = parse_digits(fee_id)
    if isinstance(fee_id, bool) or not isinstance(fee_id, int) or not 0 < fee_id < 2**63:
        raise ApiError(422, "admin.trading_fee.invalid_id")
    row = await row_of(session, trading_fees, trading_fees.c.id == fee_id)
    if row is None:
        raise ApiError(404, "record.not_found")
    return row


async def _remove_fee(runner: Runner, entry: dict[str, Any]) -> None:
    removal = SetTradingFee(
        key=change_key("fee"), market=entry["market_id"], group=entry["group"], maker=-1, taker=-1
    )
    await submit_change(runner, removal)


async def _fee_at(session: AsyncSession, market: str, group: str) -> dict[str, Any] | None:
    return await row_of(
        session, trading_fees, trading_fees.c.market_id == market, trading_fees.c.group == group
    )


@router.post(
    "/trading_fees/new", status_code=201, summary="Add a trading fee entry", responses=ERRORS
)
async def create_trading_fee(
    actor: ManageFee, request: Request, runner: Runner, session: Session
) -> TradingFee:
    """Parameters: ``maker`` and ``taker`` (required, 0–0.5, up to 6 decimals), ``group``
    and ``market_id`` (default ``any``)."""
    params = Params(await read_body(request), "trading_fee")
    market, group = _fee_key(params, runner, {"group": ANY, "market_id": ANY})
    maker, taker = _fee_rates(params, {}, required=True)
    params.done()
    async with change(session):
        if await _fee_at(session, market, group) is not None:
            raise ApiError(422, "admin.trading_fee.already_exists")
        await submit_change(
            runner,
            SetTradingFee(
                key=change_key("fee"), market=market, group=group, maker=maker, taker=taker
            ),
        )
        row = await _fee_at(session, market, group)
        assert row is not None
        await audit.record(
            session, actor, "trading_fee.create", "trading_fee", row["id"], after=row
        )
    return _fee(row)


@router.post(
    "/trading_fees/update", status_code=201, summary="Change a trading fee entry", responses=ERRORS
)
async def update_trading_fee(
    actor: ManageFee, request: Request, runner: Runner, session: Session
) -> TradingFee:
    """Parameters: ``id`` (required), and any of ``maker``, ``taker``, ``group``,
    ``market_id``."""
    body = await read_body(request)
    async with change(session):
        before = await _stored_fee(session, body.get("id"))
        params = Params(body, "trading_fee")
        market, group = _fee_key(params, runner, before)
        maker, taker = _fee_rates(params, before, required=False)
        params.done()
        moved = (market, group) != (before["market_id"], before["group"])
        if moved and await _fee_at(session, market, group) is not None:
            raise ApiError(422, "admin.trading_fee.already_exists")
        await submit_change(
            runner,
            SetTradingFee(
                key=change_key("fee"), market=market, group=group, maker=maker, taker=taker
            ),
        )
        if moved:
            await _remove_fee(runner, before)
        after = await _fee_at(session, market, group)
        assert after is not None
        await audit.record(
            session,
            actor,
            "trading_fee.update",
            "trading_fee",
            after["id"],
            before=before,
            after=after,
        )
    return _fee(after)


@router.post(
    "/trading_fees/delete", status_code=201, summary="Remove a trading fee entry", responses=ERRORS
)
async def delete_trading_fee(
    actor: ManageFee, request: Request, runner: Runner, session: Session
) -> TradingFee:
    """Parameters: ``id`` (required). Answers the entry as it was."""
    body = await read_body(request)
    async with change(session):
        before = await _stored_fee(session, body.get("id"))
        await _remove_fee(runner, before)
        await audit.record(
            session, actor, "trading_fee.delete", "trading_fee", before["id"], before=before
        )
    return _fee(before)


# ---------------------------------------------------------------------- member groups


@router.get("/members/groups", summary="Member groups in use", responses=ERRORS)
async def list_groups(_: ReadMember, session: Session) -> list[str]:
    """The default group, every member's, and every group a trading fee names."""
    found = await session.scalars(
        union(
            select(member_groups.c.group),
            select(trading_fees.c.group).where(trading_fees.c.group != ANY),
        )
    )
    return sorted({DEFAULT_GROUP, *found})


Uid = Annotated[str, Path(max_length=32, json_schema_extra=error_code("admin.member.invalid_uid"))]


@router.put("/members/{uid}", summary="Put a member in a fee group", responses=ERRORS)
async def set_group(
    actor: ManageMember, uid: Uid, request: Request, runner: Runner, session: Session
) -> MemberGroup:
    """Parameters: ``group`` (required: 1–32 lower-case letters, digits, ``_`` or ``-``;
    the default group is ``vip-0``). The member's new orders get that group's fees."""
    return await put_in_group(uid, await read_body(request), actor, runner, session)


async def put_in_group(
    uid: str, body: dict[str, Any], actor: Actor, runner: Runner, session: Session
) -> MemberGroup:
    """``PUT members/{uid}`` (also the Management API's ``members/group``)."""
    params = Params(body, "member")
    group = params.text("group", required=True, max_length=32, lower=True)
    if group is not None and (group == ANY or not valid_group(group)):
        params.errors.append("admin.member.invalid_group")
    params.done()
    assert group is not None
    async with change(session):
        user = await row_of(session, users, users.c.uid == uid)
        if user is None:
            raise ApiError(404, "record.not_found")
        before = await session.scalar(
            select(member_groups.c.group).where(member_groups.c.member_id == user["id"])
        )
        await submit_change(
            runner, SetMemberGroup(key=change_key("group"), member_id=user["id"], group=group)
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
    return MemberGroup(uid=user["uid"], email=user["email"], group=group)
