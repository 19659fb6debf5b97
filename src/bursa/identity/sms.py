"""Sending SMS: Twilio's Messages API (or a Twilio-compatible gateway) in production,
files on disk on the embedded default (one machine). No sender ever makes a code
unnecessary: the code must still be typed back, and no code ever reaches the log.

A sender either hands the message over or raises ``SmsError``; the error says what went
wrong in words an operator can act on, never the message text, the code or credentials.
"""

import asyncio
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from bursa.plain_input import is_digits, parse_digits

log = logging.getLogger(__name__)

TWILIO_URL = "https://api.twilio.com"
# Twilio's answers that mean the number itself is wrong (not the provider or our account):
# 21211 invalid 'To' number, 21614 not a mobile number.
BAD_NUMBER_CODES = frozenset({21211, 21614})


class SmsError(Exception):
    """Nothing was sent. ``bad_number``: the provider refused the number itself, so the
    member, not the operator, has something to fix."""

    def __init__(self, reason: str, *, bad_number: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bad_number = bad_number


class SmsSender(Protocol):
    async def send(self, number: str, text: str) -> None:
        """Send ``text`` to ``number`` (international digits, no ``+``) or raise SmsError."""
        ...


class FileSmsSender:
    """The embedded default only: each message, code included, is a file in ``path``
    that only its owner reads; the log says where, not what."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, number: str, text: str) -> None:
        saved = await asyncio.to_thread(self._save, number, text)
        log.warning("SMS to +%s (no SMS provider, embedded default) saved as %s", number, saved)

    def _save(self, number: str, text: str) -> Path:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        moment = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        saved = self.path / f"{moment}-{uuid.uuid4().hex[:8]}.txt"
        descriptor = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(f"To: +{number}\n\n{text}\n")
        return saved


class TwilioSmsSender:
    """``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` with HTTP basic auth.

    One short-lived connection per message: SMS are rare next to everything else, and no
    client has to be closed when the process stops."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        *,
        base_url: str = TWILIO_URL,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self.sender = sender
        self.timeout = httpx.Timeout(timeout_s)

    async def send(self, number: str, text: str) -> None:
        form = {"To": "+" + number, "From": self.sender, "Body": text}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as http:
                answer = await http.post(self.url, data=form, auth=self._auth)
        except httpx.TimeoutException:
            raise SmsError("the SMS provider did not answer in time") from None
        except httpx.HTTPError as exc:
            raise SmsError(f"the SMS provider is unreachable ({type(exc).__name__})") from None
        if answer.status_code in (200, 201) and _field(answer, "sid"):
            return
        code = _field(answer, "code")
        text = str(code) if isinstance(code, int | str) else ""
        numeric = parse_digits(text) if is_digits(text) and len(text) <= 9 else None
        raise SmsError(
            f"the SMS provider refused the message: HTTP {answer.status_code}"
            + (f", error {numeric}" if numeric is not None else ""),
            bad_number=numeric in BAD_NUMBER_CODES,
        )


def _field(answer: httpx.Response, name: str) -> object:
    """A top-level field of a JSON answer, or None for anything else (HTML error pages)."""
    try:
        body = answer.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None
