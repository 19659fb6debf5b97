"""Peatio's adjustments: corrections of the ledger proposed by one admin and accepted or
rejected by another (maker/checker).

Accepting moves money only through the engine (its ``Adjust`` command: asset ± amount,
the member's main liability ± amount), so only a member's main account (201 fiat, 202
coin) can be adjusted yet; the other receiving accounts of Peatio's chart (locked
liabilities, revenues, expenses) are refused when the adjustment is proposed
(``admin.adjustment.unsupported_account``), never accepted and silently dropped.

Four eyes: whoever proposed an adjustment may not accept it (they may reject it: a
withdrawal of their own proposal), and only ``CHECKERS`` (superadmins and admins) decide
another's proposal, so an accountant proposes and never credits. Accepting is the money
workflow of ``bursa.trading.engine_requests`` with the row locked while the engine applies
it, so two admins cannot both accept it; a retried accept reuses the command's key and is
answered what the engine did (from its command log, however late). Every proposal,
acceptance and rejection leaves an audit entry in the same transaction; the caller
commits (a refused accept too: it records the attempt, ``keep``).
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.engine import errors as engine_errors
from bursa.engine.commands import Adjust, Command
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.trading import admin_queries as queries
from bursa.trading import audit, engine_requests
from bursa.trading.admin_queries import Listing
from bursa.trading.audit import Actor
from bursa.trading.engine_requests import EngineResult, Submit
from bursa.trading.tables import adjustments

CATEGORIES = (
    "asset_registration",
    "investment",
    "minting_token",
    "balance_anomaly",
    "misc",
    "refund",
    "compensation",
    "incentive",
    "bank_fees",
    "bank_interest",
    "minor",
)
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
STATES = (PENDING, ACCEPTED, REJECTED)
ASSET_CODES = {"fiat": 101, "coin": 102}
MAIN_CODES = {"fiat": 201, "coin": 202}  # what the engine's Adjust posts to
RECEIVING_CODES = (201, 202, 211, 212, 301, 302, 401, 402)  # Peatio's chart, assets aside
REFERENCE_TYPE = "adjustment"  # of the engine's postings
# Maker/checker: any role that may propose (Peatio's abilities: accountants too) makes, but
# only these roles decide another's proposal, and nobody accepts their own. A proposer may
# reject (withdraw) their own pending proposal: that moves nothing.
CHECKERS = frozenset({"superadmin", "admin"})
AREA = "admin.adjustment"
NOT_FOUND = "record.not_found"
NOT_PERMITTED = "admin.ability.not_permitted"
MOST_UID = 16
LIABILITY_CODES = (201, 202, 211, 212)
EXPENSE_CODES = (401, 402)
ENGINE_CODES = {  # the engine's refusals, as Peatio named them
    engine_errors.ADJUSTMENT_INSUFFICIENT_BALANCE: f"{AREA}.user_insufficient_balance",
    engine_errors.CURRENCY_NOT_FOUND: f"{AREA}.currency_doesnt_exist",
}

MemberOf = Callable[[AsyncSession, str], Awaitable[int | None]]
"""The member id of a uid (identity's directory: a sibling context, so the edge hands it
in)."""
Snapshot = Callable[[Any, Sequence[Any]], Mapping[str, Any]]
"""What the audit log keeps of an adjustment (the admin API's view of the row and of the
postings the engine made for it)."""


def engine_key(row: Any) -> str:
    """The idempotency key of the ``Adjust`` command accepting ``row``: a retried request
    reuses it (and is answered what the engine did); after a refusal it changes, so a
    later accept is applied rather than answered the same refusal."""
    base = f"adjustment:{row['id']}"
    return base if row["attempts"] == 0 else f"{base}:{row['attempts']}"


async def create(session: AsyncSession, **values: Any) -> Any:
    """A new pending adjustment (the caller commits)."""
    result = await session.execute(insert(adjustments).values(**values).returning(adjustments))
    return result.mappings().one()


async def find(session: AsyncSession, adjustment_id: int, *, lock: bool = False) -> Any | None:
    """One adjustment; ``lock`` holds it (``FOR UPDATE``) until the transaction ends, so
    that two admins cannot accept or reject it at once."""
    query = select(adjustments).where(adjustments.c.id == adjustment_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()


async def change(session: AsyncSession, adjustment_id: int, **values: Any) -> Any:
    result = await session.execute(
        update(adjustments)
        .where(adjustments.c.id == adjustment_id)
        .values(**values, updated_at=func.now())
        .returning(adjustments)
    )
    return result.mappings().one()


@dataclass(frozen=True, slots=True)
class AdjustmentFilter:
    currency: str | None = None
    state: str | None = None
    category: str | None = None
    listing: Listing = field(default_factory=Listing)


async def listed(session: AsyncSession, found: AdjustmentFilter, *, limit: int, page: int) -> Page:
    query = select(adjustments)
    exact: list[tuple[Any, Any]] = [
        (adjustments.c.currency_id, found.currency),
        (adjustments.c.state, found.state),
        (adjustments.c.category, found.category),
    ]
    query = query.where(*(column == value for column, value in exact if value is not None))
    listing = found.listing
    moment = adjustments.c.updated_at if listing.updated else adjustments.c.created_at
    if listing.time_from is not None:
        query = query.where(moment >= listing.time_from)
    if listing.time_to is not None:
        query = query.where(moment < listing.time_to)
    keys = [adjustments.c[listing.order_by], adjustments.c.id]
    query = query.order_by(*(k.asc() if listing.ascending else k.desc() for k in keys))
    return await page_of(session, query, limit, page)


# ---------------------------------------------------------------------- proposing


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposal whose fields are each valid on their own (the API reads them): texts
    stripped, ``amount`` signed and not zero, ``currency`` in lower case."""

    reason: str
    description: str
    category: str
    amount: Decimal
    currency: str
    asset_account_code: int
    receiving_account_code: int
    receiving_member_uid: str | None


async def propose(
    session: AsyncSession,
    actor: Actor,
    proposal: Proposal,
    member_of: MemberOf,
    snapshot: Snapshot,
) -> Any:
    """A new pending adjustment, with its audit entry; every Peatio code the proposal
    breaks when it does not fit the currency, the chart or the member."""
    problems: list[str] = []
    currency = await queries.currency(session, proposal.currency)
    if currency is None:
        problems.append(f"{AREA}.currency_doesnt_exist")
    asset_code = proposal.asset_account_code
    if asset_code not in ASSET_CODES.values() or (
        currency is not None and asset_code != ASSET_CODES[currency["type"]]
    ):
        problems.append(f"{AREA}.invalid_asset_account_code")
    receiving: int | None = proposal.receiving_account_code
    if receiving not in RECEIVING_CODES:
        problems.append(f"{AREA}.invalid_receiving_account_code")
        receiving = None
    uid = proposal.receiving_member_uid
    if receiving in LIABILITY_CODES and uid is None:
        problems.append(f"{AREA}.missing_receiving_member_uid")
    elif receiving in EXPENSE_CODES and uid is not None:
        problems.append(f"{AREA}.redundant_receiving_member_uid")
    elif receiving is not None and receiving not in MAIN_CODES.values():
        problems.append(f"{AREA}.unsupported_account")  # the engine cannot post it yet
    elif currency is not None and receiving not in (None, MAIN_CODES[currency["type"]]):
        problems.append(f"{AREA}.invalid_receiving_account_code")  # fiat code for a coin
    member_id = None
    if uid is not None and receiving in MAIN_CODES.values():
        if len(uid) <= MOST_UID:
            member_id = await member_of(session, uid)
        if member_id is None:
            problems.append("admin.user.doesnt_exist")
    if currency is not None:
        try:
            to_units(proposal.amount, currency["precision"])
        except OverPrecise:
            problems.append(f"{AREA}.invalid_amount")
    if problems:
        raise BursaError(Refusal.INVALID, *dict.fromkeys(problems))
    # No problem means a currency, a main account and its member were all found.
    assert currency is not None
    assert member_id is not None
    row = await create(
        session,
        reason=proposal.reason,
        description=proposal.description,
        category=proposal.category,
        amount=proposal.amount,
        currency_id=currency["id"],
        asset_account_code=asset_code,
        receiving_account_code=receiving,
        receiving_member_id=member_id,
        receiving_member_uid=uid,
        creator_uid=actor.uid,
    )
    after = snapshot(row, [])
    await audit.record(session, actor, "adjustment.create", "Adjustment", row["id"], after=after)
    return row


# ---------------------------------------------------------------------- deciding


async def decide(
    session: AsyncSession,
    submit: Submit,
    actor: Actor,
    adjustment_id: int,
    action: str,
    snapshot: Snapshot,
) -> tuple[Any, list[Any]]:
    """``accept`` (the engine posts it) or ``reject`` a pending adjustment, with its audit
    entry; the adjustment as decided and the engine's postings for it. Its proposer may
    only reject (withdraw) it, anyone else must be a checker."""
    row = await find(session, adjustment_id, lock=True)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    if row["creator_uid"] == actor.uid:
        if action == "accept":
            raise BursaError(Refusal.FORBIDDEN, f"{AREA}.creator_cannot_accept")
    elif actor.role not in CHECKERS:
        raise BursaError(Refusal.FORBIDDEN, NOT_PERMITTED)
    if row["state"] != PENDING:
        raise BursaError(Refusal.INVALID, f"{AREA}.cannot_perform_{action}_action")
    before = snapshot(row, [])
    posted: list[Any] = []
    if action == "reject":
        changed = await change(session, adjustment_id, state=REJECTED, validator_uid=actor.uid)
    else:
        changed = await _accept(session, submit, row, actor)
        key = engine_key(row)
        posted = (await queries.operations_by_reference(session, REFERENCE_TYPE, [key]))[key]
    after = snapshot(changed, posted)
    await audit.record(
        session,
        actor,
        f"adjustment.{action}",
        "Adjustment",
        adjustment_id,
        before=before,
        after=after,
    )
    return changed, posted


async def _accept(session: AsyncSession, submit: Submit, row: Any, actor: Actor) -> Any:
    """Have the engine post the adjustment (the row locked meanwhile), then mark it
    accepted. Refused, it records the attempt (so the next accept takes a new key) and
    says to keep that."""
    currency = await queries.currency(session, row["currency_id"])
    try:
        amount = to_units(row["amount"], currency["precision"]) if currency else 0
    except OverPrecise:  # the currency's precision shrank since the proposal
        amount = 0
    if amount == 0:
        raise BursaError(Refusal.INVALID, f"{AREA}.invalid_amount")
    acceptance = _Acceptance(amount, actor.uid)
    (outcome,) = await engine_requests.carry_out_locked(session, submit, acceptance, [row])
    error = outcome.result.error
    if error is not None:
        raise BursaError(Refusal.INVALID, ENGINE_CODES.get(error, error), keep=True)
    return outcome.row


@dataclass(frozen=True, slots=True)
class _Acceptance:
    """An accept as ``engine_requests`` carries it out: a ``pending`` adjustment waits
    under ``engine_key``; applied, it is ``accepted`` (with the engine's seq and its
    checker); refused, it stays ``pending`` with one more attempt."""

    amount: int  # in the currency's subunits, signed
    validator_uid: str

    async def commands(self, session: AsyncSession, rows: Sequence[Any]) -> list[Command]:
        return [
            Adjust(
                key=engine_key(row),
                member_id=row["receiving_member_id"],
                currency=row["currency_id"],
                amount=self.amount,
                reason=row["reason"],
            )
            for row in rows
        ]

    def waiting(self, row: Any) -> str | None:
        return engine_key(row) if row["state"] == PENDING else None

    async def finish(
        self, session: AsyncSession, done: Sequence[tuple[Any, EngineResult]]
    ) -> list[Any]:
        finished = []
        for row, result in done:
            if result.applied:
                values: dict[str, Any] = {
                    "state": ACCEPTED,
                    "validator_uid": self.validator_uid,
                    "engine_seq": result.seq,
                }
            else:
                values = {"attempts": row["attempts"] + 1}
            finished.append(await change(session, row["id"], **values))
        return finished
