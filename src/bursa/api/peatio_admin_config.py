"""The Peatio admin API's configuration: currencies, markets, trading fees by market and
member group, and members' fee groups (``/api/v2/peatio/admin``).

What the engine applies changes only through engine commands (``ConfigureCurrency``,
``ConfigureMarket``, ``SetTradingFee``, ``SetMemberGroup``), so a running engine uses new
rules at once, in its sequence, and a replay of the log reproduces them; the engine writes
the market, fee and group rows in the batch that applied the command. A currency's
descriptive fields (name, fees for deposits and withdrawals, …) are the API's own. Changes
are serialized by one advisory lock and every one is written to the audit log with the
record before and after, once the engine has committed it.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, insert, select, text, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api import present
from bursa.api.deps import Runner, Session
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio_admin_auth import PREFIX, admin_gate
from bursa.api.peatio_admin_params import CODE, Params
from bursa.api.peatio_params import paginate, read_body
from bursa.api.schemas import Currency, Errors, Market, TradingFee
from bursa.engine.commands import (
    Command,
    ConfigureCurrency,
    ConfigureMarket,
    SetMemberGroup,
    SetTradingFee,
)
from bursa.engine.runner import EngineStopped
from bursa.engine.specs import ANY, DEFAULT_GROUP, MARKET_STATES, MAX_PRECISION
from bursa.engine.tables import member_groups, trading_fees
from bursa.engine.units import OverPrecise, to_units
from bursa.identity.tables import users
from bursa.ledger.tables import currencies
from bursa.trading import audit
from bursa.trading.audit import Actor
from bursa.trading.tables import markets

router = APIRouter(prefix=PREFIX, tags=["admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
CONFIG_LOCK = 0x42_55_52_53_43  # "BURSC": one configuration change at a time
CURRENCY_STATES = ("enabled", "disabled", "hidden")
MAX_FEE = Decimal("0.5")
GROUP_PATTERN = r"^[a-z0-9_-]{1,32}$"
ENGINE_UNAVAILABLE = "server.engine_unavailable"

ReadCurrency = Annotated[Actor, Depends(admin_gate("read", "Currency"))]
ManageCurrency = Annotated[Actor, Depends(admin_gate("manage", "Currency"))]
ReadMarket = Annotated[Actor, Depends(admin_gate("read", "Market"))]
ManageMarket = Annotated[Actor, Depends(admin_gate("manage", "Market"))]
ReadFee = Annotated[Actor, Depends(admin_gate("read", "TradingFee"))]
ManageFee = Annotated[Actor, Depends(admin_gate("manage", "TradingFee"))]
ReadMember = Annotated[Actor, Depends(admin_gate("read", "Member"))]
ManageMember = Annotated[Actor, Depends(admin_gate("manage", "Member"))]
Limit = Annotated[
    int, Query(ge=1, le=1000, json_schema_extra=error_code("admin.pagination.invalid_limit"))
]
PageNumber = Annotated[
    int, Query(ge=1, json_schema_extra=error_code("admin.pagination.invalid_page"))
]


class AdminCurrency(Currency):
    status: str
    created_at: str
    updated_at: str


class AdminMarket(Market):
    position: int
    maker_fee: str
    taker_fee: str
    created_at: str
    updated_at: str


class MemberGroup(BaseModel):
    uid: str
    email: str
    group: str


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _currency(row: Any) -> AdminCurrency:
    return AdminCurrency(
        **present.currency(row).model_dump(),
        status=row["state"],
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
    )


def _market(row: Any) -> AdminMarket:
    return AdminMarket(
        **present.market(row).model_dump(),
        position=row["position"],
        maker_fee=present.decimal_text(row["maker_fee"]),
        taker_fee=present.decimal_text(row["taker_fee"]),
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
    )


@asynccontextmanager
async def _change(session: AsyncSession) -> AsyncIterator[None]:
    """One configuration change at a time (a transaction holding the advisory lock), so
    that a change built from the current record never overwrites a concurrent one."""
    async with session.begin():
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CONFIG_LOCK})
        yield


async def _submit(runner: Runner, command: Command) -> dict[str, Any]:
    try:
        result = await runner.submit(command)
    except EngineStopped as exc:
        raise ApiError(503, ENGINE_UNAVAILABLE) from exc
    if result["error"] is not None:
        status = 404 if result["error"] == "record.not_found" else 422
        raise ApiError(status, result["error"])
    return result


def _key(kind: str) -> str:
    return f"admin:{kind}:{uuid.uuid4().hex}"


async def _row(session: AsyncSession, table: Any, *where: Any) -> dict[str, Any] | None:
    row = (await session.execute(select(table).where(*where))).mappings().first()
    return dict(row) if row is not None else None


# ---------------------------------------------------------------------- currencies

CURRENCY_AMOUNTS = (
    "deposit_fee",
    "min_deposit_amount",
    "withdraw_fee",
    "min_withdraw_amount",
    "withdraw_limit_24h",
    "withdraw_limit_72h",
)


def _currency_fields(params: Params, precision: int | None) -> dict[str, Any]:
    """The descriptive fields given (amounts exact to the currency's precision)."""
    fields: dict[str, Any] = {}
    for name in ("name", "description", "homepage", "icon_url"):
        value = params.text(name, max_length=64 if name == "name" else 1000)
        if value is not None:
            fields[name] = value
    status = params.choice("status", CURRENCY_STATES)
    if status is not None:
        fields["state"] = status
    position = params.integer("position", low=1, high=1_000_000)
    if position is not None:
        fields["position"] = position
    confirmations = params.integer("min_confirmations", low=0, high=10_000)
    if confirmations is not None:
        fields["min_confirmations"] = confirmations
    for name in ("deposit_enabled", "withdrawal_enabled"):
        flag = params.flag(name)
        if flag is not None:
            fields[name] = flag
    for name in CURRENCY_AMOUNTS:
        amount = params.decimal(name)
        if amount is not None and precision is not None:
            try:
                to_units(amount, precision)
            except OverPrecise:
                params.errors.append(f"admin.currency.invalid_{name}")
                continue
            fields[name] = amount
    return fields


@router.get("/currencies", summary="Currencies, whatever their state", responses=_ERRORS)
async def list_currencies(
    _: ReadCurrency,
    session: Session,
    response: Response,
    type: Annotated[
        Literal["coin", "fiat"] | None,
        Query(json_schema_extra=error_code("admin.currency.invalid_type")),
    ] = None,
    status: Annotated[
        Literal["enabled", "disabled", "hidden"] | None,
        Query(json_schema_extra=error_code("admin.currency.invalid_status")),
    ] = None,
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[AdminCurrency]:
    query = select(currencies)
    if type is not None:
        query = query.where(currencies.c.type == type)
    if status is not None:
        query = query.where(currencies.c.state == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(currencies.c.position, currencies.c.id)
        .limit(limit)
        .offset((page - 1) * limit)
    )
    paginate(response, int(total or 0), page, limit)
    return [_currency(row) for row in rows.mappings()]


CurrencyCode = Annotated[
    str,
    Path(max_length=10, json_schema_extra=error_code("admin.currency.invalid_code")),
]


@router.get("/currencies/{code}", summary="One currency", responses=_ERRORS)
async def show_currency(_: ReadCurrency, session: Session, code: CurrencyCode) -> AdminCurrency:
    row = await _row(session, currencies, currencies.c.id == code.lower())
    if row is None:
        raise ApiError(404, "record.not_found")
    return _currency(row)


@router.post("/currencies/new", status_code=201, summary="Add a currency", responses=_ERRORS)
async def create_currency(
    actor: ManageCurrency, request: Request, runner: Runner, session: Session
) -> AdminCurrency:
    """Parameters: ``code`` (required: up to 10 lower-case letters and digits), ``type``
    (coin, fiat; default coin), ``precision`` (0–18, default 8: the smallest unit balances
    count in, fixed for good), ``name``, ``status`` (enabled, disabled, hidden),
    ``position``, ``description``, ``homepage``, ``icon_url``, ``deposit_fee``,
    ``min_deposit_amount``, ``withdraw_fee``, ``min_withdraw_amount``,
    ``withdraw_limit_24h``, ``withdraw_limit_72h``, ``deposit_enabled``,
    ``withdrawal_enabled``, ``min_confirmations``."""
    params = Params(await read_body(request), "currency")
    code = params.text("code", required=True, pattern=CODE, lower=True)
    kind = params.choice("type", ("coin", "fiat")) or "coin"
    precision = params.integer("precision", low=0, high=MAX_PRECISION)
    precision = 8 if precision is None else precision
    fields = _currency_fields(params, precision)
    params.done()
    assert code is not None
    async with _change(session):
        if await _row(session, currencies, currencies.c.id == code) is not None:
            raise ApiError(422, "admin.currency.code_taken")
        await _submit(
            runner,
            ConfigureCurrency(key=_key("currency"), code=code, type=kind, precision=precision),
        )
        values = {"name": code.upper(), **fields, "id": code, "type": kind, "precision": precision}
        await session.execute(insert(currencies).values(**values))
        row = await _row(session, currencies, currencies.c.id == code)
        await audit.record(session, actor, "currency.create", "currency", code, after=row)
    assert row is not None
    return _currency(row)


@router.post("/currencies/update", status_code=201, summary="Change a currency", responses=_ERRORS)
async def update_currency(
    actor: ManageCurrency, request: Request, session: Session
) -> AdminCurrency:
    """Parameters: ``code`` (required) and any descriptive field of ``currencies/new``.
    ``type`` and ``precision`` cannot change (balances are counted in that unit)."""
    params = Params(await read_body(request), "currency")
    code = params.text("code", required=True, pattern=CODE, lower=True)
    params.done()
    assert code is not None
    async with _change(session):
        before = await _row(session, currencies, currencies.c.id == code)
        if before is None:
            raise ApiError(404, "record.not_found")
        kind = params.choice("type", ("coin", "fiat"))
        precision = params.integer("precision", low=0, high=MAX_PRECISION)
        fields = _currency_fields(params, before["precision"])
        params.done()
        if (kind is not None and kind != before["type"]) or (
            precision is not None and precision != before["precision"]
        ):
            raise ApiError(422, "admin.currency.precision_immutable")
        if fields:
            await session.execute(
                update(currencies)
                .where(currencies.c.id == code)
                .values(**fields, updated_at=func.now())
            )
        after = await _row(session, currencies, currencies.c.id == code)
        await audit.record(
            session, actor, "currency.update", "currency", code, before=before, after=after
        )
    assert after is not None
    return _currency(after)


# ---------------------------------------------------------------------- markets


@router.get("/markets", summary="Markets, whatever their state", responses=_ERRORS)
async def list_markets(
    _: ReadMarket,
    session: Session,
    response: Response,
    state: Annotated[
        Literal["enabled", "disabled", "hidden", "locked", "sale", "presale"] | None,
        Query(json_schema_extra=error_code("admin.market.invalid_state")),
    ] = None,
    limit: Limit = 100,
    page: PageNumber = 1,
) -> list[AdminMarket]:
    query = select(markets)
    if state is not None:
        query = query.where(markets.c.state == state)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(markets.c.position, markets.c.id).limit(limit).offset((page - 1) * limit)
    )
    paginate(response, int(total or 0), page, limit)
    return [_market(row) for row in rows.mappings()]


MarketSymbol = Annotated[
    str, Path(max_length=20, json_schema_extra=error_code("admin.market.invalid_symbol"))
]


@router.get("/markets/{symbol}", summary="One market", responses=_ERRORS)
async def show_market(_: ReadMarket, session: Session, symbol: MarketSymbol) -> AdminMarket:
    row = await _row(session, markets, markets.c.id == symbol.lower())
    if row is None:
        raise ApiError(404, "record.not_found")
    return _market(row)


def _market_rules(params: Params, current: dict[str, Any]) -> dict[str, Any]:
    """The market's rules in engine integers: ``current`` (a row) changed by the params."""
    amount_p = params.integer("amount_precision", low=0, high=MAX_PRECISION)
    price_p = params.integer("price_precision", low=0, high=MAX_PRECISION)
    amount_places = current["amount_precision"] if amount_p is None else amount_p
    price_places = current["price_precision"] if price_p is None else price_p
    rules: dict[str, Any] = {
        "amount_precision": amount_places,
        "price_precision": price_places,
        "state": params.choice("state", MARKET_STATES) or current["state"],
        "position": params.integer("position", low=1, high=1_000_000) or current["position"],
    }
    amounts = {
        "min_price": (price_places, False),
        "max_price": (price_places, False),
        "min_amount": (amount_places, False),
        "maker_fee": (6, True),
        "taker_fee": (6, True),
    }
    for name, (places, is_fee) in amounts.items():
        given = params.decimal(name, most=MAX_FEE if is_fee else None)
        value = current[name] if given is None else given
        try:
            rules[name] = to_units(value, places)
        except OverPrecise:
            params.errors.append(f"admin.market.invalid_{name}")
    return rules


@router.post("/markets/new", status_code=201, summary="Open a market", responses=_ERRORS)
async def create_market(
    actor: ManageMarket, request: Request, runner: Runner, session: Session
) -> AdminMarket:
    """Parameters: ``base_currency`` and ``quote_currency`` (required), ``min_price`` and
    ``min_amount`` (required), ``amount_precision`` and ``price_precision`` (default 4;
    their sum may not exceed the quote currency's precision), ``max_price`` (0: none),
    ``state`` (enabled, disabled, hidden, locked, sale, presale; default enabled),
    ``position``, and Bursa's ``maker_fee`` and ``taker_fee`` (default 0: the market's own
    fees, used where no trading fee entry applies). The symbol is base + quote."""
    params = Params(await read_body(request), "market")
    base = params.text("base_currency", required=True, pattern=CODE, lower=True)
    quote = params.text("quote_currency", required=True, pattern=CODE, lower=True)
    for name in ("min_price", "min_amount"):
        params.decimal(name, required=True, positive=True)
    if params.text("type") not in (None, "spot"):
        params.errors.append("admin.market.invalid_type")
    defaults = {
        "amount_precision": 4,
        "price_precision": 4,
        "state": "enabled",
        "position": 1,
        "min_price": Decimal(0),
        "max_price": Decimal(0),
        "min_amount": Decimal(0),
        "maker_fee": Decimal(0),
        "taker_fee": Decimal(0),
    }
    rules = _market_rules(params, defaults)
    params.done()
    assert base is not None
    assert quote is not None
    symbol = base + quote
    if len(symbol) > 20:
        raise ApiError(422, "admin.market.invalid_symbol")
    async with _change(session):
        if await _row(session, markets, markets.c.id == symbol) is not None:
            raise ApiError(422, "admin.market.symbol_taken")
        await _submit(
            runner,
            ConfigureMarket(key=_key("market"), market=symbol, base=base, quote=quote, **rules),
        )
        row = await _row(session, markets, markets.c.id == symbol)
        await audit.record(session, actor, "market.create", "market", symbol, after=row)
    assert row is not None
    return _market(row)


@router.post("/markets/update", status_code=201, summary="Change a market", responses=_ERRORS)
async def update_market(
    actor: ManageMarket, request: Request, runner: Runner, session: Session
) -> AdminMarket:
    """Parameters: ``id`` or ``symbol`` (required), and any of ``min_price``,
    ``max_price``, ``min_amount``, ``state`` (enable: ``enabled``; disable: ``disabled``),
    ``position``, ``maker_fee``, ``taker_fee``. Precisions and currencies cannot change
    (open orders are counted in them). Disabling keeps open orders in the book; cancel
    them with ``orders/cancel``."""
    body = await read_body(request)
    params = Params({"symbol": body.get("id"), **body} if "symbol" not in body else body, "market")
    symbol = params.text("symbol", required=True, max_length=20, lower=True)
    params.done()
    assert symbol is not None
    async with _change(session):
        before = await _row(session, markets, markets.c.id == symbol)
        if before is None:
            raise ApiError(404, "record.not_found")
        for name in ("amount_precision", "price_precision"):
            given = params.integer(name, low=0, high=MAX_PRECISION)
            if given is not None and given != before[name]:
                raise ApiError(422, "admin.market.currencies_and_precisions_immutable")
        rules = _market_rules(params, before)
        params.done()
        await _submit(
            runner,
            ConfigureMarket(
                key=_key("market"),
                market=symbol,
                base=before["base_unit"],
                quote=before["quote_unit"],
                **rules,
            ),
        )
        after = await _row(session, markets, markets.c.id == symbol)
        await audit.record(
            session, actor, "market.update", "market", symbol, before=before, after=after
        )
    assert after is not None
    return _market(after)


# ---------------------------------------------------------------------- trading fees


def _fee(row: Any) -> TradingFee:
    return present.trading_fee({**row, "market_type": "spot"})


@router.get("/trading_fees", summary="Stored trading fee entries", responses=_ERRORS)
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
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(trading_fees.c.id).limit(limit).offset((page - 1) * limit)
    )
    paginate(response, int(total or 0), page, limit)
    return [_fee(row) for row in rows.mappings()]


def _fee_key(params: Params, runner: Runner, current: dict[str, Any]) -> tuple[str, str]:
    group = params.text("group", max_length=32, lower=True)
    market = params.text("market_id", max_length=20, lower=True)
    group = current["group"] if group is None else group
    market = current["market_id"] if market is None else market
    if group != ANY and not _valid_group(group):
        params.errors.append("admin.trading_fee.invalid_group")
    if market != ANY and market not in runner.engine.markets:
        params.errors.append("admin.trading_fee.invalid_market_id")
    return market, group


def _valid_group(group: str) -> bool:
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
    if isinstance(fee_id, str) and fee_id.strip().isdigit():
        fee_id = int(fee_id)
    if isinstance(fee_id, bool) or not isinstance(fee_id, int) or not 0 < fee_id < 2**63:
        raise ApiError(422, "admin.trading_fee.invalid_id")
    row = await _row(session, trading_fees, trading_fees.c.id == fee_id)
    if row is None:
        raise ApiError(404, "record.not_found")
    return row


async def _remove_fee(runner: Runner, entry: dict[str, Any]) -> None:
    removal = SetTradingFee(
        key=_key("fee"), market=entry["market_id"], group=entry["group"], maker=-1, taker=-1
    )
    await _submit(runner, removal)


async def _fee_at(session: AsyncSession, market: str, group: str) -> dict[str, Any] | None:
    return await _row(
        session, trading_fees, trading_fees.c.market_id == market, trading_fees.c.group == group
    )


@router.post(
    "/trading_fees/new", status_code=201, summary="Add a trading fee entry", responses=_ERRORS
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
    async with _change(session):
        if await _fee_at(session, market, group) is not None:
            raise ApiError(422, "admin.trading_fee.already_exists")
        await _submit(
            runner,
            SetTradingFee(key=_key("fee"), market=market, group=group, maker=maker, taker=taker),
        )
        row = await _fee_at(session, market, group)
        assert row is not None
        await audit.record(
            session, actor, "trading_fee.create", "trading_fee", row["id"], after=row
        )
    return _fee(row)


@router.post(
    "/trading_fees/update", status_code=201, summary="Change a trading fee entry", responses=_ERRORS
)
async def update_trading_fee(
    actor: ManageFee, request: Request, runner: Runner, session: Session
) -> TradingFee:
    """Parameters: ``id`` (required), and any of ``maker``, ``taker``, ``group``,
    ``market_id``."""
    body = await read_body(request)
    async with _change(session):
        before = await _stored_fee(session, body.get("id"))
        params = Params(body, "trading_fee")
        market, group = _fee_key(params, runner, before)
        maker, taker = _fee_rates(params, before, required=False)
        params.done()
        moved = (market, group) != (before["market_id"], before["group"])
        if moved and await _fee_at(session, market, group) is not None:
            raise ApiError(422, "admin.trading_fee.already_exists")
        await _submit(
            runner,
            SetTradingFee(key=_key("fee"), market=market, group=group, maker=maker, taker=taker),
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
    "/trading_fees/delete", status_code=201, summary="Remove a trading fee entry", responses=_ERRORS
)
async def delete_trading_fee(
    actor: ManageFee, request: Request, runner: Runner, session: Session
) -> TradingFee:
    """Parameters: ``id`` (required). Answers the entry as it was."""
    body = await read_body(request)
    async with _change(session):
        before = await _stored_fee(session, body.get("id"))
        await _remove_fee(runner, before)
        await audit.record(
            session, actor, "trading_fee.delete", "trading_fee", before["id"], before=before
        )
    return _fee(before)


# ---------------------------------------------------------------------- member groups


@router.get("/members/groups", summary="Member groups in use", responses=_ERRORS)
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


@router.put("/members/{uid}", summary="Put a member in a fee group", responses=_ERRORS)
async def set_group(
    actor: ManageMember, uid: Uid, request: Request, runner: Runner, session: Session
) -> MemberGroup:
    """Parameters: ``group`` (required: 1–32 lower-case letters, digits, ``_`` or ``-``;
    the default group is ``vip-0``). The member's new orders get that group's fees."""
    params = Params(await read_body(request), "member")
    group = params.text("group", required=True, max_length=32, lower=True)
    if group is not None and (group == ANY or not _valid_group(group)):
        params.errors.append("admin.member.invalid_group")
    params.done()
    assert group is not None
    async with _change(session):
        user = await _row(session, users, users.c.uid == uid)
        if user is None:
            raise ApiError(404, "record.not_found")
        before = await session.scalar(
            select(member_groups.c.group).where(member_groups.c.member_id == user["id"])
        )
        await _submit(runner, SetMemberGroup(key=_key("group"), member_id=user["id"], group=group))
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
