"""Reading the Peatio admin API's parameters (JSON or form), each bad one reported with its
own code (``admin.<record>.missing_<name>`` or ``admin.<record>.invalid_<name>``), all at
once, before anything changes."""

import re
from decimal import Decimal
from typing import Any

from bursa.api.errors import ApiError
from bursa.plain_input import NotPlain, is_digits, parse_digits, read_amount

CODE = re.compile(r"^[a-z][a-z0-9]{0,9}$")  # currency codes and market parts, Peatio's ≤ 10


class Params:
    """The parameters of one admin request, checked one by one; ``done`` raises the errors."""

    def __init__(self, body: dict[str, Any], record: str) -> None:
        self.body = body
        self.record = record
        self.errors: list[str] = []

    def _fail(self, kind: str, name: str) -> None:
        code = f"admin.{self.record}.{kind}_{name}"
        if code not in self.errors:
            self.errors.append(code)

    def has(self, name: str) -> bool:
        return self.body.get(name) is not None

    def _raw(self, name: str, required: bool) -> Any:
        value = self.body.get(name)
        if value is None and required:
            self._fail("missing", name)
        return value

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        pattern: re.Pattern[str] | None = None,
        max_length: int = 255,
        lower: bool = False,
    ) -> str | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
            self._fail("invalid", name)
            return None
        value = value.strip().lower() if lower else value.strip()
        if pattern is not None and not pattern.match(value):
            self._fail("invalid", name)
            return None
        return value

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or value not in options:
            self._fail("invalid", name)
            return None
        return value

    def integer(self, name: str, *, low: int, high: int, required: bool = False) -> int | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if isinstance(value, str) and is_digits(value) and len(value) <= 19:
            value = parse_digits(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self._fail("invalid", name)
            return None
        return value

    def decimal(
        self,
        name: str,
        *,
        required: bool = False,
        positive: bool = False,
        most: Decimal | None = None,
    ) -> Decimal | None:
        """A non-negative (or positive) exact decimal, at most ``most``."""
        value = self._raw(name, required)
        if value is None:
            return None
        try:
            number: Decimal | None = read_amount(value)
        except NotPlain:
            number = None
        if (
            number is None
            or (positive and number == 0)
            or (most is not None and number > most)
            or number.adjusted() > 30
        ):
            self._fail("invalid", name)
            return None
        return number

    def flag(self, name: str) -> bool | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        self._fail("invalid", name)
        return None

    def done(self) -> None:
        if self.errors:
            raise ApiError(422, *self.errors)
