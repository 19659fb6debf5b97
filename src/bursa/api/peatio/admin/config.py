"""The Peatio admin API's configuration of currencies and markets (``/api/v2/peatio/admin``;
trading fees and member groups are in ``peatio_admin_fees``).

What the engine applies changes only through engine commands (``ConfigureCurrency``,
``ConfigureMarket``, ``SetTradingFee``, ``SetMemberGroup``), so a running engine uses new
rules at once, in its sequence, and a replay of the log reproduces them; the engine writes
the market, fee and group rows in the batch that applied the command. A currency's
descriptive fields (name, fees for deposits and withdrawals, …) are the API's own. Changes
are serialized by one advisory lock and every one is written to the audit log with the
record before and after, once the engine has committed it.
"""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import func, insert, select, update

from bursa.api import present
from bursa.api.deps import Runner, Session
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import (
    ERRORS,
    MAX_FEE,
    Limit,
    PageNumber,
    change,
    change_key,
    row_of,
    submit_change,
)
from bursa.api.peatio.admin.params import CODE, Params
from bursa.api.peatio.params import paginate, read_body
from bursa.api.schemas import Currency, Market
from bursa.custody import registry
from bursa.custody.tables import blockchains
from bursa.db.pages import page_of
from bursa.engine.commands import (
    ConfigureCurrency,
    ConfigureMarket,
)
from bursa.engine.specs import MARKET_STATES, MAX_PRECISION
from bursa.engine.units import OverPrecise, to_units
from bursa.ledger.tables import currencies
from bursa.trading import audit
from bursa.trading.audit import Actor
from bursa.trading.confirmations import currency_query
from bursa.trading.tables import markets

router = APIRouter(prefix=PREFIX, tags=["admin"])
CURRENCY_STATES = ("enabled", "disabled", "hidden")

ReadCurrency = Annotated[Actor, Depends(admin_gate("read", "Currency"))]
ManageCurrency = Annotated[Actor, Depends(admin_gate("manage", "Currency"))]
ReadMarket = Annotated[Actor, Depends(admin_gate("read", "Market"))]
ManageMarket = Annotated[Actor, Depends(admin_gate("manage", "Market"))]


class AdminCurrency(Currency):
    status: str
    blockchain_key: str | None
    # The currency's own number, overriding its blockchain's; null: the chain's applies.
    min_confirmations_override: int | None
    options: dict[str, Any]
    created_at: str
    updated_at: str


class AdminMarket(Market):
    position: int
    maker_fee: str
    taker_fee: str
    created_at: str
    updated_at: str


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


async def _currency_answer(session: Session, code: str) -> AdminCurrency | None:
    """The currency as answers show it (with the confirmations a deposit needs)."""
    query = currency_query().where(currencies.c.id == code)
    row = (await session.execute(query)).mappings().first()
    return None if row is None else _currency(row)


def _currency(row: Any) -> AdminCurrency:
    return AdminCurrency(
        **present.currency(row).model_dump(),
        status=row["state"],
        blockchain_key=row["blockchain_key"],
        min_confirmations_override=row["min_confirmations"],
        options=row["options"] or {},
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


# ---------------------------------------------------------------------- currencies

BLOCKCHAIN_KEY = re.compile(r"^([a-z0-9][a-z0-9_-]{0,31})?$")  # empty: off any chain
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
    if "min_confirmations" in params.body:  # an override of the chain's; "" or null clears it
        cleared = params.body["min_confirmations"] in (None, "")
        fields["min_confirmations"] = (
            None if cleared else params.integer("min_confirmations", low=1, high=10_000)
        )
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


def _chain_fields(params: Params) -> dict[str, Any]:
    """``blockchain_key`` (the chain a coin is on; empty: none) and ``options`` (a JSON
    object, or its text in a form: a token's contract and on-chain decimals, and what
    custody reads, ``custody.registry.checked_options``)."""
    fields: dict[str, Any] = {}
    if params.has("blockchain_key"):
        key = params.text("blockchain_key", max_length=32, pattern=BLOCKCHAIN_KEY)
        if key is not None:
            fields["blockchain_key"] = key or None
    if params.has("options"):
        raw = params.body["options"]
        try:
            fields["options"] = registry.checked_options(
                json.loads(raw) if isinstance(raw, str) else raw
            )
        except ValueError:  # json's errors are ValueErrors too
            params.errors.append(f"admin.{params.record}.invalid_options")
    return fields


async def _check_chain(session: Session, kind: str, fields: dict[str, Any]) -> None:
    key = fields.get("blockchain_key")
    if key is None:
        return
    if kind != "coin":
        raise ApiError(422, "admin.currency.invalid_blockchain_key")  # fiat has no chain
    if await row_of(session, blockchains, blockchains.c.key == key) is None:
        raise ApiError(422, "admin.currency.blockchain_key_doesnt_exist")


@router.get("/currencies", summary="Currencies, whatever their state", responses=ERRORS)
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
    query = currency_query()
    if type is not None:
        query = query.where(currencies.c.type == type)
    if status is not None:
        query = query.where(currencies.c.state == status)
    found = await page_of(
        session, query.order_by(currencies.c.position, currencies.c.id), limit, page
    )
    paginate(response, found.total, page, limit)
    return [_currency(row) for row in found.rows]


CurrencyCode = Annotated[
    str,
    Path(max_length=10, json_schema_extra=error_code("admin.currency.invalid_code")),
]


@router.get("/currencies/{code}", summary="One currency", responses=ERRORS)
async def show_currency(_: ReadCurrency, session: Session, code: CurrencyCode) -> AdminCurrency:
    found = await _currency_answer(session, code.lower())
    if found is None:
        raise ApiError(404, "record.not_found")
    return found


@router.post("/currencies/new", status_code=201, summary="Add a currency", responses=ERRORS)
async def create_currency(
    actor: ManageCurrency, request: Request, runner: Runner, session: Session
) -> AdminCurrency:
    """Parameters: ``code`` (required: up to 10 lower-case letters and digits), ``type``
    (coin, fiat; default coin), ``precision`` (0–18, default 8: the smallest unit balances
    count in, fixed for good), ``name``, ``status`` (enabled, disabled, hidden),
    ``position``, ``description``, ``homepage``, ``icon_url``, ``deposit_fee``,
    ``min_deposit_amount``, ``withdraw_fee``, ``min_withdraw_amount``,
    ``withdraw_limit_24h``, ``withdraw_limit_72h``, ``deposit_enabled``,
    ``withdrawal_enabled``, ``min_confirmations`` (overrides the blockchain's; empty clears it),
    ``blockchain_key`` (a coin's chain) and
    ``options`` (a token's ``erc20_contract_address`` and ``decimals``, and custody's
    ``min_collection_amount`` and ``send_surplus``)."""
    return await add_currency(await read_body(request), actor, runner, session)


async def add_currency(
    body: dict[str, Any], actor: Actor, runner: Runner, session: Session
) -> AdminCurrency:
    """``currencies/new`` (also the Management API's ``currencies/create``)."""
    params = Params(body, "currency")
    code = params.text("code", required=True, pattern=CODE, lower=True)
    kind = params.choice("type", ("coin", "fiat")) or "coin"
    precision = params.integer("precision", low=0, high=MAX_PRECISION)
    precision = 8 if precision is None else precision
    fields = _currency_fields(params, precision) | _chain_fields(params)
    params.done()
    assert code is not None
    async with change(session):
        if await row_of(session, currencies, currencies.c.id == code) is not None:
            raise ApiError(422, "admin.currency.code_taken")
        await _check_chain(session, kind, fields)
        await submit_change(
            runner,
            ConfigureCurrency(
                key=change_key("currency"), code=code, type=kind, precision=precision
            ),
        )
        values = {"name": code.upper(), **fields, "id": code, "type": kind, "precision": precision}
        await session.execute(insert(currencies).values(**values))
        row = await row_of(session, currencies, currencies.c.id == code)
        await audit.record(session, actor, "currency.create", "currency", code, after=row)
        answer = await _currency_answer(session, code)
    assert answer is not None
    return answer


@router.post("/currencies/update", status_code=201, summary="Change a currency", responses=ERRORS)
async def update_currency(
    actor: ManageCurrency, request: Request, session: Session
) -> AdminCurrency:
    """Parameters: ``code`` (required) and any descriptive field of ``currencies/new``,
    ``blockchain_key`` and ``options`` (replaced whole) too. ``type`` and ``precision``
    cannot change (balances are counted in that unit). Custody serves a change within
    half a minute (``custody.service``)."""
    return await change_currency(await read_body(request), actor, session)


async def change_currency(body: dict[str, Any], actor: Actor, session: Session) -> AdminCurrency:
    """``currencies/update`` (also the Management API's)."""
    params = Params(body, "currency")
    code = params.text("code", required=True, pattern=CODE, lower=True)
    params.done()
    assert code is not None
    async with change(session):
        before = await row_of(session, currencies, currencies.c.id == code)
        if before is None:
            raise ApiError(404, "record.not_found")
        kind = params.choice("type", ("coin", "fiat"))
        precision = params.integer("precision", low=0, high=MAX_PRECISION)
        fields = _currency_fields(params, before["precision"]) | _chain_fields(params)
        params.done()
        if (kind is not None and kind != before["type"]) or (
            precision is not None and precision != before["precision"]
        ):
            raise ApiError(422, "admin.currency.precision_immutable")
        await _check_chain(session, before["type"], fields)
        if fields:
            await session.execute(
                update(currencies)
                .where(currencies.c.id == code)
                .values(**fields, updated_at=func.now())
            )
        after = await row_of(session, currencies, currencies.c.id == code)
        await audit.record(
            session, actor, "currency.update", "currency", code, before=before, after=after
        )
        answer = await _currency_answer(session, code)
    assert answer is not None
    return answer


# ---------------------------------------------------------------------- markets


@router.get("/markets", summary="Markets, whatever their state", responses=ERRORS)
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
    found = await page_of(session, query.order_by(markets.c.position, markets.c.id), limit, page)
    paginate(response, found.total, page, limit)
    return [_market(row) for row in found.rows]


MarketSymbol = Annotated[
    str, Path(max_length=20, json_schema_extra=error_code("admin.market.invalid_symbol"))
]


@router.get("/markets/{symbol}", summary="One market", responses=ERRORS)
async def show_market(_: ReadMarket, session: Session, symbol: MarketSymbol) -> AdminMarket:
    row = await row_of(session, markets, markets.c.id == symbol.lower())
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


@router.post("/markets/new", status_code=201, summary="Open a market", responses=ERRORS)
async def create_market(
    actor: ManageMarket, request: Request, runner: Runner, session: Session
) -> AdminMarket:
    """Parameters: ``base_currency`` and ``quote_currency`` (required), ``min_price`` and
    ``min_amount`` (required), ``amount_precision`` and ``price_precision`` (default 4;
    their sum may not exceed the quote currency's precision), ``max_price`` (0: none),
    ``state`` (enabled, disabled, hidden, locked, sale, presale; default enabled),
    ``position``, and Bursa's ``maker_fee`` and ``taker_fee`` (default 0: the market's own
    fees, used where no trading fee entry applies). The symbol is base + quote."""
    return await add_market(await read_body(request), actor, runner, session)


async def add_market(
    body: dict[str, Any], actor: Actor, runner: Runner, session: Session
) -> AdminMarket:
    """``markets/new`` (also the Management API's)."""
    params = Params(body, "market")
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
    async with change(session):
        if await row_of(session, markets, markets.c.id == symbol) is not None:
            raise ApiError(422, "admin.market.symbol_taken")
        await submit_change(
            runner,
            ConfigureMarket(
                key=change_key("market"), market=symbol, base=base, quote=quote, **rules
            ),
        )
        row = await row_of(session, markets, markets.c.id == symbol)
        await audit.record(session, actor, "market.create", "market", symbol, after=row)
    assert row is not None
    return _market(row)


@router.post("/markets/update", status_code=201, summary="Change a market", responses=ERRORS)
async def update_market(
    actor: ManageMarket, request: Request, runner: Runner, session: Session
) -> AdminMarket:
    """Parameters: ``id`` or ``symbol`` (required), and any of ``min_price``,
    ``max_price``, ``min_amount``, ``state`` (enable: ``enabled``; disable: ``disabled``),
    ``position``, ``maker_fee``, ``taker_fee``. Precisions and currencies cannot change
    (open orders are counted in them). Disabling keeps open orders in the book; cancel
    them with ``orders/cancel``."""
    return await change_market(await read_body(request), actor, runner, session)


async def change_market(
    body: dict[str, Any], actor: Actor, runner: Runner, session: Session
) -> AdminMarket:
    """``markets/update`` (also the Management API's)."""
    params = Params({"symbol": body.get("id"), **body} if "symbol" not in body else body, "market")
    symbol = params.text("symbol", required=True, max_length=20, lower=True)
    params.done()
    assert symbol is not None
    async with change(session):
        before = await row_of(session, markets, markets.c.id == symbol)
        if before is None:
            raise ApiError(404, "record.not_found")
        for name in ("amount_precision", "price_precision"):
            given = params.integer(name, low=0, high=MAX_PRECISION)
            if given is not None and given != before[name]:
                raise ApiError(422, "admin.market.currencies_and_precisions_immutable")
        rules = _market_rules(params, before)
        params.done()
        await submit_change(
            runner,
            ConfigureMarket(
                key=change_key("market"),
                market=symbol,
                base=before["base_unit"],
                quote=before["quote_unit"],
                **rules,
            ),
        )
        after = await row_of(session, markets, markets.c.id == symbol)
        await audit.record(
            session, actor, "market.update", "market", symbol, before=before, after=after
        )
    assert after is not None
    return _market(after)
