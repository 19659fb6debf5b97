"""Peatio's ``otp`` parameter (withdrawals, internal transfers): an integer to Peatio, so
``12345`` names the code ``012345``.

Read in plain ASCII notation only (``bursa.plain_input``): a JSON integer, or a string of at
most six ASCII digits. Anything else — a sign, a space, an underscore, another script's
digits such as ``١٢٣٤٥٦`` — is ``{area}.non_integer_otp`` and counts as a wrong second factor
(``Identity.unreadable_code``), so it cannot be used to guess around the lock-out.
"""

from typing import Any

from fastapi import Request

from bursa.api.deps import client_of
from bursa.api.errors import ApiError
from bursa.identity.service import Identity
from bursa.plain_input import is_digits

CODE_DIGITS = 6


async def read_otp(request: Request, user_id: int, value: Any, area: str) -> str:
    """The six-digit code ``value`` names, or ``{area}.missing_otp`` /
    ``{area}.non_integer_otp`` (422)."""
    if value is None or value == "":
        raise ApiError(422, f"{area}.missing_otp")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**CODE_DIGITS:
        return str(value).zfill(CODE_DIGITS)
    if isinstance(value, str) and is_digits(value) and len(value) <= CODE_DIGITS:
        return value.zfill(CODE_DIGITS)
    identity: Identity = request.app.state.identity
    await identity.unreadable_code(user_id, client_of(request), area)
    raise ApiError(422, f"{area}.non_integer_otp")
