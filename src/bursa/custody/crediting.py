"""Loading a deposit into the member's balance, and the Event API records of deposits.

Used by the Management API (fiat deposits from payment gateways) and by the chain
scanners (coin deposits). Accepting is the money workflow of
``bursa.trading.engine_requests``, so that a crash anywhere is recoverable: the deposit is
committed ``accepting`` with its ``Credit`` key, the key is submitted once, the deposit
becomes ``accepted`` with its ``model.deposit.updated`` event in one transaction. Whoever
finds a deposit ``accepting`` reads the engine's command log for the key, and resends it
only if it did not run.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.commands import Command, Credit
from bursa.engine.units import to_units
from bursa.errors import BursaError, Refusal
from bursa.events.outbox import DomainEvent, enqueue
from bursa.formats import decimal_text, iso
from bursa.identity import directory
from bursa.trading import admin_queries as queries
from bursa.trading import deposits, engine_requests
from bursa.trading.engine_requests import EngineResult

Submit = engine_requests.Submit
NOT_FOUND = "Couldn't find record."


class DepositRefused(BursaError):
    """Nothing was credited; the code names why."""

    def __init__(self, kind: Refusal, code: str) -> None:
        super().__init__(kind, code)


def record_of(row: Any, email: str | None) -> dict[str, Any]:
    """The event's record, as Peatio's ``as_json_for_event_api`` (nil fields left out)."""
    found: dict[str, Any] = {
        "tid": row["tid"],
        "user": {"uid": row["uid"], "email": email},
        "uid": row["uid"],
        "currency": row["currency_id"],
        "amount": decimal_text(row["amount"]),
        "state": row["state"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "completed_at": iso(row["completed_at"]),
        "blockchain_address": row["address"],
        "blockchain_txid": row["txid"] if row["type"] == "coin" else None,
    }
    return {k: v for k, v in found.items() if v is not None}


async def record(session: AsyncSession, row: Any) -> dict[str, Any]:
    person = (await directory.people(session, [row["member_id"]])).get(row["member_id"])
    return record_of(row, person.email if person else None)


def created_event(row: Any, email: str | None) -> DomainEvent:
    return DomainEvent("peatio", "model.deposit.created", record_of(row, email))


async def created(session: AsyncSession, row: Any) -> None:
    person = (await directory.people(session, [row["member_id"]])).get(row["member_id"])
    event = created_event(row, person.email if person else None)
    await enqueue(await session.connection(), [event])


def updated_event(before: Any, after: Any, email: str | None) -> DomainEvent:
    """``model.deposit.updated`` with the previous value of each changed attribute."""
    public = {"state", "completed_at", "updated_at", "amount", "txid"}
    changes: dict[str, Any] = {}
    for name in sorted(public):
        if before[name] != after[name]:
            old = before[name]
            changes[name] = (
                iso(old)
                if isinstance(old, datetime) or name.endswith("_at")
                else (decimal_text(old) if name == "amount" else old)
            )
    if before["state"] == deposits.ACCEPTING:
        changes["state"] = deposits.SUBMITTED  # accepting is Bursa's step, not a state seen
    return DomainEvent("peatio", "model.deposit.updated", record_of(after, email), changes)


async def updated(session: AsyncSession, before: Any, after: Any) -> None:
    person = (await directory.people(session, [after["member_id"]])).get(after["member_id"])
    event = updated_event(before, after, person.email if person else None)
    await enqueue(await session.connection(), [event])


def _units(amount: Decimal, precision: int) -> int:
    return to_units(amount, precision)  # checked when the deposit was recorded


async def accept(session: AsyncSession, submit: Submit, tid: str) -> Any:
    """Load the deposit into the member's balance (submitted or accepting → accepted);
    the deposit as it then stands. The same ``tid`` accepted twice credits once."""
    outcome = (await accept_many(session, submit, [tid]))[tid]
    if isinstance(outcome, DepositRefused):
        raise outcome
    return outcome


async def accept_many(session: AsyncSession, submit: Submit, tids: Sequence[str]) -> dict[str, Any]:
    """``accept`` for many deposits in two shared transactions around the engine, whose
    ``Credit`` commands go in together (so the engine takes them in shared batches).
    Each tid maps to its deposit as it then stands, or to the ``DepositRefused`` that
    says why it was not credited."""
    outcomes: dict[str, Any] = {tid: DepositRefused(Refusal.NOT_FOUND, NOT_FOUND) for tid in tids}
    accepting: list[Any] = []
    async with session.begin():
        for row in await deposits.find_many(session, tids, lock=True):
            if row["state"] == deposits.SUBMITTED:
                key = deposits.engine_key(row)
                row = await deposits.change(
                    session, row["id"], state=deposits.ACCEPTING, engine_key=key
                )
            if row["state"] == deposits.ACCEPTING:
                accepting.append(row)
            else:
                message = f"Cannot accept a deposit in state {row['state']}."
                outcomes[row["tid"]] = DepositRefused(Refusal.INVALID, message)
    for outcome in await engine_requests.carry_out(session, submit, CREDITS, accepting):
        row, result = outcome.row, outcome.result
        if outcome.finished_here and not result.applied:
            message = f"The engine refused the deposit: {result.error}"
            outcomes[row["tid"]] = DepositRefused(Refusal.INVALID, message)
        else:
            outcomes[row["tid"]] = row  # credited, or finished by a concurrent request
    return outcomes


class _Credits:
    """Deposits as ``engine_requests`` carries them out: an ``accepting`` deposit waits
    under its ``engine_key``; credited, it is ``accepted`` (with its event); refused, it
    is ``submitted`` again and the next accept takes a new key."""

    async def commands(self, session: AsyncSession, rows: Sequence[Any]) -> list[Command]:
        precisions: dict[str, int] = {}
        for code in {row["currency_id"] for row in rows}:
            currency = await queries.currency(session, code)
            assert currency is not None  # checked when the deposit was made; currencies stay
            precisions[code] = currency["precision"]
        return [
            Credit(
                key=row["engine_key"],
                member_id=row["member_id"],
                currency=row["currency_id"],
                amount=_units(row["amount"] + row["fee"], precisions[row["currency_id"]]),
                fee=_units(row["fee"], precisions[row["currency_id"]]),
                deposit_id=row["tid"],
            )
            for row in rows
        ]

    def waiting(self, row: Any) -> str | None:
        return str(row["engine_key"]) if row["state"] == deposits.ACCEPTING else None

    async def relock(self, session: AsyncSession, rows: Sequence[Any]) -> list[Any]:
        found = await deposits.find_many(session, [row["tid"] for row in rows], lock=True)
        by_tid = {row["tid"]: row for row in found}
        return [by_tid[row["tid"]] for row in rows]  # deposits are never deleted

    async def finish(
        self, session: AsyncSession, done: Sequence[tuple[Any, EngineResult]]
    ) -> list[Any]:
        events: list[DomainEvent] = []
        finished = []
        people = await directory.people(session, {row["member_id"] for row, _ in done})
        for row, result in done:
            if not result.applied:
                # Refused, nothing moved: back to submitted, and the next accept needs a key.
                finished.append(
                    await deposits.change(
                        session,
                        row["id"],
                        state=deposits.SUBMITTED,
                        engine_key=None,
                        attempts=row["attempts"] + 1,
                    )
                )
                continue
            after = await deposits.change(
                session,
                row["id"],
                state=deposits.ACCEPTED,
                engine_seq=result.seq,
                completed_at=func.now(),
            )
            person = people.get(row["member_id"])
            events.append(updated_event(row, after, person.email if person else None))
            finished.append(after)
        await enqueue(await session.connection(), events)
        return finished


CREDITS = _Credits()
