"""How values look in Event API records (Peatio's ``as_json_for_event_api``): decimals in
plain notation without trailing zeros, times as ISO-8601 to the second in UTC."""

from datetime import UTC, datetime
from decimal import Decimal


def decimal_text(value: Decimal) -> str:
    """``0E-18`` → ``0``, ``1.50`` → ``1.5``, ``1E+2`` → ``100``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
