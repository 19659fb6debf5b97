"""Withdrawals as Peatio's Management API asks for them (``withdraws/new``, ``action``).

Every step is ordered so that a crash between the database and the engine is repaired by
simply asking again: the row is written first (``prepared``), then the engine holds the
funds under a key derived from the row's id, then the row becomes ``accepted`` — the money
workflow of ``bursa.trading.engine_requests`` (a key that already ran is read back from the
command log, never sent again). The engine also keeps every hold it made
(``withdrawal_holds``), so when a request finds a row behind the engine (held but still
``prepared``, settled but still ``accepted``) it first brings the row up to what the engine
did (``_catch_up``), and only then acts. Money therefore moves once: the engine refuses a
second hold of the same withdrawal id, and settle or release of a hold that is no longer
held.

Every change of state is a step of the one table in ``bursa.trading.withdrawal_states``,
refused from a state the table does not list. Each change and its Event API event
(``model.withdraw.created`` / ``…updated``) are written in one transaction through the
outbox.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.db.pages import Page, page_of
from bursa.engine import errors as engine_errors
from bursa.engine.commands import Command, HoldWithdrawal, ReleaseWithdrawal, SettleWithdrawal
from bursa.engine.tables import withdrawal_holds
from bursa.engine.units import to_units
from bursa.errors import BursaError, Refusal
from bursa.events.outbox import DomainEvent, enqueue
from bursa.formats import decimal_text, iso
from bursa.ledger.tables import currencies
from bursa.trading import engine_requests
from bursa.trading.admin_queries import Listing, in_window, moment, ordered
from bursa.trading.engine_requests import EngineResult
from bursa.trading.withdrawal_states import (
    FINAL,
    FOLLOWS,
    HOLD_AFTER,
    State,
    Step,
    allowed,
    target,
)
from bursa.trading.withdrawal_tables import withdraws

PREPARED, ACCEPTED, CANCELED = State.PREPARED, State.ACCEPTED, State.CANCELED
PROCESSING, SUCCEED = State.PROCESSING, State.SUCCEED
CONFIRMING, SKIPPED, ERRORED = State.CONFIRMING, State.SKIPPED, State.ERRORED
FAILED, REJECTED = State.FAILED, State.REJECTED
STATES = tuple(state.value for state in State)  # Peatio's order
# Where a withdrawal already is when ``process`` or ``cancel`` was done before: a retried
# action is answered the withdrawal as it stands, not refused.
PROCESSED = (PROCESSING, CONFIRMING, SUCCEED)
INSUFFICIENT = "account.withdraw.insufficient_balance"
ENGINE_MESSAGES = {
    engine_errors.WITHDRAW_INSUFFICIENT_BALANCE: INSUFFICIENT,
    engine_errors.CURRENCY_NOT_FOUND: "account.currency.doesnt_exist",
    engine_errors.WITHDRAW_INVALID_AMOUNT: "account.withdraw.non_positive_amount",
}


class WithdrawalRefused(BursaError):
    """An expected refusal, named by its Peatio code (Grape's message on the Management
    API): nothing was changed."""

    def __init__(self, kind: Refusal, code: str) -> None:
        super().__init__(kind, code)


class Submit(Protocol):
    """The engine runner's ``submit``: the committed result of one command."""

    async def __call__(self, command: Command) -> dict[str, Any]: ...


EmailOf = Callable[[AsyncSession, int], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Ask:
    """A validated ``withdraws/new``: ``amount`` is what leaves, ``fee`` is added on top
    and the member pays (and has held) ``amount + fee``."""

    tid: str
    member_id: int
    uid: str
    currency: str
    type: str  # fiat | coin
    precision: int
    amount: Decimal
    fee: Decimal
    rid: str
    note: str | None
    transfer_type: str
    blockchain_key: str | None
    beneficiary_id: int | None = None  # a member's own request names its beneficiary

    def same_as(self, row: Mapping[str, Any]) -> bool:
        """Whether ``row`` (found under the same tid) is this very request again."""
        return (
            row["uid"] == self.uid
            and row["currency_id"] == self.currency
            and row["amount"] == self.amount
            and row["rid"] == self.rid
            and (row["note"] or None) == (self.note or None)
            and row["transfer_type"] == self.transfer_type
        )


def hold_id(row: Mapping[str, Any]) -> str:
    """The engine's withdrawal id (and ledger reference) of ``row``: its id, as Peatio's
    operations reference a withdraw."""
    return str(row["id"])


def record(row: Mapping[str, Any], email: str, confirmations: int = 0) -> dict[str, Any]:
    """The Event API record of a withdraw (Peatio's, nil fields left out);
    ``confirmations``: its transaction's, as the sender last saw them."""
    found: dict[str, Any] = {
        "tid": row["tid"],
        "user": {"uid": row["uid"], "email": email},
        "uid": row["uid"],
        "rid": row["rid"],
        "currency": row["currency_id"],
        "amount": decimal_text(row["amount"]),
        "fee": decimal_text(row["fee"]),
        "state": row["state"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "completed_at": iso(row["completed_at"]),
        "blockchain_txid": row["txid"],
    }
    if row["type"] == "coin":
        found["blockchain_confirmations"] = confirmations
    return {key: value for key, value in found.items() if value is not None}


def entity(row: Mapping[str, Any]) -> dict[str, Any]:
    """The Management API's ``Withdraw``."""
    return {
        "tid": row["tid"],
        "uid": row["uid"],
        "currency": row["currency_id"],
        "note": row["note"],
        "type": row["type"],
        "amount": decimal_text(row["amount"]),
        "fee": decimal_text(row["fee"]),
        "rid": row["rid"],
        "blockchain_key": row["blockchain_key"],
        "state": row["state"],
        "created_at": iso(row["created_at"]),
        "blockchain_txid": row["txid"],
        "transfer_type": row["transfer_type"],
    }


async def currency(session: AsyncSession, code: str) -> Any | None:
    """What a withdrawal needs of its currency: type, precision, fee, minimum, switches."""
    c = currencies.c
    query = select(
        c.id,
        c.type,
        c.precision,
        c.blockchain_key,
        c.withdraw_fee,
        c.min_withdraw_amount,
        c.withdrawal_enabled,
        c.state,
    ).where(c.id == code)
    return (await session.execute(query)).mappings().first()


async def find(session: AsyncSession, tid: str, *, lock: bool = False) -> Any | None:
    query = select(withdraws).where(withdraws.c.tid == tid)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()


@dataclass(frozen=True, slots=True)
class WithdrawFilter:
    uid: str | None = None
    currency: str | None = None
    state: str | None = None


async def listed(session: AsyncSession, found: WithdrawFilter, *, limit: int, page: int) -> Page:
    """Newest first."""
    exact = [
        (withdraws.c.uid, found.uid),
        (withdraws.c.currency_id, found.currency),
        (withdraws.c.state, found.state),
    ]
    query = select(withdraws).where(*(c == v for c, v in exact if v is not None))
    return await page_of(session, query.order_by(withdraws.c.id.desc()), limit, page)


@dataclass(frozen=True, slots=True)
class AdminFilter:
    """The admin list's filters; ``listing`` orders it and bounds its times."""

    listing: Listing
    id: int | None = None
    member_id: int | None = None
    currency: str | None = None
    state: str | None = None
    type: str | None = None
    blockchain_key: str | None = None


async def admin_listed(session: AsyncSession, found: AdminFilter, *, limit: int, page: int) -> Page:
    exact = [
        (withdraws.c.id, found.id),
        (withdraws.c.member_id, found.member_id),
        (withdraws.c.currency_id, found.currency),
        (withdraws.c.state, found.state),
        (withdraws.c.type, found.type),
        (withdraws.c.blockchain_key, found.blockchain_key),
    ]
    listing, column = found.listing, withdraws.c
    query = select(withdraws).where(
        *(c == v for c, v in exact if v is not None),
        *in_window(moment(column, listing), listing),
    )
    query = ordered(query, listing, column[listing.order_by], column.id)
    return await page_of(session, query, limit, page)


async def by_id(session: AsyncSession, withdraw_id: int) -> Any | None:
    query = select(withdraws).where(withdraws.c.id == withdraw_id)
    return (await session.execute(query)).mappings().first()


class Withdrawals:
    """The withdrawal flow over the database and the engine; each method is one request
    and commits its own transaction. Every change of state is a ``Step`` of the one table
    (``bursa.trading.withdrawal_states``); a step through the engine is a money request of
    ``bursa.trading.engine_requests``, submitted while the row stays locked."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], submit: Submit, email_of: EmailOf
    ) -> None:
        self._sessions = sessions
        self._submit = submit
        self._email_of = email_of

    @property
    def submit(self) -> Submit:
        """The engine this flow moves money through (custody books network fees there)."""
        return self._submit

    async def create(self, ask: Ask, *, process: bool) -> Any:
        """Record the withdrawal, hold ``amount + fee``, accept it; ``process`` goes on
        (fiat settles, coin waits for custody in ``processing``). The same tid again
        answers the first withdrawal (resuming it if it stopped half-way); the same tid
        with other content is refused."""
        async with self._sessions() as session, session.begin():
            inserted = await session.execute(
                upsert(withdraws)
                .values(
                    tid=ask.tid,
                    member_id=ask.member_id,
                    uid=ask.uid,
                    currency_id=ask.currency,
                    amount=ask.amount,
                    fee=ask.fee,
                    sum=ask.amount + ask.fee,
                    type=ask.type,
                    rid=ask.rid,
                    note=ask.note,
                    transfer_type=ask.transfer_type,
                    blockchain_key=ask.blockchain_key,
                    beneficiary_id=ask.beneficiary_id,
                    state=PREPARED,
                )
                .on_conflict_do_nothing(index_elements=["tid"])
                .returning(withdraws.c.id)
            )
            if inserted.first() is None:
                existing = await find(session, ask.tid)
                if existing is None or not ask.same_as(existing):
                    raise WithdrawalRefused(Refusal.INVALID, "management.withdraw.tid_taken")
        row = await self._hold(ask.tid)
        if process and row["state"] == ACCEPTED:
            row = await self.act(ask.tid, "process")
        return row

    async def _hold(self, tid: str) -> Any:
        async with self._sessions() as session, session.begin():
            row = await self._locked(session, tid)
            if row["state"] != PREPARED:
                return row
            outcome = await self._through_engine(session, row, Step.HOLD)
            if outcome.result.applied or outcome.row["state"] != PREPARED:
                return outcome.row
            # Refused, nothing held: nothing is recorded either, the tid is free again.
            await session.execute(delete(withdraws).where(withdraws.c.id == row["id"]))
        raise WithdrawalRefused(Refusal.INVALID, _message(outcome.result.error))

    async def act(self, tid: str, action: str) -> Any:
        """``process`` (fiat: settle → ``succeed``; coin: ``processing``, custody sends)
        or ``cancel`` (release → ``canceled``). Repeating a done action answers the
        withdrawal as it is."""
        async with self._sessions() as session, session.begin():
            row = await self._catch_up(session, await self._locked(session, tid))
            state = row["state"]
            if action == "cancel":
                if state == CANCELED:
                    return row
                if not allowed(Step.CANCEL, state):
                    raise WithdrawalRefused(Refusal.INVALID, "management.withdraw.cannot_cancel")
                if state == PREPARED:
                    return await self._change(session, row, Step.CANCEL)  # nothing held
                step = Step.CANCEL
            else:
                if state in PROCESSED:
                    return row
                if not allowed(Step.PROCESS, state):
                    raise WithdrawalRefused(Refusal.INVALID, "management.withdraw.cannot_process")
                if row["type"] == "coin":
                    # Custody (issue 6) takes ``processing`` withdrawals, sends them and
                    # settles the hold; until then they wait here, funds locked.
                    return await self._change(session, row, Step.PROCESS)
                step = Step.SETTLE
            outcome = await self._through_engine(session, row, step)
            if not outcome.result.applied and outcome.row["state"] == state:
                raise WithdrawalRefused(Refusal.INVALID, _message(outcome.result.error))
            return outcome.row

    async def move(
        self,
        tid: str,
        step: Step,
        *,
        values: Mapping[str, Any] | None = None,
        also: Callable[[AsyncSession, Any], Awaitable[None]] | None = None,
    ) -> Any:
        """A ``step`` that moves no money (custody's ``sign``, ``skip``, ``error``, an
        admin's ``retry``); being where it leads already answers the row as it is.
        ``also`` runs in the same commit with the changed row (custody records the
        transaction's network fee)."""
        assert step not in HOLD_AFTER, f"{step} moves money: settle or release"
        async with self._sessions() as session, session.begin():
            row = await self._locked(session, tid)
            if row["state"] == target(step):
                return row
            changed = await self._change(session, row, step, values)
            if also is not None:
                await also(session, changed)
            return changed

    async def settle(self, tid: str, *, confirmations: int = 0) -> Any:
        """The engine settles the hold (the fee to revenue), the row becomes ``succeed``
        (``confirmations``: its transaction's, for the event)."""
        return await self._finish(tid, Step.SETTLE, confirmations)

    async def release(self, tid: str, step: Step) -> Any:
        """The engine gives the funds back to the member, the row takes ``step``
        (``fail``: ``failed``; ``reject``: ``rejected``)."""
        assert HOLD_AFTER.get(step) == "released", f"{step} releases nothing"
        return await self._finish(tid, step)

    async def _finish(self, tid: str, step: Step, confirmations: int = 0) -> Any:
        """Settle or release, then record: when an earlier attempt stopped after the
        engine's commit, the command log (or the hold) says so and only the row is
        brought up to it."""
        async with self._sessions() as session, session.begin():
            row = await self._locked(session, tid)
            if row["state"] == target(step):
                return row
            if not allowed(step, row["state"]):
                raise WithdrawalRefused(
                    Refusal.INVALID, f"cannot move from {row['state']} to {target(step)}"
                )
            outcome = await self._through_engine(session, row, step, confirmations)
            if outcome.row["state"] != target(step):
                raise WithdrawalRefused(Refusal.INVALID, _message(outcome.result.error))
            return outcome.row

    async def _through_engine(
        self, session: AsyncSession, row: Any, step: Step, confirmations: int = 0
    ) -> engine_requests.Outcome:
        """``step`` through the engine, ``row`` locked in ``session``'s transaction."""
        command: Command
        if step == Step.HOLD:
            command = HoldWithdrawal(
                key=f"withdraw:{row['id']}:hold",
                member_id=row["member_id"],
                currency=row["currency_id"],
                amount=await self._units(session, row, row["sum"]),
                withdrawal_id=hold_id(row),
            )
        elif step == Step.SETTLE:
            command = SettleWithdrawal(
                key=f"withdraw:{row['id']}:settle",
                withdrawal_id=hold_id(row),
                fee=await self._units(session, row, row["fee"]),
            )
        else:
            command = ReleaseWithdrawal(
                key=f"withdraw:{row['id']}:release", withdrawal_id=hold_id(row)
            )
        finisher = _HoldStep(self, command, step, confirmations)
        (outcome,) = await engine_requests.carry_out_locked(session, self._submit, finisher, [row])
        return outcome

    async def _hold_state(self, session: AsyncSession, row: Mapping[str, Any]) -> str | None:
        query = select(withdrawal_holds.c.state).where(
            withdrawal_holds.c.withdrawal_id == hold_id(row)
        )
        found: str | None = await session.scalar(query)
        return found

    async def _locked(self, session: AsyncSession, tid: str) -> Any:
        row = await find(session, tid, lock=True)
        if row is None:
            raise WithdrawalRefused(Refusal.NOT_FOUND, "Couldn't find record.")
        return row

    async def _units(self, session: AsyncSession, row: Mapping[str, Any], value: Decimal) -> int:
        precision = await session.scalar(
            select(currencies.c.precision).where(currencies.c.id == row["currency_id"])
        )
        return to_units(value, int(precision or 0))

    async def _catch_up(self, session: AsyncSession, row: Any) -> Any:
        """``row`` brought up to what the engine already did with its hold (a request
        that stopped between the engine and its own commit)."""
        step = FOLLOWS.get(await self._hold_state(session, row) or "")
        if step is None or row["state"] == target(step):
            return row
        if row["state"] == PREPARED and step != Step.HOLD:
            row = await self._change(session, row, Step.HOLD)  # held first, as it was
        if not allowed(step, row["state"]):
            return row
        return await self._change(session, row, step)

    async def _change(
        self,
        session: AsyncSession,
        row: Any,
        step: Step,
        values: Mapping[str, Any] | None = None,
        *,
        confirmations: int = 0,
    ) -> Any:
        """Move ``row`` by ``step`` (and set ``values``) with its event, in the caller's
        transaction; refused when the table does not allow ``step`` from where it is."""
        state = target(step)
        if not allowed(step, row["state"]):
            raise WithdrawalRefused(Refusal.INVALID, f"cannot move from {row['state']} to {state}")
        done = state in FINAL
        changed = (
            (
                await session.execute(
                    update(withdraws)
                    .where(withdraws.c.id == row["id"])
                    .values(
                        state=state.value,
                        updated_at=func.now(),
                        completed_at=func.now() if done else withdraws.c.completed_at,
                        **(values or {}),
                    )
                    .returning(withdraws)
                )
            )
            .mappings()
            .one()
        )
        email = await self._email_of(session, row["member_id"])
        if row["state"] == PREPARED:
            event = DomainEvent(
                "peatio", "model.withdraw.created", record(changed, email, confirmations)
            )
        else:
            previous = {"state": row["state"], "updated_at": iso(row["updated_at"])}
            if done:
                previous["completed_at"] = None
            event = DomainEvent(
                "peatio", "model.withdraw.updated", record(changed, email, confirmations), previous
            )
        await enqueue(await session.connection(), [event])
        return changed


@dataclass(frozen=True, slots=True)
class _HoldStep:
    """One step of a withdrawal through the engine, for ``engine_requests`` (in the
    transaction that holds the row): applied, the row takes ``step``; refused, the row is
    brought up to what its hold says, when an earlier attempt got the engine there."""

    flow: Withdrawals
    command: Command
    step: Step
    confirmations: int = 0

    async def commands(self, session: AsyncSession, rows: Sequence[Any]) -> list[Command]:
        return [self.command]

    def waiting(self, row: Any) -> str | None:
        return self.command.key  # the caller locked the row where ``step`` starts

    async def finish(
        self, session: AsyncSession, done: Sequence[tuple[Any, EngineResult]]
    ) -> list[Any]:
        flow, step = self.flow, self.step
        finished = []
        for row, result in done:
            if result.applied or (
                await flow._hold_state(session, row) == HOLD_AFTER[step]
                and allowed(step, row["state"])
            ):
                row = await flow._change(session, row, step, confirmations=self.confirmations)
            else:
                row = await flow._catch_up(session, row)
            finished.append(row)
        return finished


def _message(error: str | None) -> str:
    """The Peatio code of an engine refusal."""
    return ENGINE_MESSAGES.get(error or "", error or "")
