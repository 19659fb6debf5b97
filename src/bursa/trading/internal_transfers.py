"""Peatio's internal transfers: a member sends funds to another member, found by uid or
username. The engine's ``Transfer`` moves them from the sender's main balance (what open
orders and held withdrawals leave free) to the receiver's, in one balanced posting or not
at all.

The money workflow of ``bursa.trading.engine_requests``: the transfer is committed
``pending`` with its engine key, the key is submitted once, the row becomes ``completed``
(with its ``internal_transfer.created`` event) or ``failed``. A member's next transfer
first finishes any of theirs left ``pending`` by a crash, from the engine's command log
when its key ran.
"""

import uuid
from collections.abc import Sequence
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
from bursa.formats import decimal_text, iso
from bursa.ledger.tables import currencies
from bursa.trading import engine_requests
from bursa.trading.admin_queries import Listing, in_window, ordered
from bursa.trading.engine_requests import EngineResult, Submit
from bursa.trading.internal_transfer_tables import internal_transfers

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
            to_units(ask.amount, currency["precision"])
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
    (outcome,) = await engine_requests.carry_out(session, submit, SENDS, [row])
    finished = outcome.row
    if finished["state"] != COMPLETED:
        raise TransferRefused(_refusal(finished["error"]))
    return finished


async def finish_pending(session: AsyncSession, submit: Submit, sender_id: int) -> None:
    """Finish the sender's transfers a crash left ``pending``: from the engine's command
    log when their key ran, else by sending the same key again."""
    async with session.begin():
        query = select(internal_transfers).where(
            internal_transfers.c.sender_id == sender_id,
            internal_transfers.c.state == PENDING,
        )
        rows = list((await session.execute(query.order_by(internal_transfers.c.id))).mappings())
    await engine_requests.carry_out(session, submit, SENDS, rows)


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


class _Sends:
    """Internal transfers as ``engine_requests`` carries them out: a ``pending`` row
    waits under its ``engine_key``; finished, it is ``completed`` (with its event) or
    ``failed`` (with the engine's refusal)."""

    async def commands(self, session: AsyncSession, rows: Sequence[Any]) -> list[Command]:
        codes = {row["currency_id"] for row in rows}
        query = select(currencies.c.id, currencies.c.precision, currencies.c.type)
        found = {c.id: c for c in await session.execute(query.where(currencies.c.id.in_(codes)))}
        return [
            _command(
                row,
                to_units(row["amount"], found[row["currency_id"]].precision),
                found[row["currency_id"]].type,
            )
            for row in rows
        ]

    def waiting(self, row: Any) -> str | None:
        return str(row["engine_key"]) if row["state"] == PENDING else None

    async def relock(self, session: AsyncSession, rows: Sequence[Any]) -> list[Any]:
        ids = [row["id"] for row in rows]
        query = (
            select(internal_transfers)
            .where(internal_transfers.c.id.in_(ids))
            .order_by(internal_transfers.c.id)
            .with_for_update()
        )
        found = {row["id"]: row for row in (await session.execute(query)).mappings()}
        return [found[transfer_id] for transfer_id in ids]

    async def finish(
        self, session: AsyncSession, done: Sequence[tuple[Any, EngineResult]]
    ) -> list[Any]:
        finished = []
        for row, result in done:
            changed = (
                (
                    await session.execute(
                        update(internal_transfers)
                        .where(internal_transfers.c.id == row["id"])
                        .values(
                            state=COMPLETED if result.applied else FAILED,
                            error=None if result.error is None else result.error[:64],
                            updated_at=func.now(),
                        )
                        .returning(internal_transfers)
                    )
                )
                .mappings()
                .one()
            )
            if result.applied:
                event = DomainEvent("peatio", "model.internal_transfer.created", record(changed))
                await enqueue(await session.connection(), [event])
            finished.append(changed)
        return finished


SENDS = _Sends()


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
