"""The API bench's HTTP client: one keep-alive HTTP/1.1 connection per simulated member,
written straight onto an asyncio stream.

httpx spent more CPU per request than the server it was measuring (about 3-6 ms against
2-3 ms), and the load process shares the machine with the server, so a heavy client
lowers the figures it reports. This client sends only what the bench needs (POST, JSON
body, a few headers) and reads only what the server answers (a status line, headers,
a ``Content-Length`` body).
"""

import asyncio
import contextlib

READ_LIMIT = 1 << 20


class WireError(Exception):
    """No complete answer (connection closed, malformed answer, timeout)."""


class Connection:
    def __init__(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(
        self, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """The status and body of ``POST path``; reconnects once if the kept-alive
        connection turned out closed."""
        request = self._request(path, body or b"", headers)
        try:
            async with asyncio.timeout(self.timeout_s):
                try:
                    return await self._exchange(request)
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        raise
                    await self.close()  # closed while idle, before reading the request
                    return await self._exchange(request)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            await self.close()
            raise WireError(str(exc) or type(exc).__name__) from exc

    def _request(self, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=READ_LIMIT
            )
        reader, writer = self._reader, self._writer
        assert reader is not None
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, closing = 0, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                closing = True
        answer = await reader.readexactly(length) if length else b""
        if closing:
            await self.close()
        return status, answer

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
