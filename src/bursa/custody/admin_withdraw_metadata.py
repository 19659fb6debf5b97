"""Peatio's ``PUT admin/withdraws``: an admin replaces what is noted on a withdrawal
(``metadata``, a JSON object: a bank's reference, a ticket number, ...).

Only the note changes: no state, amount, destination or txid, so no money moves and the
sender, which never reads it, sends what it would have. The change and its audit entry
(the withdrawal before and after) are the request's one transaction; the same metadata
sent again changes nothing and leaves no entry.
"""

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import admin_withdrawals
from bursa.errors import BursaError, Refusal
from bursa.trading import audit
from bursa.trading import withdrawals as flow
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND
from bursa.trading.withdrawal_tables import withdraws


async def note(
    session: AsyncSession, actor: Actor, withdraw_id: int, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Set withdrawal ``withdraw_id``'s metadata; the withdrawal after, as admins see it."""
    row = await flow.by_id(session, withdraw_id)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    before = admin_withdrawals.view(row)
    if before["metadata"] == metadata:
        return before
    await session.execute(
        update(withdraws)
        .where(withdraws.c.id == withdraw_id)
        .values(metadata=metadata, updated_at=func.now())
    )
    changed = await flow.by_id(session, withdraw_id)
    after = admin_withdrawals.view(changed)
    await audit.record(
        session, actor, "withdraw.metadata", "Withdraw", withdraw_id, before=before, after=after
    )
    return after
