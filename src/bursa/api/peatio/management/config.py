"""Peatio's Management API for configuration (``.../management``): currencies, markets,
the fee schedule, members' fee groups, and the server's time.

Every change calls the admin API's service (currencies: ``bursa.trading.currency_config``;
markets: ``bursa.trading.market_config``; fee groups:
``bursa.custody.management_records.put_in_group`` over ``bursa.trading.fee_config``) in
the request's one transaction: what the engine applies changes through its commands, under
the same lock, and lands in the audit log under the request's signers (``mgmt:<signers>``).
Currencies and markets take the admin API's parameters, read by its models
(``AdminParameters``), and a bad one is answered with the admin API's codes
(``{"error": "<codes>"}``).

Members are Barong's users in Bursa, so ``POST members`` creates nothing: it finds the
user by ``uid`` (whose ``email`` must match) and puts them in ``group``; ``level``,
``role`` and ``state`` stay Barong's (its labels decide them) and are answered as they are.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self, TypeVar

from fastapi import Request, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bursa.api import present
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.errors import model_codes
from bursa.api.management import CODED, first_problem
from bursa.api.peatio.admin import config
from bursa.api.peatio.admin import present as admin_present
from bursa.api.peatio.admin.config import AdminCurrency, AdminMarket
from bursa.api.peatio.management.common import (
    NOT_FOUND,
    Code,
    Nothing,
    Paged,
    Params,
    Uid,
    actor_of,
    peatio_router,
    signed,
)
from bursa.api.peatio.params import paginate
from bursa.api.schemas import TradingFee
from bursa.custody import management_records
from bursa.custody.management_records import Grouped
from bursa.engine.core import valid_group
from bursa.engine.specs import ANY
from bursa.errors import BursaError, Refusal
from bursa.formats import iso
from bursa.plain_input import PlainInt
from bursa.trading import configured, currency_config, fee_config, market_config

router = peatio_router()
EVERY = 1000  # currencies and markets are few: Peatio listed them all
Group = Annotated[str, Field(min_length=1, max_length=32)]
Checked = TypeVar("Checked", bound=BaseModel)


class Currency(AdminCurrency):
    code: str


class Member(BaseModel):
    uid: str
    email: str
    level: int
    role: str
    group: str
    state: str
    created_at: str


def _currency(found: Any) -> Currency:
    shown = config.present_currency(found)
    return Currency(**shown.model_dump(), code=shown.id)


def _coded(words: str) -> PydanticCustomError:
    """A problem worded as ``words`` alone (``CODED``: ``first_problem`` answers them)."""
    return PydanticCustomError(CODED, "{words}", {"words": words})


def _peatio_checked(model: type[Checked], data: Any) -> Checked:
    """``data`` as ``model``, Peatio's own check of the parameters it names; its first
    problem worded as Grape words it."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _coded(first_problem(exc)) from None


class AdminParameters(BaseModel):
    """Mixed into an admin API body read as a management payload: Peatio's check of the
    parameters it names comes first (``peatio_check``: Grape's words for its first problem),
    then the admin model, whose problems answer the admin API's codes of every bad field at
    once (``bursa.api.errors.model_codes``), as the admin API's routes answer them."""

    @classmethod
    def peatio_check(cls, data: Any) -> Any:
        """``data`` as the admin model reads it (Peatio's own names checked first)."""
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _admin_codes(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        data = cls.peatio_check(data)
        try:
            return handler(data)
        except ValidationError as exc:
            raise _coded(", ".join(model_codes(cls, exc.errors()))) from None


# ---------------------------------------------------------------------- currencies


class CurrencyList(Params):
    type: Literal["coin", "fiat"] | None = None


class CurrencyCode(Params):
    code: Code


class CurrencyId(Params):
    id: Code


class CurrencyCreate(AdminParameters, config.NewCurrency):
    """The admin API's ``currencies/new`` parameters."""

    @classmethod
    def peatio_check(cls, data: Any) -> Any:
        _peatio_checked(CurrencyCode, data)
        return data


def _named_by_id(schema: dict[str, Any]) -> None:
    """Documents ``id`` (Peatio's name of the currency) in place of the admin API's
    ``code``, which ``CurrencyUpdate`` sets from it."""
    schema["properties"] = {"id": CurrencyId.model_json_schema()["properties"]["id"]} | {
        name: found for name, found in schema["properties"].items() if name != "code"
    }
    schema["required"] = ["id"]


class CurrencyUpdate(AdminParameters, config.CurrencyChange):
    """The admin API's ``currencies/update`` parameters, the currency named by ``id``."""

    model_config = ConfigDict(json_schema_extra=_named_by_id)

    @classmethod
    def peatio_check(cls, data: Any) -> Any:
        return {**data, "code": _peatio_checked(CurrencyId, data).id}


@router.post("/currencies/list", status_code=201, summary="Every currency")
async def list_currencies(
    body: Annotated[CurrencyList, signed("read_currencies", CurrencyList)],
    session: Session,
    response: Response,
) -> list[Currency]:
    found = await configured.currencies_listed(
        session, type=body.type, state=None, limit=EVERY, page=1
    )
    paginate(response, found.total, 1, EVERY)
    return [_currency(row) for row in found.rows]


@router.post(
    "/currencies/create", status_code=201, summary="Add a currency (the admin API's parameters)"
)
async def create_currency(
    body: Annotated[CurrencyCreate, signed("write_currencies", CurrencyCreate)],
    session: Transaction,
    runner: Runner,
    request: Request,
) -> Currency:
    """Scope ``write_currencies`` (Peatio declared ``read_currencies`` here by mistake)."""
    added = await currency_config.create_currency(
        session,
        runner.submit,
        actor_of(request),
        body.code,
        body.type,
        body.precision,
        body.fields(),
    )
    return _currency(added)


@router.put("/currencies/update", summary="Change a currency (the admin API's parameters)")
async def update_currency(
    body: Annotated[CurrencyUpdate, signed("write_currencies", CurrencyUpdate)],
    session: Transaction,
    runner: Runner,
    request: Request,
) -> Currency:
    changed = await currency_config.update_currency(
        session,
        runner.submit,
        actor_of(request),
        body.code,
        body.fields(),
        kind=body.type,
        precision=body.precision,
    )
    return _currency(changed)


@router.post("/currencies/{code}", status_code=201, summary="One currency")
async def show_currency(
    _: Annotated[Nothing, signed("read_currencies", Nothing)], session: Session, code: str
) -> Currency:
    if len(code) > 10:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return _currency(await configured.currency(session, code))


# ---------------------------------------------------------------------- markets


class MarketList(Params):
    type: Literal["spot", "qe"] = "spot"


class MarketName(BaseModel):
    id: str | None = Field(default=None, max_length=20)
    symbol: str | None = Field(default=None, max_length=20)


class MarketNew(AdminParameters, config.NewMarket):
    """The admin API's ``markets/new`` parameters."""


def _named_by_id_or_symbol(schema: dict[str, Any]) -> None:
    """Documents ``id`` beside ``symbol``: either names the market (``symbol`` wins)."""
    named = {"id": schema["properties"]["symbol"] | {"title": "Id"}}
    schema["properties"] = named | schema["properties"]
    schema.pop("required", None)


class MarketUpdate(AdminParameters, config.MarketChange):
    """The admin API's ``markets/update`` parameters (the market: ``symbol``, or ``id``)."""

    model_config = ConfigDict(json_schema_extra=_named_by_id_or_symbol)

    @classmethod
    def peatio_check(cls, data: Any) -> Any:
        _peatio_checked(MarketName, data)
        return data


@router.post("/markets/list", status_code=201, summary="Every market")
async def list_markets(
    body: Annotated[MarketList, signed("read_markets", MarketList)],
    session: Session,
    response: Response,
) -> list[AdminMarket]:
    if body.type == "qe":
        return []  # Bursa has spot markets only
    found = await configured.markets_listed(session, state=None, limit=EVERY, page=1)
    paginate(response, found.total, 1, EVERY)
    return [config.present_market(row) for row in found.rows]


@router.post("/markets/new", status_code=201, summary="Open a market (the admin API's parameters)")
async def create_market(
    body: Annotated[MarketNew, signed("write_markets", MarketNew)],
    session: Transaction,
    runner: Runner,
    request: Request,
) -> AdminMarket:
    opened = await market_config.create_market(
        session,
        runner.submit,
        actor_of(request),
        body.base_currency,
        body.quote_currency,
        body.rules(),
    )
    return config.present_market(opened)


@router.put("/markets/update", summary="Change a market (the admin API's parameters)")
async def update_market(
    body: Annotated[MarketUpdate, signed("write_markets", MarketUpdate)],
    session: Transaction,
    runner: Runner,
    request: Request,
) -> AdminMarket:
    changed = await market_config.update_market(
        session, runner.submit, actor_of(request), body.symbol, body.rules()
    )
    return config.present_market(changed)


@router.post("/markets/{symbol}", status_code=201, summary="One market")
async def show_market(
    body: Annotated[MarketList, signed("read_markets", MarketList)],
    session: Session,
    symbol: str,
) -> AdminMarket:
    if len(symbol) > 20 or body.type == "qe":
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return config.present_market(await configured.market(session, symbol))


# ---------------------------------------------------------------------- fees and members


class FeeList(Paged):
    group: Group | None = None
    market_id: str | None = Field(default=None, max_length=20)
    market_type: Literal["spot", "qe"] = "spot"


@router.post("/fee_schedule/trading_fees", status_code=201, summary="Trading fee entries")
async def trading_fees(
    body: Annotated[FeeList, signed("read_trading_fees", FeeList)],
    session: Session,
    response: Response,
) -> list[TradingFee]:
    if body.market_type == "qe":
        return []
    found = await fee_config.listed(
        session, group=body.group, market_id=body.market_id, limit=body.limit, page=body.page
    )
    paginate(response, found.total, body.page, body.limit)
    return [present.trading_fee({**row, "market_type": "spot"}) for row in found.rows]


def _fee_group(group: str) -> str:
    """A member's fee group, as the admin API takes it (its code when it is not one)."""
    group = group.lower()
    if group == ANY or not valid_group(group):
        raise PydanticCustomError(CODED, "admin.member.invalid_group")
    return group


FeeGroup = Annotated[Group, AfterValidator(_fee_group)]


class MemberGroup(Params):
    uid: Uid
    group: FeeGroup


class MemberSync(Params):
    uid: Uid
    email: str = Field(min_length=1, max_length=254)
    level: PlainInt = Field(ge=0, le=100)
    role: str = Field(min_length=1, max_length=32)
    state: str = Field(min_length=1, max_length=16)
    group: FeeGroup


def _member(grouped: Grouped) -> Member:
    shown = admin_present.member(grouped.member, grouped.group, [])
    return Member(**shown.model_dump(include=set(Member.model_fields)))


@router.post("/members", status_code=201, summary="Put a Barong user's member in a fee group")
async def sync_member(
    body: Annotated[MemberSync, signed("write_members", MemberSync)],
    session: Transaction,
    runner: Runner,
    request: Request,
) -> Member:
    """Bursa creates nobody: ``uid`` must be a user's, and ``email`` theirs; ``level``,
    ``role`` and ``state`` stay Barong's and are answered as they are."""
    grouped = await management_records.put_in_group(
        session, runner.submit, actor_of(request), body.uid, body.group, email=body.email
    )
    return _member(grouped)


@router.post("/members/group", status_code=201, summary="Put a member in a fee group")
async def member_group(
    body: Annotated[MemberGroup, signed("write_members", MemberGroup)],
    session: Transaction,
    runner: Runner,
    request: Request,
) -> Member:
    grouped = await management_records.put_in_group(
        session, runner.submit, actor_of(request), body.uid, body.group
    )
    return _member(grouped)


class Timestamp(BaseModel):
    timestamp: str


@router.post("/timestamp", status_code=201, summary="The server's time")
async def timestamp(_: Annotated[Nothing, signed("tools", Nothing)]) -> Timestamp:
    return Timestamp(timestamp=iso(datetime.now(UTC)))
