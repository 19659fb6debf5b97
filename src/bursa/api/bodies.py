"""Request bodies: one pydantic model per write, however the client sends it.

Peatio's and Barong's clients send parameters as JSON or as a form, and Grape also reads a
POST's parameters from the query string; ``body_of(Model)`` reads all three (the body wins
over the query), validates them as ``Model`` and documents ``Model`` as the operation's
``requestBody`` (JSON and form) in the OpenAPI. A field that fails answers the Peatio code
its ``Field`` declares (``codes(...)``), in the one validation handler of
``bursa.api.errors``, exactly as query parameters do.

JSON numbers with a fraction are read as ``Decimal`` from their text (never ``float``), and
amounts, ids and codes go through ``bursa.plain_input``: ``Amount``, ``PositiveAmount`` and
``PlainInt`` refuse anything that is not written in plain notation.
"""

from collections.abc import Callable, Container
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import AfterValidator, BaseModel, BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

from bursa.api.errors import (
    BODY_MODEL,
    EMPTY_KEY,
    ERROR_CODE_KEY,
    MISSING_KEY,
    NON_INTEGER_KEY,
    TYPED_KEY,
)
from bursa.api.peatio.params import read_body
from bursa.plain_input import NotPlain, read_amount

Model = TypeVar("Model", bound=BaseModel)

READS_QUERY = "__bursa_reads_query__"  # set by ``body_of``: False when only the body is read
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NON_DECIMAL = "non_decimal"  # error types an amount field reports (Peatio's words)
NON_POSITIVE = "non_positive"


def codes(
    code: str,
    *,
    missing: str | None = None,
    non_integer: str | None = None,
    empty: str | None = None,
    **by_type: str,
) -> dict[str, Any]:
    """``json_schema_extra`` for a body field: the Peatio code its validation error reports
    (``code``), and optionally a code of its own for a missing value, a value that is not
    an integer, an empty one, or any pydantic error type (``non_decimal=…``,
    ``non_positive=…``, ``enum=…``)."""
    extra: dict[str, Any] = {ERROR_CODE_KEY: code}
    if missing is not None:
        extra[MISSING_KEY] = missing
    if non_integer is not None:
        extra[NON_INTEGER_KEY] = non_integer
    if empty is not None:
        extra[EMPTY_KEY] = empty
    if by_type:
        extra[TYPED_KEY] = dict(by_type)
    return extra


def _amount(value: object) -> Decimal:
    try:
        return read_amount(value, signed=True)
    except NotPlain:
        raise PydanticCustomError(NON_DECIMAL, "must be a decimal in plain notation") from None


def _positive(value: object) -> Decimal:
    number = _amount(value)
    if number <= 0:
        raise PydanticCustomError(NON_POSITIVE, "must be greater than 0")
    return number


Amount = Annotated[Decimal, BeforeValidator(_amount)]
"""A decimal in plain notation (JSON number or text; signed), exact."""
PositiveAmount = Annotated[Decimal, BeforeValidator(_positive)]
"""A decimal in plain notation, greater than zero."""


class NoParameters(BaseModel):
    """The model of a write that takes no parameters (documented as an empty body)."""


async def read_parameters(request: Request) -> dict[str, Any]:
    """A write's parameters: the query string's, overridden by the body's (JSON or form)."""
    found: dict[str, Any] = dict(request.query_params)
    found.update(await read_body(request))
    return found


def validate(model: type[Model], data: dict[str, Any], context: Any = None) -> Model:
    """``data`` as ``model`` (``context``: what its validators may consult); its errors
    raised as the request's validation errors (located in the body), so the one handler
    answers each field's code."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None


async def _no_context() -> None:
    return None


def body_of(
    model: type[Model], *, query: bool = True, context: Callable[..., Any] | None = None
) -> Any:
    """A FastAPI dependency giving the request's parameters as ``model`` (use as
    ``body: Annotated[Model, body_of(Model)]``). With ``query=False`` only the body is
    read: for writes carrying a password, which must not reach access logs in a URL.
    ``context``, a dependency, gives what the model's validators consult (pydantic's
    validation context: the markets a field may name, say), so that a field only the
    current state refuses is answered together with the others."""

    async def read(
        request: Request, known: Annotated[Any, Depends(context or _no_context)]
    ) -> Model:
        found = await read_parameters(request) if query else await read_body(request)
        return validate(model, found, known)

    setattr(read, BODY_MODEL, model)
    setattr(read, READS_QUERY, query)
    return Depends(read)


def body_model(route: APIRoute, *, from_query: bool = False) -> type[BaseModel] | None:
    """The model ``body_of`` reads for ``route`` (in its dependencies), if any; with
    ``from_query``, only if it reads it from the query string too."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        found = getattr(dependant.call, BODY_MODEL, None)
        if found is not None:
            reads_query = getattr(dependant.call, READS_QUERY, True)
            return found if reads_query or not from_query else None
        pending.extend(dependant.dependencies)
    return None


def _schema_name(
    model: type[BaseModel], taken: dict[str, type[BaseModel]], others: Container[str]
) -> str:
    """The model's component name: its own, unless another model (or a component FastAPI
    wrote, ``others``) has it already."""
    name = model.__name__
    if name not in others and taken.setdefault(name, model) is model:
        return name
    qualified = f"{model.__module__.replace('.', '_')}__{name}"
    taken[qualified] = model
    return qualified


def document_bodies(app: FastAPI) -> None:
    """Have ``app``'s OpenAPI describe every ``body_of`` model as its operation's
    ``requestBody`` (JSON, form), with the models among the components."""
    plain_openapi: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = plain_openapi()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        written = frozenset(schemas)  # FastAPI's own (answers): never overwritten
        taken: dict[str, type[BaseModel]] = {}
        # Each route as included (routers are included lazily: ``app.routes`` holds them).
        for included in iter_route_contexts(app.routes):
            route = included.original_route
            if not isinstance(route, APIRoute) or not included.include_in_schema:
                continue
            model = body_model(route)
            if model is None:
                continue
            name = _schema_name(model, taken, written)
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for nested, nested_schema in schema.pop("$defs", {}).items():
                schemas.setdefault(nested, nested_schema)
            schemas[name] = schema
            ref = {"schema": {"$ref": f"#/components/schemas/{name}"}}
            content = {"application/json": ref} | dict.fromkeys(FORM_TYPES, ref)
            for method in included.methods or ():
                operation = document["paths"][included.path_format].get(method.lower())
                if operation is not None and "requestBody" not in operation:
                    operation["requestBody"] = {
                        "required": bool(schema.get("required")),
                        "content": content,
                    }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _given(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PydanticCustomError("missing", "is required")
    return value


NotBlank = BeforeValidator(_given)
"""For ``Annotated[str, NotBlank]``: blank text (or null) counts as missing, as Peatio's
``missing_…`` codes do."""


MOST_DIGITS = 30  # an amount of more integer digits than any balance holds


def _within_reach(amount: Decimal) -> Decimal:
    if amount.adjusted() >= MOST_DIGITS:
        raise PydanticCustomError("too_large", "beyond any balance")
    return amount


def _currency_code(value: str) -> str:
    if len(value) > 10:
        raise PydanticCustomError("unknown_currency", "no such currency")
    return value


AccountAmount = Annotated[PositiveAmount, AfterValidator(_within_reach)]
"""A positive amount a balance could hold: beyond it, the field's own code (``too_large``)."""
CurrencyText = Annotated[str, NotBlank, AfterValidator(_currency_code)]
"""A currency code in a body: blank is ``missing``, too long ``unknown_currency``."""
