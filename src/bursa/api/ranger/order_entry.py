"""Order entry on the private Ranger connection: place, cancel, cancel all, bulk, amend
and OCO orders, and arm cancel-on-disconnect, each a message with a request id chosen by
the client, answered on the same connection once the engine committed it.

A request is ``{"event": <kind>, "id": <request id>, "params": {...}}``, with an optional
``"idempotency_key"``: REST's ``Idempotency-Key``, made the same engine key
(``api:order:{member}:{key}`` for a placement, ``api:bulk:…``, ``api:amend:…``,
``api:oco:…``), so a retry after a reconnection, here or over REST, is applied once. The
answer is ``{"event": <kind>, "id": <request id>, "result": ...}`` with the order(s) in
Peatio's UserOrder shape, or ``{"event": <kind>, "id": <request id>, "errors": [codes]}``
with the codes the REST endpoints answer for the same fields. A refused request changes
nothing, and the connection stays open.

Requests of one connection run concurrently (a client may pipeline them; those in flight
together share the engine's batch): answers come in the order the engine commits, each
named by its request id. A request that depends on another's outcome (cancel the order a
placement made) is sent once that answer came.

Who may trade is decided once, when the connection is authorized (``trader_of``): the
checks of REST's ``TradingMember`` for ``POST /api/v2/peatio/market/orders`` — an active
member with the trading level, a role the permission table lets place orders, and an API
key with the ``trade`` scope (or an OAuth token whose scopes cover it) when one
authenticated the connection. Order entry spends the same rate-limit budget as REST's
(per API key, else per member; ``bursa.api.peatio.market.rate_limit``). Writes over the
websocket are not recorded as activities (REST's ``AUDIT`` rule): one database write per
order would cost the exchange more than the order.
"""

import asyncio
import itertools
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.deps import EngineView
from bursa.api.errors import INTERNAL_ERROR, model_codes
from bursa.api.peatio import present
from bursa.api.peatio.auth import GATES, member_id_of
from bursa.api.peatio.market.order_entry import Amendment, BulkRequest, CancelItem, NewOco
from bursa.api.peatio.market.orders import (
    CLIENT_ID,
    IDEMPOTENCY_KEY,
    INVALID_ID,
    MARKET_NOT_FOUND,
    UUID,
    CancelOrders,
    NewOrder,
    OrderContext,
)
from bursa.api.peatio.market.rate_limit import TOO_MANY, order_entry_quota
from bursa.api.ranger.dead_man import DeadMan
from bursa.api.ranger.hub import Connection, encode
from bursa.db.hot import HotReads
from bursa.engine import errors as engine_errors
from bursa.errors import BursaError, Refusal
from bursa.identity import oauth_scopes
from bursa.identity.api_keys import required_scope
from bursa.identity.credentials import API_KEY, OAUTH, Credential
from bursa.plain_input import is_digits, parse_digits
from bursa.trading import history, orders
from bursa.trading.member_levels import MemberLevels
from bursa.trading.order_view import OrderView

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

ORDERS_PATH = "api/v2/peatio/market/orders"  # what a websocket order stands for, to authorize
MAX_IN_FLIGHT = 256  # requests of one connection awaiting their answer; the next one waits
MOST_GRACE_S = 300  # cancel-on-disconnect's longest grace period
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
CLIENT_ID_RE = re.compile(CLIENT_ID)
MOST_ID = 2**63 - 1
UNAUTHENTICATED = "authz.invalid_session"  # as REST answers a request with no credentials
INVALID_REQUEST_ID = "ranger.invalid_request_id"
INVALID_PARAMS = "ranger.invalid_params"
INVALID_TIMEOUT = "ranger.invalid_timeout"
INVALID_KEY = "market.order.invalid_idempotency_key"
INVALID_CLIENT_ID = "market.order.invalid_client_id"


@dataclass(frozen=True, slots=True)
class Trader:
    """The member behind a private connection and whether they may trade."""

    member_id: int
    refusal: str | None  # the code refusing their orders; None: they may trade
    key_id: str | None  # the API key behind the connection: its order-entry budget


async def trader_of(state: Any, user: dict[str, Any], credential: Credential | None) -> Trader:
    """The connection's trader, authorized as REST authorizes ``POST market/orders``
    (the connection itself was authorized for ``GET`` on Ranger's path, by
    ``credential``)."""
    levels: MemberLevels = state.member_levels
    key_id = credential.ref if credential is not None and credential.method == API_KEY else None
    refusal: str | None = None
    if user["state"] != "active":
        refusal = "authz.user_not_active"
    elif int(user["level"]) < levels.trading:
        refusal = GATES["trading"]
    elif not await state.authorizer.permits(str(user["role"]), "POST", ORDERS_PATH):
        refusal = "authz.invalid_permission"
    elif credential is not None and not _scopes_may_place(credential):
        refusal = "authz.insufficient_scope"
    return Trader(member_id_of(user), refusal, key_id)


def _scopes_may_place(credential: Credential) -> bool:
    """An API key needs ``trade``, an OAuth token a scope covering orders; a session may."""
    if credential.method == API_KEY:
        return required_scope("POST", ORDERS_PATH) in (credential.scopes or frozenset())
    if credential.method == OAUTH:
        return oauth_scopes.allows(credential.scopes or frozenset(), "POST", ORDERS_PATH)
    return True


def _order(view: OrderView | Mapping[str, Any]) -> dict[str, Any]:
    return present.order(view).model_dump()


def _errors(exc: BursaError) -> dict[str, Any]:
    return {"errors": list(exc.codes)}


def _validated(model: type[M], params: Mapping[str, Any], context: Any = None) -> M:
    """``params`` as ``model``, or refused with the codes REST answers for the body."""
    try:
        return model.model_validate(params, context=context)
    except ValidationError as exc:
        raise BursaError(Refusal.INVALID, *model_codes(model, exc.errors())) from None


def _order_id(value: object) -> int | None:
    """An order id given as a JSON integer or as digits; None when it is neither."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MOST_ID else None
    if isinstance(value, str) and is_digits(value) and len(value) <= 18:
        return parse_digits(value)
    return None


def _request_id(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return 0 <= value <= MOST_ID
    return isinstance(value, str) and REQUEST_ID.match(value) is not None


@dataclass(frozen=True, slots=True)
class OrderRef:
    """One of the member's orders, named by exactly one of id, UUID or client id."""

    id: int | None = None
    uuid_text: str | None = None
    client_id: str | None = None


def _order_ref(params: Mapping[str, Any]) -> OrderRef:
    named = [name for name in ("id", "uuid", "client_id") if params.get(name) is not None]
    if len(named) != 1:
        raise BursaError(Refusal.INVALID, INVALID_ID)
    name, value = named[0], params[named[0]]
    if name == "client_id":
        if not isinstance(value, str) or not CLIENT_ID_RE.match(value):
            raise BursaError(Refusal.INVALID, INVALID_CLIENT_ID)
        return OrderRef(client_id=value)
    if name == "id":
        found = _order_id(value)
        if found is None:
            raise BursaError(Refusal.INVALID, INVALID_ID)
        return OrderRef(id=found)
    if not isinstance(value, str) or not UUID.match(value):
        raise BursaError(Refusal.INVALID, INVALID_ID)
    return OrderRef(uuid_text=value.lower())


Handler = Callable[["OrderDesk", dict[str, Any], Mapping[str, Any]], Awaitable[Any]]


class OrderDesk:
    """One connection's order entry: its requests in flight and its cancel-on-disconnect
    (the grace period it armed, 0 when disarmed)."""

    def __init__(
        self, app: Any, dead_man: DeadMan, conn: Connection, trader: Trader | None
    ) -> None:
        self.app = app  # its state is read when a request comes (a public one never does)
        self.dead_man = dead_man
        self.conn = conn
        self.trader = trader
        self.grace_s = 0
        self._room = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._keys = itertools.count()  # fresh engine keys: this desk's prefix and a number
        self._prefix = uuid.uuid4().hex

    async def take(self, text: str) -> bool:
        """Start serving ``text`` if it is an order-entry request (False: it is not, and
        the caller answers it); waits while the connection has too many in flight."""
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(message, dict) or message.get("event") not in HANDLERS:
            return False
        await self._room.acquire()
        task = asyncio.create_task(self._serve(message))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: "asyncio.Task[None]") -> None:
        self._tasks.discard(task)
        self._room.release()

    def close(self) -> None:
        """The connection ended: start the cancel-on-disconnect timer if armed. Requests
        in flight go on (the engine commits them); their answers have nowhere to go."""
        trader, port = self.trader, self.port
        if self.grace_s and trader is not None:
            member_id = trader.member_id

            async def cancel() -> None:
                await orders.cancel_all(port, member_id, None, None)

            self.dead_man.schedule(member_id, self.grace_s, cancel)

    async def _serve(self, message: dict[str, Any]) -> None:
        event, rid = message["event"], message.get("id")
        frame: dict[str, Any] = {"event": event, "id": rid if _request_id(rid) else None}
        try:
            if frame["id"] is None:
                raise BursaError(Refusal.INVALID, INVALID_REQUEST_ID)
            if self.trader is None:
                raise BursaError(Refusal.UNAUTHENTICATED, UNAUTHENTICATED)
            if self.trader.refusal is not None:
                raise BursaError(Refusal.FORBIDDEN, self.trader.refusal)
            params = message.get("params", {})
            if not isinstance(params, dict):
                raise BursaError(Refusal.INVALID, INVALID_PARAMS)
            frame["result"] = await HANDLERS[event](self, params, message)
        except BursaError as exc:
            frame["errors"] = exc.codes
        except Exception:
            log.exception("ranger order entry failed on %s", event)
            frame["errors"] = [INTERNAL_ERROR]
        self._answer(encode(frame))

    def _answer(self, text: str) -> None:
        """Send ``text`` with the answers and stream frames of the same loop step: one
        socket write for the requests a batch commits together."""
        if self.conn.stage(text):
            asyncio.get_running_loop().call_soon(self.conn.write_staged)

    @property
    def port(self) -> EngineView:
        runner: EngineView = self.app.state.runner
        return runner

    @property
    def reads(self) -> HotReads:
        reads: HotReads = self.app.state.identity.reads
        return reads

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        factory: async_sessionmaker[AsyncSession] = self.app.state.session_factory
        return factory

    @property
    def member_id(self) -> int:
        assert self.trader is not None
        return self.trader.member_id

    def engine_key(self, kind: str, message: Mapping[str, Any]) -> str:
        """The engine's idempotency key of a write: REST's for the same
        ``Idempotency-Key`` and kind, or a fresh one."""
        given = message.get("idempotency_key")
        if given is None:
            return f"api:{kind}:{self._prefix}{next(self._keys)}"
        if not isinstance(given, str) or not IDEMPOTENCY_KEY.match(given):
            raise BursaError(Refusal.INVALID, INVALID_KEY)
        return f"api:{kind}:{self.member_id}:{given}"

    async def spend(self, cost: int = 1) -> None:
        """Count ``cost`` against the order-entry rate limit (REST's budget), or refuse
        the request with nothing counted."""
        assert self.trader is not None
        quota = await order_entry_quota(self.app, self.member_id, self.trader.key_id, cost)
        if quota is not None and not quota.allowed:
            raise BursaError(Refusal.TOO_MANY, TOO_MANY, retry_after=quota.reset_s)

    def context(self) -> OrderContext:
        return OrderContext(self.port.engine.books)


# ---------------------------------------------------------------------- requests


async def _place(desk: OrderDesk, params: dict[str, Any], message: Mapping[str, Any]) -> Any:
    key = desk.engine_key("order", message)
    body = _validated(NewOrder, params, desk.context())
    await desk.spend()
    return _order(await orders.place(desk.port, desk.reads, desk.member_id, body.ticket(), key))


async def _cancel(desk: OrderDesk, params: dict[str, Any], message: Mapping[str, Any]) -> Any:
    """One open order, named by ``id``, ``uuid`` or ``client_id`` (exactly one)."""
    ref = _order_ref(params)
    await desk.spend()
    if ref.client_id is not None:
        found = await orders.cancel_by_client_id(
            desk.port, desk.reads, desk.member_id, ref.client_id
        )
    else:
        found = await orders.cancel(
            desk.port, desk.reads, desk.member_id, id=ref.id, uuid_text=ref.uuid_text
        )
    return _order(found)


async def _cancel_all(desk: OrderDesk, params: dict[str, Any], message: Mapping[str, Any]) -> Any:
    """The member's open orders (of one market and side, if given), as cancelled."""
    body = _validated(CancelOrders, params)
    await desk.spend()
    if body.market_type != "spot":  # Bursa's markets are all spot: nothing to cancel
        if body.market is not None and body.market.lower() not in desk.port.engine.books:
            raise BursaError(Refusal.INVALID, MARKET_NOT_FOUND)
        return []
    ids = await orders.cancel_all(desk.port, desk.member_id, body.market, body.side)
    async with desk.sessions() as session:
        rows = await history.orders_by_id(session, desk.member_id, ids)
    return [_order(row) for row in rows]


def _cancel_item(item: object) -> orders.CancelRef | BursaError:
    """A bulk's cancellation: ``{"id": …}`` or ``{"client_id": …}``, as REST reads it."""
    refused = BursaError(Refusal.INVALID, engine_errors.INVALID_BULK_ITEM)
    if not isinstance(item, dict) or set(item) - {"id", "client_id"}:
        return refused
    try:
        found = CancelItem.model_validate(item)
    except ValidationError:
        return refused
    if (found.id is None) == (found.client_id is None):
        return refused
    return orders.CancelRef(id=found.id, client_id=found.client_id)


def _ticket(item: object, context: OrderContext) -> orders.OrderTicket | BursaError:
    if not isinstance(item, dict):
        return BursaError(Refusal.INVALID, engine_errors.INVALID_BULK_ITEM)
    try:
        return _validated(NewOrder, item, context).ticket()
    except BursaError as exc:
        return exc


def _merge(asked: list[Any], answered: list[OrderView | BursaError]) -> list[dict[str, Any]]:
    """Answers in request order: this edge's refusals where they were, the service's
    answers for the rest."""
    given = iter(answered)
    merged: list[dict[str, Any]] = []
    for item in asked:
        found = item if isinstance(item, BursaError) else next(given)
        merged.append(_errors(found) if isinstance(found, BursaError) else _order(found))
    return merged


async def _bulk(desk: OrderDesk, params: dict[str, Any], message: Mapping[str, Any]) -> Any:
    """Up to 100 cancellations then up to 100 placements, one engine command: each item
    answered in its place (``cancelled``, ``orders``), a bad one refused alone."""
    key = desk.engine_key("bulk", message)
    body = _validated(BulkRequest, params)
    if not body.orders and not body.cancel:
        raise BursaError(Refusal.INVALID, engine_errors.TOO_MANY_ORDERS)
    refs = [_cancel_item(item) for item in body.cancel]
    context = desk.context()
    tickets = [_ticket(item, context) for item in body.orders]
    await desk.spend(len(refs) + len(tickets))
    answer = await orders.bulk(
        desk.port,
        desk.reads,
        desk.member_id,
        [t for t in tickets if not isinstance(t, BursaError)],
        [r for r in refs if not isinstance(r, BursaError)],
        key,
    )
    return {"cancelled": _merge(refs, answer.cancelled), "orders": _merge(tickets, answer.placed)}


async def _amend(desk: OrderDesk, params: dict[str, Any], message: Mapping[str, Any]) -> Any:
    """A resting order (by ``id``, ``uuid`` or ``client_id``) with a new ``price`` and/or
    remaining ``volume``: the order as it stands after (a new id when replaced)."""
    key = desk.engine_key("amend", message)
    ref = _order_ref(params)
    body = _validated(Amendment, {k: params[k] for k in ("price", "volume") if k in params})
    if body.price is None and body.volume is None:
        raise BursaError(Refusal.INVALID, engine_errors.AMEND_NOTHING)
    await desk.spend()
    found = await orders.amend(
        desk.port,
        desk.reads,
        desk.member_id,
        id=ref.id,
        uuid_text=ref.uuid_text,
        client_id=ref.client_id,
        price=body.price,
        volume=body.volume,
        key=key,
    )
    return _order(found)


async def _oco(desk: OrderDesk, params: dict[str, Any], message: Mapping[str, Any]) -> Any:
    """A one-cancels-the-other pair (REST's ``orders/oco`` body): [limit leg, stop leg]."""
    key = desk.engine_key("oco", message)
    body = _validated(NewOco, params)
    await desk.spend()
    found = await orders.place_oco(desk.port, desk.reads, desk.member_id, body.ticket(), key)
    return [_order(order) for order in found]


async def _cancel_on_disconnect(
    desk: OrderDesk, params: dict[str, Any], message: Mapping[str, Any]
) -> Any:
    """Arm (``timeout`` 1 to 300 seconds) or disarm (0) this connection's switch; either
    claims the member's timers still pending from connections that dropped."""
    timeout = params.get("timeout")
    if not isinstance(timeout, int) or isinstance(timeout, bool):
        raise BursaError(Refusal.INVALID, INVALID_TIMEOUT)
    if not 0 <= timeout <= MOST_GRACE_S:
        raise BursaError(Refusal.INVALID, INVALID_TIMEOUT)
    desk.grace_s = timeout
    return {"timeout": timeout, "claimed": desk.dead_man.claim(desk.member_id)}


HANDLERS: dict[str, Handler] = {
    "order": _place,
    "cancel": _cancel,
    "cancel_all": _cancel_all,
    "bulk": _bulk,
    "amend": _amend,
    "oco": _oco,
    "cancel_on_disconnect": _cancel_on_disconnect,
}
