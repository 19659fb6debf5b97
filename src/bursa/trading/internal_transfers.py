"""Peatio's internal transfers: a member sends funds to another member, found by uid or
username. The engine's ``Transfer`` moves them from the sender's main balance (what open
orders and held withdrawals leave free) to the receiver's, in one balanced posting or not
at all.

Two steps around the engine, as deposits are: the transfer is committed ``pending`` with
its engine key, the engine applies the key once however often it is sent, the row becomes
``completed`` (with its ``internal_transfer.created`` event) or ``failed``. A member's next
transfer first finishes any of theirs left ``pending`` by a crash, asking the engine's
command log whether its key ran.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.engine import errors as engine_errors
from bursa.engine.commands import Command, Transfer
from bursa.engine.specs import LIABILITY_MAIN
from bursa.engine.units import to_units
from bursa.errors import BursaError, Refusal
from bursa.events.outbox import DomainEvent, enqueue
from bursa.events.records import decimal_text, iso
from bursa.ledger.tables import currencies
from bursa.trading import engine_log
from bursa.trading.admin_queries import Listing, in_window, ordered
from bursa.trading.internal_transfer_tables import internal_transfers

Submit = Callable[[Command], Awaitable[dict[str, Any]]]
PENDING, COMPLETED, FAILED = "pending", "completed", "failed"
AREA = "account.internal_transfer"


class TransferRefused(BursaError):
    """Nothing moved; ``code`` is the Peatio error code."""

    def __init__(self, code: str) -> None:
        super().__init__(Refusal.INVALID, code)


@dataclass(frozen=True, slots=True)
class Ask:
    sender_id: int
    receiver_id: int
    currency: str
    amount: Decimal


def record(row: Any) -> dict[str, Any]:
    """The Event API record: every column, as Peatio sends it."""
    return {
        "id": row["id"],
        "currency_id": row["currency_id"],
        "amount": decimal_text(row["amount"]),
        "sender_id": row["sender_id"],
        "receiver_id": row["receiver_id"],
        "state": row["state"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


async def send(session: AsyncSession, submit: Submit, ask: Ask) -> Any:
    """Move ``ask.amount`` from sender to receiver; the completed transfer, or
    ``TransferRefused`` (unknown currency, over-precise amount, not enough free funds)."""
    await finish_pending(session, submit, ask.sender_id)
    async with session.begin():
        currency = (
            (await session.execute(select(currencies).where(currencies.c.id == ask.currency)))
            .mappings()
            .first()
        )
        if currency is None:
            raise TransferRefused("account.currency.doesnt_exist")
        try:
            units = to_units(ask.amount, currency["precision"])
        except ValueError as exc:
            raise TransferRefused(f"{AREA}.invalid_amount") from exc
        row = (
            (
                await session.execute(
                    insert(internal_transfers)
                    .values(
                        currency_id=ask.currency,
                        amount=ask.amount,
                        sender_id=ask.sender_id,
                        receiver_id=ask.receiver_id,
                        state=PENDING,
                        engine_key=f"internal_transfer:{uuid.uuid4().hex}",
                    )
                    .returning(internal_transfers)
                )
            )
            .mappings()
            .one()
        )
    command = _command(row, units, currency["type"])
    result = await submit(command)
    finished = await _finish(session, row["id"], result)
    if finished["state"] != COMPLETED:
        raise TransferRefused(_refusal(finished["error"]))
    return finished


def _command(row: Any, units: int, currency_type: str) -> Transfer:
    main = LIABILITY_MAIN[currency_type]
    leg = {
        "currency": row["currency_id"],
        "amount": units,
        "src": main,
        "src_member": row["sender_id"],
        "dst": main,
        "dst_member": row["receiver_id"],
    }
    return Transfer(key=row["engine_key"], reference=f"internal_transfer:{row['id']}", legs=[leg])


def _refusal(error: str | None) -> str:
    if error == engine_errors.TRANSFER_INSUFFICIENT_BALANCE:
        return f"{AREA}.insufficient_balance"
    return f"{AREA}.create_error"


async def _finish(session: AsyncSession, transfer_id: int, result: dict[str, Any]) -> Any:
    """Record the engine's answer on a pending transfer (with its event when it moved)."""
    async with session.begin():
        row = (
            (
                await session.execute(
                    select(internal_transfers)
                    .where(internal_transfers.c.id == transfer_id)
                    .with_for_update()
                )
            )
            .mappings()
            .one()
        )
        if row["state"] != PENDING:
            return row  # finished by another request meanwhile
        moved = result["error"] is None
        changed = (
            (
                await session.execute(
                    update(internal_transfers)
                    .where(internal_transfers.c.id == transfer_id)
                    .values(
                        state=COMPLETED if moved else FAILED,
                        error=None if moved else str(result["error"])[:64],
                        updated_at=func.now(),
                    )
                    .returning(internal_transfers)
                )
            )
            .mappings()
            .one()
        )
        if moved:
            event = DomainEvent("peatio", "model.internal_transfer.created", record(changed))
            await enqueue(await session.connection(), [event])
        return changed


async def finish_pending(session: AsyncSession, submit: Submit, sender_id: int) -> None:
    """Finish the sender's transfers a crash left ``pending``: from the engine's command
    log when their key ran, else by sending the same key again."""
    async with session.begin():
        query = select(internal_transfers, currencies.c.precision, currencies.c.type).join(
            currencies, currencies.c.id == internal_transfers.c.currency_id
        )
        rows = list(
            (
                await session.execute(
                    query.where(
                        internal_transfers.c.sender_id == sender_id,
                        internal_transfers.c.state == PENDING,
                    ).order_by(internal_transfers.c.id)
                )
            ).mappings()
        )
        logged = await engine_log.logged_results(session, [r["engine_key"] for r in rows])
    for row in rows:
        result = logged.get(row["engine_key"])
        if result is None:
            units = to_units(row["amount"], row["precision"])
            result = await submit(_command(row, units, row["type"]))
        await _finish(session, row["id"], result)


@dataclass(frozen=True, slots=True)
class Filter:
    member_id: int
    currency: str | None = None
    sender_id: int | None = None  # only those this member sent (or received) from them


async def listed(session: AsyncSession, found: Filter, *, limit: int, page: int) -> Page:
    """The member's completed transfers, sent and received, newest first (a refused one
    was answered with its error and moved nothing; it stays for admins)."""
    query = select(internal_transfers).where(
        or_(
            internal_transfers.c.sender_id == found.member_id,
            internal_transfers.c.receiver_id == found.member_id,
        ),
        internal_transfers.c.state == COMPLETED,
    )
    if found.currency is not None:
        query = query.where(internal_transfers.c.currency_id == found.currency)
    if found.sender_id is not None:
        query = query.where(internal_transfers.c.sender_id == found.sender_id)
    return await page_of(session, query.order_by(internal_transfers.c.id.desc()), limit, page)


@dataclass(frozen=True, slots=True)
class AdminFilter:
    listing: Listing
    sender_id: int | None = None
    receiver_id: int | None = None
    currency: str | None = None
    state: str | None = None


async def admin_listed(session: AsyncSession, found: AdminFilter, *, limit: int, page: int) -> Page:
    """Every member's transfers, in every state (``pending``: waiting for the engine or for
    the sender's next request after a crash; ``failed``: refused, nothing moved)."""
    exact = [
        (internal_transfers.c.sender_id, found.sender_id),
        (internal_transfers.c.receiver_id, found.receiver_id),
        (internal_transfers.c.currency_id, found.currency),
        (internal_transfers.c.state, found.state),
    ]
    listing, column = found.listing, internal_transfers.c
    query = select(internal_transfers).where(
        *(c == v for c, v in exact if v is not None),
        *in_window(column.updated_at if listing.updated else column.created_at, listing),
    )
    query = ordered(query, listing, column[listing.order_by], column.id)
    return await page_of(session, query, limit, page)


def involved(rows: Sequence[Any]) -> set[int]:
    """The members the rows name (for their uids and usernames)."""
    return {row["sender_id"] for row in rows} | {row["receiver_id"] for row in rows}
