"""Staff cancelling members' orders (the admin API's ``orders/{id}/cancel`` and
``orders/cancel``, the Management API's too).

Cancels go through the engine like a member's; each cancelled order leaves an audit entry
(``order.cancel``), written after the engine committed, with the order as it was and as the
engine left it, in the request's transaction (committed at the boundary). The audit log
keeps an order as the caller's answers show it: ``show`` renders rows (members' uids and
emails are identity's, out of this package's reach), and the rendering is returned.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.commands import CancelAll, CancelOrder
from bursa.errors import BursaError, Refusal
from bursa.trading import admin_queries as queries
from bursa.trading import audit, history
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND
from bursa.trading.orders import EnginePort, submit

ORDER_NOT_OPEN = "admin.order.cancel_error"
MARKET_NOT_FOUND = "admin.market.doesnt_exist"


class Shown(Protocol):
    """An order as the caller answers it."""

    def model_dump(self) -> dict[str, Any]: ...


Order = TypeVar("Order", bound=Shown)
Show = Callable[[Sequence[Any]], Awaitable[list[Order]]]


async def cancel_order(
    session: AsyncSession, port: EnginePort, actor: Actor, order_id: int, show: Show[Order]
) -> Order:
    """Cancel open order ``order_id`` (of any member); as the engine left it."""
    before = await queries.order(session, order_id)
    if before is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    if before["state"] != queries.OPEN:
        raise BursaError(Refusal.INVALID, ORDER_NOT_OPEN)
    command = CancelOrder(
        key=f"admin:cancel:{order_id}", member_id=before["member_id"], order_id=order_id
    )
    result = await submit(port, command)
    if result["error"] is not None:  # filled or cancelled meanwhile
        raise BursaError(Refusal.INVALID, ORDER_NOT_OPEN)
    after = await queries.order(session, order_id)
    was, now = await show([before, after])
    await audit.record(
        session,
        actor,
        "order.cancel",
        "Order",
        order_id,
        before=was.model_dump(),
        after=now.model_dump(),
    )
    return now


async def cancel_in_market(
    session: AsyncSession,
    port: EnginePort,
    actor: Actor,
    market: str,
    show: Show[Order],
    *,
    side: str | None = None,
    member_id: int | None = None,
) -> list[Order]:
    """Cancel the open orders in ``market`` (any case; of one ``side``, of one member),
    one ``CancelAll`` per member submitted together; the cancelled orders as the engine
    left them."""
    symbol = market.lower()
    if not await history.market_exists(session, symbol):
        raise BursaError(Refusal.INVALID, MARKET_NOT_FOUND)
    open_orders = await queries.open_orders(session, symbol, side)
    if member_id is not None:
        open_orders = [row for row in open_orders if row["member_id"] == member_id]
    before = {row["id"]: row for row in open_orders}
    batch = uuid.uuid4().hex
    commands = [
        CancelAll(key=f"admin:cancel_all:{batch}:{m}", member_id=m, market=symbol, side=side)
        for m in sorted({row["member_id"] for row in open_orders})
    ]
    # Submitted together, so the engine applies them in one batch.
    results = await asyncio.gather(*(submit(port, c) for c in commands))
    ids = sorted(int(o["id"]) for r in results if r["error"] is None for o in r["orders"])
    after = await queries.orders_by_id(session, ids)
    was = [before[row["id"]] for row in after if row["id"] in before]
    shown = await show([*after, *was])
    now, then = shown[: len(after)], iter(shown[len(after) :])
    for row, order in zip(after, now, strict=True):
        earlier = next(then).model_dump() if row["id"] in before else None
        await audit.record(
            session,
            actor,
            "order.cancel",
            "Order",
            row["id"],
            before=earlier,
            after=order.model_dump(),
        )
    return now
