"""The money workflow's helper (``bursa.trading.engine_requests``) on a real PostgreSQL and
a real engine runner, crashed at every step: before the engine saw the command, after the
engine applied it but before the row was finished, in the middle of finishing, with the
process restarted in between, and finished twice. Each time the money moves exactly once,
the row is finished once, and the ledger verifies.

The runner forgets idempotency keys at once (a window of zero hours), as it does a day
later in production: only the command log stands between a retry and a second payment.
The requests are a table of this test's own, so that the helper is tested alone; the five
workflows that use it keep their own tests."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bursa.db.session import create_engine, create_session_factory
from bursa.engine import errors as engine_errors
from bursa.engine.commands import Adjust, Command
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.ledger.verify import verify_ledger
from bursa.trading import engine_requests
from bursa.trading.engine_requests import EngineResult, Outcome
from bursa.trading.specs import load_specs

MEMBER = 7
PENDING, DONE, REFUSED = "pending", "done", "refused"

metadata = MetaData()
requests = Table(
    "test_money_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cents", BigInteger, nullable=False),  # signed: a credit or a debit of usd
    Column("engine_key", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("seq", BigInteger),
    Column("error", Text),
    Column("finishes", Integer, nullable=False, server_default="0"),
)


class Crash(Exception):
    """The process died here."""


class Requests:
    """A workflow as small as one can be: a pending row waits under its key; finished, it
    is ``done`` (with the engine's seq) or ``refused`` (with its error). ``crash_in_finish``
    dies after writing, before the commit."""

    def __init__(self) -> None:
        self.crash_in_finish = False

    async def commands(self, session: AsyncSession, rows: Sequence[Any]) -> list[Command]:
        return [
            Adjust(
                key=row["engine_key"],
                member_id=MEMBER,
                currency="usd",
                amount=row["cents"],
                reason="test",
            )
            for row in rows
        ]

    def waiting(self, row: Any) -> str | None:
        return str(row["engine_key"]) if row["state"] == PENDING else None

    async def relock(self, session: AsyncSession, rows: Sequence[Any]) -> list[Any]:
        ids = [row["id"] for row in rows]
        query = select(requests).where(requests.c.id.in_(ids)).with_for_update()
        found = {row["id"]: row for row in (await session.execute(query)).mappings()}
        return [found[request_id] for request_id in ids]

    async def finish(
        self, session: AsyncSession, done: Sequence[tuple[Any, EngineResult]]
    ) -> list[Any]:
        finished = []
        for row, result in done:
            changed = await session.execute(
                update(requests)
                .where(requests.c.id == row["id"])
                .values(
                    state=DONE if result.applied else REFUSED,
                    seq=result.seq,
                    error=result.error,
                    finishes=requests.c.finishes + 1,
                )
                .returning(requests)
            )
            finished.append(changed.mappings().one())
        if self.crash_in_finish:
            raise Crash("after finishing, before the commit")
        return finished


@dataclass
class Engine:
    """The runner's ``submit``, counting what reaches it; ``crash`` dies ``before`` the
    engine sees a command or ``after`` it committed one (before the caller hears)."""

    runner: EngineRunner
    crash: str | None = None
    sent: list[str] = field(default_factory=list)

    async def submit(self, command: Command) -> dict[str, Any]:
        if self.crash == "before":
            raise Crash("before the engine saw it")
        self.sent.append(command.key)
        answer = await self.runner.submit(command)
        if self.crash == "after":
            raise Crash("after the engine committed it")
        return answer


@dataclass
class World:
    url: str
    runner: EngineRunner
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    pending: Requests = field(default_factory=Requests)

    def engine(self, crash: str | None = None) -> Engine:
        return Engine(self.runner, crash)

    async def restart(self) -> None:
        """The engine process dies and comes back: it recovers from what was committed
        (and, its window being zero, remembers no key)."""
        await self.runner.stop()
        self.runner = runner_for(self.url)
        await self.runner.start()

    async def record(self, *cents: int) -> list[Any]:
        """Step 1: pending rows, committed."""
        async with self.sessions() as session, session.begin():
            rows = []
            for index, amount in enumerate(cents):
                key = f"test:{await session.scalar(select(func.gen_random_uuid()))}:{index}"
                inserted = await session.execute(
                    insert(requests)
                    .values(cents=amount, engine_key=key, state=PENDING)
                    .returning(requests)
                )
                rows.append(inserted.mappings().one())
            return rows

    async def carry_out(self, engine: Engine, rows: Sequence[Any]) -> list[Outcome]:
        async with self.sessions() as session:
            return await engine_requests.carry_out(session, engine.submit, self.pending, rows)

    async def carry_out_locked(self, engine: Engine, rows: Sequence[Any]) -> list[Outcome]:
        """The same, holding the rows locked across the engine (one transaction)."""
        async with self.sessions() as session, session.begin():
            locked = await self.pending.relock(session, rows)
            return await engine_requests.carry_out_locked(
                session, engine.submit, self.pending, locked
            )

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.url)
        try:
            rows: list[asyncpg.Record] = await conn.fetch(query, *args)
            return rows
        finally:
            await conn.close()

    async def balance(self) -> Decimal:
        """The member's committed usd balance (the ``accounts`` table)."""
        rows = await self.fetch(
            "SELECT balance FROM accounts WHERE member_id = $1 AND currency_id = 'usd'", MEMBER
        )
        return rows[0]["balance"] if rows else Decimal(0)

    async def rows(self) -> list[asyncpg.Record]:
        return await self.fetch(
            "SELECT id, state, seq, error, finishes FROM test_money_requests ORDER BY id"
        )

    async def runs(self, key: str) -> int:
        """How often the engine ran ``key`` (its command log)."""
        found = await self.fetch(
            "SELECT count(*) AS n FROM engine_commands WHERE idempotency_key = $1", key
        )
        return int(found[0]["n"])

    async def ledger_ok(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            report = await verify_ledger(conn)
        finally:
            await conn.close()
        assert report.ok, report.breaks


def runner_for(url: str) -> EngineRunner:
    return EngineRunner(url, InProcessBus(), load_specs, idempotency_window_hours=0)


@pytest.fixture
async def world(fresh_database_url: str) -> AsyncIterator[World]:
    db = create_engine(fresh_database_url, pool_size=4)
    async with db.begin() as conn:
        await conn.run_sync(metadata.create_all)
    runner = runner_for(fresh_database_url)
    await runner.start()
    found = World(fresh_database_url, runner, db, create_session_factory(db))
    try:
        yield found
    finally:
        await found.runner.stop()
        await db.dispose()


async def test_without_the_log_a_forgotten_key_would_pay_twice(world: World) -> None:
    """What the helper guards against: past its window, the engine applies a key again."""
    command = Adjust(key="test:twice", member_id=MEMBER, currency="usd", amount=100, reason="x")
    await world.runner.submit(command)
    await world.runner.submit(command)
    assert await world.balance() == Decimal(2)
    assert await world.runs("test:twice") == 2


async def test_a_request_moves_money_once_and_is_finished_with_the_engines_seq(
    world: World,
) -> None:
    engine = world.engine()
    rows = await world.record(1000, 250)

    outcomes = await world.carry_out(engine, rows)

    assert [(o.row["state"], o.result.applied, o.finished_here) for o in outcomes] == [
        (DONE, True, True),
        (DONE, True, True),
    ]
    assert [o.row["seq"] for o in outcomes] == [o.result.seq for o in outcomes]
    assert engine.sent == [row["engine_key"] for row in rows]  # together, in order
    assert await world.balance() == Decimal("12.50")
    assert [r["finishes"] for r in await world.rows()] == [1, 1]
    await world.ledger_ok()


async def test_a_crash_before_the_engine_saw_it_is_sent_by_the_next_attempt(
    world: World,
) -> None:
    [row] = await world.record(700)
    with pytest.raises(Crash):
        await world.carry_out(world.engine(crash="before"), [row])
    assert await world.runs(row["engine_key"]) == 0
    assert [r["state"] for r in await world.rows()] == [PENDING]

    engine = world.engine()
    [outcome] = await world.carry_out(engine, [row])

    assert (outcome.row["state"], outcome.finished_here) == (DONE, True)
    assert engine.sent == [row["engine_key"]]
    assert await world.balance() == Decimal(7)
    assert await world.runs(row["engine_key"]) == 1
    await world.ledger_ok()


@pytest.mark.parametrize("locked", [False, True], ids=["two transactions", "locked"])
async def test_a_crash_after_the_engine_applied_it_is_finished_from_the_log(
    world: World, locked: bool
) -> None:
    """The engine committed, the process died before the row said so, the engine came
    back without the key: the next attempt reads the result from the command log, sends
    nothing, and records the seq the engine answered the first time."""
    carry_out = world.carry_out_locked if locked else world.carry_out
    [row] = await world.record(700)
    with pytest.raises(Crash):
        await carry_out(world.engine(crash="after"), [row])
    assert await world.balance() == Decimal(7)
    [first_run] = await world.fetch(
        "SELECT seq FROM engine_commands WHERE idempotency_key = $1", row["engine_key"]
    )
    assert [r["state"] for r in await world.rows()] == [PENDING]
    await world.restart()

    engine = world.engine()
    [outcome] = await carry_out(engine, [row])

    assert engine.sent == []
    assert (outcome.row["state"], outcome.row["seq"]) == (DONE, first_run["seq"])
    assert await world.balance() == Decimal(7)
    assert await world.runs(row["engine_key"]) == 1
    assert [r["finishes"] for r in await world.rows()] == [1]
    await world.ledger_ok()


async def test_a_crash_while_finishing_leaves_the_row_pending_until_the_log_finishes_it(
    world: World,
) -> None:
    rows = await world.record(300, 400)
    world.pending.crash_in_finish = True
    with pytest.raises(Crash):
        await world.carry_out(world.engine(), rows)
    assert [r["state"] for r in await world.rows()] == [PENDING, PENDING]  # rolled back
    assert await world.balance() == Decimal(7)
    world.pending.crash_in_finish = False

    engine = world.engine()
    outcomes = await world.carry_out(engine, rows)

    assert engine.sent == []
    assert [o.row["state"] for o in outcomes] == [DONE, DONE]
    assert await world.balance() == Decimal(7)
    assert [r["finishes"] for r in await world.rows()] == [1, 1]
    await world.ledger_ok()


async def test_finishing_again_changes_nothing(world: World) -> None:
    """A second attempt with the rows as they were read before the first finished them
    (a retried request, a second worker): it sends nothing, records nothing, and answers
    the rows as they stand."""
    rows = await world.record(500, -200)
    first = await world.carry_out(world.engine(), rows)

    engine = world.engine()
    again = await world.carry_out(engine, rows)
    locked_again = await world.carry_out_locked(engine, rows)

    assert engine.sent == []
    for outcomes in (again, locked_again):
        assert [(o.row["state"], o.finished_here) for o in outcomes] == [
            (DONE, False),
            (DONE, False),
        ]
    assert [o.result for o in again] == [o.result for o in first]
    assert [o.row["seq"] for o in again] == [o.row["seq"] for o in first]
    assert await world.balance() == Decimal(3)
    assert [r["finishes"] for r in await world.rows()] == [1, 1]
    await world.ledger_ok()


async def test_two_attempts_at_once_move_money_once_and_finish_once(world: World) -> None:
    """Both find the row pending and send the key in the same window (a normal one here):
    the engine answers both the first result, one attempt records it, the other answers
    the row as that one left it."""
    await world.runner.stop()
    world.runner = EngineRunner(world.url, InProcessBus(), load_specs)
    await world.runner.start()
    [row] = await world.record(900)

    outcomes = await asyncio.gather(
        world.carry_out(world.engine(), [row]), world.carry_out(world.engine(), [row])
    )

    finished = [o for [o] in outcomes]
    assert sorted(o.finished_here for o in finished) == [False, True]
    assert {o.row["state"] for o in finished} == {DONE}
    assert finished[0].result == finished[1].result
    assert await world.balance() == Decimal(9)
    assert await world.runs(row["engine_key"]) == 1
    assert [r["finishes"] for r in await world.rows()] == [1]
    await world.ledger_ok()


async def test_a_refusal_moves_nothing_and_is_recorded_once(world: World) -> None:
    """A debit beyond the balance: refused, recorded ``refused`` with the engine's code,
    and a retry answers the same refusal from the log without sending it again."""
    [credit] = await world.record(100)
    await world.carry_out(world.engine(), [credit])
    [debit] = await world.record(-500)

    [outcome] = await world.carry_out(world.engine(), [debit])

    assert outcome.result.error == engine_errors.ADJUSTMENT_INSUFFICIENT_BALANCE
    assert (outcome.row["state"], outcome.row["error"]) == (
        REFUSED,
        engine_errors.ADJUSTMENT_INSUFFICIENT_BALANCE,
    )
    await world.fetch("UPDATE test_money_requests SET state = 'pending' WHERE id = $1", debit["id"])
    engine = world.engine()
    [retried] = await world.carry_out(engine, [debit])
    assert engine.sent == []
    assert retried.result == outcome.result
    assert await world.balance() == Decimal(1)
    await world.ledger_ok()


async def test_the_log_counts_the_run_that_moved_money(world: World) -> None:
    """A key that ran twice (its window over between the runs): the run that was applied
    is the one recovery reads, whatever came first."""
    refused = Adjust(key="test:both", member_id=MEMBER, currency="usd", amount=-100, reason="x")
    assert (await world.runner.submit(refused))["error"] is not None
    applied = await world.runner.submit(
        Adjust(key="test:both", member_id=MEMBER, currency="usd", amount=100, reason="x")
    )
    async with world.sessions() as session:
        found = await engine_requests.logged(session, ["test:both", "test:never"])
    assert found == {"test:both": EngineResult("test:both", applied["seq"], None)}
