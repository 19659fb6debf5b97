"""Peatio's Management API for configuration (``.../management``): currencies, markets,
the fee schedule, members' fee groups, and the server's time.

Every change takes the admin API's path (currencies and markets: ``peatio.admin.config``;
fee groups: ``bursa.custody.management_records.put_in_group`` over
``bursa.trading.fee_config``): what the engine applies changes through its commands, under
the same lock, and lands in the audit log under the request's signers (``mgmt:<signers>``).
The admin API's refusal codes are answered as Grape's message (``{"error": "<codes>"}``).

Members are Barong's users in Bursa, so ``POST members`` creates nothing: it finds the
user by ``uid`` (whose ``email`` must match) and puts them in ``group``; ``level``,
``role`` and ``state`` stay Barong's (its labels decide them) and are answered as they are.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from bursa.api import present
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.management import CODED
from bursa.api.management_auth import scope
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
    as_grape,
    parse,
    peatio_router,
    refuse,
    route,
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
from bursa.trading import fee_config

router = peatio_router()
ReadCurrencies = Annotated[dict[str, Any], Depends(scope("peatio", "read_currencies"))]
WriteCurrencies = Annotated[dict[str, Any], Depends(scope("peatio", "write_currencies"))]
EVERY = 1000  # currencies and markets are few: Peatio listed them all
Group = Annotated[str, Field(min_length=1, max_length=32)]


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


def _currency(found: AdminCurrency) -> Currency:
    return Currency(**found.model_dump(), code=found.id)


# ---------------------------------------------------------------------- currencies


class CurrencyList(Params):
    type: Literal["coin", "fiat"] | None = None


class CurrencyCreate(Params):
    code: Code


class CurrencyUpdate(Params):
    id: Code


@router.post("/currencies/list", status_code=201, **route("Every currency", CurrencyList))
async def list_currencies(
    data: ReadCurrencies, session: Session, response: Response, request: Request
) -> list[Currency]:
    body = parse(CurrencyList, data)
    found = await config.list_currencies(
        actor_of(request), session, response, type=body.type, status=None, limit=EVERY, page=1
    )
    return [_currency(c) for c in found]


@router.post(
    "/currencies/create",
    status_code=201,
    **route("Add a currency (the admin API's parameters)", CurrencyCreate),
)
async def create_currency(
    data: WriteCurrencies, session: Session, runner: Runner, request: Request
) -> Currency:
    """Scope ``write_currencies`` (Peatio declared ``read_currencies`` here by mistake)."""
    parse(CurrencyCreate, data)
    with as_grape():
        return _currency(await config.add_currency(data, actor_of(request), runner, session))


@router.put(
    "/currencies/update", **route("Change a currency (the admin API's parameters)", CurrencyUpdate)
)
async def update_currency(
    data: WriteCurrencies, session: Session, runner: Runner, request: Request
) -> Currency:
    body = parse(CurrencyUpdate, data)
    with as_grape():
        changed = await config.change_currency(
            {**data, "code": body.id}, actor_of(request), runner, session
        )
    return _currency(changed)


@router.post("/currencies/{code}", status_code=201, **route("One currency"))
async def show_currency(
    data: ReadCurrencies, session: Session, request: Request, code: str
) -> Currency:
    if len(code) > 10:
        raise refuse(404, NOT_FOUND)
    with as_grape():
        return _currency(await config.show_currency(actor_of(request), session, code))


# ---------------------------------------------------------------------- markets


class MarketList(Params):
    type: Literal["spot", "qe"] = "spot"


# Parameters passed on as sent, documented as what the admin API reads them as.
SentDecimal = Annotated[Any, WithJsonSchema({"type": "string", "format": "decimal"})]
SentInteger = Annotated[Any, WithJsonSchema({"type": "integer"})]
SentText = Annotated[Any, WithJsonSchema({"type": "string"})]


class AdminParameters(BaseModel):
    """The admin API's parameters, passed on as sent: its code path reads and checks
    them, with its codes."""

    model_config = ConfigDict(extra="allow")

    def sent(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class MarketRules(AdminParameters):
    """What ``markets/new`` and ``markets/update`` may set: ``max_price`` 0 is none;
    ``state`` is enabled, disabled, hidden, locked, sale or presale."""

    min_price: SentDecimal = None
    max_price: SentDecimal = None
    min_amount: SentDecimal = None
    state: SentText = None
    position: SentInteger = None
    maker_fee: SentDecimal = None
    taker_fee: SentDecimal = None


class MarketNew(MarketRules):
    """``base_currency``, ``quote_currency``, ``min_price`` and ``min_amount`` are
    required; precisions default to 4 (their sum at most the quote's precision)."""

    base_currency: SentText = None
    quote_currency: SentText = None
    amount_precision: SentInteger = None
    price_precision: SentInteger = None
    type: SentText = None


class MarketChange(MarketRules):
    id: str | None = Field(default=None, max_length=20)
    symbol: str | None = Field(default=None, max_length=20)


@router.post("/markets/list", status_code=201, summary="Every market")
async def list_markets(
    body: Annotated[MarketList, signed("read_markets", MarketList)],
    session: Session,
    response: Response,
    request: Request,
) -> list[AdminMarket]:
    if body.type == "qe":
        return []  # Bursa has spot markets only
    return await config.list_markets(
        actor_of(request), session, response, state=None, limit=EVERY, page=1
    )


@router.post("/markets/new", status_code=201, summary="Open a market (the admin API's parameters)")
async def create_market(
    body: Annotated[MarketNew, signed("write_markets", MarketNew)],
    session: Session,
    runner: Runner,
    request: Request,
) -> AdminMarket:
    return await config.add_market(body.sent(), actor_of(request), runner, session)


@router.put("/markets/update", summary="Change a market (the admin API's parameters)")
async def update_market(
    body: Annotated[MarketChange, signed("write_markets", MarketChange)],
    session: Session,
    runner: Runner,
    request: Request,
) -> AdminMarket:
    return await config.change_market(body.sent(), actor_of(request), runner, session)


@router.post("/markets/{symbol}", status_code=201, summary="One market")
async def show_market(
    body: Annotated[MarketList, signed("read_markets", MarketList)],
    session: Session,
    request: Request,
    symbol: str,
) -> AdminMarket:
    if len(symbol) > 20 or body.type == "qe":
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return await config.show_market(actor_of(request), session, symbol)


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
