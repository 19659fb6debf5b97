"""A member's order entry: place, cancel one, cancel all — the rules between a typed ticket
and the engine's committed answer.

The API reads and checks the request's fields (``bursa.api.peatio.market.orders``); here
the ticket meets the market: it must be tradable, and its amounts must fit the market's
precision (converted to the engine's integers, never rounded). The engine's own rules
(bounds, balance, post-only, client ids) answer in its result. Every refusal is a
``BursaError`` carrying Peatio's code.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from bursa.db.hot import HotReads
from bursa.engine import errors as engine_errors
from bursa.engine.commands import CancelAll, CancelOrder, Command, PlaceOrder
from bursa.engine.core import Engine
from bursa.engine.order_uuids import order_uuid
from bursa.engine.runner import EngineStopped
from bursa.engine.units import OverPrecise, to_units
from bursa.engine.vocabulary import OrderType, SelfTradePrevention, Side, TimeInForce
from bursa.errors import BursaError, Refusal
from bursa.trading import committed, history
from bursa.trading.order_view import OrderView

MOST_DIGITS = 30  # a bound on the integer part of amounts, far beyond any real one
ENGINE_UNAVAILABLE = "server.engine_unavailable"
MARKET_NOT_FOUND = "market.market.doesnt_exist"
ORDER_NOT_FOUND = engine_errors.ORDER_NOT_FOUND  # unknown, or another member's
CANCEL_ERROR = "market.order.cancel_error"


class EnginePort(Protocol):
    """What order entry needs of the engine runner: its (read-only) state and ``submit``."""

    @property
    def engine(self) -> Engine: ...

    async def submit(self, command: Command, *, facts: bool = False) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """A placement request whose fields are each valid on their own."""

    market: str
    side: Side
    volume: Decimal
    ord_type: OrderType = OrderType.LIMIT
    price: Decimal | None = None  # limit orders only
    time_in_force: TimeInForce | None = None
    post_only: bool = False
    client_id: str | None = None
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER


def _units(number: Decimal, places: int) -> int | None:
    """``number`` in units of ``10**-places``; None when over-precise or absurdly large."""
    if number.adjusted() >= MOST_DIGITS:
        return None
    try:
        return to_units(number, places)
    except OverPrecise:
        return None


def place_command(engine: Engine, member_id: int, ticket: OrderTicket, key: str) -> PlaceOrder:
    """The engine command for ``ticket``: refused when the market is not tradable or an
    amount has more decimals than the market allows."""
    book = engine.books.get(ticket.market.lower())
    if book is None or not book.spec.tradable:
        raise BursaError(Refusal.INVALID, engine_errors.MARKET_NOT_AVAILABLE)
    spec = book.spec
    volume = _units(ticket.volume, spec.amount_precision)
    price = 0 if ticket.price is None else _units(ticket.price, spec.price_precision)
    if volume is None or price is None:
        raise BursaError(Refusal.INVALID, engine_errors.INVALID_VOLUME_OR_PRICE)
    return PlaceOrder(
        key=key,
        member_id=member_id,
        market=spec.id,
        side=ticket.side,
        volume=volume,
        price=price,
        ord_type=ticket.ord_type,
        time_in_force=ticket.time_in_force or "",
        post_only=ticket.post_only,
        client_id=ticket.client_id,
        stp=ticket.stp,
    )


async def submit(port: EnginePort, command: Command, *, facts: bool = False) -> dict[str, Any]:
    """The engine's committed result; refused as unavailable when the engine is stopped."""
    try:
        return await port.submit(command, facts=facts)
    except EngineStopped as exc:
        raise BursaError(Refusal.UNAVAILABLE, ENGINE_UNAVAILABLE) from exc


async def _view(
    reads: HotReads, member_id: int, order: dict[str, Any], known: Any | None = None
) -> OrderView:
    """The order as the engine answered it after the commit; read back from the tables
    only when the answer is not enough (``bursa.trading.committed``). ``known`` is the
    order's row read before a cancellation: its UUID, and its average while no trade
    came since."""
    uuid_text, average = order_uuid(order["id"]), None
    if known is not None:
        uuid_text = str(known["uuid"])
        if known["trades_count"] == order["trades_count"]:
            average = known["avg_price"]
    view = committed.view(order, uuid_text, average)
    if view is not None:
        return view
    row = await history.committed_order(reads, member_id, id=int(order["id"]))
    if row is None:  # committed by the engine, so it is there; never another member's
        raise BursaError(Refusal.NOT_FOUND, ORDER_NOT_FOUND)
    return OrderView.of(row)


async def place(
    port: EnginePort, reads: HotReads, member_id: int, ticket: OrderTicket, key: str
) -> OrderView:
    """Place ``ticket`` once per ``key`` (a repeated key answers the first order)."""
    command = place_command(port.engine, member_id, ticket, key)
    result = await submit(port, command, facts=True)
    if result["error"] is not None:
        raise BursaError(Refusal.INVALID, result["error"])
    return await _view(reads, member_id, result["order"])


async def cancel(
    port: EnginePort, reads: HotReads, member_id: int, *, id: int | None, uuid_text: str | None
) -> OrderView:
    """Cancel one of the member's open orders (by id or UUID)."""
    row = await history.committed_order(reads, member_id, id=id, uuid=uuid_text)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, ORDER_NOT_FOUND)
    command = CancelOrder(
        key=f"api:cancel:{uuid.uuid4().hex}", member_id=member_id, order_id=int(row["id"])
    )
    result = await submit(port, command, facts=True)
    if result["error"] is not None:  # no longer open: filled or cancelled already
        raise BursaError(Refusal.INVALID, CANCEL_ERROR)
    return await _view(reads, member_id, result["order"], row)


async def cancel_all(
    port: EnginePort, member_id: int, market: str | None, side: Side | None
) -> list[int]:
    """Cancel the member's open orders (of one market and side, if given): their ids."""
    if market is not None and market.lower() not in port.engine.books:
        raise BursaError(Refusal.INVALID, MARKET_NOT_FOUND)
    command = CancelAll(
        key=f"api:cancel_all:{uuid.uuid4().hex}",
        member_id=member_id,
        market=market.lower() if market is not None else None,
        side=side,
    )
    result = await submit(port, command)
    if result["error"] is not None:
        raise BursaError(Refusal.INVALID, result["error"])
    return [int(order["id"]) for order in result["orders"]]
