"""What every Management API route shares: one way in, one way out.

In: ``payload(app, scope, Model, wording)`` is a route's one dependency. It passes the
request through the gate (``management_auth.authenticate``: signatures, scope, ``jti``) and
reads the verified ``data`` claim as ``Model``; a value that does not fit is refused 422 with
Grape's words for it (``wording``: Peatio's and Barong's routes word problems differently,
and clients read those words).

Out: every route of a ``management_router`` is a ``ManagementRoute``, which answers any
``BursaError`` raised beneath it — a service's refusal, the gate's ``ManagementRefused``, an
admin code path's ``ApiError`` — as Grape did: ``{"error": message}`` with the status the
refusal's kind maps to (``bursa.api.errors.status_of``), a missing record as
``Couldn't find record.``. So no route catches and translates a refusal.

The OpenAPI document describes each route's body as the JWS envelope, its ``payload`` the
base64url claims whose ``data`` is the route's model (``contentSchema``, and ``x-payload``
on the operation), with the models among the components (``document_payloads``).
"""

import re
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.deps import EngineView
from bursa.api.errors import status_of
from bursa.api.management_auth import ManagedApp, ManagementRefused, authenticate
from bursa.engine.commands import Command
from bursa.engine.runner import EngineStopped
from bursa.errors import BursaError, Refusal
from bursa.trading.audit import Actor

Model = TypeVar("Model", bound=BaseModel)
Wording = Callable[[ValidationError], str]


class Submit(Protocol):
    """The engine's ``submit`` as services take it (``engine_requests.Submit``,
    ``withdrawals.Submit``)."""

    async def __call__(self, command: Command) -> dict[str, Any]: ...


PAYLOAD_MODEL = "__bursa_management_payload__"  # set on a ``payload`` reader
NOT_FOUND = "Couldn't find record."  # Grape's words for a missing record (``find_by!``)
PAYLOAD_KEY = "x-payload"
# The error type of a problem named by a code alone (where a route shares the admin API's
# rules, it answers the admin API's code): worded as the code, nothing else.
CODED = "coded"


class GrapeError(BaseModel):
    """Grape's error answer."""

    error: str


REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": GrapeError} for code in (400, 401, 404, 405, 409, 422, 429, 503)
}


# ---------------------------------------------------------------------- in


class Nothing(BaseModel):
    """The ``data`` of a request whose route reads nothing from it (anything sent is
    ignored, as Grape ignored unknown parameters)."""


def first_problem(exc: ValidationError) -> str:
    """Peatio's wording: the first problem, ``<field> <message>`` (a ``CODED`` one: its
    code)."""
    first = exc.errors(include_input=False, include_url=False)[0]
    if first["type"] == CODED:
        return first["msg"]
    where = ".".join(str(part) for part in first["loc"]) or "data"
    return f"{where} {first['msg'].removeprefix('Value error, ')}"


def every_problem(exc: ValidationError) -> str:
    """Barong's wording: every problem, ``<field>: <message>`` (never the values sent)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'data'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False)
    )


def payload(app: ManagedApp, scope: str, model: type[Model], wording: Wording) -> Any:
    """A dependency giving the verified ``data`` of a ``scope`` request as ``model`` (use
    as ``body: Annotated[Model, payload(...)]``)."""

    async def read(request: Request) -> Model:
        data = await authenticate(request, app, scope)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ManagementRefused(422, wording(exc)) from None

    setattr(read, PAYLOAD_MODEL, model)
    read.__name__ = f"management_{app}_{scope}"
    return Depends(read)


def actor_of(request: Request) -> Actor:
    """Who the audit log names for a management change: the request's signers."""
    signers = ",".join(sorted(getattr(request.state, "management_signers", ())))
    client = request.client.host if request.client else "-"
    return Actor(uid=f"mgmt:{signers}"[:32], role="management", ip=client[:45])


def engine_submit(runner: EngineView, unavailable: str) -> Submit:
    """The runner's ``submit``, a stopped engine refused as unavailable (503) with the
    words ``unavailable``."""

    async def submit(command: Command) -> dict[str, Any]:
        try:
            return await runner.submit(command)
        except EngineStopped as exc:
            raise BursaError(Refusal.UNAVAILABLE, unavailable) from exc

    return submit


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The session factory, for workflows that commit their own steps around the engine."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return sessions


# ---------------------------------------------------------------------- out


def grape_refusal(exc: BursaError) -> JSONResponse:
    """``exc`` as Grape answered it: ``{"error": message}`` and the status of its kind."""
    if isinstance(exc, ManagementRefused):
        message = exc.message
    elif exc.kind is Refusal.NOT_FOUND:
        message = NOT_FOUND
    else:
        message = ", ".join(exc.codes)
    return JSONResponse({"error": message}, status_code=status_of(exc))


def payload_model(route: APIRoute) -> type[BaseModel] | None:
    """The model ``payload`` reads for ``route`` (in its dependencies), if any."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        found = getattr(dependant.call, PAYLOAD_MODEL, None)
        if found is not None:
            return found  # type: ignore[no-any-return]
        pending.extend(dependant.dependencies)
    return None


class ManagementRoute(APIRoute):
    """A Management API route: its body documented as the envelope, and every refusal
    beneath it answered in Grape's format (``grape_refusal``)."""

    omit_none = False  # Peatio's entities leave null fields out; Barong's show them

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if self.omit_none:
            kwargs["response_model_exclude_none"] = True
        super().__init__(path, endpoint, **kwargs)
        extra = {"requestBody": envelope_body(None)} | (self.openapi_extra or {})
        self.openapi_extra = extra

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except BursaError as exc:
                return grape_refusal(exc)

        return handle


class OmittingNoneRoute(ManagementRoute):
    omit_none = True


def management_router(prefix: str, tag: str, *, omit_none: bool = False) -> APIRouter:
    """A router of ``ManagementRoute``s, Grape's error answers documented; with
    ``omit_none`` its answers leave null fields out."""
    route_class = OmittingNoneRoute if omit_none else ManagementRoute
    return APIRouter(prefix=prefix, tags=[tag], route_class=route_class, responses=dict(REFUSALS))


# ---------------------------------------------------------------------- OpenAPI

_SIGNATURE = {
    "type": "object",
    "required": ["protected", "header", "signature"],
    "properties": {
        "protected": {"type": "string", "description": 'base64url of `{"alg": …}`'},
        "header": {
            "type": "object",
            "required": ["kid"],
            "properties": {"kid": {"type": "string", "description": "the signer's key id"}},
        },
        "signature": {"type": "string", "description": "base64url"},
    },
}


def envelope_body(data: dict[str, Any] | None) -> dict[str, Any]:
    """The ``requestBody`` of a management route: a jwt-multisig envelope (JWS general
    serialization) whose payload's ``data`` claim is described by ``data``."""
    claims = {
        "type": "object",
        "required": ["iat", "exp", "jti", "data"],
        "properties": {
            "iat": {"type": "integer", "description": "issued at (Unix seconds)"},
            "exp": {"type": "integer", "description": "expires at (Unix seconds)"},
            "jti": {"type": "string", "maxLength": 255, "description": "used once"},
            "data": data or {"type": "object"},
        },
    }
    return {
        "required": True,
        "description": "A jwt-multisig envelope (JWS general serialization); the request's"
        " parameters are the `data` claim of its payload.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["payload", "signatures"],
                    "properties": {
                        "payload": {
                            "type": "string",
                            "description": "base64url of the JSON claims",
                            "contentEncoding": "base64url",
                            "contentMediaType": "application/json",
                            "contentSchema": claims,
                        },
                        "signatures": {"type": "array", "minItems": 1, "items": _SIGNATURE},
                    },
                }
            }
        },
    }


_LOCAL_REF = re.compile(r'"#/\$defs/([^"]+)"')


def _component_name(model: type[BaseModel], name: str, schemas: dict[str, Any], schema: Any) -> str:
    """``name``, unless another schema holds it: then qualified by ``model``'s module."""
    if schemas.get(name, schema) == schema:
        return name
    module = model.__module__.removeprefix("bursa.api.").replace(".", "_")
    return f"{module}_{name}"


def add_component(schemas: dict[str, Any], model: type[BaseModel]) -> str:
    """Put ``model`` (and the models it nests) among ``schemas``; the name it took."""
    schema = model.model_json_schema()
    nested: dict[str, Any] = schema.pop("$defs", {})
    names = {name: _component_name(model, name, schemas, found) for name, found in nested.items()}

    def rewired(found: Any) -> Any:
        text = _LOCAL_REF.sub(
            lambda m: f'"#/components/schemas/{names[m.group(1)]}"', orjson.dumps(found).decode()
        )
        return orjson.loads(text)

    for name, found in nested.items():
        schemas[names[name]] = rewired(found)
    schema = rewired(schema)
    name = _component_name(model, model.__name__, schemas, schema)
    schemas[name] = schema
    return name


def document_payloads(app: FastAPI) -> None:
    """Have ``app``'s OpenAPI describe each management route's payload model: the
    envelope's ``data`` claim and the operation's ``x-payload`` point at the model's
    component."""
    plain_openapi: Callable[[], dict[str, Any]] = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if done:
            return done[0]
        document = plain_openapi()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        # Each route as included (routers are included lazily: ``app.routes`` holds them).
        for included in iter_route_contexts(app.routes):
            route = included.original_route
            if not isinstance(route, ManagementRoute) or not included.include_in_schema:
                continue
            model = payload_model(route)
            if model is None:
                continue
            ref = {"$ref": f"#/components/schemas/{add_component(schemas, model)}"}
            for method in included.methods or ():
                operation = document["paths"][included.path_format].get(method.lower())
                if operation is not None:
                    operation["requestBody"] = envelope_body(ref)
                    operation[PAYLOAD_KEY] = ref
        app.openapi_schema = document
        done.append(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
