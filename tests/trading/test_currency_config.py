"""A currency's configuration goes through the engine, atomically.

``ConfigureCurrency`` carries the currency's whole row and the engine writes it in the
statement that logs the command, as it does a market's: the row with every field is there
exactly when the engine knows the currency, whatever dies when. Commands logged before the
row rode along still replay."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.db.session import create_engine
from bursa.engine.commands import (
    Command,
    ConfigureCurrency,
    Credit,
    command_from_payload,
)
from bursa.engine.core import Engine
from bursa.engine.replay import check_replay, replay_log
from bursa.engine.runner import EngineRunner
from bursa.engine.specs import COIN, CurrencySpec
from bursa.errors import BursaError, Refusal
from bursa.trading.audit import Actor
from bursa.trading.config_changes import Submit
from bursa.trading.currency_config import create_currency, update_currency
from bursa.trading.specs import load_specs
from tests.engine.test_runner import runner_for

ROOT = Actor(uid="ID0000000001", role="superadmin", ip="127.0.0.1")
SOL_FIELDS: Any = {
    "name": "Solana",
    "description": "A chain of its own",
    "homepage": "https://solana.com",
    "icon_url": "https://solana.com/icon.svg",
    "state": "hidden",
    "position": 7,
    "blockchain_key": "solana",
    "deposit_fee": Decimal("0.001"),
    "min_deposit_amount": Decimal("0.5"),
    "withdraw_fee": Decimal("0.01"),
    "min_withdraw_amount": Decimal("1"),
    "withdraw_limit_24h": Decimal("100"),
    "withdraw_limit_72h": Decimal("250.5"),
    "deposit_enabled": False,
    "withdrawal_enabled": True,
    "min_confirmations": 32,
    "options": {"decimals": 9, "send_surplus": True, "first_block": 10**20},  # > 64 bits
}


class Crash(BaseException):
    """The API process dying: nothing after it runs, its transaction is never committed."""


@dataclass
class Rig:
    url: str
    conn: asyncpg.Connection
    sessions: async_sessionmaker[AsyncSession]
    runner: EngineRunner

    async def restart(self) -> None:
        await self.runner.stop()
        self.runner = runner_for(self.url)
        await self.runner.start()

    async def create(self, fields: Any = SOL_FIELDS, submit: Submit | None = None) -> None:
        """``currencies/new`` for SOL as a request makes it: one transaction, committed
        at the boundary once the service returns."""
        async with self.sessions() as session, session.begin():
            submit = submit or self.runner.submit
            await create_currency(session, submit, ROOT, "sol", COIN, 9, fields)

    async def update(self, fields: Any) -> None:
        async with self.sessions() as session, session.begin():
            await update_currency(session, self.runner.submit, ROOT, "sol", fields)


@pytest.fixture
async def rig(fresh_database_url: str) -> AsyncIterator[Rig]:
    conn = await asyncpg.connect(fresh_database_url)
    await conn.execute(
        "INSERT INTO blockchains (key, name, client) VALUES ('solana', 'Solana', 'solana')"
    )
    database = create_engine(fresh_database_url, pool_size=2)
    runner = runner_for(fresh_database_url)
    await runner.start()
    rig = Rig(fresh_database_url, conn, async_sessionmaker(database), runner)
    try:
        yield rig
    finally:
        await rig.runner.stop()
        await database.dispose()
        await conn.close()


async def currency_row(conn: asyncpg.Connection, code: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT *, xmin::text AS tx FROM currencies WHERE id = $1", code)
    return None if row is None else dict(row)


async def logged(conn: asyncpg.Connection, code: str) -> list[asyncpg.Record]:
    """The currency's configuration commands, with the transaction that wrote each."""
    found: list[asyncpg.Record] = await conn.fetch(
        "SELECT seq, payload::jsonb AS payload, xmin::text AS tx FROM engine_commands"
        " WHERE kind = 'configure_currency' AND payload::jsonb->>'code' = $1 ORDER BY seq",
        code,
    )
    return found


async def test_the_engine_writes_the_whole_row_in_the_commit_of_its_command(rig: Rig) -> None:
    await rig.create()
    row = await currency_row(rig.conn, "sol")
    assert row is not None
    assert {name: row[name] for name in SOL_FIELDS} == {
        **SOL_FIELDS,
        # jsonb, as asyncpg reads it
        "options": '{"decimals": 9, "first_block": 100000000000000000000, "send_surplus": true}',
    }
    (created,) = await logged(rig.conn, "sol")
    # One transaction wrote both: the engine's batch, not a second write after it.
    assert row["tx"] == created["tx"]
    payload = json.loads(created["payload"])
    assert (payload["name"], payload["deposit_fee"], payload["withdraw_limit_72h"]) == (
        "Solana",
        1_000_000,  # 0.001 SOL in lamports: the engine's integers
        250_500_000_000,
    )
    assert rig.runner.engine.currencies["sol"] == CurrencySpec("sol", COIN, 9)

    await rig.update({"name": "SOL", "withdraw_fee": Decimal("0.02"), "min_confirmations": None})
    changed = await currency_row(rig.conn, "sol")
    assert changed is not None
    assert (changed["name"], changed["withdraw_fee"], changed["min_confirmations"]) == (
        "SOL",
        Decimal("0.02"),
        None,
    )
    assert (changed["icon_url"], changed["position"]) == (row["icon_url"], 7)  # kept
    assert changed["created_at"] == row["created_at"]
    _, updated = await logged(rig.conn, "sol")
    assert changed["tx"] == updated["tx"]
    audited = await rig.conn.fetch(
        "SELECT action FROM admin_audit WHERE target_type = 'currency' ORDER BY id"
    )
    assert [r["action"] for r in audited] == ["currency.create", "currency.update"]


async def test_a_crash_after_the_engine_commit_leaves_the_currency_whole(rig: Rig) -> None:
    async def submit_then_die(command: Command) -> dict[str, Any]:
        await rig.runner.submit(command)
        raise Crash

    with pytest.raises(Crash):
        await rig.create(submit=submit_then_die)
    # The request died before its audit entry; the currency is whole all the same.
    assert await rig.conn.fetchval("SELECT count(*) FROM admin_audit") == 0
    row = await currency_row(rig.conn, "sol")
    assert row is not None and row["name"] == "Solana"

    await rig.restart()
    assert "sol" in rig.runner.engine.currencies
    currencies, markets = await load_specs(rig.conn)
    report = await check_replay(rig.conn, currencies, markets)
    assert report.ok, report.differences
    with pytest.raises(BursaError) as taken:  # and it is taken, as any other
        await rig.create()
    assert taken.value.codes == ["admin.currency.code_taken"]


async def test_a_batch_that_cannot_commit_leaves_neither_the_row_nor_the_command(
    rig: Rig,
) -> None:
    await rig.conn.execute(
        """
        CREATE FUNCTION lose_the_disk() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
        CREATE TRIGGER lose_the_disk BEFORE INSERT ON currencies
            FOR EACH ROW EXECUTE FUNCTION lose_the_disk();
        """
    )
    with pytest.raises(BursaError) as refused:
        await rig.create()
    assert refused.value.kind == Refusal.UNAVAILABLE  # the engine halted, memory ahead
    assert not rig.runner.running
    assert await logged(rig.conn, "sol") == []
    assert await currency_row(rig.conn, "sol") is None

    await rig.conn.execute("DROP TRIGGER lose_the_disk ON currencies")
    await rig.restart()
    assert "sol" not in rig.runner.engine.currencies
    await rig.create()  # asked again, it is made whole
    assert "sol" in rig.runner.engine.currencies
    assert len(await logged(rig.conn, "sol")) == 1


async def test_what_the_table_cannot_hold_is_refused_and_the_engine_runs_on(rig: Rig) -> None:
    cases: list[tuple[Any, str]] = [
        ({"deposit_fee": Decimal("1e25")}, "admin.currency.invalid_deposit_fee"),
        ({"withdraw_fee": Decimal("0.0000000001")}, "admin.currency.invalid_withdraw_fee"),
        ({"name": "x" * 65}, "admin.currency.invalid_name"),
        # No command may carry a NUL (its log entry could not be written): refused first.
        ({"options": {"note": "a\x00b"}}, "admin.currency.invalid_options"),
        ({"description": "a\x00b"}, "admin.currency.invalid_description"),
    ]
    for fields, code in cases:
        with pytest.raises(BursaError) as refused:
            await rig.create(fields)
        assert refused.value.codes == [code]
    assert rig.runner.running
    assert await currency_row(rig.conn, "sol") is None
    assert "sol" not in rig.runner.engine.currencies


def test_the_engine_refuses_a_row_its_table_cannot_hold_before_changing_anything() -> None:
    engine = Engine([CurrencySpec("btc", COIN, 8)], [])
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"code": "x" * 11}, "admin.currency.invalid_code"),
        ({"name": "x" * 65}, "admin.currency.invalid_name"),
        ({"blockchain_key": "x" * 33}, "admin.currency.invalid_blockchain_key"),
        ({"state": "archived"}, "admin.currency.invalid_status"),
        ({"position": 2**31}, "admin.currency.invalid_position"),
        ({"min_confirmations": 0}, "admin.currency.invalid_min_confirmations"),
        ({"withdraw_limit_24h": 10**31}, "admin.currency.invalid_withdraw_limit_24h"),
        ({"min_deposit_amount": -1}, "admin.currency.invalid_min_deposit_amount"),
    ]
    for number, (fields, code) in enumerate(refusals):
        command = ConfigureCurrency(
            key=f"c{number}", **{"code": "sol", "type": COIN, "precision": 9, **fields}
        )
        assert engine.apply(command, 1).error == code
    journal = engine.end_batch()
    assert not journal.currencies
    assert set(engine.currencies) == {"btc"}


async def test_commands_logged_before_the_row_rode_along_still_replay(
    fresh_database_url: str,
) -> None:
    old: dict[str, Any] = {
        "key": "admin:currency:old",
        "code": "sol",
        "type": COIN,
        "precision": 9,
    }
    assert command_from_payload("configure_currency", old) == ConfigureCurrency(**old)
    conn = await asyncpg.connect(fresh_database_url)
    try:
        # What the API did then: the engine logged the command, the API wrote the row.
        await conn.execute(
            "INSERT INTO engine_commands (seq, idempotency_key, kind, payload, result,"
            " created_at) VALUES (1, $1, 'configure_currency', $2::json, $3::json, now())",
            old["key"],
            '{"key": "admin:currency:old", "code": "sol", "type": "coin", "precision": 9}',
            '{"seq": 1, "kind": "configure_currency", "error": null, "previous": null,'
            ' "current": {"code": "sol", "type": "coin", "precision": 9}}',
        )
        await conn.execute(
            "INSERT INTO currencies (id, name, type, precision) VALUES ('sol', 'Solana', 'coin', 9)"
        )
        runner = runner_for(fresh_database_url)
        await runner.start()
        try:
            credit = Credit(key="c1", member_id=1, currency="sol", amount=10**9, deposit_id="d1")
            assert (await runner.submit(credit))["error"] is None
        finally:
            await runner.stop()
        currencies, markets = await load_specs(conn)
        replayed = await replay_log(conn, currencies, markets)
        assert replayed.currencies["sol"] == CurrencySpec("sol", COIN, 9)
        report = await check_replay(conn, currencies, markets)
        assert report.ok, report.differences
    finally:
        await conn.close()
