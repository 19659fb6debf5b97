"""What every Peatio Management API route (``/api/v2/peatio/management``) shares: its
router (``bursa.api.management``: Grape's refusals, the envelope documented), its payload
read as a pydantic model with Peatio's wording of the first problem, and the field types.

The signed payload is JSON parsed without ``Decimal``: an amount sent as a JSON number
would have passed through ``float``, so amounts must be decimal strings (or integers),
read by ``bursa.plain_input``.
"""

from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from bursa.api.management import (
    NOT_FOUND,
    Nothing,
    actor_of,
    first_problem,
    management_router,
    payload,
)
from bursa.plain_input import NotPlain, PlainInt, read_amount

PREFIX = "/api/v2/peatio/management"
TAG = "peatio management"
ENGINE_UNAVAILABLE = "The engine is unavailable, try again."
MOST_DIGITS = 30  # of an amount's integer part: far beyond any real one
MOST_LIMIT = 1000
Model = TypeVar("Model", bound=BaseModel)

__all__ = ["NOT_FOUND", "Nothing", "actor_of"]


def peatio_router(prefix: str = PREFIX, *, omit_none: bool = True) -> APIRouter:
    """A Peatio management router: its entities leave null fields out (``omit_none``)."""
    return management_router(prefix, TAG, omit_none=omit_none)


def signed(scope: str, model: type[Model]) -> Any:
    """The route's dependency: a ``scope`` request's verified ``data`` as ``model``
    (422 with Peatio's words for the first problem)."""
    return payload("peatio", scope, model, first_problem)


class Params(BaseModel):
    """Grape ignored unknown parameters; so does Bursa."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Paged(Params):
    page: PlainInt = Field(default=1, ge=1, le=1_000_000)
    limit: PlainInt = Field(default=100, ge=1, le=MOST_LIMIT)


def _decimal(value: Any) -> Decimal:
    """A positive decimal string in plain notation (``bursa.plain_input``) or a JSON
    integer; never a JSON float (it went through ``float``)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("must be a decimal string")
    try:
        number = read_amount(value, signed=True)
    except NotPlain:
        raise ValueError("must be a decimal string") from None
    if number.adjusted() >= MOST_DIGITS:
        raise ValueError("must be a decimal string")
    if number <= 0:
        raise ValueError("must be positive")
    return number


Amount = Annotated[Decimal, PlainValidator(_decimal, json_schema_input_type=str)]
Code = Annotated[str, Field(min_length=1, max_length=10, pattern=r"^[A-Za-z0-9_]+$")]
Uid = Annotated[str, Field(min_length=1, max_length=32)]
Seconds = Annotated[PlainInt, Field(ge=0, le=253_402_300_799)]  # Unix time, up to 9999
