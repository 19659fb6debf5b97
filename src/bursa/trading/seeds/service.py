"""Loading seed files: validate everything first, then upsert in one transaction.

A seed file is YAML with two lists, ``currencies:`` and ``markets:``. Seeding is
idempotent: an entry equal to its row changes nothing, a changed entry updates the row.
Every problem names the file, the entry (``markets[2] (btcusd)``) and the field; one bad
entry stops the whole file. What the engine's integers depend on (a currency's type and
precision, a market's pair and precisions) cannot change once seeded.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.tables import engine_commands
from bursa.ledger.tables import currencies as currencies_table
from bursa.trading.seeds.schemas import (
    CURRENCY_MONEY_FIELDS,
    CurrencySeed,
    MarketSeed,
    decimals,
)
from bursa.trading.tables import markets as markets_table

DEMO_SEEDS = Path(__file__).parent / "demo.yaml"

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"

_IMMUTABLE = {
    "currencies": ("type", "precision"),
    "markets": ("base_unit", "quote_unit", "amount_precision", "price_precision"),
}

Entry = TypeVar("Entry", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Problem:
    entry: str  # e.g. "markets[2] (btcusd)", or "" for the file as a whole
    field: str
    message: str

    def describe(self, source: str) -> str:
        where = ": ".join(part for part in (source, self.entry, self.field) if part)
        return f"{where}: {self.message}"


class SeedError(ValueError):
    """The seed file is invalid; nothing was written."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(p.describe(source) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Seeds:
    """A validated seed file; entries are (label, entry) pairs in file order."""

    source: str
    currencies: list[tuple[str, CurrencySeed]] = field(default_factory=list)
    markets: list[tuple[str, MarketSeed]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # currency | market
    id: str
    action: str  # created | updated | unchanged


def read_seed_file(path: Path) -> Seeds:
    """Parse and validate ``path`` on its own (no database); raises ``SeedError``."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(source, [Problem("", "", f"cannot read: {exc.strerror}")]) from exc
    return parse_seeds(text, source)


def parse_seeds(text: str, source: str) -> Seeds:
    """Validate seed YAML ``text``; ``source`` names it in messages."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise SeedError(source, [Problem(where, "", f"invalid YAML: {reason}")]) from exc
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise SeedError(source, [Problem("", "", "must be a mapping with currencies/markets")])
    problems = [
        Problem("", str(key), "unknown section (expected currencies, markets)")
        for key in document
        if key not in ("currencies", "markets")
    ]
    currencies = _entries(document, "currencies", CurrencySeed, problems)
    markets = _entries(document, "markets", MarketSeed, problems)
    seeds = Seeds(source, currencies, markets)
    problems += _duplicates(seeds)
    problems += [p for label, c in currencies for p in _currency_problems(label, c)]
    if problems:
        raise SeedError(source, problems)
    return seeds


async def apply_seeds(
    conn: AsyncConnection, seeds: Seeds, *, create_only: bool = False
) -> list[Outcome]:
    """Check ``seeds`` against the database and upsert them; raises ``SeedError`` (and
    writes nothing) if any entry is invalid. Runs in the caller's transaction.

    ``create_only`` adds what is missing and leaves existing entries as they are (``bursa
    up``'s demo seeds, which must not undo an admin's changes). Once the engine has applied
    a command, a market's rules change only through the engine (the admin API), so that its
    log holds them: seeds may then add markets, not change them.
    """
    existing_currencies = await _rows(conn, currencies_table)
    existing_markets = await _rows(conn, markets_table)
    if create_only:
        seeds = Seeds(
            seeds.source,
            [(label, c) for label, c in seeds.currencies if c.id not in existing_currencies],
            [(label, m) for label, m in seeds.markets if m.id not in existing_markets],
        )
    problems = _changed_immutables(seeds.currencies, existing_currencies, "currencies")
    problems += _changed_immutables(seeds.markets, existing_markets, "markets")
    if await conn.scalar(select(engine_commands.c.seq).limit(1)) is not None:
        problems += _engine_owned(seeds.markets, existing_markets)
    known: dict[str, tuple[str, int]] = {
        code: (row["type"], row["precision"]) for code, row in existing_currencies.items()
    }
    known.update({c.id: (c.type, c.precision) for _, c in seeds.currencies})
    problems += [p for label, m in seeds.markets for p in _market_problems(label, m, known)]
    if problems:
        raise SeedError(seeds.source, problems)

    outcomes = [
        await _upsert(conn, currencies_table, "currency", entry, existing_currencies)
        for _, entry in seeds.currencies
    ]
    outcomes += [
        await _upsert(conn, markets_table, "market", entry, existing_markets)
        for _, entry in seeds.markets
    ]
    return outcomes


async def seed_file(conn: AsyncConnection, path: Path) -> list[Outcome]:
    """Read, validate and upsert ``path`` (see ``apply_seeds``)."""
    return await apply_seeds(conn, read_seed_file(path))


# ---------------------------------------------------------------------- validation


def _label(section: str, index: int, raw: object) -> str:
    code = raw.get("id") if isinstance(raw, dict) else None
    return f"{section}[{index}] ({code})" if isinstance(code, str) else f"{section}[{index}]"


def _entries(
    document: Mapping[str, Any], section: str, model: type[Entry], problems: list[Problem]
) -> list[tuple[str, Entry]]:
    raw_entries = document.get(section) or []
    if not isinstance(raw_entries, list):
        problems.append(Problem("", section, "must be a list of entries"))
        return []
    entries: list[tuple[str, Entry]] = []
    for index, raw in enumerate(raw_entries):
        label = _label(section, index, raw)
        if not isinstance(raw, dict):
            problems.append(Problem(label, "", "must be a mapping of fields"))
            continue
        try:
            entries.append((label, model.model_validate(raw)))
        except ValidationError as exc:
            for error in exc.errors():
                name = ".".join(str(part) for part in error["loc"]) or "(entry)"
                message = error["msg"].removeprefix("Value error, ")
                problems.append(Problem(label, name, message))
    return entries


def _duplicates(seeds: Seeds) -> list[Problem]:
    problems = []
    for section, entries in (("currencies", seeds.currencies), ("markets", seeds.markets)):
        seen: set[str] = set()
        for label, entry in entries:
            code = str(getattr(entry, "id", ""))
            if code in seen:
                problems.append(Problem(label, "id", f"{code} appears twice in {section}"))
            seen.add(code)
    return problems


def _currency_problems(label: str, currency: CurrencySeed) -> list[Problem]:
    problems = [
        Problem(label, name, f"{value} has more decimals than precision {currency.precision}")
        for name in CURRENCY_MONEY_FIELDS
        if decimals(value := getattr(currency, name)) > currency.precision
    ]
    if currency.type == "fiat" and currency.blockchain_key is not None:
        problems.append(Problem(label, "blockchain_key", "a fiat currency has no blockchain"))
    return problems


def _market_problems(  # noqa: C901  (a flat list of independent checks)
    label: str, market: MarketSeed, known: Mapping[str, tuple[str, int]]
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(name: str, message: str) -> None:
        problems.append(Problem(label, name, message))

    if market.id != market.base_unit + market.quote_unit:
        problem("id", f"must be base_unit + quote_unit ({market.base_unit}{market.quote_unit})")
    if market.base_unit == market.quote_unit:
        problem("quote_unit", "must differ from base_unit")
    for name in ("base_unit", "quote_unit"):
        code = getattr(market, name)
        if code not in known:
            problem(name, f"unknown currency {code!r} (not in this file nor in the database)")
    if problems:
        return problems

    base_precision = known[market.base_unit][1]
    quote_precision = known[market.quote_unit][1]
    ap, pp = market.amount_precision, market.price_precision
    if ap > base_precision:
        problem(
            "amount_precision",
            f"{ap} exceeds {market.base_unit}'s precision {base_precision}",
        )
    if ap + pp > quote_precision:
        problem(
            "price_precision",
            f"amount_precision {ap} + price_precision {pp} = {ap + pp} exceeds "
            f"{market.quote_unit}'s precision {quote_precision}",
        )
    tick, lot = Decimal(1).scaleb(-pp), Decimal(1).scaleb(-ap)
    if decimals(market.min_price) > pp:
        problem("min_price", f"{market.min_price} has more than {pp} decimals (price_precision)")
    elif market.min_price < tick:
        problem("min_price", f"must be at least {tick} (one tick at price_precision {pp})")
    if market.max_price:
        if decimals(market.max_price) > pp:
            problem("max_price", f"{market.max_price} has more than {pp} decimals")
        elif market.max_price < market.min_price:
            problem("max_price", "must be 0 (no maximum) or at least min_price")
    if decimals(market.min_amount) > ap:
        problem("min_amount", f"{market.min_amount} has more than {ap} decimals")
    elif market.min_amount < lot:
        problem("min_amount", f"must be at least {lot} (one lot at amount_precision {ap})")
    if not problems:
        problems += _engine_refuses(label, market, known)
    return problems


def _engine_refuses(
    label: str, market: MarketSeed, known: Mapping[str, tuple[str, int]]
) -> list[Problem]:
    """Last line of defence: the engine's own check of the market's arithmetic."""
    base = CurrencySpec(market.base_unit, *known[market.base_unit])
    quote = CurrencySpec(market.quote_unit, *known[market.quote_unit])
    try:
        MarketSpec(
            id=market.id,
            base=base,
            quote=quote,
            amount_precision=market.amount_precision,
            price_precision=market.price_precision,
            min_price=1,
            max_price=0,
            min_amount=1,
            maker_fee=0,
            taker_fee=0,
        )
    except ValueError as exc:
        return [Problem(label, "amount_precision", str(exc))]
    return []


def _engine_owned(
    entries: Sequence[tuple[str, MarketSeed]], existing: Mapping[str, Mapping[str, Any]]
) -> list[Problem]:
    problems = []
    for label, entry in entries:
        row = existing.get(entry.id)
        if row is None:
            continue
        for name, value in entry.model_dump().items():
            if not _same(row[name], value):
                problems.append(
                    Problem(
                        label,
                        name,
                        f"cannot change from {row[name]} to {value} by seeding once the engine"
                        " has run: use POST /api/v2/peatio/admin/markets/update",
                    )
                )
    return problems


def _changed_immutables(
    entries: Sequence[tuple[str, BaseModel]],
    existing: Mapping[str, Mapping[str, Any]],
    section: str,
) -> list[Problem]:
    problems = []
    for label, entry in entries:
        row = existing.get(str(getattr(entry, "id", "")))
        if row is None:
            continue
        for name in _IMMUTABLE[section]:
            old, new = row[name], getattr(entry, name)
            if old != new:
                problems.append(
                    Problem(
                        label,
                        name,
                        f"cannot change from {old} to {new} once seeded "
                        "(balances and orders are counted in it)",
                    )
                )
    return problems


# ---------------------------------------------------------------------- writing


async def _rows(conn: AsyncConnection, table: Table) -> dict[str, dict[str, Any]]:
    result = await conn.execute(select(table))
    return {row["id"]: dict(row) for row in result.mappings()}


def _same(old: object, new: object) -> bool:
    if isinstance(old, Decimal) and isinstance(new, Decimal):
        return old.compare_total(new) == 0 or old == new
    return old == new


async def _upsert(
    conn: AsyncConnection,
    table: Table,
    kind: str,
    entry: BaseModel,
    existing: Mapping[str, Mapping[str, Any]],
) -> Outcome:
    values = entry.model_dump()
    row = existing.get(values["id"])
    if row is not None and all(_same(row[name], value) for name, value in values.items()):
        return Outcome(kind, values["id"], UNCHANGED)
    statement = insert(table).values(**values)
    changes = {name: statement.excluded[name] for name in values if name != "id"}
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.id], set_={**changes, "updated_at": func.now()}
    )
    await conn.execute(statement)
    return Outcome(kind, values["id"], CREATED if row is None else UPDATED)
