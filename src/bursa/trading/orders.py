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
from bursa.engine.commands import (
    AmendOrder,
    BulkOrders,
    CancelAll,
    CancelOrder,
    Command,
    PlaceOco,
    PlaceOrder,
)
from bursa.engine.core import Engine
from bursa.engine.order_uuids import order_uuid
from bursa.engine.runner import EngineStopped
from bursa.engine.specs import MarketSpec
from bursa.engine.units import OverPrecise, to_units
from bursa.engine.vocabulary import (
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerCondition,
)
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
    trigger_price: Decimal | None = None  # stop_limit and stop_market only
    trigger_condition: TriggerCondition | None = None  # None: buy above, sell below


def _units(number: Decimal, places: int) -> int | None:
    """``number`` in units of ``10**-places``; None when over-precise or absurdly large."""
    if number.adjusted() >= MOST_DIGITS:
        return None
    try:
        return to_units(number, places)
    except OverPrecise:
        return None


def _spec(engine: Engine, market: str) -> MarketSpec:
    book = engine.books.get(market.lower())
    if book is None or not book.spec.tradable:
        raise BursaError(Refusal.INVALID, engine_errors.MARKET_NOT_AVAILABLE)
    return book.spec


def _amounts(*found: int | None) -> list[int]:
    """The engine's integers, refused together when one of them is not exact."""
    if any(units is None for units in found):
        raise BursaError(Refusal.INVALID, engine_errors.INVALID_VOLUME_OR_PRICE)
    return [units or 0 for units in found]


def _price_units(price: Decimal | None, spec: MarketSpec) -> int | None:
    return 0 if price is None else _units(price, spec.price_precision)


def place_fields(engine: Engine, ticket: OrderTicket) -> dict[str, Any]:
    """``ticket`` as the engine's ``PlaceOrder`` fields (without key and member): refused
    when the market is not tradable or an amount has more decimals than it allows."""
    spec = _spec(engine, ticket.market)
    volume, price, trigger = _amounts(
        _units(ticket.volume, spec.amount_precision),
        _price_units(ticket.price, spec),
        _price_units(ticket.trigger_price, spec),
    )
    return {
        "market": spec.id,
        "side": str(ticket.side),
        "volume": volume,
        "price": price,
        "ord_type": str(ticket.ord_type),
        "time_in_force": str(ticket.time_in_force or ""),
        "post_only": ticket.post_only,
        "client_id": ticket.client_id,
        "stp": str(ticket.stp),
        "trigger_price": trigger,
        "trigger_condition": str(ticket.trigger_condition or ""),
    }


def place_command(engine: Engine, member_id: int, ticket: OrderTicket, key: str) -> PlaceOrder:
    """The engine command for ``ticket`` (see ``place_fields``)."""
    if ticket.trigger_price is not None or ticket.ord_type not in (
        OrderType.LIMIT,
        OrderType.MARKET,
    ):
        return PlaceOrder(key=key, member_id=member_id, **place_fields(engine, ticket))
    spec = _spec(engine, ticket.market)
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


# ---------------------------------------------------------------------- HFT order entry


@dataclass(frozen=True, slots=True)
class OcoTicket:
    """One cancels the other: a limit order at ``price`` and a stop at ``trigger_price``
    (a stop-limit at ``stop_price``, or a stop-market without one)."""

    market: str
    side: Side
    volume: Decimal
    price: Decimal
    trigger_price: Decimal
    stop_price: Decimal | None = None
    client_id: str | None = None
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER


@dataclass(frozen=True, slots=True)
class CancelRef:
    """An order to cancel in a bulk request: by id or by client id."""

    id: int | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class BulkAnswer:
    """Each item of a bulk request, in request order: the order as committed, or why it
    was refused."""

    cancelled: list[OrderView | BursaError]
    placed: list[OrderView | BursaError]


async def _views(reads: HotReads, member_id: int, orders: list[dict[str, Any]]) -> list[OrderView]:
    return [await _view(reads, member_id, order) for order in orders]


def _refused(result: dict[str, Any]) -> None:
    if result["error"] is not None:
        raise BursaError(Refusal.INVALID, result["error"])


async def place_oco(
    port: EnginePort, reads: HotReads, member_id: int, ticket: OcoTicket, key: str
) -> list[OrderView]:
    """Place an OCO pair once per ``key``: the limit order, then the stop order."""
    spec = _spec(port.engine, ticket.market)
    volume, price, trigger, stop_price = _amounts(
        _units(ticket.volume, spec.amount_precision),
        _price_units(ticket.price, spec),
        _price_units(ticket.trigger_price, spec),
        _price_units(ticket.stop_price, spec),
    )
    command = PlaceOco(
        key=key,
        member_id=member_id,
        market=spec.id,
        side=str(ticket.side),
        volume=volume,
        price=price,
        trigger_price=trigger,
        stop_price=stop_price,
        client_id=ticket.client_id,
        stp=str(ticket.stp),
    )
    result = await submit(port, command, facts=True)
    _refused(result)
    return await _views(reads, member_id, result["orders"])


async def amend(
    port: EnginePort,
    reads: HotReads,
    member_id: int,
    *,
    id: int | None,
    client_id: str | None,
    price: Decimal | None,
    volume: Decimal | None,
    key: str,
    uuid_text: str | None = None,
) -> OrderView:
    """Change a resting limit order's price and/or remaining volume: in place when only
    the volume shrinks (its queue place kept), else cancel-replace under a new id."""
    row = await history.committed_order(
        reads, member_id, id=id, uuid=uuid_text, client_id=client_id
    )
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, ORDER_NOT_FOUND)
    spec = _spec(port.engine, row["market_id"])
    new_price, new_volume = _amounts(
        _price_units(price, spec),
        0 if volume is None else _units(volume, spec.amount_precision),
    )
    command = AmendOrder(
        key=key,
        member_id=member_id,
        order_id=int(row["id"]),
        price=new_price,
        volume=new_volume,
    )
    result = await submit(port, command, facts=True)
    if result["error"] == ORDER_NOT_FOUND:
        raise BursaError(Refusal.NOT_FOUND, ORDER_NOT_FOUND)
    _refused(result)
    return await _view(reads, member_id, result["order"])


async def cancel_by_client_id(
    port: EnginePort, reads: HotReads, member_id: int, client_id: str
) -> OrderView:
    """Cancel one of the member's open orders by its client id."""
    command = CancelOrder(
        key=f"api:cancel:{uuid.uuid4().hex}", member_id=member_id, client_id=client_id
    )
    result = await submit(port, command, facts=True)
    if result["error"] is not None:
        raise BursaError(Refusal.NOT_FOUND, ORDER_NOT_FOUND)
    return await _view(reads, member_id, result["order"])


async def bulk(
    port: EnginePort,
    reads: HotReads,
    member_id: int,
    tickets: list[OrderTicket],
    cancels: list[CancelRef],
    key: str,
) -> BulkAnswer:
    """Cancel, then place, in one engine command (one commit): each item answered on its
    own; a ticket that cannot become an engine command is refused alone, before it."""
    engine = port.engine
    placed: list[dict[str, Any] | BursaError] = []
    for ticket in tickets:
        try:
            placed.append(place_fields(engine, ticket))
        except BursaError as exc:
            placed.append(exc)
    command = BulkOrders(
        key=key,
        member_id=member_id,
        cancel=[
            {"order_id": ref.id} if ref.id is not None else {"client_id": ref.client_id}
            for ref in cancels
        ],
        place=[fields for fields in placed if not isinstance(fields, BursaError)],
    )
    if not command.cancel and not command.place:  # every placement refused here already
        return BulkAnswer(cancelled=[], placed=[p for p in placed if isinstance(p, BursaError)])
    result = await submit(port, command, facts=True)
    _refused(result)
    items = iter(result["items"])
    cancelled: list[OrderView | BursaError] = []
    for _ in cancels:
        item = next(items)
        if item["error"] is not None:
            cancelled.append(BursaError(Refusal.NOT_FOUND, ORDER_NOT_FOUND))
        else:
            cancelled.append(await _view(reads, member_id, item["order"]))
    answers: list[OrderView | BursaError] = []
    for fields in placed:
        if isinstance(fields, BursaError):
            answers.append(fields)
            continue
        item = next(items)
        if item["error"] is not None:
            answers.append(BursaError(Refusal.INVALID, item["error"]))
        else:
            answers.append(await _view(reads, member_id, item["order"]))
    return BulkAnswer(cancelled=cancelled, placed=answers)
