"""The migrations build exactly the schema the tables declare, and re-running them is safe."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect
from sqlalchemy.engine import Connection

import bursa.applogic.tables
import bursa.custody.beneficiary_tables
import bursa.custody.network_fee_tables
import bursa.custody.sweep_tables
import bursa.custody.tables
import bursa.custody.withdraw_limit_tables
import bursa.engine.tables
import bursa.events.tables
import bursa.identity.tables
import bursa.ledger.tables
import bursa.mailer.tables
import bursa.signing.tables
import bursa.trading.internal_transfer_tables
import bursa.trading.tables
import bursa.trading.withdrawal_tables
from bursa.db.metadata import metadata
from bursa.db.migrate import alembic_config, current_revision, head_revision, upgrade
from bursa.db.session import create_engine
from tests.conftest import SERVER_URL, _admin, database_url, require

TABLE_MODULES = (
    bursa.applogic.tables,
    bursa.engine.tables,
    bursa.events.tables,
    bursa.identity.tables,
    bursa.ledger.tables,
    bursa.mailer.tables,
    bursa.signing.tables,
    bursa.trading.tables,
    bursa.custody.tables,
    bursa.custody.beneficiary_tables,
    bursa.custody.network_fee_tables,
    bursa.custody.sweep_tables,
    bursa.custody.withdraw_limit_tables,
    bursa.trading.withdrawal_tables,
    bursa.trading.internal_transfer_tables,
)
TABLES = {
    "accounts",
    "activities",
    "adjustments",
    "admin_audit",
    "api_keys",
    "applogic_approvals",
    "beneficiaries",
    "blockchains",
    "candles",
    "chain_blocks",
    "comments",
    "currencies",
    "data_storages",
    "deposits",
    "documents",
    "engine_commands",
    "event_outbox",
    "internal_transfers",
    "kyc_callbacks",
    "labels",
    "ledger_verifications",
    "mailer_deliveries",
    "market_data_progress",
    "markets",
    "member_groups",
    "network_fees",
    "oauth_clients",
    "oauth_codes",
    "oauth_tokens",
    "one_time_codes",
    "operations",
    "orders",
    "payment_addresses",
    "permissions",
    "phones",
    "profiles",
    "restrictions",
    "service_accounts",
    "sweeps",
    "token_keys",
    "trades",
    "trading_fees",
    "transfers",
    "used_jtis",
    "user_sessions",
    "users",
    "wallet_currencies",
    "wallets",
    "whitelinks",
    "whitelisted_smart_contracts",
    "withdraw_limits",
    "withdrawal_holds",
    "withdraws",
}


@pytest.fixture
async def empty_database_url() -> AsyncIterator[str]:
    """A new, empty database (no migrations, no seeds)."""
    require(SERVER_URL, 5432, "PostgreSQL")
    name = f"bursa_test_mig_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    yield database_url(name)
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _on(url: str, work: Any) -> Any:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def _differences(conn: Connection, target: MetaData = metadata) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, target))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def test_metadata_knows_every_table() -> None:
    assert all(module.metadata is metadata for module in TABLE_MODULES)
    assert set(metadata.tables) == TABLES


async def test_fresh_database_migrates_to_exactly_the_metadata(empty_database_url: str) -> None:
    assert await current_revision(empty_database_url) is None
    assert await _on(empty_database_url, _tables) == set()

    await upgrade(empty_database_url)

    assert await current_revision(empty_database_url) == head_revision()
    assert await _on(empty_database_url, _tables) == TABLES | {"alembic_version"}
    assert await _on(empty_database_url, _differences) == []


async def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    await upgrade(empty_database_url)

    assert await current_revision(empty_database_url) == head_revision()
    assert await _on(empty_database_url, _differences) == []


async def test_seeded_database_upgrades_without_change(fresh_database_url: str) -> None:
    """A database already at head (the test template: migrated and seeded) is left alone."""
    count = "SELECT count(*) FROM markets"

    def markets(conn: Connection) -> int:
        return int(conn.exec_driver_sql(count).scalar_one())

    seeded = await _on(fresh_database_url, markets)
    assert seeded > 0
    await upgrade(fresh_database_url)
    assert await _on(fresh_database_url, markets) == seeded
    assert await _on(fresh_database_url, _differences) == []


async def test_downgrade_to_base_and_back(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    config = alembic_config(empty_database_url)

    def downgrade(conn: Connection) -> None:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")

    await _on(empty_database_url, downgrade)
    assert await _on(empty_database_url, _tables) == {"alembic_version"}
    assert await current_revision(empty_database_url) is None

    await upgrade(empty_database_url)
    assert await _on(empty_database_url, _differences) == []


async def test_the_comparison_sees_a_drift(empty_database_url: str) -> None:
    """Control: the comparison is not blind (a column too many, a changed type)."""
    await upgrade(empty_database_url)
    drifted = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["accounts"].append_column(Column("note", Integer))
    drifted.tables["trades"].c.taker_type.type = drifted.tables["trades"].c.market_id.type

    found = await _on(empty_database_url, lambda conn: _differences(conn, drifted))

    kinds = {(d[0] if isinstance(d, tuple) else d[0][0]) for d in found}
    assert "add_column" in kinds
    assert "modify_type" in kinds


async def test_confirmations_become_the_chains_keeping_only_real_overrides(
    fresh_database_url: str,
) -> None:
    """Migration 0033: a currency's number equal to its chain's, or on no configured chain,
    becomes NULL (follow the chain); one that differs stays, as an override, so no installed
    exchange credits at another depth."""
    config = alembic_config(fresh_database_url)

    def before_0033(conn: Connection) -> None:
        config.attributes["connection"] = conn
        command.downgrade(config, "0032")
        conn.exec_driver_sql(
            "INSERT INTO blockchains (key, name, client, min_confirmations) VALUES"
            " ('ethereum', 'Ethereum', 'ethereum', 12), ('bitcoin', 'Bitcoin', 'bitcoin', 2)"
        )
        conn.exec_driver_sql(
            "UPDATE currencies SET min_confirmations = CASE id WHEN 'eth' THEN 12"
            " WHEN 'btc' THEN 6 ELSE 3 END"
        )

    def numbers(conn: Connection) -> dict[str, int | None]:
        rows = conn.exec_driver_sql("SELECT id, min_confirmations FROM currencies")
        return {row[0]: row[1] for row in rows}

    await _on(fresh_database_url, before_0033)
    await upgrade(fresh_database_url)
    assert await _on(fresh_database_url, numbers) == {
        "eth": None,  # its chain's 12
        "btc": 6,  # not its chain's 2: kept, now an override
        "usdt": None,  # on no chain
        "usd": None,  # fiat
    }
