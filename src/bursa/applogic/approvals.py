"""Multi-signature approval of withdrawals: N of M approvers must agree before AppLogic
asks Peatio to process a large withdrawal; one rejection cancels it.

State of an approval: ``pending`` → ``approved`` (enough votes; or at once, below the
threshold) → ``executed`` (Peatio processed it), or ``pending`` → ``rejected`` →
``canceled`` (Peatio released the funds). The decision is committed before Peatio is
called, and the call is repeated until Peatio confirmed it (Peatio answers a repeated
``process`` or ``cancel`` with the withdrawal as it stands), so the decision is carried
out exactly once however often the event is delivered or an approver retries.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.applogic.config import AppLogicConfig
from bursa.applogic.management import ManagementError, PeatioManagement
from bursa.applogic.tables import applogic_approvals as approvals
from bursa.errors import BursaError, Refusal

log = logging.getLogger(__name__)

PENDING, APPROVED, EXECUTED = "pending", "approved", "executed"
REJECTED, CANCELED = "rejected", "canceled"
# A decision taken but not yet confirmed by Peatio: what to send, and the state after.
FOLLOW_UP = {APPROVED: ("process", EXECUTED), REJECTED: ("cancel", CANCELED)}
CREATED = "model.withdraw.created"


class ApprovalRefused(BursaError):
    """A vote or request refused, by its code: nothing was changed."""

    def __init__(self, kind: Refusal, code: str) -> None:
        super().__init__(kind, code)


@dataclass(frozen=True, slots=True)
class Approval:
    tid: str
    uid: str
    currency: str
    amount: Decimal
    required: int
    approvals: Mapping[str, str]  # approver uid -> ISO time of the vote
    rejected_by: str | None
    state: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> "Approval":
        return cls(
            row["tid"],
            row["uid"],
            row["currency_id"],
            row["amount"],
            row["required"],
            dict(row["approvals"]),
            row["rejected_by"],
            row["state"],
            row["created_at"],
            row["updated_at"],
        )


class WithdrawalApprovals:
    """AppLogic's withdrawal rules: the event handler and the approvers' actions."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: AppLogicConfig,
        peatio: PeatioManagement,
    ) -> None:
        self._sessions = sessions
        self.config = config
        self._peatio = peatio

    async def on_event(self, event: dict[str, Any]) -> None:
        """``model.withdraw.created`` (decoded ``event`` object): process it at once when
        small, else wait for approvals. Other events, and withdrawals of currencies
        without a rule, are left alone. Raises when Peatio could not be told, so that the
        event is delivered again (a repeat does not decide twice)."""
        if event.get("name") != CREATED:
            return
        record = event.get("record")
        if not isinstance(record, dict) or record.get("state") != "accepted":
            return
        currency = str(record.get("currency", "")).lower()
        rule = self.config.rules.get(currency)
        if rule is None:
            log.info("withdrawal %s: no AppLogic rule for %s", record.get("tid"), currency)
            return
        try:
            amount = Decimal(str(record["amount"]))
            tid, uid = str(record["tid"]), str(record["uid"])
        except (KeyError, InvalidOperation):
            log.warning("withdraw.created event without tid, uid or amount: ignored")
            return
        required = rule.required if amount > rule.threshold else 0
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(approvals)
                .values(
                    tid=tid,
                    uid=uid,
                    currency_id=currency,
                    amount=amount,
                    required=required,
                    approvals={},
                    state=APPROVED if required == 0 else PENDING,
                )
                .on_conflict_do_nothing(index_elements=["tid"])
            )
            row = await _find(session, tid)
        await self._carry_out(row)

    async def pending(self, approver: str) -> list[Approval]:
        """The withdrawals waiting for votes in the currencies ``approver`` approves."""
        mine = [code for code, rule in self.config.rules.items() if approver in rule.approvers]
        if not mine:
            raise ApprovalRefused(Refusal.FORBIDDEN, "applogic.withdraw.not_approver")
        async with self._sessions() as session:
            rows = await session.execute(
                select(approvals)
                .where(approvals.c.state == PENDING, approvals.c.currency_id.in_(mine))
                .order_by(approvals.c.created_at)
            )
            return [Approval.of(row) for row in rows.mappings()]

    async def approve(self, tid: str, approver: str) -> Approval:
        """One vote; the ``required``-th sends ``process``. Voting again on a decided
        withdrawal re-sends the decision if Peatio has not confirmed it yet."""
        return await self._vote(tid, approver, approve=True)

    async def reject(self, tid: str, approver: str) -> Approval:
        """One rejection is enough: ``cancel`` is sent and the funds are released."""
        return await self._vote(tid, approver, approve=False)

    async def _vote(self, tid: str, approver: str, *, approve: bool) -> Approval:
        async with self._sessions() as session, session.begin():
            row = await _find(session, tid, lock=True)
            if row is None:
                raise ApprovalRefused(Refusal.NOT_FOUND, "record.not_found")
            rule = self.config.rules.get(row["currency_id"])
            if rule is None or approver not in rule.approvers:
                raise ApprovalRefused(Refusal.FORBIDDEN, "applogic.withdraw.not_approver")
            if approver == row["uid"]:
                raise ApprovalRefused(Refusal.FORBIDDEN, "applogic.withdraw.own_withdrawal")
            if row["state"] in FOLLOW_UP:
                pass  # decided, not yet confirmed by Peatio: carried out below
            elif row["state"] != PENDING:
                raise ApprovalRefused(Refusal.INVALID, "applogic.withdraw.not_pending")
            elif approve and approver in row["approvals"]:
                raise ApprovalRefused(Refusal.INVALID, "applogic.withdraw.already_approved")
            else:
                row = await self._record_vote(session, row, approver, approve)
        return await self._carry_out(row)

    async def _record_vote(
        self, session: AsyncSession, row: Mapping[str, Any], approver: str, approve: bool
    ) -> Any:
        values: dict[str, Any]
        if approve:
            votes = dict(row["approvals"]) | {approver: datetime.now(UTC).isoformat()}
            enough = len(votes) >= row["required"]
            values = {"approvals": votes, "state": APPROVED if enough else PENDING}
        else:
            values = {"rejected_by": approver, "state": REJECTED}
        changed = await session.execute(
            update(approvals)
            .where(approvals.c.tid == row["tid"])
            .values(**values, updated_at=func.now())
            .returning(approvals)
        )
        return changed.mappings().one()

    async def _carry_out(self, row: Mapping[str, Any]) -> Approval:
        """Send a taken decision to Peatio and record that it was carried out."""
        follow_up = FOLLOW_UP.get(row["state"])
        if follow_up is None:
            return Approval.of(row)
        action, done = follow_up
        try:
            await self._peatio.withdraw_action(row["tid"], action)
        except ManagementError as exc:
            log.warning(
                "withdrawal %s: Peatio did not %s it (%s); retried on the next vote or event",
                row["tid"],
                action,
                exc,
            )
            raise
        async with self._sessions() as session, session.begin():
            changed = await session.execute(
                update(approvals)
                .where(approvals.c.tid == row["tid"], approvals.c.state == row["state"])
                .values(state=done, updated_at=func.now())
                .returning(approvals)
            )
            found = changed.mappings().first() or await _find(session, row["tid"])
        return Approval.of(found)


async def _find(session: AsyncSession, tid: str, *, lock: bool = False) -> Any:
    query = select(approvals).where(approvals.c.tid == tid)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()
