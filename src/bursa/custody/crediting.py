"""Loading a deposit into the member's balance, and the Event API records of deposits.

Used by the Management API (fiat deposits from payment gateways) and by the chain
scanners (coin deposits). Accepting is two steps around the engine so that a crash
anywhere is recoverable (``bursa.trading.deposits``): the deposit is committed
``accepting`` with its ``Credit`` key, the engine applies the key, the deposit becomes
``accepted`` with its ``model.deposit.updated`` event in one transaction. Whoever finds a
deposit ``accepting`` asks the engine's command log whether the key ran, and resends it
only if it did not.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.commands import Command, Credit
from bursa.engine.units import to_units
from bursa.events.outbox import DomainEvent, enqueue
from bursa.events.records import decimal_text, iso
from bursa.identity import directory
from bursa.trading import admin_queries as queries
from bursa.trading import deposits, engine_log

Submit = Callable[[Command], Awaitable[dict[str, Any]]]
NOT_FOUND = "Couldn't find record."


class DepositRefused(Exception):
    """Nothing was credited (``status``: the HTTP answer an API gives)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def record(session: AsyncSession, row: Any) -> dict[str, Any]:
    """The event's record, as Peatio's ``as_json_for_event_api`` (nil fields left out)."""
    person = (await directory.people(session, [row["member_id"]])).get(row["member_id"])
    found: dict[str, Any] = {
        "tid": row["tid"],
        "user": {"uid": row["uid"], "email": person.email if person else None},
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


async def created(session: AsyncSession, row: Any) -> None:
    event = DomainEvent("peatio", "model.deposit.created", await record(session, row))
    await enqueue(await session.connection(), [event])


async def updated(session: AsyncSession, before: Any, after: Any) -> None:
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
    event = DomainEvent("peatio", "model.deposit.updated", await record(session, after), changes)
    await enqueue(await session.connection(), [event])


def _units(amount: Decimal, precision: int) -> int:
    return to_units(amount, precision)  # checked when the deposit was recorded


async def accept(session: AsyncSession, submit: Submit, tid: str) -> Any:
    """Load the deposit into the member's balance (submitted or accepting → accepted);
    the deposit as it then stands. The same ``tid`` accepted twice credits once."""
    async with session.begin():
        row = await deposits.find(session, tid, lock=True)
        if row is None:
            raise DepositRefused(404, NOT_FOUND)
        if row["state"] == deposits.SUBMITTED:
            row = await deposits.change(
                session, row["id"], state=deposits.ACCEPTING, engine_key=deposits.engine_key(row)
            )
        elif row["state"] != deposits.ACCEPTING:
            raise DepositRefused(422, f"Cannot accept a deposit in state {row['state']}.")
    currency = await queries.currency(session, row["currency_id"])
    assert currency is not None  # checked when the deposit was made; currencies stay
    precision = currency["precision"]
    command = Credit(
        key=row["engine_key"],
        member_id=row["member_id"],
        currency=row["currency_id"],
        amount=_units(row["amount"] + row["fee"], precision),
        fee=_units(row["fee"], precision),
        deposit_id=row["tid"],
    )
    result = await engine_log.logged_result(session, row["engine_key"])
    await session.commit()
    if result is None:
        result = await submit(command)
    async with session.begin():
        current = await deposits.find(session, tid, lock=True)
        assert current is not None
        if current["state"] != deposits.ACCEPTING:
            return current  # a concurrent request finished it
        if result["error"] is not None:
            # Refused, nothing moved: back to submitted, and the next accept needs a key.
            await deposits.change(
                session,
                current["id"],
                state=deposits.SUBMITTED,
                engine_key=None,
                attempts=current["attempts"] + 1,
            )
            failed = result["error"]
        else:
            after = await deposits.change(
                session,
                current["id"],
                state=deposits.ACCEPTED,
                engine_seq=result["seq"],
                completed_at=func.now(),
            )
            await updated(session, current, after)
            return after
    raise DepositRefused(422, f"The engine refused the deposit: {failed}")
