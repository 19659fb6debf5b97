"""Peatio's Management API for configuration (``.../management``): currencies, markets,
the fee schedule, members' fee groups, and the server's time.

Every change takes the admin API's code path (``peatio_admin_config``,
``peatio_admin_fees``): what the engine applies changes through its commands, under the
same lock, and lands in the audit log under the request's signers (``mgmt:<signers>``).
The admin API's refusal codes are answered as Grape's message (``{"error": "<codes>"}``).

Members are Barong's users in Bursa, so ``POST members`` creates nothing: it finds the
user by ``uid`` (whose ``email`` must match) and puts them in ``group``; ``level``,
``role`` and ``state`` stay Barong's (its labels decide them) and are answered as they are.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from bursa.api.deps import Runner, Session
from bursa.api.management_auth import scope
from bursa.api.peatio.admin import config, fees
from bursa.api.peatio.admin import present as admin_present
from bursa.api.peatio.admin.config import AdminCurrency, AdminMarket
from bursa.api.peatio.management.common import (
    NOT_FOUND,
    PREFIX,
    TAG,
    Code,
    Paged,
    Params,
    Uid,
    actor_of,
    as_grape,
    parse,
    refuse,
    route,
)
from bursa.api.schemas import TradingFee
from bursa.identity import directory
from bursa.plain_input import PlainInt

router = APIRouter(prefix=PREFIX, tags=[TAG])
ReadCurrencies = Annotated[dict[str, Any], Depends(scope("peatio", "read_currencies"))]
WriteCurrencies = Annotated[dict[str, Any], Depends(scope("peatio", "write_currencies"))]
ReadMarkets = Annotated[dict[str, Any], Depends(scope("peatio", "read_markets"))]
WriteMarkets = Annotated[dict[str, Any], Depends(scope("peatio", "write_markets"))]
ReadFees = Annotated[dict[str, Any], Depends(scope("peatio", "read_trading_fees"))]
WriteMembers = Annotated[dict[str, Any], Depends(scope("peatio", "write_members"))]
Tools = Annotated[dict[str, Any], Depends(scope("peatio", "tools"))]
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
async def update_currency(data: WriteCurrencies, session: Session, request: Request) -> Currency:
    body = parse(CurrencyUpdate, data)
    with as_grape():
        changed = await config.change_currency(
            {**data, "code": body.id}, actor_of(request), session
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


class MarketChange(Params):
    id: str | None = Field(default=None, max_length=20)
    symbol: str | None = Field(default=None, max_length=20)


@router.post("/markets/list", status_code=201, **route("Every market", MarketList))
async def list_markets(
    data: ReadMarkets, session: Session, response: Response, request: Request
) -> list[AdminMarket]:
    if parse(MarketList, data).type == "qe":
        return []  # Bursa has spot markets only
    return await config.list_markets(
        actor_of(request), session, response, state=None, limit=EVERY, page=1
    )


@router.post("/markets/new", status_code=201, **route("Open a market (the admin API's parameters)"))
async def create_market(
    data: WriteMarkets, session: Session, runner: Runner, request: Request
) -> AdminMarket:
    with as_grape():
        return await config.add_market(data, actor_of(request), runner, session)


@router.put(
    "/markets/update", **route("Change a market (the admin API's parameters)", MarketChange)
)
async def update_market(
    data: WriteMarkets, session: Session, runner: Runner, request: Request
) -> AdminMarket:
    parse(MarketChange, data)
    with as_grape():
        return await config.change_market(data, actor_of(request), runner, session)


@router.post("/markets/{symbol}", status_code=201, **route("One market", MarketList))
async def show_market(
    data: ReadMarkets, session: Session, request: Request, symbol: str
) -> AdminMarket:
    if len(symbol) > 20 or parse(MarketList, data).type == "qe":
        raise refuse(404, NOT_FOUND)
    with as_grape():
        return await config.show_market(actor_of(request), session, symbol)


# ---------------------------------------------------------------------- fees and members


class FeeList(Paged):
    group: Group | None = None
    market_id: str | None = Field(default=None, max_length=20)
    market_type: Literal["spot", "qe"] = "spot"


@router.post("/fee_schedule/trading_fees", status_code=201, **route("Trading fee entries", FeeList))
async def trading_fees(
    data: ReadFees, session: Session, response: Response, request: Request
) -> list[TradingFee]:
    body = parse(FeeList, data)
    if body.market_type == "qe":
        return []
    return await fees.list_trading_fees(
        actor_of(request),
        session,
        response,
        group=body.group,
        market_id=body.market_id,
        limit=body.limit,
        page=body.page,
    )


class MemberSync(Params):
    uid: Uid
    email: str = Field(min_length=1, max_length=254)
    level: PlainInt = Field(ge=0, le=100)
    role: str = Field(min_length=1, max_length=32)
    state: str = Field(min_length=1, max_length=16)
    group: Group


class MemberGroup(Params):
    uid: Uid
    group: Group


async def _member(
    session: Session, runner: Runner, request: Request, uid: str, group: str, email: str | None
) -> Member:
    user = await directory.member(session, uid)
    if user is None:
        raise refuse(404, NOT_FOUND)
    if email is not None and email.strip().lower() != user["email"]:
        raise refuse(422, "email does not match the user's")
    await session.commit()
    with as_grape():
        placed = await fees.put_in_group(uid, {"group": group}, actor_of(request), runner, session)
    shown = admin_present.member(user, placed.group, [])
    return Member(**shown.model_dump(include=set(Member.model_fields)))


@router.post(
    "/members", status_code=201, **route("Put a Barong user's member in a fee group", MemberSync)
)
async def sync_member(
    data: WriteMembers, session: Session, runner: Runner, request: Request
) -> Member:
    body = parse(MemberSync, data)
    return await _member(session, runner, request, body.uid, body.group, body.email)


@router.post("/members/group", status_code=201, **route("Put a member in a fee group", MemberGroup))
async def member_group(
    data: WriteMembers, session: Session, runner: Runner, request: Request
) -> Member:
    body = parse(MemberGroup, data)
    return await _member(session, runner, request, body.uid, body.group, None)


class Timestamp(BaseModel):
    timestamp: str


@router.post("/timestamp", status_code=201, **route("The server's time"))
async def timestamp(data: Tools) -> Timestamp:
    return Timestamp(timestamp=datetime.now(UTC).isoformat(timespec="seconds"))
