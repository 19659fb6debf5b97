"""Ranger's websocket endpoints (``/api/v2/ranger/public`` and ``/private``), as Rango
speaks them: streams from the query or from subscribe / unsubscribe messages, ``ping``
answered ``pong``, every frame ``{"<stream>": payload}``.

The private endpoint authenticates the upgrade like any REST request (session cookie, API
key headers or OAuth bearer, through the ``Authorizer``): in OpenDAX the gateway does it
and Rango reads the JWT it adds. A browser sends its cookies on a websocket upgrade from
any page, so an upgrade whose ``Origin`` is another host is refused.

On ``/private`` a member may also enter orders and arm cancel-on-disconnect
(``bursa.api.ranger.order_entry``); their frames may be larger than subscriptions'.
"""

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from starlette.websockets import WebSocketDisconnect

from bursa.api.ranger.hub import Connection, RangerHub, encode
from bursa.api.ranger.order_entry import OrderDesk, Trader, trader_of
from bursa.api.ranger.protocol import direct_writer
from bursa.identity.authz import Authorizer
from bursa.identity.service import Client

PREFIX = "/api/v2/ranger"
MAX_FRAME = 512  # bytes of an inbound frame, as Rango
MAX_MEMBER_FRAME = 64 * 1024  # on /private: a bulk of 100 orders and 100 cancels fits
UNAUTHORIZED = 4001

router = APIRouter()


def streams_of(values: list[str]) -> list[str]:
    """``?stream=a&stream=b,c`` → ``[a, b, c]`` (Rango splits values on commas)."""
    return [s for value in values for s in value.split(",") if s]


def answer(hub: RangerHub, conn: Connection, text: str) -> dict[str, Any]:
    """Rango's answer to a subscribe or unsubscribe message."""
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return {"error": f"Could not parse message: {exc}"}
    if not isinstance(message, dict):
        return {"error": "Could not parse message: not an object"}
    event = message.get("event")
    if event not in ("subscribe", "unsubscribe"):
        return {"error": "Could not parse Type: Invalid event"}
    streams = message.get("streams")
    if not isinstance(streams, list) or not streams:
        return {"error": "No streams provided"}
    if not all(isinstance(s, str) and s for s in streams):
        return {"error": "Could not parse message: streams must be names"}
    if event == "subscribe":
        refused = hub.subscribe(conn, streams)
        if refused is not None:
            return {"error": refused}
    else:
        hub.unsubscribe(conn, streams)
    return {"success": {"message": f"{event}d", "streams": sorted(conn.streams)}}


def _client(ws: WebSocket) -> Client:
    host = ws.client.host if ws.client else "unknown"
    return Client(ip=host, user_agent=ws.headers.get("user-agent", "")[:1000])


def _same_origin(ws: WebSocket) -> bool:
    """No ``Origin`` (not a browser) or one naming the host the upgrade was sent to."""
    origin = ws.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == ws.headers.get("host")


async def _refuse(ws: WebSocket, status: int, error: str) -> None:
    """Answer the upgrade with an HTTP error, or close at once if the server cannot."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(JSONResponse({"errors": [error]}, status))
    else:
        await ws.close(UNAUTHORIZED if status == 401 else 1008, error)


async def _read(ws: WebSocket, hub: RangerHub, conn: Connection, desk: OrderDesk) -> None:
    most = MAX_FRAME if conn.member_id is None else MAX_MEMBER_FRAME
    while True:
        frame = await ws.receive()
        if frame["type"] == "websocket.disconnect":
            return
        text = frame.get("text")
        if text is None:
            text = (frame.get("bytes") or b"").decode("utf-8", "replace")
        if len(text.encode()) > most:
            conn.kick(1009, f"frames are at most {most} bytes")
            return
        if text == "ping":
            conn.send("pong")
        elif not await desk.take(text):
            conn.send(encode(answer(hub, conn, text)))


async def _write(ws: WebSocket, conn: Connection) -> None:
    while True:
        await ws.send_text(await conn.outbox.get())


async def _serve(ws: WebSocket, trader: Trader | None) -> None:
    hub: RangerHub | None = ws.app.state.ranger
    if hub is None:
        await _refuse(ws, 503, "ranger.unavailable")
        return
    conn = hub.connect(_client(ws).ip, trader.member_id if trader is not None else None)
    if conn is None:
        await _refuse(ws, 429, "ranger.too_many_connections")
        return
    desk = OrderDesk(ws.app, hub.dead_man, conn, trader)
    try:
        await ws.accept()
        writer = direct_writer(ws.scope)
        if writer is not None:
            conn.use_direct(writer, hub.limits.buffer_bytes)
        refused = hub.subscribe(conn, streams_of(ws.query_params.getlist("stream")))
        if refused is not None:
            conn.send(encode({"error": refused}))
        tasks = [
            asyncio.create_task(_read(ws, hub, conn, desk)),
            asyncio.create_task(conn.closed.wait()),
        ]
        if writer is None:
            tasks.append(asyncio.create_task(_write(ws, conn)))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, OSError):
                    await task
        if conn.closed.is_set():
            with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
                await ws.close(conn.close_code, conn.close_reason)
    finally:
        desk.close()
        hub.disconnect(conn)


@router.websocket(f"{PREFIX}/public")
@router.websocket(f"{PREFIX}/public/")
async def public(ws: WebSocket) -> None:
    """Public streams; an authenticated member's private streams live on ``/private``."""
    await _serve(ws, None)


@router.websocket(f"{PREFIX}/private")
@router.websocket(f"{PREFIX}/private/")
async def private(ws: WebSocket) -> None:
    """Public streams and the member's own ``order``, ``trade`` and ``balance``."""
    if not _same_origin(ws):
        await _refuse(ws, 403, "ranger.cross_origin")
        return
    authorizer: Authorizer = ws.app.state.authorizer
    decision = await authorizer.decide(
        "GET", ws.url.path, ws.headers, ws.cookies, _client(ws), mint=False
    )
    if decision.status != 200 or decision.user is None:
        status = decision.status if 400 <= decision.status < 500 else 401
        await _refuse(ws, status, (decision.errors or ["authz.invalid_permission"])[0])
        return
    await _serve(ws, await trader_of(ws.app.state, decision.user, decision.credential))
