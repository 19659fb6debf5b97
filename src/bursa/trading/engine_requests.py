"""Money requests to the engine, written once: record pending, submit under an idempotency
key, finish — and recover from the engine's command log after a crash.

Every workflow that moves money (management transfers, internal transfers, deposit
crediting, withdrawals, adjustments) takes the same three steps around the engine:

1. **Record** the request as pending, with the idempotency key of its engine command, and
   commit. That is the workflow's own table and rules; a crash after it leaves a row
   waiting under its key.
2. **Submit** the command under that key, unless the engine's command log already holds a
   result for it. The engine remembers keys for a window only; the log
   (``engine_commands``, indexed by key) keeps them for ever. A key read back from the log
   is never sent again, so a request that died after the engine's commit cannot move money
   a second time, however late it is retried.
3. **Finish**: record the committed result on the row (applied or refused) with its
   events, once. ``carry_out`` finishes in a transaction of its own, with the rows locked
   again and only those still waiting under the same key (a request that finished one
   meanwhile wins; this one answers the row as it stands). ``carry_out_locked`` does all
   three in the caller's transaction, whose lock on the rows is held while the engine
   works, for requests two people must not run at once (an admin's decision).

Recovery is nothing more than steps 2 and 3 again, by whoever finds the row pending.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.commands import Command
from bursa.trading import engine_log

Submit = Callable[[Command], Awaitable[dict[str, Any]]]
"""The engine runner's ``submit`` (or a wrapper that names its refusal when it is down)."""


@dataclass(frozen=True, slots=True)
class EngineResult:
    """What the engine committed for one idempotency key: its sequence number and its
    refusal (None: applied)."""

    key: str
    seq: int
    error: str | None

    @property
    def applied(self) -> bool:
        return self.error is None

    @classmethod
    def of(cls, key: str, answer: Mapping[str, Any]) -> "EngineResult":
        """From the runner's answer or the log's ``result`` (the same document)."""
        error = answer.get("error")
        return cls(key, int(answer["seq"]), None if error is None else str(error))


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request after ``carry_out``: its row as it now stands, the engine's result, and
    whether this call recorded it (False: another request had finished it first)."""

    row: Any
    result: EngineResult
    finished_here: bool


class Finisher(Protocol):
    """What a workflow tells the helper about its pending rows (rows as it reads them)."""

    async def commands(self, session: AsyncSession, rows: Sequence[Any]) -> list[Command]:
        """Each row's engine command, under the key the row was recorded with."""
        ...

    def waiting(self, row: Any) -> str | None:
        """The key ``row`` still waits for the engine under; None once it is finished."""
        ...

    async def finish(
        self, session: AsyncSession, done: Sequence[tuple[Any, EngineResult]]
    ) -> list[Any]:
        """Record each result on its row, applied or refused, with its events (in the
        finishing transaction); the rows as changed, in the same order."""
        ...


class PendingRows(Finisher, Protocol):
    """A ``Finisher`` whose rows can be found again, for finishing in a new transaction."""

    async def relock(self, session: AsyncSession, rows: Sequence[Any]) -> list[Any]:
        """``rows`` as they now stand, in the same order, locked (``FOR UPDATE``) until
        the transaction ends."""
        ...


async def logged(session: AsyncSession, keys: Sequence[str]) -> dict[str, EngineResult]:
    """Recovery: the committed result of each key the engine already ran, from its
    command log (for ever, where the engine's own memory ends with its window)."""
    found = await engine_log.logged_results(session, keys)
    return {key: EngineResult.of(key, answer) for key, answer in found.items()}


async def submit_once(
    session: AsyncSession, submit: Submit, commands: Sequence[Command]
) -> dict[str, EngineResult]:
    """Each command's committed result: read back from the log when its key already ran,
    else by submitting it. The log is read in the session's transaction (one is begun if
    none is)."""
    results = await logged(session, [command.key for command in commands])
    await _submit_missing(submit, commands, results)
    return results


async def carry_out(
    session: AsyncSession, submit: Submit, pending: PendingRows, rows: Sequence[Any]
) -> list[Outcome]:
    """Steps 2 and 3 for ``rows``, recorded pending and committed: the log is read, the
    commands not yet run are submitted (with no transaction open while the engine works),
    and a new transaction finishes each row that still waits under its key. The session
    must have no transaction open."""
    if not rows:
        return []
    async with session.begin():
        commands = await pending.commands(session, rows)
        results = await logged(session, [command.key for command in commands])
    await _submit_missing(submit, commands, results)
    async with session.begin():
        current = await pending.relock(session, rows)
        return await _finish(session, pending, current, commands, results)


async def carry_out_locked(
    session: AsyncSession, submit: Submit, pending: Finisher, rows: Sequence[Any]
) -> list[Outcome]:
    """The three steps in the caller's open transaction, whose lock on ``rows`` (taken
    with ``FOR UPDATE``) is held while the engine works; the caller commits."""
    commands = await pending.commands(session, rows)
    results = await submit_once(session, submit, commands)
    return await _finish(session, pending, list(rows), commands, results)


async def _submit_missing(
    submit: Submit, commands: Sequence[Command], results: dict[str, EngineResult]
) -> None:
    """Submit the commands ``results`` has no answer for, all together (so the engine
    takes them in shared batches), and add their answers."""
    due = [command for command in commands if command.key not in results]
    answers = await asyncio.gather(*(submit(command) for command in due))
    for command, answer in zip(due, answers, strict=True):
        results[command.key] = EngineResult.of(command.key, answer)


async def _finish(
    session: AsyncSession,
    pending: Finisher,
    rows: list[Any],
    commands: Sequence[Command],
    results: Mapping[str, EngineResult],
) -> list[Outcome]:
    """Record the results of the rows still waiting under their command's key."""
    due = [
        index
        for index, (row, command) in enumerate(zip(rows, commands, strict=True))
        if pending.waiting(row) == command.key
    ]
    finished = await pending.finish(
        session, [(rows[index], results[commands[index].key]) for index in due]
    )
    for index, row in zip(due, finished, strict=True):
        rows[index] = row
    here = set(due)
    return [
        Outcome(row, results[command.key], index in here)
        for index, (row, command) in enumerate(zip(rows, commands, strict=True))
    ]
