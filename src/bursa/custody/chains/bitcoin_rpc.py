"""A Bitcoin node's JSON-RPC (Core's dialect, which bcoin speaks too) and bcoin's REST
coin index, over httpx.

Numbers are parsed as ``Decimal`` (the node prints BTC amounts as JSON floats). The
node URL's credentials go into an ``Authorization`` header and nowhere else: errors name
the node by host and port only.
"""

import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from bursa.custody.chain import ChainError

# Core's and bcoin's answers when a transaction is not known (RPC_INVALID_ADDRESS_OR_KEY).
NOT_FOUND_CODE = -5


class NodeError(ChainError):
    """The node answered a call with an error (``code`` is the node's)."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.code = code


class BitcoinRPC:
    def __init__(self, server: str, *, timeout: float) -> None:
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the Bitcoin node URL must look like http://user:key@host:port")
        self.where = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        self._url = urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
        auth = None
        if parts.username is not None or parts.password is not None:
            auth = httpx.BasicAuth(parts.username or "", parts.password or "")
        self._http = httpx.AsyncClient(
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            follow_redirects=False,
        )
        self._ids = 0

    async def call(self, method: str, *params: Any) -> Any:
        self._ids += 1
        body = {"jsonrpc": "1.0", "id": self._ids, "method": method, "params": list(params)}
        answer = self._decode(method, await self._send("POST", self._url, method, json=body))
        if not isinstance(answer, dict):
            raise ChainError(f"{method} on the node at {self.where}: unexpected answer")
        error = answer.get("error")
        if error:
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else error
            raise NodeError(f"{method} on the node at {self.where}: {message} (code {code})", code)
        return answer.get("result")

    async def rest(self, path: str) -> Any:
        """GET a REST path of the node (bcoin's, such as ``/coin/address/<address>``)."""
        url = self._url.rstrip("/") + quote(path)
        response = await self._send("GET", url, path)
        answer = self._decode(path, response)
        if response.status_code >= 400:
            error = answer.get("error") if isinstance(answer, dict) else None
            message = error.get("message") if isinstance(error, dict) else answer
            raise NodeError(
                f"GET {path} on the node at {self.where}: {message} "
                f"(HTTP {response.status_code}; the node must be bcoin with --index-address)",
                None,
            )
        return answer

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, verb: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(verb, url, **kwargs)
        except httpx.TimeoutException:
            raise ChainError(
                f"{what}: the node at {self.where} did not answer in time; is it overloaded?"
            ) from None
        except httpx.HTTPError as error:
            raise ChainError(
                f"{what}: cannot reach the node at {self.where} ({type(error).__name__}); "
                "is it running, and is the blockchain's server URL right?"
            ) from None
        if response.status_code in (401, 403):
            raise ChainError(
                f"{what}: the node at {self.where} refused the credentials "
                f"(HTTP {response.status_code}); check the API key in the server URL"
            )
        return response

    def _decode(self, what: str, response: httpx.Response) -> Any:
        try:
            return json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise ChainError(
                f"{what}: the node at {self.where} answered HTTP {response.status_code} "
                "without JSON; is this a Bitcoin node's RPC port?"
            ) from None
