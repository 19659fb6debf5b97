"""What every Peatio Management API endpoint (``/api/v2/peatio/management``) shares: the
verified ``data`` of a scope's request read into a pydantic model, Grape's answers
(``{"error": message}``: 422 for bad parameters, 404 ``Couldn't find record.``), amounts
that stay exact, and the engine's refusals.

The signed payload is JSON parsed without ``Decimal``: an amount sent as a JSON number
would have passed through ``float``, so amounts must be decimal strings (or integers).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner
from bursa.api.errors import status_of
from bursa.api.management_auth import ENVELOPE_BODY, ManagementRefused
from bursa.engine.commands import Command
from bursa.engine.runner import EngineStopped
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError
from bursa.identity import directory
from bursa.plain_input import NotPlain, PlainInt, read_amount
from bursa.trading import admin_queries as queries
from bursa.trading.audit import Actor

PREFIX = "/api/v2/peatio/management"
TAG = "peatio management"
NOT_FOUND = "Couldn't find record."
ENGINE_UNAVAILABLE = "The engine is unavailable, try again."
MOST_DIGITS = 30  # of an amount's integer part: far beyond any real one
MOST_LIMIT = 1000
Model = TypeVar("Model", bound=BaseModel)


class GrapeError(BaseModel):
    """Grape's error answer."""

    error: str


RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": GrapeError} for code in (400, 401, 404, 405, 409, 422, 503)
}
ENVELOPE = {"requestBody": ENVELOPE_BODY}


def route(summary: str, params: type[BaseModel] | None = None) -> dict[str, Any]:
    """``APIRouter`` route keywords: summary, Grape's error answers, the envelope and the
    parameters its ``data`` takes."""
    extra: dict[str, Any] = dict(ENVELOPE)
    description = "Signed management request."
    if params is not None:
        fields = ", ".join(
            f"`{name}`" + ("*" if info.is_required() else "")
            for name, info in params.model_fields.items()
        )
        description += f" `data`: {fields} (* required)."
    return {
        "summary": summary,
        "description": description,
        "responses": RESPONSES,
        "openapi_extra": extra,
        "response_model_exclude_none": True,
    }


def refuse(status: int, message: str) -> ManagementRefused:
    return ManagementRefused(status, message)


def parse(model: type[Model], data: dict[str, Any]) -> Model:
    """``data`` as ``model``; the first problem answers 422 as Grape words it."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "data"
        message = first["msg"].removeprefix("Value error, ")
        raise refuse(422, f"{where} {message}") from exc


class Params(BaseModel):
    """Grape ignored unknown parameters; so does Bursa."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Paged(Params):
    page: PlainInt = Field(default=1, ge=1, le=1_000_000)
    limit: PlainInt = Field(default=100, ge=1, le=MOST_LIMIT)


def _decimal(value: Any) -> Decimal:
    """A decimal string in plain notation (``bursa.plain_input``) or a JSON integer."""
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


def units(amount: Decimal, precision: int, name: str = "amount") -> int:
    """``amount`` in the currency's subunits; more decimals than it has → 422."""
    try:
        return to_units(amount, precision)
    except OverPrecise:
        raise refuse(422, f"{name} has more than {precision} decimal places") from None


async def submit(runner: Runner, command: Command) -> dict[str, Any]:
    """The engine's committed result; 503 when the engine is not running."""
    try:
        return await runner.submit(command)
    except EngineStopped as exc:
        raise refuse(503, ENGINE_UNAVAILABLE) from exc


async def currency_of(session: AsyncSession, code: str) -> Any:
    """The currency (id, type, precision) by code in any case; unknown → 422."""
    found = await queries.currency(session, code.lower())
    if found is None:
        raise refuse(422, "currency does not have a valid value")
    return found


async def member_of(session: AsyncSession, uid: str) -> int:
    """The member id of ``uid``; nobody → 404, as Peatio's ``find_by!``."""
    found = await directory.member_id(session, uid=uid)
    if found is None:
        raise refuse(404, NOT_FOUND)
    return found


def moment(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


Seconds = Annotated[PlainInt, Field(ge=0, le=253_402_300_799)]  # Unix time, up to 9999


@contextmanager
def as_grape() -> Iterator[None]:
    """The admin API's refusals (shared code paths) answered in Grape's format: the
    codes joined as the message, a missing record as ``Couldn't find record.``."""
    try:
        yield
    except BursaError as exc:
        if status_of(exc) == 404:
            raise refuse(404, NOT_FOUND) from exc
        raise refuse(status_of(exc), ", ".join(exc.codes)) from exc


def actor_of(request: Request) -> Actor:
    """Who the audit log names for a management change: the request's signers."""
    signers = ",".join(sorted(getattr(request.state, "management_signers", ())))
    client = request.client.host if request.client else "-"
    return Actor(uid=f"mgmt:{signers}"[:32], role="management", ip=client[:45])
