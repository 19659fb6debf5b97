"""Deposits as admins see them (the admin API's ``deposits``), and what they do to them.

Actions:
* ``accept``: credit a ``submitted`` **fiat** deposit (a payment the admin has checked),
  through ``crediting`` (its own transactions around the engine). Coin deposits are
  credited only by their scanner, at their confirmations: an admin cannot credit coins the
  chain has not confirmed.
* ``reject``: refuse a ``submitted`` deposit (``rejected``; a coin deposit so marked is
  never credited), in the request's transaction.

Asking again for an action already done answers the deposit as it stands. Every action
leaves an audit entry (the deposit before and after, as ``view`` shows it) in the request's
transaction, committed at the boundary.
"""

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.custody import crediting, member_transactions, registry
from bursa.errors import BursaError, Refusal
from bursa.formats import decimal_text, iso
from bursa.trading import audit, deposits
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND
from bursa.trading.engine_requests import Submit

AREA = "admin.deposit"
Action = Literal["accept", "reject"]
DONE: dict[str, str] = {"accept": deposits.ACCEPTED, "reject": deposits.REJECTED}


def view(row: Any, heights: dict[str, int]) -> dict[str, Any]:
    """The deposit as admins see it: with its confirmations, from the scanned ``heights``
    of the chains (0 before it is in a block, and for fiat: an integer, as specified)."""
    height = heights.get(row["blockchain_key"]) if row["blockchain_key"] else None
    confirmations = member_transactions.confirmations(row["block_number"], height)
    return {
        "id": row["id"],
        "tid": row["tid"],
        "uid": row["uid"],
        "currency": row["currency_id"],
        "type": row["type"],
        "amount": decimal_text(row["amount"]),
        "fee": decimal_text(row["fee"]),
        "state": row["state"],
        "transfer_type": row["transfer_type"],
        "txid": row["txid"],
        "txout": row["txout"],
        "address": row["address"],
        "blockchain_key": row["blockchain_key"],
        "block_number": row["block_number"],
        "confirmations": confirmations,
        "error": row["error"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "completed_at": iso(row["completed_at"]),
    }


async def views(session: AsyncSession, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """``rows`` as ``view`` shows them (one read of the chains' heights)."""
    keys = {row["blockchain_key"] for row in rows if row["blockchain_key"]}
    heights = await registry.scanned_heights(session, keys)
    return [view(row, heights) for row in rows]


async def find(session: AsyncSession, deposit_id: int) -> dict[str, Any]:
    """Deposit ``deposit_id`` as ``view`` shows it; refused as not found."""
    row = await deposits.by_id(session, deposit_id)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return (await views(session, [row]))[0]


async def act(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    submit: Submit,
    actor: Actor,
    deposit_id: int,
    action: Action,
) -> dict[str, Any]:
    """Do ``action`` to deposit ``deposit_id``; the deposit after, as ``view`` shows it.
    ``sessions`` gives the crediting its own session (its transactions come and go around
    the engine while the request's stays open for the audit entry)."""
    row = await deposits.by_id(session, deposit_id)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    keys = {row["blockchain_key"]} if row["blockchain_key"] else set()
    heights = await registry.scanned_heights(session, keys)
    if row["state"] == DONE[action]:
        changed = row  # asked again: answered as it stands
    elif action == "accept":
        changed = await _accept(sessions, submit, row)
    else:
        changed = await _reject(session, row)
    before, after = view(row, heights), view(changed, heights)
    await audit.record(
        session, actor, f"deposit.{action}", "Deposit", deposit_id, before=before, after=after
    )
    return after


async def _accept(sessions: async_sessionmaker[AsyncSession], submit: Submit, row: Any) -> Any:
    refused = BursaError(Refusal.INVALID, f"{AREA}.cannot_perform_accept_action")
    if row["type"] != "fiat" or row["state"] not in (deposits.SUBMITTED, deposits.ACCEPTING):
        raise refused
    async with sessions() as own:
        try:
            return await crediting.accept(own, submit, row["tid"])
        except crediting.DepositRefused as exc:
            raise refused from exc


async def _reject(session: AsyncSession, row: Any) -> Any:
    current = await deposits.find(session, row["tid"], lock=True)
    assert current is not None  # deposits are never deleted
    if current["state"] != deposits.SUBMITTED:
        raise BursaError(Refusal.INVALID, f"{AREA}.cannot_perform_reject_action")
    changed = await deposits.change(
        session, current["id"], state=deposits.REJECTED, completed_at=func.now()
    )
    await crediting.updated(session, current, changed)
    return changed
