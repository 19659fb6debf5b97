"""Peatio's adjustments (``/api/v2/peatio/admin/adjustments``), maker/checker: one admin
proposes a correction (``new``: ``pending``), another accepts or rejects it (``action``).

The routes read the request (form, JSON or query: one model each) and present the answer;
the rules, the engine step and the audit entry are ``bursa.trading.adjustments``'s, in
the request's one transaction.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.bodies import Amount, body_of, codes
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.errors import NOT_FOUND, ApiError, error_code
from bursa.api.peatio.admin import present
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.lists import AdminList, CurrencyId, currency_of, sort_by
from bursa.api.peatio.admin.schemas import Adjustment
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Errors
from bursa.engine.commands import Command
from bursa.identity import directory
from bursa.plain_input import PlainInt
from bursa.trading import adjustments
from bursa.trading import admin_queries as queries
from bursa.trading.audit import Actor
from bursa.trading.orders import submit

router = APIRouter(prefix=f"{PREFIX}/adjustments", tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
AREA = adjustments.AREA
MOST_ID = 2**63 - 1
MOST_DIGITS = 30  # of an amount's integer part: far beyond any real correction
MOST_REASON, MOST_DESCRIPTION = 255, 4096

Reader = Annotated[Actor, Depends(admin_gate("read", "Adjustment"))]
Manager = Annotated[Actor, Depends(admin_gate("manage", "Adjustment"))]


async def _shown(session: Session, rows: list[Any]) -> list[Adjustment]:
    """The adjustments with the postings the engine made for the accepted ones."""
    keys = [adjustments.engine_key(r) for r in rows if r["state"] == adjustments.ACCEPTED]
    posted = await queries.operations_by_reference(session, adjustments.REFERENCE_TYPE, keys)
    return [present.adjustment(r, posted.get(adjustments.engine_key(r), [])) for r in rows]


@router.get("", summary="Adjustments", responses=_ERRORS)
async def list_adjustments(
    _: Reader,
    session: Session,
    response: Response,
    params: Annotated[AdminList, Depends()],
    currency: CurrencyId = None,
    state: Annotated[
        Literal["pending", "accepted", "rejected"] | None,
        Query(json_schema_extra=error_code(f"{AREA}.invalid_state")),
    ] = None,
    category: Annotated[
        Literal[adjustments.CATEGORIES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code(f"{AREA}.invalid_category")),
    ] = None,
    order_by: Annotated[
        Literal["id", "created_at", "updated_at", "amount"],
        sort_by("id", "created_at", "updated_at", "amount"),
    ] = "id",
) -> list[Adjustment]:
    found = await adjustments.listed(
        session,
        adjustments.AdjustmentFilter(
            currency=await currency_of(session, currency),
            state=state,
            category=category,
            listing=params.listing(order_by),
        ),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    return await _shown(session, list(found.rows))


@router.get("/{id}", summary="One adjustment", responses=_ERRORS)
async def get_adjustment(
    _: Reader,
    session: Session,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
    ],
) -> Adjustment:
    row = await adjustments.find(session, id)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return (await _shown(session, [row]))[0]


# ---------------------------------------------------------------------- proposing


def _none_is_missing(value: object) -> object:
    """A ``null`` reads as a parameter not sent (Peatio's ``missing_…`` code)."""
    if value is None:
        raise PydanticCustomError("missing", "Field required")
    return value


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise PydanticCustomError("nul_character", "must not contain NUL")
    return text


def _not_zero(number: Decimal) -> Decimal:
    """Zero, or an integer part far beyond any real correction: ``invalid_amount``."""
    if number.is_zero() or number.adjusted() >= MOST_DIGITS:
        raise PydanticCustomError("invalid_amount", "must not be zero")
    return number


def _uid_or_none(value: object) -> object:
    """Anything but text, or blank text, names no member (``missing_receiving_member_uid``
    follows where one is needed)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def _text_codes(name: str) -> dict[str, Any]:
    """A required text: blank reads as missing, too long or with NUL as invalid."""
    return codes(
        f"{AREA}.invalid_{name}",
        missing=f"{AREA}.missing_{name}",
        too_short=f"{AREA}.missing_{name}",  # blank, once stripped
    )


def _code_codes(name: str) -> dict[str, Any]:
    """A required account code: an integer (one beyond 64 bits is no integer to Peatio)."""
    return codes(
        f"{AREA}.invalid_{name}",
        missing=f"{AREA}.missing_{name}",
        non_integer=f"{AREA}.non_integer_{name}",
        less_than_equal=f"{AREA}.non_integer_{name}",
        greater_than_equal=f"{AREA}.non_integer_{name}",
    )


Required = BeforeValidator(_none_is_missing)
Text = Annotated[str, Required, Field(min_length=1), AfterValidator(_no_nul)]
AccountCode = Annotated[PlainInt, Required, Field(ge=-MOST_ID, le=MOST_ID)]


class NewAdjustment(BaseModel):
    """``amount`` is signed; ``asset_account_code`` is the currency's (101 fiat, 102
    coin), ``receiving_account_code`` the member's main account (201 fiat, 202 coin;
    Peatio's other codes are refused until the engine posts them)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    reason: Annotated[Text, Field(max_length=MOST_REASON, json_schema_extra=_text_codes("reason"))]
    description: Annotated[
        Text, Field(max_length=MOST_DESCRIPTION, json_schema_extra=_text_codes("description"))
    ]
    category: Annotated[
        Literal[adjustments.CATEGORIES],  # type: ignore[valid-type]
        Required,
        Field(
            json_schema_extra=codes(f"{AREA}.invalid_category", missing=f"{AREA}.missing_category")
        ),
    ]
    amount: Annotated[
        Amount,
        Required,
        AfterValidator(_not_zero),
        Field(
            json_schema_extra=codes(
                f"{AREA}.invalid_amount",
                missing=f"{AREA}.missing_amount",
                non_decimal=f"{AREA}.non_decimal_amount",
            )
        ),
    ]
    currency_id: Annotated[
        str,
        Required,
        Field(
            max_length=10,
            json_schema_extra=codes(
                f"{AREA}.currency_doesnt_exist", missing=f"{AREA}.missing_currency_id"
            ),
        ),
    ]
    asset_account_code: Annotated[
        AccountCode, Field(json_schema_extra=_code_codes("asset_account_code"))
    ]
    receiving_account_code: Annotated[
        AccountCode, Field(json_schema_extra=_code_codes("receiving_account_code"))
    ]
    receiving_member_uid: Annotated[
        str | None,
        BeforeValidator(_uid_or_none),
        Field(json_schema_extra=codes("admin.user.doesnt_exist")),
    ] = None

    def proposal(self) -> adjustments.Proposal:
        return adjustments.Proposal(
            reason=self.reason,
            description=self.description,
            category=self.category,
            amount=self.amount,
            currency=self.currency_id.lower(),
            asset_account_code=self.asset_account_code,
            receiving_account_code=self.receiving_account_code,
            receiving_member_uid=self.receiving_member_uid,
        )


async def _member_id(session: AsyncSession, uid: str) -> int | None:
    return await directory.member_id(session, uid=uid)


def _snapshot(row: Any, posted: Any) -> dict[str, Any]:
    """What the audit log keeps: the adjustment as this API shows it."""
    return present.adjustment(row, posted).model_dump()


@router.post("/new", status_code=201, summary="Propose an adjustment", responses=_ERRORS)
async def new_adjustment(
    actor: Manager,
    body: Annotated[NewAdjustment, body_of(NewAdjustment)],
    session: Transaction,
) -> Adjustment:
    row = await adjustments.propose(session, actor, body.proposal(), _member_id, _snapshot)
    return present.adjustment(row, [])


# ---------------------------------------------------------------------- deciding


class Decision(BaseModel):
    id: Annotated[
        PlainInt,
        Required,
        Field(
            ge=-MOST_ID,
            le=MOST_ID,
            json_schema_extra=codes(
                f"{AREA}.non_integer_id",
                missing=f"{AREA}.missing_id",
                non_integer=f"{AREA}.non_integer_id",
            ),
        ),
    ]
    action: Annotated[
        Literal["accept", "reject"],
        Required,
        Field(json_schema_extra=codes(f"{AREA}.invalid_action", missing=f"{AREA}.missing_action")),
    ]


@router.post(
    "/action", status_code=201, summary="Accept or reject an adjustment", responses=_ERRORS
)
async def act(
    actor: Manager,
    body: Annotated[Decision, body_of(Decision)],
    runner: Runner,
    session: Transaction,
) -> Adjustment:
    """Only a pending adjustment can be accepted or rejected; its proposer may only reject
    (withdraw) it, and anyone else must be a checker (``adjustments.CHECKERS``)."""

    async def engine(command: Command) -> dict[str, Any]:
        return await submit(runner, command)

    changed, posted = await adjustments.decide(
        session, engine, actor, body.id, body.action, _snapshot
    )
    return present.adjustment(changed, posted)
