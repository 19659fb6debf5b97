"""How decimals and times are written in answers and event records, in one place.

``decimal_text``: plain notation, no exponent, no trailing zeros (Peatio's JSON).
``iso``: ISO-8601 in UTC to the second, as Peatio writes times (``…T03:04:05+00:00``).
``iso_micros``: the same with the stored microseconds, as Barong's event records have them.
Two functions rather than one, so that no answer changes.
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


def iso_micros(moment: datetime) -> str:
    """``2026-01-02T03:04:05.123456+00:00``: UTC with the stored microseconds, as Barong
    writes its records' times (the fraction is left out when it is zero)."""
    return moment.astimezone(UTC).isoformat()
