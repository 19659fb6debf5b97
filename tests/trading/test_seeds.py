"""Seed files: idempotent upserts, precise error messages, all-or-nothing writes."""

import copy
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.db.session import create_engine
from bursa.ledger.tables import currencies
from bursa.trading.seeds import (
    CREATED,
    DEMO_SEEDS,
    UNCHANGED,
    UPDATED,
    SeedError,
    apply_seeds,
    parse_seeds,
    read_seed_file,
    seed_file,
)
from bursa.trading.tables import markets

DEMO = yaml.safe_load(DEMO_SEEDS.read_text(encoding="utf-8"))
DEMO_CURRENCIES = [c["id"] for c in DEMO["currencies"]]
DEMO_MARKETS = [m["id"] for m in DEMO["markets"]]


@pytest.fixture
async def engine(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    """The demo-seeded test database."""
    engine = create_engine(fresh_database_url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _apply(engine: AsyncEngine, path: Path) -> list[tuple[str, str, str]]:
    async with engine.begin() as conn:
        outcomes = await seed_file(conn, path)
    return [(o.kind, o.id, o.action) for o in outcomes]


async def _table(engine: AsyncEngine, table: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(select(table).order_by(table.c.id))
        return [dict(row) for row in result.mappings()]


def _write(tmp_path: Path, document: Any, name: str = "seeds.yaml") -> Path:
    path = tmp_path / name
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _all(action: str) -> list[tuple[str, str, str]]:
    return [("currency", c, action) for c in DEMO_CURRENCIES] + [
        ("market", m, action) for m in DEMO_MARKETS
    ]


# ---------------------------------------------------------------------- idempotency


async def test_demo_seeds_apply_then_reapply_unchanged(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(markets.delete())
        await conn.execute(currencies.delete())

    assert await _apply(engine, DEMO_SEEDS) == _all(CREATED)
    first_currencies = await _table(engine, currencies)
    first_markets = await _table(engine, markets)

    assert await _apply(engine, DEMO_SEEDS) == _all(UNCHANGED)
    # Unchanged means untouched: not even ``updated_at`` moves.
    assert await _table(engine, currencies) == first_currencies
    assert await _table(engine, markets) == first_markets
    assert [c["id"] for c in first_currencies] == sorted(DEMO_CURRENCIES)
    assert [m["id"] for m in first_markets] == sorted(DEMO_MARKETS)


async def test_seeded_database_reports_demo_unchanged(engine: AsyncEngine) -> None:
    """The test template was seeded with the demo file: seeding it again changes nothing."""
    assert await _apply(engine, DEMO_SEEDS) == _all(UNCHANGED)


async def test_a_changed_mutable_field_updates_once(engine: AsyncEngine, tmp_path: Path) -> None:
    document = copy.deepcopy(DEMO)
    document["currencies"][0]["name"] = "Bitcoin (BTC)"
    document["currencies"][0]["withdraw_fee"] = "0.0004"
    document["markets"][0]["taker_fee"] = "0.0025"
    path = _write(tmp_path, document)

    outcomes = await _apply(engine, path)
    assert ("currency", "btc", UPDATED) in outcomes
    assert ("market", "btcusdt", UPDATED) in outcomes
    assert [o for o in outcomes if o[2] != UNCHANGED] == [
        ("currency", "btc", UPDATED),
        ("market", "btcusdt", UPDATED),
    ]
    assert await _apply(engine, path) == _all(UNCHANGED)
    btc = next(c for c in await _table(engine, currencies) if c["id"] == "btc")
    assert btc["name"] == "Bitcoin (BTC)"
    assert str(btc["withdraw_fee"].normalize()) == "0.0004"


async def test_equal_decimals_in_another_spelling_are_unchanged(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    document = copy.deepcopy(DEMO)
    document["currencies"][0]["withdraw_fee"] = "0.00050000"
    document["markets"][0]["maker_fee"] = "0.0010"
    assert await _apply(engine, _write(tmp_path, document)) == _all(UNCHANGED)


# ---------------------------------------------------------------------- invalid files


def _currency(**fields: Any) -> dict[str, Any]:
    return {"id": "eur", "name": "Euro", "type": "fiat", "precision": 2, **fields}


def _market(**fields: Any) -> dict[str, Any]:
    base = {
        "id": "btceur",
        "base_unit": "btc",
        "quote_unit": "eur",
        "amount_precision": 4,
        "price_precision": 2,
        "min_price": "0.01",
        "min_amount": "0.0001",
        "maker_fee": "0.001",
        "taker_fee": "0.002",
    }
    return {**base, **fields}


def _without(entry: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != name}


Document = dict[str, Any] | str
# Problems in the file itself: found before the database is asked.
INVALID_FILES: list[Any] = [
    pytest.param(
        {"currencies": [_without(_currency(), "precision")]},
        "currencies[0] (eur)",
        "precision",
        "Field required",
        id="missing-field",
    ),
    pytest.param(
        {"currencies": [_currency(precision=8)], "markets": [_without(_market(), "min_amount")]},
        "markets[0] (btceur)",
        "min_amount",
        "Field required",
        id="market-missing-field",
    ),
    pytest.param(
        {"currencies": [_currency(precision=-1)]},
        "currencies[0] (eur)",
        "precision",
        "greater than or equal to 0",
        id="negative-precision",
    ),
    pytest.param(
        {"currencies": [_currency()], "markets": [_market(amount_precision=-2)]},
        "markets[0] (btceur)",
        "amount_precision",
        "greater than or equal to 0",
        id="negative-amount-precision",
    ),
    pytest.param(
        {"currencies": [_currency(), _currency(name="Euro again")]},
        "currencies[1] (eur)",
        "id",
        "eur appears twice in currencies",
        id="duplicate-currency",
    ),
    pytest.param(
        {"currencies": [_currency(precision=8)], "markets": [_market(), _market()]},
        "markets[1] (btceur)",
        "id",
        "btceur appears twice in markets",
        id="duplicate-market",
    ),
    pytest.param(
        {"currencies": [_currency(precision="two")]},
        "currencies[0] (eur)",
        "precision",
        "valid integer",
        id="precision-not-a-number",
    ),
    pytest.param(
        {"currencies": [_currency(precision=2.0)]},
        "currencies[0] (eur)",
        "precision",
        "valid integer",
        id="precision-a-float",
    ),
    pytest.param(
        {"currencies": [_currency(deposit_enabled="yes")]},
        "currencies[0] (eur)",
        "deposit_enabled",
        "valid boolean",
        id="boolean-a-string",
    ),
    pytest.param(
        "currencies:\n  - {id: eur, name: Euro, type: fiat, precision: 2, withdraw_fee: 0.5}\n",
        "currencies[0] (eur)",
        "withdraw_fee",
        "YAML float",
        id="money-a-yaml-float",
    ),
    pytest.param(
        {"currencies": [_currency(withdraw_fee="a lot")]},
        "currencies[0] (eur)",
        "withdraw_fee",
        "not a decimal number",
        id="money-not-a-number",
    ),
    pytest.param(
        {"currencies": [_currency(withdraw_fee="-1")]},
        "currencies[0] (eur)",
        "withdraw_fee",
        "must not be negative",
        id="money-negative",
    ),
    pytest.param(
        {"currencies": [_currency(withdraw_fee="0.001")]},
        "currencies[0] (eur)",
        "withdraw_fee",
        "more decimals than precision 2",
        id="money-over-precise",
    ),
    pytest.param(
        {"currencies": [_currency(type="stock")]},
        "currencies[0] (eur)",
        "type",
        "'coin' or 'fiat'",
        id="unknown-type",
    ),
    pytest.param(
        {"currencies": [_currency(colour="blue")]},
        "currencies[0] (eur)",
        "colour",
        "Extra inputs are not permitted",
        id="unknown-field",
    ),
    pytest.param(
        {"currencies": [_currency(precision=8)], "markets": [_market(taker_fee="0.6")]},
        "markets[0] (btceur)",
        "taker_fee",
        "above the highest fee",
        id="fee-too-high",
    ),
    pytest.param(
        {"currencies": [_currency(precision=8)], "markets": [_market(maker_fee="0.0000001")]},
        "markets[0] (btceur)",
        "maker_fee",
        "more than 6 decimals",
        id="fee-over-precise",
    ),
    pytest.param(
        {"currencies": [_currency(precision=8)], "markets": [_market(state="paused")]},
        "markets[0] (btceur)",
        "state",
        "Input should be",
        id="unknown-state",
    ),
    pytest.param(
        {"currencies": [_currency(id="EUR")]},
        "currencies[0] (EUR)",
        "id",
        "should match pattern",
        id="upper-case-code",
    ),
    pytest.param(
        {"currencies": [_currency(blockchain_key="sepa")]},
        "currencies[0] (eur)",
        "blockchain_key",
        "a fiat currency has no blockchain",
        id="fiat-with-blockchain",
    ),
    pytest.param(
        {"currencies": {"eur": _currency()}},
        "",
        "currencies",
        "must be a list of entries",
        id="section-not-a-list",
    ),
    pytest.param(
        {"currencies": ["eur"]},
        "currencies[0]",
        "",
        "must be a mapping of fields",
        id="entry-not-a-mapping",
    ),
    pytest.param(
        {"currency": [_currency()]},
        "",
        "currency",
        "unknown section",
        id="unknown-section",
    ),
    pytest.param(
        "currencies:\n  - id: eur\n\tname: Euro\n",
        "line 3",
        "",
        "invalid YAML",
        id="invalid-yaml",
    ),
    pytest.param(
        "- just\n- a list\n",
        "",
        "",
        "must be a mapping",
        id="not-a-mapping",
    ),
]

# Problems found against the database: market arithmetic and currencies known there.
INVALID_AGAINST_DATABASE: list[Any] = [
    pytest.param(
        {"markets": [_market()]},
        "markets[0] (btceur)",
        "quote_unit",
        "unknown currency 'eur'",
        id="unknown-quote-currency",
    ),
    pytest.param(
        {"currencies": [_currency()], "markets": [_market(base_unit="doge", id="dogeeur")]},
        "markets[0] (dogeeur)",
        "base_unit",
        "unknown currency 'doge'",
        id="unknown-base-currency",
    ),
    pytest.param(
        # eur has 2 decimals: 4 + 2 would make trade totals finer than a cent.
        {"currencies": [_currency()], "markets": [_market()]},
        "markets[0] (btceur)",
        "price_precision",
        "amount_precision 4 + price_precision 2 = 6 exceeds eur's precision 2",
        id="precisions-exceed-quote",
    ),
    pytest.param(
        # The quote currency comes from the database (usd, 2 decimals).
        {
            "markets": [
                _market(
                    id="ethusd",
                    base_unit="eth",
                    quote_unit="usd",
                    amount_precision=2,
                    price_precision=1,
                    min_price="0.1",
                    min_amount="0.01",
                )
            ]
        },
        "markets[0] (ethusd)",
        "price_precision",
        "exceeds usd's precision 2",
        id="precisions-exceed-stored-quote",
    ),
    pytest.param(
        {
            "currencies": [_currency(precision=8)],
            "markets": [_market(amount_precision=9, min_amount="0.000000001")],
        },
        "markets[0] (btceur)",
        "amount_precision",
        "exceeds btc's precision 8",
        id="amount-precision-exceeds-base",
    ),
    pytest.param(
        {"currencies": [_currency(precision=8)], "markets": [_market(id="eurbtc")]},
        "markets[0] (eurbtc)",
        "id",
        "must be base_unit + quote_unit (btceur)",
        id="market-id-not-the-pair",
    ),
    pytest.param(
        {"currencies": [_currency(precision=8)], "markets": [_market(min_price="0.001")]},
        "markets[0] (btceur)",
        "min_price",
        "more than 2 decimals",
        id="min-price-over-precise",
    ),
    pytest.param(
        {"currencies": [_currency(precision=8)], "markets": [_market(min_price="0")]},
        "markets[0] (btceur)",
        "min_price",
        "must be at least 0.01",
        id="min-price-zero",
    ),
    pytest.param(
        {
            "currencies": [_currency(precision=8)],
            "markets": [_market(min_price="10", max_price="5")],
        },
        "markets[0] (btceur)",
        "max_price",
        "at least min_price",
        id="max-below-min",
    ),
]


def _check(error: SeedError, path: Path, entry: str, field: str, message: str) -> None:
    assert error.source == str(path)
    matching = [p for p in error.problems if (p.entry, p.field) == (entry, field)]
    assert matching, error.problems
    assert any(message in p.message for p in matching), matching
    where = ": ".join(part for part in (str(path), entry, field) if part)
    assert f"{where}: " in str(error)
    assert all(line.startswith(f"{path}: ") for line in str(error).splitlines())


@pytest.mark.parametrize(("document", "entry", "field", "message"), INVALID_FILES)
def test_invalid_file_names_file_entry_and_field(
    tmp_path: Path, document: Document, entry: str, field: str, message: str
) -> None:
    path = _write(tmp_path, document, name="broken-seeds.yaml")
    with pytest.raises(SeedError) as caught:
        read_seed_file(path)
    _check(caught.value, path, entry, field, message)


@pytest.mark.parametrize(("document", "entry", "field", "message"), INVALID_AGAINST_DATABASE)
async def test_invalid_against_the_database_names_file_entry_and_field(
    engine: AsyncEngine,
    tmp_path: Path,
    document: Document,
    entry: str,
    field: str,
    message: str,
) -> None:
    path = _write(tmp_path, document, name="broken-seeds.yaml")
    read_seed_file(path)  # valid on its own
    async with engine.begin() as conn:
        with pytest.raises(SeedError) as caught:
            await seed_file(conn, path)
    _check(caught.value, path, entry, field, message)


async def test_no_invalid_file_writes_anything(engine: AsyncEngine, tmp_path: Path) -> None:
    before = (await _table(engine, currencies), await _table(engine, markets))
    for index, param in enumerate(INVALID_FILES + INVALID_AGAINST_DATABASE):
        path = _write(tmp_path, param.values[0], name=f"broken-{index}.yaml")
        async with engine.begin() as conn:  # the transaction commits: nothing may be in it
            with pytest.raises(SeedError):
                await seed_file(conn, path)
        assert (await _table(engine, currencies), await _table(engine, markets)) == before, param


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = yaml.safe_dump(
        {
            "currencies": [_currency(precision=-1), _currency(id="chf", type="gold")],
            "markets": [_market(maker_fee="1")],
        }
    )
    with pytest.raises(SeedError) as caught:
        parse_seeds(text, "many.yaml")
    found = {(p.entry, p.field) for p in caught.value.problems}
    assert found == {
        ("currencies[0] (eur)", "precision"),
        ("currencies[1] (chf)", "type"),
        ("markets[0] (btceur)", "maker_fee"),
    }


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(SeedError) as caught:
        read_seed_file(path)
    assert str(caught.value).startswith(f"{path}: cannot read")


async def test_one_bad_entry_stops_the_whole_file(engine: AsyncEngine, tmp_path: Path) -> None:
    """Valid new entries and valid changes are not written when another entry is bad."""
    document = copy.deepcopy(DEMO)
    document["currencies"][0]["name"] = "Renamed"
    document["currencies"].append(_currency(id="chf", name="Swiss franc"))
    document["markets"].append(
        _market(
            id="btcchf",
            quote_unit="chf",
            amount_precision=1,
            price_precision=1,
            min_price="0.1",
            min_amount="0.1",
        )
    )
    document["markets"].append(_market(quote_unit="gbp", id="btcgbp"))
    path = _write(tmp_path, document)
    before = (await _table(engine, currencies), await _table(engine, markets))

    async with engine.begin() as conn:
        with pytest.raises(SeedError) as caught:
            await seed_file(conn, path)

    assert [(p.entry, p.field) for p in caught.value.problems] == [
        (f"markets[{len(DEMO_MARKETS) + 1}] (btcgbp)", "quote_unit")
    ]
    assert (await _table(engine, currencies), await _table(engine, markets)) == before


Change = Callable[[dict[str, Any]], None]


def _set(section: str, index: int, name: str, value: Any) -> Change:
    def change(document: dict[str, Any]) -> None:
        document[section][index][name] = value

    return change


@pytest.mark.parametrize(
    ("change", "entry", "field"),
    [
        pytest.param(_set("currencies", 0, "precision", 6), "currencies[0] (btc)", "precision"),
        pytest.param(_set("currencies", 3, "type", "coin"), "currencies[3] (usd)", "type"),
        pytest.param(
            _set("markets", 0, "amount_precision", 4), "markets[0] (btcusdt)", "amount_precision"
        ),
        pytest.param(
            _set("markets", 0, "price_precision", 1), "markets[0] (btcusdt)", "price_precision"
        ),
    ],
)
async def test_immutable_field_change_is_refused(
    engine: AsyncEngine, tmp_path: Path, change: Change, entry: str, field: str
) -> None:
    document = copy.deepcopy(DEMO)
    change(document)
    path = _write(tmp_path, document)
    before = (await _table(engine, currencies), await _table(engine, markets))

    async with engine.begin() as conn:
        with pytest.raises(SeedError) as caught:
            await seed_file(conn, path)

    problems = {(p.entry, p.field): p.message for p in caught.value.problems}
    assert "once seeded" in problems[(entry, field)]
    assert f"{path}: {entry}: {field}: cannot change from" in str(caught.value)
    assert (await _table(engine, currencies), await _table(engine, markets)) == before


async def test_seeds_run_in_the_callers_transaction(engine: AsyncEngine, tmp_path: Path) -> None:
    path = _write(tmp_path, {"currencies": [_currency()]})
    async with engine.connect() as conn:
        transaction = await conn.begin()
        outcomes = await seed_file(conn, path)
        assert [(o.kind, o.id, o.action) for o in outcomes] == [("currency", "eur", CREATED)]
        await transaction.rollback()
    assert "eur" not in [c["id"] for c in await _table(engine, currencies)]
    # Committed this time, and then the same file is a no-op.
    assert await _apply(engine, path) == [("currency", "eur", CREATED)]
    assert await _apply(engine, path) == [("currency", "eur", UNCHANGED)]


# ---------------------------------------------------------------------- after the engine ran


async def _log_a_command(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO engine_commands (seq, idempotency_key, kind, payload, result, created_at)"
            " VALUES (1, 'k', 'credit', '{}', '{}', now())"
        )


async def test_once_the_engine_ran_seeds_add_markets_but_never_change_them(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _log_a_command(engine)
    document = copy.deepcopy(DEMO)
    document["currencies"][0]["name"] = "Bitcoin (BTC)"  # descriptive: still fine
    document["markets"][0]["taker_fee"] = "0.0025"
    with pytest.raises(SeedError) as caught:
        await _apply(engine, _write(tmp_path, document))
    assert "POST /api/v2/peatio/admin/markets/update" in str(caught.value)
    assert "taker_fee" in str(caught.value)
    btcusdt = next(m for m in await _table(engine, markets) if m["id"] == "btcusdt")
    assert btcusdt["taker_fee"] == Decimal(str(DEMO["markets"][0]["taker_fee"]))
    document["markets"][0]["taker_fee"] = DEMO["markets"][0]["taker_fee"]
    assert ("currency", "btc", UPDATED) in await _apply(engine, _write(tmp_path, document))


async def test_create_only_keeps_an_admins_changes(engine: AsyncEngine) -> None:
    await _log_a_command(engine)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE markets SET state = 'disabled' WHERE id = 'btcusdt'")
        await conn.exec_driver_sql("DELETE FROM markets WHERE id = 'ethbtc'")
    async with engine.begin() as conn:
        outcomes = await apply_seeds(conn, read_seed_file(DEMO_SEEDS), create_only=True)
    assert [(o.id, o.action) for o in outcomes] == [("ethbtc", CREATED)]
    states = {m["id"]: m["state"] for m in await _table(engine, markets)}
    assert states["btcusdt"] == "disabled"
    assert "ethbtc" in states
