"""What the Peatio admin API's request bodies share (``bursa.api.bodies`` reads them).

Peatio's admin codes name the record and the field: ``admin.<record>.missing_<name>`` when
a required one is not sent, ``admin.<record>.invalid_<name>`` for anything else wrong with
it (``field_codes``). A null parameter counts as not sent and unknown ones are ignored, as
the admin API always read them; text, whole numbers and amounts are read by the types
below, exactly as before the bodies became models.
"""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bursa.api.bodies import codes
from bursa.engine.core import valid_group
from bursa.engine.specs import ANY
from bursa.plain_input import NotPlain, is_digits, parse_digits, read_amount

CODE = re.compile(r"^[a-z][a-z0-9]{0,9}$")  # currency codes and market parts, Peatio's ≤ 10
MOST_ID = 2**63 - 1  # a BIGINT key
MOST_DIGITS = 30  # of an amount's integer part: far beyond any real one
NUL = "nul"  # the error type of text holding a NUL character (PostgreSQL cannot store it)


def field_codes(record: str, name: str, **by_type: str) -> dict[str, Any]:
    """``json_schema_extra`` of field ``name`` of an admin ``record``: Peatio's
    ``missing_`` and ``invalid_`` codes (``by_type``: codes of particular error types)."""
    return codes(
        f"admin.{record}.invalid_{name}", missing=f"admin.{record}.missing_{name}", **by_type
    )


class AdminBody(BaseModel):
    """A body of the admin API: a null parameter is as if it were not sent, and parameters
    the model does not name are ignored."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _without_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {name: value for name, value in data.items() if value is not None}
        return data


def _refuse(kind: str = "text") -> PydanticCustomError:
    return PydanticCustomError(kind, "invalid value")


def text(
    max_length: int = 255,
    *,
    pattern: re.Pattern[str] | None = None,
    lower: bool = False,
    strip: bool = True,
) -> Callable[[object], str]:
    """A ``BeforeValidator`` reading text of at most ``max_length`` characters, without a
    NUL, stripped (unless not ``strip``) and lower-cased (if ``lower``), that ``pattern``
    matches."""

    def read(value: object) -> str:
        if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
            raise _refuse()
        found = value.strip() if strip else value
        found = found.lower() if lower else found
        if pattern is not None and not pattern.match(found):
            raise _refuse()
        return found

    return read


def required_text(most: int) -> Callable[[object], str]:
    """A ``BeforeValidator`` reading text that is not blank once stripped (blank reads as
    missing) and at most ``most`` characters long then; a NUL is refused as ``NUL``."""

    def read(value: object) -> str:
        if not isinstance(value, str):
            raise _refuse()
        if "\x00" in value:
            raise _refuse(NUL)
        found = value.strip()
        if not found:
            raise PydanticCustomError("missing", "must not be blank")
        if len(found) > most:
            raise _refuse()
        return found

    return read


def _quantity(value: object) -> Decimal:
    try:
        number = read_amount(value)
    except NotPlain:
        raise _refuse("non_decimal") from None
    if number.adjusted() > MOST_DIGITS:
        raise _refuse()
    return number


def _whole(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MOST_ID:
        return value
    if isinstance(value, str) and is_digits(value) and len(value) <= 18:
        return parse_digits(value)
    raise PydanticCustomError("int_parsing", "must be a whole number")


def _group_or_any(group: str) -> str:
    if group != ANY and not valid_group(group):
        raise _refuse()
    return group


Quantity = Annotated[Decimal, BeforeValidator(_quantity)]
"""A decimal in plain notation, not negative, exact (bound it with ``Field``)."""
Whole = Annotated[int, BeforeValidator(_whole)]
"""A whole number (JSON integer or ASCII digits) from 0 to a BIGINT's most; anything else
fails as ``int_parsing`` (a field's ``non_integer`` code)."""
GroupOrAny = Annotated[str, BeforeValidator(text(32, lower=True)), AfterValidator(_group_or_any)]
"""A member group's name (1–32 lower-case letters, digits, ``_`` or ``-``), or ``any``."""
