"""Numbers from outside: the shared parser reads plain ASCII notation and nothing else, and
never fails with anything but its own refusal (which every edge turns into a 422)."""

import json
import re
import string
from decimal import Decimal

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from bursa.identity import totp
from bursa.plain_input import (
    NotPlain,
    PlainInt,
    is_amount,
    is_digits,
    json_number,
    parse_amount,
    parse_digits,
    read_amount,
)

# What Python's int() / Decimal() or pydantic's int would read, or crash on (str.isdigit()
# is True for "²", which int() refuses). The HTTP tests and the fuzzing reuse these.
STRANGE_DIGITS = (
    "²",
    "1²",
    "١",
    "١٢٣٤٥٦",
    "１",
    " 1 ",
    "1 ",
    "\t1",
    "1_0",
    "+1",
    "0x1",
    "1e3",
    "1.0",
)
STRANGE_AMOUNTS = (" 1 ", "1_0", "١", "0_01", "1e5", "1E-2", "+1", ".5", "1.", "²", "NaN", "1,5")
PLAIN_DIGITS = re.compile(r"[0-9]+")
PLAIN_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
INT = TypeAdapter(PlainInt)

# Text drawn mostly from what looks like a number, with the odd character anything may be.
numberish = st.text(
    st.sampled_from([*string.digits, ".", "-", "+", "_", " ", "e", "²", "١", "１", "\u00a0"])
    | st.characters(),
    max_size=12,
)


@pytest.mark.parametrize("text", STRANGE_DIGITS)
def test_strange_digits_are_refused(text: str) -> None:
    assert not is_digits(text)
    with pytest.raises(NotPlain):
        parse_digits(text)
    with pytest.raises(ValidationError):
        INT.validate_python(text)


@pytest.mark.parametrize("text", STRANGE_AMOUNTS)
def test_strange_amounts_are_refused(text: str) -> None:
    for signed in (False, True):
        assert not is_amount(text, signed=signed)
        with pytest.raises(NotPlain):
            parse_amount(text, signed=signed)
        with pytest.raises(NotPlain):
            read_amount(text, signed=signed)


@given(numberish)
def test_digits_are_ascii_digits_only(text: str) -> None:
    try:
        number = parse_digits(text)
    except NotPlain:
        assert PLAIN_DIGITS.fullmatch(text) is None or len(text) > 4000
        return
    assert PLAIN_DIGITS.fullmatch(text)
    assert number == int(text) and str(number) == text.lstrip("0").rjust(1, "0")


@given(st.integers(min_value=0, max_value=10**40))
def test_every_whole_number_reads_back(number: int) -> None:
    assert parse_digits(str(number)) == number
    assert INT.validate_python(str(number)) == number
    assert INT.validate_python(-number) == -number  # JSON integers pass as they are


@given(numberish)
def test_amounts_are_plain_decimals_only(text: str) -> None:
    try:
        number = parse_amount(text, signed=True)
    except NotPlain:
        assert PLAIN_AMOUNT.fullmatch(text) is None
        return
    assert PLAIN_AMOUNT.fullmatch(text)
    assert number == Decimal(text)
    if text.startswith("-"):
        with pytest.raises(NotPlain):
            parse_amount(text)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_every_decimal_in_plain_notation_reads_back(number: Decimal) -> None:
    text = format(number, "f")
    assert parse_amount(text, signed=True) == number
    assert read_amount(text, signed=True) == number


@given(numberish)
def test_pydantic_int_reads_what_the_parser_reads(text: str) -> None:
    """FastAPI parameters and pydantic models typed ``PlainInt`` take ASCII digits (and a
    leading ``-``, left to the field's range), never spaces, underscores or other scripts."""
    if is_digits(text.removeprefix("-")):
        assert INT.validate_python(text) == int(text)
        return
    with pytest.raises(ValidationError) as refused:
        INT.validate_python(text)
    assert refused.value.errors()[0]["type"] == "int_parsing"  # the route's non-integer code


@pytest.mark.parametrize("value", [True, False, 1.0, 1.5, None, [1], {"a": 1}])
def test_only_integers_and_text_are_whole_numbers(value: object) -> None:
    with pytest.raises(ValidationError):
        INT.validate_python(value)


@pytest.mark.parametrize(
    "value", [True, 1.5, Decimal("NaN"), Decimal("Infinity"), Decimal(-1), -1, None, [1]]
)
def test_read_amount_refuses_what_is_not_an_amount(value: object) -> None:
    with pytest.raises(NotPlain):
        read_amount(value)


def test_json_numbers_keep_their_text_and_exponent_form_is_refused() -> None:
    body = json.loads(
        '{"a": 0.1, "b": -2.50, "c": 1e5, "d": 1.5E-3, "e": 7}', parse_float=json_number
    )
    assert read_amount(body["a"]) == Decimal("0.1")
    assert str(body["b"]) == "-2.50" and read_amount(body["b"], signed=True) == Decimal("-2.5")
    assert read_amount(body["e"]) == 7
    for name in ("c", "d"):
        with pytest.raises(NotPlain):
            read_amount(body[name], signed=True)


@given(numberish)
def test_a_totp_code_is_six_ascii_digits_and_never_a_crash(code: str) -> None:
    """Identity's TOTP check (another part of the issue) refuses strange codes quietly."""
    secret = pyotp.random_base32()
    found = totp.matching_step(secret, code, None)
    assert found is None or (len(code) == 6 and is_digits(code))


@pytest.mark.parametrize("code", [*STRANGE_DIGITS, "12345²", "１２３４５６"])
def test_strange_totp_codes_match_no_step(code: str) -> None:
    assert totp.matching_step(pyotp.random_base32(), code, None) is None
