"""The Peatio admin API's withdrawal limits by member group and KYC level
(``/api/v2/peatio/admin/withdraw_limits``). Limits live in the database only (the engine
never reads them: ``bursa.custody.withdraw_limits`` checks them when a member asks to
withdraw), so a change is one transaction holding the configuration lock, with its audit
entry."""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Session
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import ERRORS, Limit, PageNumber, change, row_of
from bursa.api.peatio.admin.fees import valid_group
from bursa.api.peatio.admin.params import Params
from bursa.api.peatio.params import paginate, read_body
from bursa.custody.withdraw_limit_tables import withdraw_limits
from bursa.db.metadata import AMOUNT_SCALE
from bursa.db.pages import page_of
from bursa.engine.specs import ANY
from bursa.engine.units import OverPrecise, to_units
from bursa.events.records import decimal_text, iso
from bursa.ledger.tables import currencies
from bursa.plain_input import PlainInt, is_digits, parse_digits
from bursa.trading import audit
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["admin"])

ReadLimit = Annotated[Actor, Depends(admin_gate("read", "WithdrawLimit"))]
ManageLimit = Annotated[Actor, Depends(admin_gate("manage", "WithdrawLimit"))]
RECORD = "withdraw_limit"
MOST_LEVEL = 32767  # users.level is a SMALLINT
MOST_LIMIT = Decimal(10) ** 21  # NUMERIC(40, 18) holds 22 integer digits
LimitId = Annotated[
    PlainInt,
    Path(
        ge=1,
        le=2**63 - 1,
        json_schema_extra=error_code(
            "admin.withdraw_limit.invalid_id", non_integer="admin.withdraw_limit.invalid_id"
        ),
    ),
]


class WithdrawLimit(BaseModel):
    """Peatio's WithdrawLimit: limits in the platform currency, ``0`` for none."""

    id: int
    group: str
    kyc_level: str
    limit_24_hour: str
    limit_1_month: str
    created_at: str
    updated_at: str


def _present(row: Any) -> WithdrawLimit:
    return WithdrawLimit(
        id=row["id"],
        group=row["group"],
        kyc_level=row["kyc_level"],
        limit_24_hour=decimal_text(row["limit_24_hour"]),
        limit_1_month=decimal_text(row["limit_1_month"]),
        created_at=iso(row["created_at"]) or "",
        updated_at=iso(row["updated_at"]) or "",
    )


@router.get("/withdraw_limits", summary="Withdrawal limits by group and KYC level")
async def list_withdraw_limits(
    _: ReadLimit,
    session: Session,
    response: Response,
    group: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code("admin.withdraw_limit.invalid_group")),
    ] = None,
    kyc_level: Annotated[
        str | None,
        Query(max_length=8, json_schema_extra=error_code("admin.withdraw_limit.invalid_kyc_level")),
    ] = None,
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[WithdrawLimit]:
    """A member gets the row of their group (or ``any``) and level (or ``any``), a level
    outweighing a group; no row, no limit."""
    query = select(withdraw_limits)
    if group is not None:
        query = query.where(withdraw_limits.c.group == group.strip().lower())
    if kyc_level is not None:
        query = query.where(withdraw_limits.c.kyc_level == kyc_level.strip().lower())
    found = await page_of(session, query.order_by(withdraw_limits.c.id), limit, page)
    paginate(response, found.total, page, limit)
    return [_present(row) for row in found.rows]


def _key(params: Params, current: dict[str, Any]) -> tuple[str, str]:
    group = params.text("group", max_length=32, lower=True)
    group = current["group"] if group is None else group
    if group != ANY and not valid_group(group):
        params.errors.append("admin.withdraw_limit.invalid_group")
    level = params.body.get("kyc_level")
    if level is None:
        return group, current["kyc_level"]
    if isinstance(level, str) and level.strip().lower() == ANY:
        return group, ANY
    number = level if isinstance(level, int) and not isinstance(level, bool) else None
    if isinstance(level, str) and is_digits(level) and len(level) <= 5:
        number = parse_digits(level)
    if number is None or not 0 <= number <= MOST_LEVEL:
        params.errors.append("admin.withdraw_limit.invalid_kyc_level")
        return group, current["kyc_level"]
    return group, str(number)


async def _limits(
    params: Params, request: Request, session: AsyncSession, current: dict[str, Any]
) -> dict[str, Decimal]:
    """Non-negative amounts within the platform currency's precision (18 places if it is
    not configured); both required for a new limit (no ``current``)."""
    platform: str = request.app.state.platform_currency
    required = not current
    precision = await session.scalar(
        select(currencies.c.precision).where(currencies.c.id == platform)
    )
    found: dict[str, Decimal] = {}
    for name in ("limit_24_hour", "limit_1_month"):
        value = params.decimal(name, required=required, most=MOST_LIMIT)
        if value is not None:
            try:
                to_units(value, AMOUNT_SCALE if precision is None else precision)
            except OverPrecise:
                params.errors.append(f"admin.withdraw_limit.invalid_{name}")
        found[name] = current.get(name, Decimal(0)) if value is None else value
    return found


async def _stored(session: AsyncSession, limit_id: Any) -> dict[str, Any]:
    if isinstance(limit_id, str) and is_digits(limit_id) and len(limit_id) <= 19:
        limit_id = parse_digits(limit_id)
    if isinstance(limit_id, bool) or not isinstance(limit_id, int) or not 0 < limit_id < 2**63:
        raise ApiError(422, "admin.withdraw_limit.invalid_id")
    row = await row_of(session, withdraw_limits, withdraw_limits.c.id == limit_id)
    if row is None:
        raise ApiError(404, "record.not_found")
    return row


async def _taken(session: AsyncSession, group: str, kyc_level: str) -> bool:
    found = await row_of(
        session,
        withdraw_limits,
        withdraw_limits.c.group == group,
        withdraw_limits.c.kyc_level == kyc_level,
    )
    return found is not None


@router.post(
    "/withdraw_limits", status_code=201, summary="Add a withdrawal limit", responses=ERRORS
)
async def create_withdraw_limit(
    actor: ManageLimit, request: Request, session: Session
) -> WithdrawLimit:
    """Parameters: ``limit_24_hour`` and ``limit_1_month`` (required; in the platform
    currency, 0 for none), ``group`` and ``kyc_level`` (default ``any``)."""
    params = Params(await read_body(request), RECORD)
    async with change(session):
        group, kyc_level = _key(params, {"group": ANY, "kyc_level": ANY})
        amounts = await _limits(params, request, session, {})
        params.done()
        if await _taken(session, group, kyc_level):
            raise ApiError(422, "admin.withdraw_limit.already_exists")
        row = (
            (
                await session.execute(
                    insert(withdraw_limits)
                    .values(group=group, kyc_level=kyc_level, **amounts)
                    .returning(withdraw_limits)
                )
            )
            .mappings()
            .one()
        )
        created = dict(row)
        await audit.record(session, actor, f"{RECORD}.create", RECORD, created["id"], after=created)
    return _present(created)


@router.put("/withdraw_limits", summary="Change a withdrawal limit", responses=ERRORS)
async def update_withdraw_limit(
    actor: ManageLimit, request: Request, session: Session
) -> WithdrawLimit:
    """Parameters: ``id`` (required), and any of ``group``, ``kyc_level``,
    ``limit_24_hour``, ``limit_1_month``."""
    params = Params(await read_body(request), RECORD)
    async with change(session):
        before = await _stored(session, params.body.get("id"))
        group, kyc_level = _key(params, before)
        amounts = await _limits(params, request, session, before)
        params.done()
        moved = (group, kyc_level) != (before["group"], before["kyc_level"])
        if moved and await _taken(session, group, kyc_level):
            raise ApiError(422, "admin.withdraw_limit.already_exists")
        row = (
            (
                await session.execute(
                    update(withdraw_limits)
                    .where(withdraw_limits.c.id == before["id"])
                    .values(group=group, kyc_level=kyc_level, updated_at=func.now(), **amounts)
                    .returning(withdraw_limits)
                )
            )
            .mappings()
            .one()
        )
        after = dict(row)
        await audit.record(
            session, actor, f"{RECORD}.update", RECORD, after["id"], before=before, after=after
        )
    return _present(after)


@router.delete("/withdraw_limits/{id}", summary="Remove a withdrawal limit", responses=ERRORS)
async def delete_withdraw_limit(actor: ManageLimit, session: Session, id: LimitId) -> WithdrawLimit:
    """Answers the limit as it was."""
    async with change(session):
        before = await _stored(session, id)
        await session.execute(delete(withdraw_limits).where(withdraw_limits.c.id == id))
        await audit.record(session, actor, f"{RECORD}.delete", RECORD, id, before=before)
    return _present(before)
