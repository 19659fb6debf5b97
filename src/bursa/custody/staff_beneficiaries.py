"""Members' beneficiaries as staff see them (Peatio's admin ``beneficiaries`` and the
Management API's ``beneficiaries``): every member's, in every state, with the owner's uid.

Staff may ``activate`` a pending beneficiary without its mailed code (an admin who has
checked the destination another way) and ``archive`` any; each change and its audit entry
(the beneficiary before and after, without its ``data``: the audit log does not repeat
members' destinations) are one transaction, and asking again for what is already so
changes nothing and leaves no entry. A fiat beneficiary's ``account_number`` is shown
masked (its first 2 and last 4 characters), as Peatio shows it; a coin's address in full.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.beneficiaries import ACTIVE, ARCHIVED, DATA_KEY_NAME, PENDING
from bursa.custody.beneficiary_tables import beneficiaries
from bursa.custody.tables import blockchains
from bursa.db.pages import page_of
from bursa.errors import BursaError, Refusal
from bursa.identity import directory
from bursa.ledger.tables import currencies
from bursa.secrets.keystore import KeyStore
from bursa.trading import audit
from bursa.trading.admin_queries import Listing, ordered
from bursa.trading.audit import Actor

AREA = "admin.beneficiary"
NOT_FOUND = "record.not_found"
Action = Literal["activate", "archive"]
ORDER_COLUMNS = ("id", "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class StaffBeneficiary:
    """A beneficiary with its owner's uid and its ``data`` unsealed (masked for fiat)."""

    id: int
    uid: str
    currency: str
    blockchain_key: str | None
    name: str
    description: str
    data: dict[str, Any]
    state: str
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StaffFilter:
    """What a staff list is narrowed to; ``states`` empty: every state."""

    member_id: int | None = None
    id: int | None = None
    currency: str | None = None
    states: tuple[str, ...] = ()
    blockchain_key: str | None = None


def masked(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with a bank ``account_number`` cut to its first 2 and last 4 characters."""
    number = data.get("account_number")
    if not isinstance(number, str):
        return data
    shown = number if len(number) <= 6 else f"{number[:2]}{'*' * (len(number) - 6)}{number[-4:]}"
    return data | {"account_number": shown}


async def present(
    session: AsyncSession, keystore: KeyStore, rows: Sequence[Any]
) -> list[StaffBeneficiary]:
    opened = await keystore.decrypt_many(DATA_KEY_NAME, [r["data"] for r in rows]) if rows else []
    people = await directory.people(session, [r["member_id"] for r in rows])
    return [
        StaffBeneficiary(
            id=row["id"],
            uid=people[row["member_id"]].uid if row["member_id"] in people else "",
            currency=row["currency_id"],
            blockchain_key=row["blockchain_key"],
            name=row["name"],
            description=row["description"],
            data=masked(json.loads(data)),
            state=row["state"],
            sent_at=row["sent_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        for row, data in zip(rows, opened, strict=True)
    ]


async def blockchain_exists(session: AsyncSession, key: str) -> bool:
    found = await session.scalar(select(blockchains.c.key).where(blockchains.c.key == key))
    return found is not None


async def currency_exists(session: AsyncSession, code: str) -> bool:
    found = await session.scalar(select(currencies.c.id).where(currencies.c.id == code))
    return found is not None


def _query(found: StaffFilter) -> Select[Any]:
    b = beneficiaries.c
    exact = [
        (b.member_id, found.member_id),
        (b.id, found.id),
        (b.currency_id, found.currency),
        (b.blockchain_key, found.blockchain_key),
    ]
    query = select(beneficiaries).where(
        *(column == value for column, value in exact if value is not None)
    )
    if found.states:
        query = query.where(b.state.in_(found.states))
    return query


async def listed(
    session: AsyncSession,
    keystore: KeyStore,
    found: StaffFilter,
    listing: Listing,
    *,
    limit: int,
    page: int,
) -> tuple[list[StaffBeneficiary], int]:
    """One page of the beneficiaries ``found`` names, in ``listing``'s order (``id``,
    ``created_at`` or ``updated_at``), and how many there are."""
    column = beneficiaries.c[listing.order_by if listing.order_by in ORDER_COLUMNS else "id"]
    query = ordered(_query(found), listing, column, beneficiaries.c.id)
    rows = await page_of(session, query, limit, page)
    return await present(session, keystore, rows.rows), rows.total


def _audited(item: StaffBeneficiary) -> dict[str, Any]:
    return {
        "id": item.id,
        "uid": item.uid,
        "currency": item.currency,
        "blockchain_key": item.blockchain_key,
        "name": item.name,
        "state": item.state,
    }


async def act(
    session: AsyncSession,
    keystore: KeyStore,
    actor: Actor,
    beneficiary_id: int,
    action: Action,
) -> StaffBeneficiary:
    """``activate`` (pending → active; the mailed code is no longer needed) or ``archive``
    (pending or active → archived) beneficiary ``beneficiary_id``; the caller commits.
    Activating an archived one is refused (``admin.beneficiary.cannot_activate``): the
    member deleted it."""
    query = select(beneficiaries).where(beneficiaries.c.id == beneficiary_id).with_for_update()
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    target = ACTIVE if action == "activate" else ARCHIVED
    before = (await present(session, keystore, [row]))[0]
    if row["state"] == target:
        return before
    if action == "activate" and row["state"] != PENDING:
        raise BursaError(Refusal.INVALID, f"{AREA}.cannot_activate")
    changed = (
        (
            await session.execute(
                update(beneficiaries)
                .where(beneficiaries.c.id == beneficiary_id)
                .values(state=target, pin_hash=None, updated_at=func.now())
                .returning(beneficiaries)
            )
        )
        .mappings()
        .one()
    )
    after = (await present(session, keystore, [changed]))[0]
    await audit.record(
        session,
        actor,
        f"beneficiary.{action}",
        "Beneficiary",
        beneficiary_id,
        before=_audited(before),
        after=_audited(after),
    )
    return after
