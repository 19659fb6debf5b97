"""The Peatio admin API's finance records (``/api/v2/peatio/admin``): members and their
accounts, the ledger's operations by family (assets, liabilities, revenues, expenses), and
Bursa's ledger verification (``bursa ledger verify`` over HTTP)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.api.deps import Session
from bursa.api.errors import NOT_FOUND, ApiError, error_code
from bursa.api.peatio.admin import present
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.lists import (
    AdminList,
    CurrencyId,
    Email,
    Uid,
    currency_of,
    member_filter,
    sort_by,
)
from bursa.api.peatio.admin.schemas import (
    AdminMember,
    AdminOperation,
    CurrencyTotals,
    LedgerProblem,
    LedgerVerification,
)
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Errors
from bursa.formats import decimal_text, iso
from bursa.identity import directory
from bursa.ledger.verify import verify_ledger
from bursa.plain_input import PlainInt
from bursa.trading import admin_queries as queries
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422)
}
ROLES = (
    "superadmin",
    "admin",
    "technical",
    "accountant",
    "compliance",
    "support",
    "member",
    "broker",
    "trader",
    "maker",
    "reporter",
    "sa_maker",
)
MOST_PROBLEMS = 1000  # a broken ledger can break everywhere; the count tells the rest

List = Annotated[AdminList, Depends()]
MemberReader = Annotated[Actor, Depends(admin_gate("read", "Member"))]
OperationsReader = Annotated[Actor, Depends(admin_gate("read", "Operations"))]
LedgerReader = Annotated[Actor, Depends(admin_gate("read", "Ledger"))]


# ---------------------------------------------------------------------- members


@router.get("/members", summary="Every member, with their accounts", responses=_ERRORS)
async def list_members(
    _: MemberReader,
    session: Session,
    response: Response,
    params: List,
    state: Annotated[
        str | None, Query(max_length=16, json_schema_extra=error_code("admin.member.invalid_state"))
    ] = None,
    role: Annotated[
        Literal[ROLES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code("admin.member.invalid_role")),
    ] = None,
    group: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code("admin.member.invalid_group")),
    ] = None,
    email: Email = None,
    uid: Annotated[
        str | None, Query(max_length=16, json_schema_extra=error_code("admin.member.invalid_uid"))
    ] = None,
    order_by: Annotated[
        Literal["id", "created_at", "updated_at", "email", "uid"],
        sort_by("id", "created_at", "updated_at", "email", "uid"),
    ] = "id",
) -> list[AdminMember]:
    """Members are Barong's users (staff included); ``group`` is their fee group."""
    listing = params.listing(order_by)
    ids, excluding = (None, False)
    if group is not None:
        found_ids, excluding = await queries.group_members(session, group.strip().lower())
        ids = tuple(found_ids)
    found = await directory.members(
        session,
        directory.MemberFilter(
            state=state,
            role=role,
            email=email,
            uid=uid,
            time_from=listing.time_from,
            time_to=listing.time_to,
            updated=listing.updated,
            ids=ids,
            excluding=excluding,
            order_by=order_by,
            ascending=listing.ascending,
        ),
        limit=params.limit,
        page=params.page,
    )
    members = [row["id"] for row in found.rows]
    held = await queries.accounts_of(session, members)
    groups = await queries.groups_of(session, members)
    paginate(response, found.total, params.page, params.limit)
    return [present.member(row, groups[row["id"]], held[row["id"]]) for row in found.rows]


@router.get("/members/{uid}", summary="One member, with their accounts", responses=_ERRORS)
async def get_member(
    _: MemberReader,
    session: Session,
    uid: Annotated[str, Path(max_length=16, json_schema_extra=error_code(NOT_FOUND))],
) -> AdminMember:
    row = await directory.member(session, uid)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    held = await queries.accounts_of(session, [row["id"]])
    groups = await queries.groups_of(session, [row["id"]])
    return present.member(row, groups[row["id"]], held[row["id"]])


# ---------------------------------------------------------------------- operations


@dataclass(frozen=True)
class OperationFilters:
    """What every operations list filters on (FastAPI reads them from the query)."""

    currency: CurrencyId = None
    code: Annotated[
        PlainInt | None,
        Query(ge=0, le=32767, json_schema_extra=error_code("admin.operation.invalid_code")),
    ] = None
    reference_type: Annotated[
        str | None,
        Query(
            max_length=16, json_schema_extra=error_code("admin.operation.invalid_reference_type")
        ),
    ] = None
    rid: Annotated[
        str | None,
        Query(max_length=64, json_schema_extra=error_code("admin.operation.invalid_rid")),
    ] = None
    order_by: Annotated[Literal["id", "created_at"], sort_by("id", "created_at")] = "id"


Filters = Annotated[OperationFilters, Depends()]


async def _operations(
    session: Session,
    response: Response,
    params: AdminList,
    filters: OperationFilters,
    family: str,
    member_id: int | None = None,
) -> list[AdminOperation]:
    found = await queries.operations_of(
        session,
        queries.OperationFilter(
            family=family,
            currency=await currency_of(session, filters.currency),
            code=filters.code,
            reference_type=filters.reference_type,
            rid=filters.rid,
            member_id=member_id,
            listing=params.listing(filters.order_by),
        ),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    people = await directory.people(session, (row["member_id"] for row in found.rows))
    return [present.operation(row, people) for row in found.rows]


def _platform(family: str) -> Callable[..., Awaitable[list[AdminOperation]]]:
    async def operations(
        _: OperationsReader, session: Session, response: Response, params: List, filters: Filters
    ) -> list[AdminOperation]:
        return await _operations(session, response, params, filters, family)

    return operations


for _family, _path in (("asset", "/assets"), ("revenue", "/revenues"), ("expense", "/expenses")):
    router.add_api_route(
        _path,
        _platform(_family),
        methods=["GET"],
        summary=f"Operations of the platform's {_family} accounts",
        responses=_ERRORS,
        operation_id=f"list_admin_{_path.strip('/')}",
    )


@router.get(
    "/liabilities",
    summary="Operations of the members' accounts (main and locked)",
    responses=_ERRORS,
)
async def liabilities(
    _: OperationsReader,
    session: Session,
    response: Response,
    params: List,
    filters: Filters,
    uid: Uid = None,
) -> list[AdminOperation]:
    member_id, _nobody = await member_filter(session, uid)
    return await _operations(session, response, params, filters, "liability", member_id)


# ---------------------------------------------------------------------- verification


@router.get(
    "/ledger/verification",
    summary="Check the ledger's invariants in one read-only snapshot",
    responses=_ERRORS,
)
async def verify(_: LedgerReader, session: Session) -> LedgerVerification:
    """Bursa's addition: per currency, assets = liabilities + revenues − expenses; every
    account equals its operations; locked equals open orders and held withdrawals; nothing
    negative (what ``bursa ledger verify`` prints)."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    checked_at = datetime.now(UTC)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        report = await verify_ledger(raw.driver_connection)
    return LedgerVerification(
        ok=report.ok,
        checked_at=iso(checked_at),
        accounts_checked=report.accounts_checked,
        totals=[
            CurrencyTotals(
                currency=t.currency,
                assets=decimal_text(t.assets),
                liabilities=decimal_text(t.liabilities),
                revenues=decimal_text(t.revenues),
                expenses=decimal_text(t.expenses),
            )
            for t in report.totals
        ],
        problems=[
            LedgerProblem(
                check=b.check,
                currency=b.currency,
                member_id=b.member_id,
                expected=decimal_text(b.expected),
                found=decimal_text(b.found),
            )
            for b in report.breaks[:MOST_PROBLEMS]
        ],
    )
