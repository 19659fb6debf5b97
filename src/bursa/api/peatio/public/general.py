"""Public endpoints (``/api/v2/peatio/public``): health, time, version, currencies,
markets, trading fees, withdrawal limits, member levels and all of them at once
(``config``); books, trades, k-lines and tickers: ``markets``. No authentication; nothing
here changes state."""

from datetime import UTC, datetime
from importlib.metadata import version as package_version
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from bursa.api import present
from bursa.api.deps import Runner, Session
from bursa.api.errors import ApiError, error_code
from bursa.api.schemas import (
    Currency,
    Errors,
    Market,
    MemberLevels,
    MinimumLevel,
    TradingFee,
    WithdrawLimit,
)
from bursa.custody import public_withdraw_limits
from bursa.engine.snapshots import BookSnapshot
from bursa.formats import iso
from bursa.plain_input import PlainInt
from bursa.trading import listings, repository
from bursa.trading.member_levels import MemberLevels as Levels

MARKET_NOT_FOUND = "public.market.doesnt_exist"
CURRENCY_NOT_FOUND = "public.currency.doesnt_exist"

router = APIRouter(prefix="/api/v2/peatio/public", tags=["public"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Errors}, 422: {"model": Errors}}

MarketId = Annotated[
    str,
    Path(pattern=r"^[\w.\-]+$", max_length=20, json_schema_extra=error_code(MARKET_NOT_FOUND)),
]
Limit = Annotated[
    PlainInt,
    Query(ge=1, le=1000, json_schema_extra=error_code("public.pagination.invalid_limit")),
]
PageNumber = Annotated[
    PlainInt,
    Query(ge=1, json_schema_extra=error_code("public.pagination.invalid_page")),
]
Search = Annotated[str | None, Query(max_length=64)]


def _paginate(response: Response, total: int, page: int, limit: int) -> None:
    response.headers["Total"] = str(total)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)


def committed_book(runner: Runner, market: str) -> tuple[BookSnapshot, int]:
    """The market's book as committed and its sequence. A market that does not trade is a
    bad parameter, 422 as Peatio's (its ``market`` is validated against the enabled
    markets, like any other parameter), never a 404."""
    found = runner.committed_book(market.lower())
    if found is None or not found[0].spec.tradable:
        raise ApiError(422, MARKET_NOT_FOUND)
    return found


@router.get("/health/alive", summary="The process is up", response_class=Response)
async def alive() -> Response:
    return Response(status_code=200)


@router.get(
    "/health/ready",
    summary="The database answers and the engine runs",
    response_class=Response,
    responses={503: {"description": "not ready"}},
)
async def ready(runner: Runner, session: Session) -> Response:
    try:
        await session.execute(text("SELECT 1"))
    except Exception:
        return Response(status_code=503)
    return Response(status_code=200 if runner.running else 503)


@router.get("/timestamp", summary="Server time, ISO-8601")
async def timestamp() -> str:
    return iso(datetime.now(UTC))


class Version(BaseModel):
    """Peatio's build description. Bursa keeps no git metadata at run time: ``version``
    and ``git_tag`` are the installed package's version, ``git_sha`` and ``build_date``
    are empty rather than made up (as Barong's ``public/version`` answers)."""

    git_tag: str
    git_sha: str
    build_date: str
    version: str


BURSA_VERSION = package_version("bursa")


@router.get("/version", summary="The running version and build details")
async def version() -> Version:
    return Version(git_tag=BURSA_VERSION, git_sha="", build_date="", version=BURSA_VERSION)


@router.get("/currencies", summary="Listed currencies", responses=_NOT_FOUND)
async def currencies(
    session: Session,
    response: Response,
    type: Annotated[
        Literal["coin", "fiat"] | None,
        Query(json_schema_extra=error_code("public.currency.invalid_type")),
    ] = None,
    limit: Limit = 100,
    page: PageNumber = 1,
    search_code: Annotated[Search, Query(alias="search[code]")] = None,
    search_name: Annotated[Search, Query(alias="search[name]")] = None,
) -> list[Currency]:
    found = await repository.listed_currencies(
        session, type=type, limit=limit, page=page, code=search_code, name=search_name
    )
    _paginate(response, found.total, page, limit)
    return [present.currency(row) for row in found.rows]


@router.get("/currencies/{id}", summary="One listed currency", responses=_NOT_FOUND)
async def currency(
    session: Session,
    id: Annotated[str, Path(max_length=10, json_schema_extra=error_code(CURRENCY_NOT_FOUND))],
) -> Currency:
    row = await repository.listed_currency(session, id)
    if row is None:
        raise ApiError(404, CURRENCY_NOT_FOUND)
    return present.currency(row)


@router.get("/markets", summary="Listed markets", responses=_NOT_FOUND)
async def markets(
    session: Session,
    response: Response,
    base_unit: Annotated[
        str | None,
        Query(max_length=10, json_schema_extra=error_code("public.market.invalid_base_unit")),
    ] = None,
    quote_unit: Annotated[
        str | None,
        Query(max_length=10, json_schema_extra=error_code("public.market.invalid_quote_unit")),
    ] = None,
    type: Annotated[
        Literal["spot", "qe"], Query(json_schema_extra=error_code("public.market.invalid_type"))
    ] = "spot",
    ordering: Annotated[
        Literal["asc", "desc"],
        Query(json_schema_extra=error_code("public.market.invalid_ordering")),
    ] = "asc",
    order_by: Annotated[
        Literal["id", "position"],
        Query(json_schema_extra=error_code("public.market.invalid_order_by")),
    ] = "position",
    search_base_code: Annotated[Search, Query(alias="search[base_code]")] = None,
    search_quote_code: Annotated[Search, Query(alias="search[quote_code]")] = None,
    search_base_name: Annotated[Search, Query(alias="search[base_name]")] = None,
    search_quote_name: Annotated[Search, Query(alias="search[quote_name]")] = None,
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[Market]:
    """Peatio's filters: ``base_unit`` and ``quote_unit`` must name a currency; the
    ``search[...]`` substrings match if any of them does."""
    unknown = [
        code
        for value, code in (
            (base_unit, "public.market.invalid_base_unit"),
            (quote_unit, "public.market.invalid_quote_unit"),
        )
        if value is not None and not await repository.currency_exists(session, value)
    ]
    if unknown:
        raise ApiError(422, *unknown)
    found = await repository.listed_markets(
        session,
        base_unit=base_unit,
        quote_unit=quote_unit,
        limit=limit,
        page=page,
        type=type,
        order_by=order_by,
        descending=ordering == "desc",
        search=repository.MarketSearch(
            search_base_code, search_quote_code, search_base_name, search_quote_name
        ),
    )
    _paginate(response, found.total, page, limit)
    return [present.market(row) for row in found.rows]


@router.get("/trading_fees", summary="Makers' and takers' fees", responses=_NOT_FOUND)
async def trading_fees(
    session: Session,
    response: Response,
    group: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code("public.trading_fee.invalid_group")),
    ] = None,
    market_id: Annotated[
        str | None,
        Query(max_length=20, json_schema_extra=error_code("public.trading_fee.invalid_market")),
    ] = None,
    market_type: Annotated[
        Literal["spot", "qe"],
        Query(json_schema_extra=error_code("public.trading_fee.invalid_market_type")),
    ] = "spot",
    ordering: Annotated[
        Literal["asc", "desc"],
        Query(json_schema_extra=error_code("public.trading_fee.invalid_ordering")),
    ] = "asc",
    order_by: Annotated[
        Literal["id"], Query(json_schema_extra=error_code("public.trading_fee.invalid_order_by"))
    ] = "id",
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[TradingFee]:
    """Trading fees by market and member group (Peatio's), with each listed market's own
    fees as an entry of the group ``any`` where no stored entry overrides them."""
    if market_type != "spot":  # Bursa has spot markets only
        found = repository.Page([], 0)
    else:
        found = await repository.trading_fees_page(
            session,
            group=group.strip().lower() if group is not None else None,
            market_id=market_id,
            limit=limit,
            page=page,
            descending=ordering == "desc",
        )
    _paginate(response, found.total, page, limit)
    return [present.trading_fee(row) for row in found.rows]


@router.get("/withdraw_limits", summary="Withdrawal limits by group and KYC level")
async def withdraw_limits(
    session: Session,
    response: Response,
    group: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code("public.withdraw_limit.invalid_group")),
    ] = None,
    kyc_level: Annotated[
        str | None,
        Query(
            max_length=8, json_schema_extra=error_code("public.withdraw_limit.invalid_kyc_level")
        ),
    ] = None,
    ordering: Annotated[
        Literal["asc", "desc"],
        Query(json_schema_extra=error_code("public.withdraw_limit.invalid_ordering")),
    ] = "asc",
    order_by: Annotated[
        public_withdraw_limits.OrderBy,
        Query(json_schema_extra=error_code("public.withdraw_limit.invalid_order_by")),
    ] = "id",
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[WithdrawLimit]:
    """Peatio 3's list: limits in the platform currency (``0``: none), a group or level of
    ``any`` applying to every member's (the most specific row wins at a withdrawal)."""
    found = await public_withdraw_limits.listed(
        session,
        group=group,
        kyc_level=kyc_level,
        order_by=order_by,
        descending=ordering == "desc",
        limit=limit,
        page=page,
    )
    _paginate(response, found.total, page, limit)
    return [present.withdraw_limit(row) for row in found.rows]


def _member_levels(request: Request) -> MemberLevels:
    levels: Levels = request.app.state.member_levels
    return MemberLevels(
        deposit=MinimumLevel(minimum_level=levels.deposit),
        withdraw=MinimumLevel(minimum_level=levels.withdraw),
        trading=MinimumLevel(minimum_level=levels.trading),
    )


@router.get("/member-levels", summary="The lowest level that may deposit, withdraw, trade")
async def member_levels(request: Request) -> MemberLevels:
    return _member_levels(request)


class Config(BaseModel):
    """Peatio 3's ``public/config``: the separate endpoints' entities, whole lists."""

    currencies: list[Currency]
    markets: list[Market]
    trading_fees: list[TradingFee]
    withdraw_limits: list[WithdrawLimit]
    member_levels: MemberLevels
    platform_currency: str = Field(
        description="Bursa's addition: the currency balances and KYC withdrawal limits are"
        " valued in (BURSA_PLATFORM_CURRENCY)"
    )


@router.get("/config", summary="Currencies, markets, fees, limits and levels in one answer")
async def config(request: Request, session: Session) -> Config:
    """What a client loads at start, in one call: every listed currency and market, every
    trading fee entry and withdrawal limit (unpaged, in the separate lists' order) and the
    member levels, and the platform currency. Peatio's ``blockchains`` are not here: Bursa
    publishes none."""
    return Config(
        currencies=[present.currency(row) for row in await listings.every_currency(session)],
        markets=[present.market(row) for row in await listings.every_market(session)],
        trading_fees=[
            present.trading_fee(row) for row in await listings.every_trading_fee(session)
        ],
        withdraw_limits=[
            present.withdraw_limit(row) for row in await public_withdraw_limits.every_limit(session)
        ],
        member_levels=_member_levels(request),
        platform_currency=request.app.state.platform_currency,
    )
