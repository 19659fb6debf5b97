"""The Peatio admin API's configuration of currencies and markets (``/api/v2/peatio/admin``;
trading fees and member groups are in ``fees``).

What the engine applies changes only through engine commands (``ConfigureCurrency``,
``ConfigureMarket``, ``SetTradingFee``, ``SetMemberGroup``), so a running engine uses new
rules at once, in its sequence, and a replay of the log reproduces them; the engine writes
the currency, market, fee and group rows in the batch that applied the command (a
currency's whole row rides in its command: ``trading.currency_config``). Changes are
serialized by one advisory lock and every one is written to the audit log with the record
before and after, once the engine has committed it: in the services
(``trading.market_config``, ``trading.currency_config``); ``trading.configured`` reads.
"""

import json
import re
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from bursa.api import present
from bursa.api.bodies import body_of, codes
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import ERRORS
from bursa.api.peatio.admin.fields import CODE, AdminBody, Quantity, field_codes, text
from bursa.api.peatio.admin.lists import Paging, sort_by
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Currency, Market
from bursa.custody import registry
from bursa.engine.specs import CURRENCY_STATES, MARKET_STATES, MAX_PRECISION
from bursa.formats import decimal_text, iso
from bursa.plain_input import PlainInt
from bursa.trading import configured, currency_config, market_config
from bursa.trading.audit import Actor
from bursa.trading.currency_config import CurrencyFields

router = APIRouter(prefix=PREFIX, tags=["admin"])

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


def present_currency(row: Any) -> AdminCurrency:
    """A currency's row as the admin API (and the Management API) shows it."""
    return AdminCurrency(
        **present.currency(row).model_dump(),
        status=row["state"],
        blockchain_key=row["blockchain_key"],
        min_confirmations_override=row["min_confirmations"],
        options=row["options"] or {},
        created_at=iso(row["created_at"]),
        updated_at=iso(row["updated_at"]),
    )


def present_market(row: Any) -> AdminMarket:
    """A market's row as the admin API (and the Management API) shows it."""
    return AdminMarket(
        **present.market(row).model_dump(),
        position=row["position"],
        maker_fee=decimal_text(row["maker_fee"]),
        taker_fee=decimal_text(row["taker_fee"]),
        created_at=iso(row["created_at"]),
        updated_at=iso(row["updated_at"]),
    )


# ---------------------------------------------------------------------- currencies

BLOCKCHAIN_KEY = re.compile(r"^([a-z0-9][a-z0-9_-]{0,31})?$")  # empty: off any chain


def _flag(value: object) -> bool:
    """A flag as Peatio's clients send it: a boolean, or its text (true/false, 1/0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise PydanticCustomError("bool_parsing", "must be true or false")


def _options(value: object) -> dict[str, Any]:
    """A JSON object, or its text in a form (``custody.registry.checked_options``)."""
    try:
        return registry.checked_options(json.loads(value) if isinstance(value, str) else value)
    except ValueError:  # json's errors are ValueErrors too
        raise PydanticCustomError("options", "not options custody can read") from None


def _cleared(value: object) -> object:
    """``min_confirmations``: empty text clears the override (the chain's number applies)."""
    return None if value == "" else value


def _field(name: str, **constraints: Any) -> Any:
    """An optional field of a currency request, with Peatio's code for it."""
    return Field(default=None, json_schema_extra=field_codes("currency", name), **constraints)


CurrencyCodeText = Annotated[str, BeforeValidator(text(pattern=CODE, lower=True))]
CurrencyType = Literal["coin", "fiat"]
CurrencyState = Literal[CURRENCY_STATES]  # type: ignore[valid-type]
CurrencyPrecision = Annotated[PlainInt, Field(ge=0, le=MAX_PRECISION)]
CurrencyPosition = Annotated[PlainInt, Field(ge=1, le=1_000_000)]
Name = Annotated[str, BeforeValidator(text(64))]
Prose = Annotated[str, BeforeValidator(text(1000))]
Flag = Annotated[bool, BeforeValidator(_flag)]
Confirmations = Annotated[
    Annotated[PlainInt, Field(ge=1, le=10_000)] | None, BeforeValidator(_cleared)
]
ChainKey = Annotated[str, BeforeValidator(text(32, pattern=BLOCKCHAIN_KEY))]
Options = Annotated[dict[str, Any], BeforeValidator(_options)]


class CurrencyBody(AdminBody):
    """A currency and the fields of its row a request sets (amounts in its unit: one finer
    than its precision is refused)."""

    code: CurrencyCodeText = Field(json_schema_extra=field_codes("currency", "code"))
    type: CurrencyType | None = _field("type")
    precision: CurrencyPrecision | None = _field("precision")
    name: Name | None = _field("name")
    description: Prose | None = _field("description")
    homepage: Prose | None = _field("homepage")
    icon_url: Prose | None = _field("icon_url")
    status: CurrencyState | None = _field("status")
    position: CurrencyPosition | None = _field("position")
    min_confirmations: Confirmations = _field("min_confirmations")
    deposit_enabled: Flag | None = _field("deposit_enabled")
    withdrawal_enabled: Flag | None = _field("withdrawal_enabled")
    deposit_fee: Quantity | None = _field("deposit_fee")
    min_deposit_amount: Quantity | None = _field("min_deposit_amount")
    withdraw_fee: Quantity | None = _field("withdraw_fee")
    min_withdraw_amount: Quantity | None = _field("min_withdraw_amount")
    withdraw_limit_24h: Quantity | None = _field("withdraw_limit_24h")
    withdraw_limit_72h: Quantity | None = _field("withdraw_limit_72h")
    blockchain_key: ChainKey | None = _field("blockchain_key")
    options: Options | None = _field("options")

    @model_validator(mode="before")
    @classmethod
    def _null_clears_the_override(cls, data: Any) -> Any:
        """A null ``min_confirmations`` clears the override too (other nulls are unsent)."""
        if isinstance(data, dict) and "min_confirmations" in data:
            given = data["min_confirmations"]
            return {**data, "min_confirmations": "" if given is None else given}
        return data

    def fields(self) -> CurrencyFields:
        """The row's fields given (``status`` is the row's ``state``; an empty
        ``blockchain_key`` takes the currency off any chain)."""
        given = self.model_dump(
            include=ROW_FIELDS & self.model_fields_set, exclude={"min_confirmations"}
        )
        found = {name: value for name, value in given.items() if value is not None}
        if "status" in found:
            found["state"] = found.pop("status")
        if "blockchain_key" in found:
            found["blockchain_key"] = found["blockchain_key"] or None
        if "min_confirmations" in self.model_fields_set:
            found["min_confirmations"] = self.min_confirmations
        return cast(CurrencyFields, found)


ROW_FIELDS = set(CurrencyBody.model_fields) - {"code", "type", "precision"}


class NewCurrency(CurrencyBody):
    """``currencies/new``: ``code`` (up to 10 lower-case letters and digits), ``type`` (coin
    or fiat; default coin), ``precision`` (0–18, default 8: the smallest unit balances
    count in, fixed for good), and the row's fields: ``min_confirmations`` overrides the
    blockchain's (empty clears it), ``blockchain_key`` is a coin's chain, ``options`` a
    token's ``erc20_contract_address`` and ``decimals``, and custody's
    ``min_collection_amount`` and ``send_surplus``."""

    type: CurrencyType = Field(default="coin", json_schema_extra=field_codes("currency", "type"))
    precision: CurrencyPrecision = Field(
        default=8, json_schema_extra=field_codes("currency", "precision")
    )


class CurrencyChange(CurrencyBody):
    """``currencies/update``: ``code`` and the fields to change (``options`` replaced
    whole). ``type`` and ``precision``, if sent, must be the currency's own (balances are
    counted in that unit)."""


@router.get("/currencies", summary="Currencies, whatever their state", responses=ERRORS)
async def list_currencies(
    _: ReadCurrency,
    session: Session,
    response: Response,
    params: Paging,
    type: Annotated[
        Literal["coin", "fiat"] | None,
        Query(json_schema_extra=error_code("admin.currency.invalid_type")),
    ] = None,
    status: Annotated[
        Literal["enabled", "disabled", "hidden"] | None,
        Query(json_schema_extra=error_code("admin.currency.invalid_status")),
    ] = None,
    order_by: Annotated[
        Literal["position", "id", "name", "type", "precision", "created_at", "updated_at"],
        sort_by("position", "id", "name", "type", "precision", "created_at", "updated_at"),
    ] = "position",
) -> list[AdminCurrency]:
    found = await configured.currencies_listed(
        session,
        type=type,
        state=status,
        limit=params.limit,
        page=params.page,
        sorting=params.sorting(order_by),
    )
    paginate(response, found.total, params.page, params.limit)
    return [present_currency(row) for row in found.rows]


CurrencyCode = Annotated[
    str,
    Path(max_length=10, json_schema_extra=error_code("admin.currency.invalid_code")),
]


@router.get("/currencies/{code}", summary="One currency", responses=ERRORS)
async def show_currency(_: ReadCurrency, session: Session, code: CurrencyCode) -> AdminCurrency:
    return present_currency(await configured.currency(session, code))


@router.post("/currencies/new", status_code=201, summary="Add a currency", responses=ERRORS)
async def create_currency(
    actor: ManageCurrency,
    body: Annotated[NewCurrency, body_of(NewCurrency)],
    runner: Runner,
    session: Transaction,
) -> AdminCurrency:
    added = await currency_config.create_currency(
        session, runner.submit, actor, body.code, body.type, body.precision, body.fields()
    )
    return present_currency(added)


@router.post("/currencies/update", status_code=201, summary="Change a currency", responses=ERRORS)
async def update_currency(
    actor: ManageCurrency,
    body: Annotated[CurrencyChange, body_of(CurrencyChange)],
    runner: Runner,
    session: Transaction,
) -> AdminCurrency:
    """Custody serves a change within half a minute (``custody.service``)."""
    changed = await currency_config.update_currency(
        session,
        runner.submit,
        actor,
        body.code,
        body.fields(),
        kind=body.type,
        precision=body.precision,
    )
    return present_currency(changed)


# ---------------------------------------------------------------------- markets


def _rule(name: str) -> Any:
    """An optional market rule of a request, with Peatio's code for it."""
    return Field(default=None, json_schema_extra=field_codes("market", name))


Symbol = Annotated[str, BeforeValidator(text(20, lower=True))]
CodeText = Annotated[str, BeforeValidator(text(pattern=CODE, lower=True))]
SpotType = Annotated[str, BeforeValidator(text(pattern=re.compile("^spot$")))]
Precision = Annotated[PlainInt, Field(ge=0, le=MAX_PRECISION)]
Position = Annotated[PlainInt, Field(ge=1, le=1_000_000)]
MarketState = Literal[MARKET_STATES]  # type: ignore[valid-type]
Rate = Annotated[Quantity, Field(le=market_config.MAX_FEE)]
RULES = set(market_config.MarketFields.__annotations__)


class NewMarket(AdminBody):
    """``markets/new``: the market base + quote. Where a rule is not given: precisions 4
    (their sum may not exceed the quote currency's precision), state enabled, position 1,
    ``max_price`` 0 (no bound), and Bursa's ``maker_fee`` and ``taker_fee`` 0 (the market's
    own fees, used where no trading fee entry applies)."""

    base_currency: CodeText = Field(json_schema_extra=field_codes("market", "base_currency"))
    quote_currency: CodeText = Field(json_schema_extra=field_codes("market", "quote_currency"))
    min_price: Quantity = Field(gt=0, json_schema_extra=field_codes("market", "min_price"))
    min_amount: Quantity = Field(gt=0, json_schema_extra=field_codes("market", "min_amount"))
    type: SpotType | None = Field(
        default=None, json_schema_extra=codes("admin.market.invalid_type")
    )
    amount_precision: Precision | None = _rule("amount_precision")
    price_precision: Precision | None = _rule("price_precision")
    state: MarketState | None = _rule("state")
    position: Position | None = _rule("position")
    max_price: Quantity | None = _rule("max_price")
    maker_fee: Rate | None = _rule("maker_fee")
    taker_fee: Rate | None = _rule("taker_fee")

    def rules(self) -> market_config.MarketFields:
        return cast(market_config.MarketFields, self.model_dump(include=RULES, exclude_none=True))


class MarketChange(AdminBody):
    """``markets/update``: the market (``symbol``, or ``id``) and the rules to change.
    Precisions and currencies cannot change (open orders are counted in them)."""

    symbol: Symbol = Field(json_schema_extra=field_codes("market", "symbol"))
    amount_precision: Precision | None = _rule("amount_precision")
    price_precision: Precision | None = _rule("price_precision")
    state: MarketState | None = _rule("state")
    position: Position | None = _rule("position")
    min_price: Quantity | None = _rule("min_price")
    max_price: Quantity | None = _rule("max_price")
    min_amount: Quantity | None = _rule("min_amount")
    maker_fee: Rate | None = _rule("maker_fee")
    taker_fee: Rate | None = _rule("taker_fee")

    @model_validator(mode="before")
    @classmethod
    def _symbol_or_id(cls, data: Any) -> Any:
        """Peatio's clients name the market by ``id``; ``symbol`` wins when both are sent."""
        if isinstance(data, dict) and data.get("symbol") is None and "id" in data:
            return {**data, "symbol": data["id"]}
        return data

    def rules(self) -> market_config.MarketFields:
        return cast(market_config.MarketFields, self.model_dump(include=RULES, exclude_none=True))


@router.get("/markets", summary="Markets, whatever their state", responses=ERRORS)
async def list_markets(
    _: ReadMarket,
    session: Session,
    response: Response,
    params: Paging,
    state: Annotated[
        Literal["enabled", "disabled", "hidden", "locked", "sale", "presale"] | None,
        Query(json_schema_extra=error_code("admin.market.invalid_state")),
    ] = None,
    order_by: Annotated[
        Literal["position", "id", "base_unit", "quote_unit", "state", "created_at", "updated_at"],
        sort_by("position", "id", "base_unit", "quote_unit", "state", "created_at", "updated_at"),
    ] = "position",
) -> list[AdminMarket]:
    found = await configured.markets_listed(
        session,
        state=state,
        limit=params.limit,
        page=params.page,
        sorting=params.sorting(order_by),
    )
    paginate(response, found.total, params.page, params.limit)
    return [present_market(row) for row in found.rows]


MarketSymbol = Annotated[
    str, Path(max_length=20, json_schema_extra=error_code("admin.market.invalid_symbol"))
]


@router.get("/markets/{symbol}", summary="One market", responses=ERRORS)
async def show_market(_: ReadMarket, session: Session, symbol: MarketSymbol) -> AdminMarket:
    return present_market(await configured.market(session, symbol))


@router.post("/markets/new", status_code=201, summary="Open a market", responses=ERRORS)
async def create_market(
    actor: ManageMarket,
    body: Annotated[NewMarket, body_of(NewMarket)],
    runner: Runner,
    session: Transaction,
) -> AdminMarket:
    """The symbol is base + quote."""
    opened = await market_config.create_market(
        session, runner.submit, actor, body.base_currency, body.quote_currency, body.rules()
    )
    return present_market(opened)


@router.post("/markets/update", status_code=201, summary="Change a market", responses=ERRORS)
async def update_market(
    actor: ManageMarket,
    body: Annotated[MarketChange, body_of(MarketChange)],
    runner: Runner,
    session: Transaction,
) -> AdminMarket:
    """Enable: ``state`` enabled; disable: disabled. Disabling keeps open orders in the
    book; cancel them with ``orders/cancel``."""
    changed = await market_config.update_market(
        session, runner.submit, actor, body.symbol, body.rules()
    )
    return present_market(changed)
