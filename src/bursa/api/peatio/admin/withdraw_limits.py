"""The Peatio admin API's withdrawal limits by member group and KYC level
(``/api/v2/peatio/admin/withdraw_limits``). Limits live in the database only (the engine
never reads them: ``bursa.custody.withdraw_limits`` checks them when a member asks to
withdraw); ``bursa.custody.admin_withdraw_limits`` changes them under the configuration
lock, with the audit entry, in the request's one transaction."""

from decimal import Decimal
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bursa.api.bodies import body_of, codes
from bursa.api.deps import Session, Transaction
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import ERRORS
from bursa.api.peatio.admin.fields import MOST_ID, AdminBody, GroupOrAny, Quantity, field_codes
from bursa.api.peatio.admin.lists import Paging, sort_by
from bursa.api.peatio.params import paginate
from bursa.custody import admin_withdraw_limits as limits
from bursa.engine.specs import ANY
from bursa.formats import decimal_text, iso
from bursa.plain_input import PlainInt, is_digits, parse_digits
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["admin"])

ReadLimit = Annotated[Actor, Depends(admin_gate("read", "WithdrawLimit"))]
ManageLimit = Annotated[Actor, Depends(admin_gate("manage", "WithdrawLimit"))]
AREA = "admin.withdraw_limit"
MOST_LEVEL = 32767  # users.level is a SMALLINT
MOST_LIMIT = Decimal(10) ** 21  # NUMERIC(40, 18) holds 22 integer digits
LIMIT_FIELDS = set(limits.LimitFields.__annotations__)
LimitId = Annotated[
    PlainInt,
    Path(
        ge=1,
        le=MOST_ID,
        json_schema_extra=error_code(f"{AREA}.invalid_id", non_integer=f"{AREA}.invalid_id"),
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
        created_at=iso(row["created_at"]),
        updated_at=iso(row["updated_at"]),
    )


def _level(value: object) -> str:
    """A KYC level (a whole number up to ``MOST_LEVEL``) as text, or ``any``."""
    if isinstance(value, str) and value.strip().lower() == ANY:
        return ANY
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and is_digits(value) and len(value) <= 5:
        number = parse_digits(value)
    if number is None or not 0 <= number <= MOST_LEVEL:
        raise PydanticCustomError("invalid", "a level or any")
    return str(number)


KycLevel = Annotated[str, BeforeValidator(_level)]
Amount = Annotated[Quantity, Field(le=MOST_LIMIT)]


async def limit_places(request: Request, session: Transaction) -> dict[str, Any]:
    """The validation context of a limit's body: the decimals a limit may have."""
    platform: str = request.app.state.platform_currency
    return {"places": await limits.amount_places(session, platform)}


class _LimitBody(AdminBody):
    """What every limit body checks: amounts within the platform currency's precision
    (so that an amount too fine is answered with the other fields)."""

    @field_validator("limit_24_hour", "limit_1_month", check_fields=False)
    @classmethod
    def _within_places(cls, amount: Decimal | None, info: ValidationInfo) -> Decimal | None:
        places = (info.context or {}).get("places")
        if (
            amount is not None
            and places is not None
            and limits.over_precise({str(info.field_name): amount}, places)
        ):
            raise PydanticCustomError("invalid", "finer than the platform currency")
        return amount

    def fields(self) -> limits.LimitFields:
        return cast(limits.LimitFields, self.model_dump(include=LIMIT_FIELDS, exclude_none=True))


class NewWithdrawLimit(_LimitBody):
    """``POST withdraw_limits``: limits in the platform currency (0: none); ``group`` and
    ``kyc_level`` are ``any`` where not given."""

    group: GroupOrAny | None = Field(default=None, json_schema_extra=codes(f"{AREA}.invalid_group"))
    kyc_level: KycLevel | None = Field(
        default=None, json_schema_extra=codes(f"{AREA}.invalid_kyc_level")
    )
    limit_24_hour: Amount = Field(json_schema_extra=field_codes("withdraw_limit", "limit_24_hour"))
    limit_1_month: Amount = Field(json_schema_extra=field_codes("withdraw_limit", "limit_1_month"))


class WithdrawLimitChange(_LimitBody):
    """``PUT withdraw_limits``: the limit's ``id`` and what changes."""

    id: Annotated[PlainInt, Field(ge=1, le=MOST_ID)] = Field(
        json_schema_extra=codes(f"{AREA}.invalid_id")
    )
    group: GroupOrAny | None = Field(default=None, json_schema_extra=codes(f"{AREA}.invalid_group"))
    kyc_level: KycLevel | None = Field(
        default=None, json_schema_extra=codes(f"{AREA}.invalid_kyc_level")
    )
    limit_24_hour: Amount | None = Field(
        default=None, json_schema_extra=codes(f"{AREA}.invalid_limit_24_hour")
    )
    limit_1_month: Amount | None = Field(
        default=None, json_schema_extra=codes(f"{AREA}.invalid_limit_1_month")
    )


@router.get("/withdraw_limits", summary="Withdrawal limits by group and KYC level")
async def list_withdraw_limits(
    _: ReadLimit,
    session: Session,
    response: Response,
    params: Paging,
    group: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code(f"{AREA}.invalid_group")),
    ] = None,
    kyc_level: Annotated[
        str | None,
        Query(max_length=8, json_schema_extra=error_code(f"{AREA}.invalid_kyc_level")),
    ] = None,
    order_by: Annotated[
        Literal["id", "group", "kyc_level", "created_at", "updated_at"],
        sort_by("id", "group", "kyc_level", "created_at", "updated_at"),
    ] = "id",
) -> list[WithdrawLimit]:
    """A member gets the row of their group (or ``any``) and level (or ``any``), a level
    outweighing a group; no row, no limit."""
    found = await limits.listed(
        session,
        group=group,
        kyc_level=kyc_level,
        limit=params.limit,
        page=params.page,
        sorting=params.sorting(order_by),
    )
    paginate(response, found.total, params.page, params.limit)
    return [_present(row) for row in found.rows]


def _platform(request: Request) -> str:
    platform: str = request.app.state.platform_currency
    return platform


@router.post(
    "/withdraw_limits", status_code=201, summary="Add a withdrawal limit", responses=ERRORS
)
async def create_withdraw_limit(
    actor: ManageLimit,
    body: Annotated[NewWithdrawLimit, body_of(NewWithdrawLimit, context=limit_places)],
    request: Request,
    session: Transaction,
) -> WithdrawLimit:
    created = await limits.create_limit(session, actor, _platform(request), body.fields())
    return _present(created)


@router.put("/withdraw_limits", summary="Change a withdrawal limit", responses=ERRORS)
async def update_withdraw_limit(
    actor: ManageLimit,
    body: Annotated[WithdrawLimitChange, body_of(WithdrawLimitChange, context=limit_places)],
    request: Request,
    session: Transaction,
) -> WithdrawLimit:
    changed = await limits.update_limit(session, actor, _platform(request), body.id, body.fields())
    return _present(changed)


@router.delete("/withdraw_limits/{id}", summary="Remove a withdrawal limit", responses=ERRORS)
async def delete_withdraw_limit(
    actor: ManageLimit, session: Transaction, id: LimitId
) -> WithdrawLimit:
    """Answers the limit as it was."""
    return _present(await limits.delete_limit(session, actor, id))
