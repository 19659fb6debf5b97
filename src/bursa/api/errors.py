"""Every error leaves the API in Peatio's shape: ``{"errors": ["<code>", ...]}``.

Validation errors take their code from the parameter that failed (``x-error`` in the
parameter's schema, e.g. ``public.order_book.invalid_ask_limit``; Peatio tells a value that
is not an integer, ``x-error-non-integer``, and an empty one, ``x-error-empty``, apart from
one out of range); unknown paths are
``record.not_found``; anything unexpected is ``server.internal_error``, never a trace.
While PostgreSQL cannot be reached, whatever needed it is ``server.database_unavailable``
(503), logged once when the outage begins and once when it ends (``bursa.db.outage``).
"""

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import asyncpg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bursa.db.outage import OutageWatch, is_database_unavailable
from bursa.errors import DATABASE_UNAVAILABLE, HTTP_STATUS, BursaError, Refusal

log = logging.getLogger(__name__)

BODY_MODEL = "__bursa_body_model__"  # set by ``bursa.api.bodies.body_of`` on its reader
ERROR_CODE_KEY = "x-error"
NON_INTEGER_KEY = "x-error-non-integer"
EMPTY_KEY = "x-error-empty"
MISSING_KEY = "x-error-missing"
TYPED_KEY = "x-errors"  # {pydantic error type: code}
_NOT_AN_INTEGER = frozenset({"int_parsing", "int_type", "int_from_float"})
INVALID_PARAMETER = "server.request.invalid_parameter"
NOT_FOUND = "record.not_found"
METHOD_NOT_ALLOWED = "server.method_not_allowed"
INTERNAL_ERROR = "server.internal_error"
BODY_TOO_LARGE = "server.request.body_too_large"

_STATUS_CODES = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: BODY_TOO_LARGE}


_REFUSAL_OF_STATUS = {status: kind for kind, status in HTTP_STATUS.items()}


class ApiError(BursaError):
    """A refusal the edge itself makes (a header, a parameter), with its HTTP status."""

    def __init__(self, status: int, *codes: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(_REFUSAL_OF_STATUS.get(status, Refusal.INVALID), *codes, headers=headers)
        self.status = status


def status_of(error: BursaError) -> int:
    """The HTTP status that answers ``error``."""
    if isinstance(error, ApiError):
        return error.status
    return HTTP_STATUS[error.kind]


def error_body(*codes: str) -> dict[str, list[str]]:
    return {"errors": list(codes)}


def error_response(
    status: int, *codes: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(*codes), status_code=status, headers=dict(headers) if headers else None
    )


def error_code(
    code: str, *, non_integer: str | None = None, empty: str | None = None
) -> dict[str, Any]:
    """``json_schema_extra`` for a parameter: the code its validation error reports, and
    optionally Peatio's own codes for a value that is not an integer or is empty."""
    extra: dict[str, Any] = {ERROR_CODE_KEY: code}
    if non_integer is not None:
        extra[NON_INTEGER_KEY] = non_integer
    if empty is not None:
        extra[EMPTY_KEY] = empty
    return extra


def _parameter_codes(route: object) -> dict[str, dict[str, Any]]:
    """The codes the route's parameters declare, its dependencies' (shared filters) too."""
    if not isinstance(route, APIRoute):
        return {}
    codes: dict[str, dict[str, Any]] = {}
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        pending.extend(dependant.dependencies)
        for param in [*dependant.path_params, *dependant.query_params, *dependant.header_params]:
            _add_codes(codes, param.alias, param.field_info.json_schema_extra)
        model = getattr(dependant.call, BODY_MODEL, None)  # a ``bodies.body_of`` reader
        if model is not None:
            for name, field in model.model_fields.items():
                _add_codes(codes, field.alias or name, field.json_schema_extra)
    return codes


def model_codes(model: type[BaseModel], errors: Iterable[Any]) -> list[str]:
    """The codes ``model``'s fields declare for its validation ``errors``, as the handler
    answers them when ``model`` is a request's body (for a caller that validates a body
    itself and answers in its own format: the Management API)."""
    codes: dict[str, dict[str, Any]] = {}
    for name, field in model.model_fields.items():
        _add_codes(codes, field.alias or name, field.json_schema_extra)
    return _validation_codes(({**e, "loc": ("body", *e["loc"])} for e in errors), codes)


def _add_codes(codes: dict[str, dict[str, Any]], name: str, extra: object) -> None:
    if isinstance(extra, dict) and isinstance(extra.get(ERROR_CODE_KEY), str):
        codes[name] = {k: v for k, v in extra.items() if isinstance(v, str | dict)}


def _code_of(error: Any, codes: dict[str, dict[str, Any]]) -> str:
    loc: tuple[Any, ...] = tuple(error.get("loc", ())) if isinstance(error, dict) else ()
    name = str(loc[1]) if len(loc) > 1 else ""
    known = codes.get(name)
    if known is None:
        return INVALID_PARAMETER
    kind = error.get("type") if isinstance(error, dict) else None
    typed = known.get(TYPED_KEY)
    if isinstance(typed, dict) and kind in typed:
        return str(typed[kind])
    if kind == "missing" and MISSING_KEY in known:
        return str(known[MISSING_KEY])
    if kind in _NOT_AN_INTEGER:
        if error.get("input") == "" and EMPTY_KEY in known:
            return str(known[EMPTY_KEY])
        return str(known.get(NON_INTEGER_KEY, known[ERROR_CODE_KEY]))
    return str(known[ERROR_CODE_KEY])


def _validation_codes(errors: Iterable[Any], codes: dict[str, dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for error in errors:
        code = _code_of(error, codes)
        if code not in found:
            found.append(code)
    return found or [INVALID_PARAMETER]


async def _on_refusal(request: Request, exc: Exception) -> JSONResponse:
    """Every ``BursaError``, answered as it was raised (with ``Retry-After`` on a 429 that
    says when): endpoints need not catch and translate refusals one by one."""
    assert isinstance(exc, BursaError)
    headers = dict(exc.headers or {})
    if exc.retry_after:
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(status_of(exc), *exc.codes, headers=headers or None)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    codes = _parameter_codes(request.scope.get("route"))
    return error_response(422, *_validation_codes(exc.errors(), codes))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, f"server.http_{exc.status_code}")
    return error_response(exc.status_code, code, headers=exc.headers)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """A value PostgreSQL cannot take (a NUL character in text, a number beyond its type)
    is the request's fault, and its transaction was rolled back: 422. Anything else the
    database refuses is a server error; a database that cannot be reached, 503."""
    if is_database_unavailable(exc):
        return _on_database_unavailable(request, exc)
    cause = getattr(exc, "orig", None)
    cause = getattr(cause, "__cause__", None) or cause or exc
    if isinstance(cause, asyncpg.exceptions.DataError):
        kind = type(cause).__name__
        log.warning("refused a value on %s %s: %s", request.method, request.url.path, kind)
        return error_response(422, "server.request.invalid_value")
    return await _on_unexpected_error(request, exc)


def _on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 without a traceback: the outage is logged once, not once per request."""
    watch: OutageWatch = request.app.state.database_watch
    watch.lost(exc)
    return error_response(503, DATABASE_UNAVAILABLE, headers={"Retry-After": "1"})


async def _on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    if is_database_unavailable(exc):
        return _on_database_unavailable(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, INTERNAL_ERROR)


def _database_probe(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """``SELECT 1`` through the app's sessions: tells the outage watch the database is back."""

    async def probe() -> None:
        async with app.state.session_factory() as session:
            await session.execute(text("SELECT 1"))

    return probe


def install_error_handlers(app: FastAPI) -> None:
    app.state.database_watch = OutageWatch("api", _database_probe(app), logger=log)
    app.add_exception_handler(BursaError, _on_refusal)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _on_database_error)
    app.add_exception_handler(asyncpg.exceptions.DataError, _on_database_error)  # hot reads
    # The driver's own errors (hot reads) and socket errors are answered here rather than
    # by the catch-all, which the server logs again with a traceback after it answered.
    app.add_exception_handler(asyncpg.exceptions.PostgresError, _on_database_error)
    app.add_exception_handler(OSError, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected_error)


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before the endpoint reads them
    (by ``Content-Length`` up front, or while a chunked body streams in)."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}  # path prefix -> its own limit (uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next(
            (size for prefix, size in self.larger.items() if path.startswith(prefix)),
            self.max_bytes,
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await error_response(413, BODY_TOO_LARGE)(scope, receive, send)
                    return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise StarletteHTTPException(413)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except StarletteHTTPException as exc:
            if response_started or exc.status_code != 413:
                raise
            await error_response(413, BODY_TOO_LARGE)(scope, receive, send)
