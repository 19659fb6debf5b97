"""How decimals and times are written in answers and event records, in one place.

``decimal_text``: plain notation, no exponent, no trailing zeros (Peatio's JSON).
``iso``: ISO-8601 in UTC to the second (``…T03:04:05+00:00``): every time Bursa answers,
Peatio's and Barong's alike, and its event records.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import overload


@overload
def decimal_text(value: Decimal) -> str: ...
@overload
def decimal_text(value: None) -> None: ...
@overload
def decimal_text(value: Decimal | None) -> str | None: ...
def decimal_text(value: Decimal | None) -> str | None:
    """``0E-18`` → ``0``, ``-0`` → ``0``, ``1.50`` → ``1.5``, ``1E+2`` → ``100``."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    """``2026-01-02T03:04:05+00:00``: UTC, whole seconds (Peatio's times)."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
