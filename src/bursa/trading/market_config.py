"""Opening and changing markets (the admin and Management APIs' ``markets/new`` and
``markets/update``; ``configured`` reads them).

A market's rules live in the engine: every change is one ``ConfigureMarket`` carrying the
whole market, built from its row as it stands under the configuration lock
(``config_changes``), and the engine writes the row in the batch that logs the command. The
audit entry joins the request's transaction once the engine has committed, with the rows
before and after; the transaction is committed at the boundary, never here.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.commands import ConfigureMarket
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.trading import audit
from bursa.trading.audit import Actor
from bursa.trading.config_changes import (
    NOT_FOUND,
    Submit,
    change_key,
    hold_configuration_lock,
    submit_configuration,
)
from bursa.trading.tables import markets

FEE_PLACES = 6  # a fee rate's decimals (the engine counts rates in millionths)
MAX_FEE = Decimal("0.5")  # Peatio's bound on a trading fee rate
PRECISIONS = ("amount_precision", "price_precision")
IMMUTABLE = "admin.market.currencies_and_precisions_immutable"
SYMBOL_TAKEN = "admin.market.symbol_taken"


class MarketFields(TypedDict, total=False):
    """What a request sets on a market (a field left out keeps its value, or a new market's
    default): prices and amounts as decimals, fees as rates."""

    amount_precision: int
    price_precision: int
    state: str
    position: int
    min_price: Decimal
    max_price: Decimal
    min_amount: Decimal
    maker_fee: Decimal
    taker_fee: Decimal


# A new market where the request says nothing (max_price 0: no bound; fees 0: the market's
# own, used where no trading fee entry applies).
DEFAULTS: MarketFields = {
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


async def create_market(
    session: AsyncSession, submit: Submit, actor: Actor, base: str, quote: str, fields: MarketFields
) -> Any:
    """Open the market ``base + quote`` (refused if that symbol is taken); its row."""
    symbol = base + quote
    rules = _rules({**DEFAULTS, **fields})
    await hold_configuration_lock(session)
    if await _row(session, symbol) is not None:
        raise BursaError(Refusal.INVALID, SYMBOL_TAKEN)
    command = ConfigureMarket(
        key=change_key("market"), market=symbol, base=base, quote=quote, **rules
    )
    await submit_configuration(submit, command)
    after = await _row(session, symbol)
    await audit.record(session, actor, "market.create", "market", symbol, after=after)
    return after


async def update_market(
    session: AsyncSession, submit: Submit, actor: Actor, symbol: str, fields: MarketFields
) -> Any:
    """Change ``fields`` of market ``symbol`` (any case); its precisions, if given, must be
    its own (open orders are counted in them). Its row after the change."""
    await hold_configuration_lock(session)
    before = await _row(session, symbol.lower())
    if before is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    changed = {**before, **fields}
    if any(changed[name] != before[name] for name in PRECISIONS):
        raise BursaError(Refusal.INVALID, IMMUTABLE)
    rules = _rules(changed)
    command = ConfigureMarket(
        key=change_key("market"),
        market=before["id"],
        base=before["base_unit"],
        quote=before["quote_unit"],
        **rules,
    )
    await submit_configuration(submit, command)
    after = await _row(session, before["id"])
    await audit.record(
        session, actor, "market.update", "market", before["id"], before=before, after=after
    )
    return after


def _rules(market: Mapping[str, Any]) -> dict[str, Any]:
    """The market's rules in engine integers; a price or amount finer than its precision
    (a fee finer than a millionth) is refused, every such field named at once."""
    places = {
        "min_price": market["price_precision"],
        "max_price": market["price_precision"],
        "min_amount": market["amount_precision"],
        "maker_fee": FEE_PLACES,
        "taker_fee": FEE_PLACES,
    }
    rules: dict[str, Any] = {
        name: market[name] for name in ("amount_precision", "price_precision", "state", "position")
    }
    refused: list[str] = []
    for name, decimals in places.items():
        try:
            rules[name] = to_units(market[name], decimals)
        except OverPrecise:
            refused.append(f"admin.market.invalid_{name}")
    if refused:
        raise BursaError(Refusal.INVALID, *refused)
    return rules


async def _row(session: AsyncSession, symbol: str) -> dict[str, Any] | None:
    row = (await session.execute(select(markets).where(markets.c.id == symbol))).mappings().first()
    return dict(row) if row is not None else None
