"""Sending SMS. An interface, so that an operator plugs in a provider; the embedded default
writes the message to the log (one machine). No sender ever makes a code unnecessary: the
code must still be typed back."""

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    async def send(self, number: str, text: str) -> None: ...


class LogSmsSender:
    async def send(self, number: str, text: str) -> None:
        log.warning("SMS to %s (no SMS provider configured): %s", number, text)
