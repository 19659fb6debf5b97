"""Request parsing shared by the member's Peatio endpoints: bodies, decimals, times, pages.

Peatio takes order parameters as JSON or as a form; either way amounts must stay exact, so
JSON numbers are read as ``Decimal`` from their text (never through ``float``; exponent form
is refused as any text not in plain notation is: ``bursa.plain_input``), and each bad
parameter answers its own Peatio code, all of them at once.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request, Response

from bursa.api.errors import ApiError
from bursa.plain_input import NotPlain, json_number, read_amount

MAX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z: beyond it a datetime cannot follow


def paginate(response: Response, total: int, page: int, limit: int) -> None:
    response.headers["Total"] = str(total)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)


def moment(seconds: int | None) -> datetime | None:
    """A Unix time (seconds) as a UTC datetime."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


async def read_body(request: Request) -> dict[str, Any]:
    """The request's parameters: a JSON object (numbers with a fraction as ``Decimal``, in
    exponent form as NaN), a form, or none."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_float=json_number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "server.request.invalid_json") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "server.request.invalid_json")
    return body


def positive_decimal(value: Any) -> Decimal | str:
    """``value`` as a positive ``Decimal`` in plain notation, or what is wrong with it:
    Peatio's ``non_decimal`` (anything but ``-?digits[.digits]``) or ``non_positive``."""
    try:
        number = read_amount(value, signed=True)
    except NotPlain:
        return "non_decimal"
    return number if number > 0 else "non_positive"


def flag(value: Any) -> bool | None:
    """A boolean parameter (JSON true/false, or a form's "true"/"false"); None if neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return None
