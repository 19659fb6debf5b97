"""What admins do to withdrawals (the admin API's ``withdraws/actions``), and how they
see them.

Actions, each a step of the one table (``bursa.trading.withdrawal_states``) taken by the
withdrawal flow in its own transactions around the engine:
* ``process``: approve an ``accepted`` withdrawal (coin: ``processing``, custody sends it;
  fiat: settled, ``succeed``);
* ``reject``: refuse an ``accepted`` one (``rejected``, the held funds back to the member);
* ``retry``: a ``skipped`` or ``errored`` one is handed to the sender again (``processing``);
* ``fail``: a withdrawal whose transaction the admin declares lost, or one that cannot be
  sent (``confirming``, ``skipped``, ``errored`` → ``failed``, funds released). For a
  ``confirming`` one the node is asked first: a transaction that is mined or waiting in
  the node's pool is refused (``transaction_on_chain``), and so is any while the node
  cannot answer (``chain_unreachable``). Past that the admin answers for it: a lost
  transaction broadcast again by someone else and mined would pay out released money.

Asking again for an action already done answers the withdrawal as it stands. Every action
leaves an audit entry (before and after, as ``view`` shows it) in the request's
transaction, committed at the boundary.
"""

import logging
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.custody.addresses import Plugins
from bursa.custody.chain import FAILED, ChainError
from bursa.custody.sender import email_of, sent_status
from bursa.errors import BursaError, Refusal
from bursa.formats import decimal_text, iso
from bursa.trading import audit
from bursa.trading import withdrawals as flow
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND
from bursa.trading.withdrawal_states import Step

AREA = "admin.withdraw"
Action = Literal["process", "reject", "retry", "fail"]
log = logging.getLogger(__name__)


def view(row: Any) -> dict[str, Any]:
    """The withdrawal as admins see it (Peatio's admin ``Withdraw``: ``amount`` leaves,
    ``sum`` = amount + fee was held)."""
    return {
        "id": row["id"],
        "tid": row["tid"],
        "uid": row["uid"],
        "currency": row["currency_id"],
        "type": row["type"],
        "amount": decimal_text(row["amount"]),
        "fee": decimal_text(row["fee"]),
        "sum": decimal_text(row["sum"]),
        "rid": row["rid"],
        "blockchain_key": row["blockchain_key"],
        "blockchain_txid": row["txid"],
        "block_number": row["block_number"],
        "state": row["state"],
        "note": row["note"],
        "transfer_type": row["transfer_type"],
        "error": row["error"],
        "attempts": row["attempts"],
        "metadata": row.get("metadata") or {},  # what admins noted (``PUT withdraws``)
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "done_at": iso(row["completed_at"]),
    }


async def find(session: AsyncSession, withdraw_id: int) -> dict[str, Any]:
    """Withdrawal ``withdraw_id`` as ``view`` shows it; refused as not found."""
    row = await flow.by_id(session, withdraw_id)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return view(row)


async def act(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    submit: flow.Submit,
    plugins: Plugins | None,
    actor: Actor,
    withdraw_id: int,
    action: Action,
) -> dict[str, Any]:
    """Do ``action`` to withdrawal ``withdraw_id`` through the flow (on ``sessions``);
    the withdrawal after, as ``view`` shows it."""
    row = await flow.by_id(session, withdraw_id)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    if action == "fail" and row["state"] == flow.CONFIRMING:
        await _refuse_if_on_chain(session, plugins, row)
    withdrawals = flow.Withdrawals(sessions, submit, email_of)
    try:
        changed = await _take(withdrawals, row["tid"], action)
    except flow.WithdrawalRefused as exc:
        if exc.kind is Refusal.NOT_FOUND:
            raise BursaError(Refusal.NOT_FOUND, NOT_FOUND) from exc
        raise BursaError(Refusal.INVALID, f"{AREA}.cannot_perform_{action}_action") from exc
    before, after = view(row), view(changed)
    await audit.record(
        session, actor, f"withdraw.{action}", "Withdraw", withdraw_id, before=before, after=after
    )
    return after


async def _take(withdrawals: flow.Withdrawals, tid: str, action: Action) -> Any:
    if action == "process":
        return await withdrawals.act(tid, "process")
    if action == "reject":
        return await withdrawals.release(tid, Step.REJECT)
    if action == "retry":
        return await withdrawals.move(
            tid, Step.RETRY, values={"attempts": 0, "next_attempt_at": None}
        )
    return await withdrawals.release(tid, Step.FAIL)


async def _refuse_if_on_chain(session: AsyncSession, plugins: Plugins | None, row: Any) -> None:
    try:
        status = await sent_status(session, plugins, row)
    except (ChainError, LookupError, OSError) as exc:
        log.warning("withdraw %s: cannot fail it, the node did not answer: %s", row["id"], exc)
        raise BursaError(Refusal.INVALID, f"{AREA}.chain_unreachable") from exc
    if status not in (FAILED, "unknown"):
        raise BursaError(Refusal.INVALID, f"{AREA}.transaction_on_chain")
