"""Adding and changing currencies (the admin and Management APIs' ``currencies/new`` and
``currencies/update``).

Every change is one ``ConfigureCurrency`` carrying the currency's whole row, built from
the row as it stands under the configuration lock (``config_changes``): the engine learns
the currency's unit and writes the row in the same commit as its command log, as it does a
market's. No crash can leave a currency in the engine without its row, or a row the engine
never saw, and the log holds every version of the row. The audit entry joins the request's
transaction once the engine has committed, with the rows before and after; the
transaction is committed at the boundary, never here.

``blockchains`` is custody's table, named here by its columns only (this package sits below
custody), as ``confirmations`` does.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import String, column, exists, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.commands import ConfigureCurrency
from bursa.engine.specs import COIN
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies
from bursa.trading import audit
from bursa.trading.audit import Actor
from bursa.trading.config_changes import (
    NOT_FOUND,
    Submit,
    change_key,
    hold_configuration_lock,
    submit_configuration,
)
from bursa.trading.confirmations import currency_query

_blockchains = table("blockchains", column("key", String))

AMOUNTS = (
    "deposit_fee",
    "min_deposit_amount",
    "withdraw_fee",
    "min_withdraw_amount",
    "withdraw_limit_24h",
    "withdraw_limit_72h",
)


class CurrencyFields(TypedDict, total=False):
    """What a request sets on a currency's row (a field left out keeps its value, or a new
    currency's default); amounts in the currency's unit."""

    name: str
    description: str
    homepage: str
    icon_url: str
    state: str
    position: int
    blockchain_key: str | None  # None: off any chain
    deposit_fee: Decimal
    min_deposit_amount: Decimal
    withdraw_fee: Decimal
    min_withdraw_amount: Decimal
    withdraw_limit_24h: Decimal
    withdraw_limit_72h: Decimal
    deposit_enabled: bool
    withdrawal_enabled: bool
    min_confirmations: int | None  # None: the blockchain's number applies
    options: dict[str, Any]


TEXTS = ("name", "description", "homepage", "icon_url", "blockchain_key", "options")

# A new currency's row where the request says nothing (the table's defaults).
DEFAULTS: dict[str, Any] = {
    "description": "",
    "homepage": "",
    "icon_url": "",
    "state": "enabled",
    "position": 1,
    "blockchain_key": None,
    **dict.fromkeys(AMOUNTS, Decimal(0)),
    "deposit_enabled": True,
    "withdrawal_enabled": True,
    "min_confirmations": None,
    "options": {},
}


def invalid(code: str) -> BursaError:
    return BursaError(Refusal.INVALID, code)


async def create_currency(
    session: AsyncSession,
    submit: Submit,
    actor: Actor,
    code: str,
    kind: str,
    precision: int,
    fields: CurrencyFields,
) -> Any:
    """Add currency ``code`` of ``kind`` (coin, fiat), counted in ``precision`` decimals
    for good (refused if the code is taken); the currency as answers show it."""
    command = _command(code, kind, precision, {"name": code.upper(), **DEFAULTS, **fields})
    await hold_configuration_lock(session)
    if await _row(session, code) is not None:
        raise invalid("admin.currency.code_taken")
    await _check_chain(session, kind, fields)
    await submit_configuration(submit, command)
    after = await _row(session, code)
    await audit.record(session, actor, "currency.create", "currency", code, after=after)
    return await _answer(session, code)


async def update_currency(
    session: AsyncSession,
    submit: Submit,
    actor: Actor,
    code: str,
    fields: CurrencyFields,
    *,
    kind: str | None = None,
    precision: int | None = None,
) -> Any:
    """Change ``fields`` of currency ``code``; ``kind`` and ``precision``, if given, must be
    the currency's own (balances are counted in that unit). The currency as answers show
    it."""
    await hold_configuration_lock(session)
    before = await _row(session, code)
    if before is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    command = _command(code, before["type"], before["precision"], {**before, **fields})
    if (kind is not None and kind != before["type"]) or (
        precision is not None and precision != before["precision"]
    ):
        raise invalid("admin.currency.precision_immutable")
    await _check_chain(session, before["type"], fields)
    await submit_configuration(submit, command)
    after = await _row(session, code)
    await audit.record(
        session, actor, "currency.update", "currency", code, before=before, after=after
    )
    return await _answer(session, code)


def _command(code: str, kind: str, precision: int, row: Mapping[str, Any]) -> ConfigureCurrency:
    """The currency's whole row as its engine command; an amount finer than the currency's
    unit, or a value no command may carry, is refused (every such field named at once).
    The engine refuses what the table could not hold (``core.currency_row_error``)."""
    amounts: dict[str, int] = {}
    refused: list[str] = []
    for name in AMOUNTS:
        try:
            amounts[name] = to_units(row[name], precision)
        except OverPrecise:
            refused.append(f"admin.currency.invalid_{name}")
    for name in TEXTS:
        if not _loggable(row[name]):
            refused.append(f"admin.currency.invalid_{name}")
    if refused:
        raise BursaError(Refusal.INVALID, *refused)
    return ConfigureCurrency(
        key=change_key("currency"),
        code=code,
        type=kind,
        precision=precision,
        name=row["name"],
        description=row["description"],
        homepage=row["homepage"],
        icon_url=row["icon_url"],
        state=row["state"],
        position=row["position"],
        blockchain_key=row["blockchain_key"],
        deposit_enabled=row["deposit_enabled"],
        withdrawal_enabled=row["withdrawal_enabled"],
        min_confirmations=row["min_confirmations"],
        options=dict(row["options"] or {}),
        **amounts,
    )


def _loggable(value: object) -> bool:
    """Plain JSON the command log can hold: ``jsonb`` refuses the NUL character, and a
    batch whose log cannot be written halts the engine (a refused command is logged too)."""
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, list):
        return all(_loggable(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _loggable(k) and _loggable(v) for k, v in value.items())
    return False


async def _check_chain(session: AsyncSession, kind: str, fields: CurrencyFields) -> None:
    """A chain named by the request exists, and only a coin is on one."""
    key = fields.get("blockchain_key")
    if key is None:
        return
    if kind != COIN:
        raise invalid("admin.currency.invalid_blockchain_key")  # fiat has no chain
    if not await session.scalar(select(exists().where(_blockchains.c.key == key))):
        raise invalid("admin.currency.blockchain_key_doesnt_exist")


async def _row(session: AsyncSession, code: str) -> dict[str, Any] | None:
    query = select(currencies).where(currencies.c.id == code)
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def _answer(session: AsyncSession, code: str) -> Any:
    """The row with the confirmations a deposit needs (``confirmations``)."""
    query = currency_query().where(currencies.c.id == code)
    return (await session.execute(query)).mappings().one()
