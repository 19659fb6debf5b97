"""AppLogic's client of Peatio's Management API: each request a jwt-multisig envelope
signed with AppLogic's key (``iss: applogic``, one minute of life, a fresh ``jti``)."""

import time
import uuid
from typing import Any

import httpx

from bursa.signing import multisig

LIFETIME_S = 60


class ManagementError(Exception):
    """Peatio answered with an error (``status``, its ``message``), or could not be reached
    (``status`` 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class PeatioManagement:
    def __init__(self, base_url: str, key: multisig.SignKey, *, timeout_s: float = 10.0) -> None:
        self._key = key
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", timeout=timeout_s)

    def envelope(self, data: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iat": now,
            "exp": now + LIFETIME_S,
            "jti": str(uuid.uuid4()),
            "iss": "applogic",
            "data": data,
        }
        return multisig.sign(claims, self._key)

    async def call(self, method: str, path: str, data: dict[str, Any]) -> Any:
        try:
            answer = await self._http.request(method, path, json=self.envelope(data))
        except httpx.HTTPError as exc:
            raise ManagementError(0, type(exc).__name__) from exc
        if answer.status_code >= 400:
            try:
                message = str(answer.json().get("error", answer.text))
            except ValueError:
                message = answer.text[:200]
            raise ManagementError(answer.status_code, message)
        return answer.json()

    async def withdraw_action(self, tid: str, action: str) -> dict[str, Any]:
        """``PUT withdraws/action``: ``process`` or ``cancel``; Peatio answers a repeated
        action with the withdrawal as it stands, so a retry is safe."""
        found: dict[str, Any] = await self.call(
            "PUT", "withdraws/action", {"tid": tid, "action": action}
        )
        return found

    async def close(self) -> None:
        await self._http.aclose()
