"""Loading a deposit into the member's balance, and the Event API records of deposits.

Used by the Management API (fiat deposits from payment gateways) and by the chain
scanners (coin deposits). Accepting is two steps around the engine so that a crash
anywhere is recoverable (``bursa.trading.deposits``): the deposit is committed
``accepting`` with its ``Credit`` key, the engine applies the key, the deposit becomes
``accepted`` with its ``model.deposit.updated`` event in one transaction. Whoever finds a
deposit ``accepting`` asks the engine's command log whether the key ran, and resends it
only if it did not.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.commands import Command, Credit
from bursa.engine.units import to_units
from bursa.errors import BursaError, Refusal
from bursa.events.outbox import DomainEvent, enqueue
from bursa.events.records import decimal_text, iso
from bursa.identity import directory
from bursa.trading import admin_queries as queries
from bursa.trading import deposits, engine_log

Submit = Callable[[Command], Awaitable[dict[str, Any]]]
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
        keys = [row["engine_key"] for row in accepting]
        results = await engine_log.logged_results(session, keys)
        precisions: dict[str, int] = {}
        for code in {row["currency_id"] for row in accepting}:
            currency = await queries.currency(session, code)
            assert currency is not None  # checked when the deposit was made; currencies stay
            precisions[code] = currency["precision"]
    commands = [
        Credit(
            key=row["engine_key"],
            member_id=row["member_id"],
            currency=row["currency_id"],
            amount=_units(row["amount"] + row["fee"], precisions[row["currency_id"]]),
            fee=_units(row["fee"], precisions[row["currency_id"]]),
            deposit_id=row["tid"],
        )
        for row in accepting
        if row["engine_key"] not in results
    ]
    answers = await asyncio.gather(*(submit(command) for command in commands))
    results.update((command.key, answer) for command, answer in zip(commands, answers, strict=True))
    async with session.begin():
        events: list[DomainEvent] = []
        current = await deposits.find_many(session, [row["tid"] for row in accepting], lock=True)
        people = await directory.people(session, {row["member_id"] for row in current})
        for row in current:
            result = results.get(row["engine_key"])
            if row["state"] != deposits.ACCEPTING or result is None:
                outcomes[row["tid"]] = row  # a concurrent request finished it, or took it over
                continue
            if result["error"] is not None:
                # Refused, nothing moved: back to submitted, and the next accept needs a key.
                await deposits.change(
                    session,
                    row["id"],
                    state=deposits.SUBMITTED,
                    engine_key=None,
                    attempts=row["attempts"] + 1,
                )
                message = f"The engine refused the deposit: {result['error']}"
                outcomes[row["tid"]] = DepositRefused(Refusal.INVALID, message)
                continue
            after = await deposits.change(
                session,
                row["id"],
                state=deposits.ACCEPTED,
                engine_seq=result["seq"],
                completed_at=func.now(),
            )
            person = people.get(row["member_id"])
            events.append(updated_event(row, after, person.email if person else None))
            outcomes[row["tid"]] = after
        await enqueue(await session.connection(), events)
    return outcomes
