"""The Peatio admin API's trading fees by market and member group, and members' fee groups
(``/api/v2/peatio/admin``). Both change only through engine commands, which the engine
applies to new orders at once; ``bursa.trading.fee_config`` makes every change under the
configuration lock, with its audit entry, in the request's one transaction."""

from dataclasses import asdict
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from bursa.api import present
from bursa.api.bodies import body_of, codes
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import ERRORS
from bursa.api.peatio.admin.fields import (
    MOST_ID,
    AdminBody,
    GroupOrAny,
    Quantity,
    field_codes,
    text,
)
from bursa.api.peatio.admin.lists import Paging, sort_by
from bursa.api.peatio.params import paginate
from bursa.api.schemas import TradingFee
from bursa.engine.core import valid_group
from bursa.engine.specs import ANY
from bursa.engine.units import OverPrecise, to_units
from bursa.plain_input import PlainInt
from bursa.trading import fee_config
from bursa.trading.audit import Actor
from bursa.trading.market_config import FEE_PLACES, MAX_FEE

router = APIRouter(prefix=PREFIX, tags=["admin"])

ReadFee = Annotated[Actor, Depends(admin_gate("read", "TradingFee"))]
ManageFee = Annotated[Actor, Depends(admin_gate("manage", "TradingFee"))]
ReadMember = Annotated[Actor, Depends(admin_gate("read", "Member"))]
ManageMember = Annotated[Actor, Depends(admin_gate("manage", "Member"))]
FEE = "admin.trading_fee"
FEE_FIELDS = set(fee_config.FeeFields.__annotations__)


class MemberGroup(BaseModel):
    uid: str
    email: str
    group: str


def _refuse() -> PydanticCustomError:
    return PydanticCustomError("invalid", "invalid value")


def _group(group: str) -> str:
    if group == ANY or not valid_group(group):
        raise _refuse()
    return group


def _millionths(rate: Any) -> Any:
    try:
        to_units(rate, FEE_PLACES)
    except OverPrecise:
        raise _refuse() from None
    return rate


FeeMarket = Annotated[str, BeforeValidator(text(20, lower=True))]
FeeRate = Annotated[Quantity, Field(le=MAX_FEE), AfterValidator(_millionths)]
FeeId = Annotated[PlainInt, Field(ge=1, le=MOST_ID)]


async def known_markets(runner: Runner) -> dict[str, Any]:
    """The validation context of a fee's body: the markets ``market_id`` may name."""
    return {"markets": frozenset(runner.engine.markets)}


class _FeeEntry(AdminBody):
    """What every trading fee body checks: ``market_id`` must name a market (or ``any``),
    as Peatio's parameters said, so that it is answered with the other fields."""

    @field_validator("market_id", check_fields=False)
    @classmethod
    def _known(cls, market: str | None, info: ValidationInfo) -> str | None:
        markets = (info.context or {}).get("markets")
        if market is not None and market != ANY and markets is not None and market not in markets:
            raise _refuse()
        return market

    def fields(self) -> fee_config.FeeFields:
        return cast(fee_config.FeeFields, self.model_dump(include=FEE_FIELDS, exclude_none=True))


class NewTradingFee(_FeeEntry):
    """``trading_fees/new``: rates from 0 to 0.5, in millionths at most; ``group`` and
    ``market_id`` are ``any`` where not given."""

    group: GroupOrAny | None = Field(default=None, json_schema_extra=codes(f"{FEE}.invalid_group"))
    market_id: FeeMarket | None = Field(
        default=None, json_schema_extra=codes(f"{FEE}.invalid_market_id")
    )
    maker: FeeRate = Field(json_schema_extra=field_codes("trading_fee", "maker"))
    taker: FeeRate = Field(json_schema_extra=field_codes("trading_fee", "taker"))


class TradingFeeChange(_FeeEntry):
    """``trading_fees/update``: the entry's ``id`` and what changes."""

    id: FeeId = Field(json_schema_extra=codes(f"{FEE}.invalid_id"))
    group: GroupOrAny | None = Field(default=None, json_schema_extra=codes(f"{FEE}.invalid_group"))
    market_id: FeeMarket | None = Field(
        default=None, json_schema_extra=codes(f"{FEE}.invalid_market_id")
    )
    maker: FeeRate | None = Field(default=None, json_schema_extra=codes(f"{FEE}.invalid_maker"))
    taker: FeeRate | None = Field(default=None, json_schema_extra=codes(f"{FEE}.invalid_taker"))


class TradingFeeId(AdminBody):
    """``trading_fees/delete``: the entry's ``id``."""

    id: FeeId = Field(json_schema_extra=codes(f"{FEE}.invalid_id"))


class GroupChange(AdminBody):
    """``PUT members/{uid}``: 1–32 lower-case letters, digits, ``_`` or ``-`` (the default
    group is ``vip-0``)."""

    group: Annotated[str, BeforeValidator(text(32, lower=True)), AfterValidator(_group)] = Field(
        json_schema_extra=field_codes("member", "group")
    )


# ---------------------------------------------------------------------- trading fees


def _fee(row: Any) -> TradingFee:
    return present.trading_fee({**row, "market_type": "spot"})


@router.get("/trading_fees", summary="Stored trading fee entries", responses=ERRORS)
async def list_trading_fees(
    _: ReadFee,
    session: Session,
    response: Response,
    params: Paging,
    group: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code(f"{FEE}.invalid_group")),
    ] = None,
    market_id: Annotated[
        str | None,
        Query(max_length=20, json_schema_extra=error_code(f"{FEE}.invalid_market_id")),
    ] = None,
    order_by: Annotated[
        Literal["id", "market_id", "group", "maker", "taker", "created_at", "updated_at"],
        sort_by("id", "market_id", "group", "maker", "taker", "created_at", "updated_at"),
    ] = "id",
) -> list[TradingFee]:
    """Entries by market (or ``any``) and group (or ``any``); a member's order gets the
    most specific one (group before market), else its market's own fees."""
    found = await fee_config.listed(
        session,
        group=group,
        market_id=market_id,
        limit=params.limit,
        page=params.page,
        sorting=params.sorting(order_by),
    )
    paginate(response, found.total, params.page, params.limit)
    return [_fee(row) for row in found.rows]


@router.post(
    "/trading_fees/new", status_code=201, summary="Add a trading fee entry", responses=ERRORS
)
async def create_trading_fee(
    actor: ManageFee,
    body: Annotated[NewTradingFee, body_of(NewTradingFee, context=known_markets)],
    runner: Runner,
    session: Transaction,
) -> TradingFee:
    return _fee(await fee_config.create_fee(session, runner.submit, actor, body.fields()))


@router.post(
    "/trading_fees/update", status_code=201, summary="Change a trading fee entry", responses=ERRORS
)
async def update_trading_fee(
    actor: ManageFee,
    body: Annotated[TradingFeeChange, body_of(TradingFeeChange, context=known_markets)],
    runner: Runner,
    session: Transaction,
) -> TradingFee:
    changed = await fee_config.update_fee(session, runner.submit, actor, body.id, body.fields())
    return _fee(changed)


@router.post(
    "/trading_fees/delete", status_code=201, summary="Remove a trading fee entry", responses=ERRORS
)
async def delete_trading_fee(
    actor: ManageFee,
    body: Annotated[TradingFeeId, body_of(TradingFeeId)],
    runner: Runner,
    session: Transaction,
) -> TradingFee:
    """Answers the entry as it was."""
    return _fee(await fee_config.delete_fee(session, runner.submit, actor, body.id))


# ---------------------------------------------------------------------- member groups


@router.get("/members/groups", summary="Member groups in use", responses=ERRORS)
async def list_groups(_: ReadMember, session: Session) -> list[str]:
    """The default group, every member's, and every group a trading fee names."""
    return await fee_config.groups_in_use(session)


Uid = Annotated[str, Path(max_length=32, json_schema_extra=error_code("admin.member.invalid_uid"))]


@router.put("/members/{uid}", summary="Put a member in a fee group", responses=ERRORS)
async def set_group(
    actor: ManageMember,
    uid: Uid,
    body: Annotated[GroupChange, body_of(GroupChange)],
    runner: Runner,
    session: Transaction,
) -> MemberGroup:
    """The member's new orders get that group's fees."""
    placed = await fee_config.put_in_group(session, runner.submit, actor, uid, body.group)
    return MemberGroup(**asdict(placed))
