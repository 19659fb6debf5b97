"""uvicorn's sans-io websocket protocol with one addition for Ranger: a direct writer.

Through ASGI every frame is one awaited ``send`` (Starlette's wrappers, a task switch for
the connection's writer, one socket write). Ranger sends the same few frames of a batch to
every subscriber, and on a loopback or LAN the socket write dominates. This protocol puts
a ``DirectWriter`` in the scope's extensions (``bursa.websocket.direct``) once the
handshake is accepted: it frames several texts and writes them with one ``write`` call,
synchronously, from the hub's dispatch. The writer never waits for the client: what the
socket does not take stays in the transport's buffer, whose size the hub watches to drop a
client that falls behind. Every other message (accept, close, denial) still goes through
ASGI, and an app served by another server simply finds no such extension.

``bursa up``, ``bursa bench ws`` and the websocket tests serve with ``PROTOCOL``.
"""

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

DIRECT = "bursa.websocket.direct"


class DirectWriter:
    """Frames and writes texts on one accepted websocket connection."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: "DirectWritesProtocol") -> None:
        self._protocol = protocol

    @property
    def open(self) -> bool:
        p = self._protocol
        return p.handshake_complete and not (p.disconnected or p.close_sent)

    def write(self, texts: list[str]) -> bool:
        """Send ``texts`` as text frames in one socket write; False once the connection
        is closing or closed (nothing is written then)."""
        p = self._protocol
        if not self.open or p.transport.is_closing():
            return False
        try:
            for text in texts:
                p.conn.send_text(text.encode())
        except InvalidState:
            return False
        p.transport.write(b"".join(p.conn.data_to_send()))
        return True

    def buffered(self) -> int:
        """Bytes written but not yet taken by the client's socket."""
        return self._protocol.transport.get_write_buffer_size()


class DirectWritesProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-io protocol; an accepted upgrade's scope carries a ``DirectWriter``."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # the application task reads it on its first step
            scope["extensions"][DIRECT] = {"writer": DirectWriter(self)}


PROTOCOL = DirectWritesProtocol


def direct_writer(scope: Any) -> DirectWriter | None:
    """The scope's direct writer, if the server offers one."""
    offered = (scope.get("extensions") or {}).get(DIRECT)
    if not offered:
        return None
    writer = offered.get("writer")
    return writer if isinstance(writer, DirectWriter) else None
