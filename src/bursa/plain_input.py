"""Numbers and codes from outside, in plain ASCII notation only.

Python's ``int()`` and ``Decimal()`` also read Unicode digits (``²``, ``١``), underscores
(``1_0`` is ten) and surrounding spaces, and pydantic's ``int`` does the same with spaces,
underscores and signs. Every edge (HTTP, websocket, Management API, the CLI's text options)
reads ids, nonces, codes, counts and amounts through this module instead, so a value means to
Bursa exactly what it shows to the person who typed it, and a strange one is a clear refusal
rather than a crash.
"""

import re
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_DIGITS = re.compile(r"[0-9]+")
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_SIGNED_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
MOST_DIGITS = 4000  # int() refuses longer text (CPython's limit is 4300); nothing real is near


class NotPlain(ValueError):
    """The text is not in the plain notation asked for. It never carries the text: that
    may be a code or a nonce, and an exception's message can reach a log."""


def is_digits(text: str) -> bool:
    """``text`` is one or more ASCII digits and nothing else."""
    return _DIGITS.fullmatch(text) is not None


def is_amount(text: str, *, signed: bool = False) -> bool:
    """``text`` is ``digits`` or ``digits.digits`` (with one leading ``-`` if ``signed``)."""
    return (_SIGNED_AMOUNT if signed else _AMOUNT).fullmatch(text) is not None


def parse_digits(text: str) -> int:
    """An id, nonce or code: ASCII digits only (no sign, space, underscore or other script)."""
    if not is_digits(text) or len(text) > MOST_DIGITS:
        raise NotPlain("not ASCII digits")
    return int(text)


def parse_amount(text: str, *, signed: bool = False) -> Decimal:
    """An amount in plain decimal notation: no exponent, sign (unless ``signed``), space,
    underscore or non-ASCII digit."""
    if not is_amount(text, signed=signed):
        raise NotPlain("not a plain decimal")
    return Decimal(text)


def read_amount(value: object, *, signed: bool = False) -> Decimal:
    """An amount from a parsed request body: text as ``parse_amount`` reads it, a JSON
    integer, or a finite ``Decimal`` (a JSON number; ``json_number`` read its text).
    Booleans, floats, other types and negatives (unless ``signed``) are refused."""
    if isinstance(value, str):
        return parse_amount(value, signed=signed)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise NotPlain("not an amount")
    number = Decimal(value)
    if not number.is_finite() or (number < 0 and not signed):
        raise NotPlain("not a plain decimal")
    return number


def json_number(text: str) -> Decimal:
    """``parse_float`` for ``json.loads``: a JSON number with a fraction, exactly as typed.
    One in exponent form (``1e5``) is not plain notation: it reads as NaN, which
    ``read_amount`` (and every amount check) refuses with the field's own code."""
    return Decimal(text) if is_amount(text, signed=True) else Decimal("NaN")


def _plain_integer(value: object) -> object:
    """Before pydantic reads an ``int``: text must be ASCII digits (a leading ``-`` is let
    through so that the field's range check answers it), and a JSON value an integer."""
    if isinstance(value, str):
        if not is_digits(value.removeprefix("-")) or len(value) > MOST_DIGITS:
            raise PydanticCustomError("int_parsing", "Input should be a valid integer")
    elif isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


PlainInt = Annotated[int, BeforeValidator(_plain_integer)]
"""An ``int`` for FastAPI parameters and pydantic models that reads only plain digits."""
