"""A query parameter the route does not take is refused, never ignored.

Grape, under Peatio and Barong, dropped parameters it did not declare, so a client that
misspelt a filter (or used one the server lacks) got an answer to a question it did not
ask: ``GET market/orders?base_unit=eth`` listed every market's orders. Bursa answers 422
with one code per such parameter, ``server.request.unknown_parameter.<name>``.

A route takes what its signature and dependencies declare as query parameters, and, for a
write read through ``body_of`` from the query string as well, its request model's fields.
OAuth's endpoints are left out: RFC 6749 (§3.1) has servers ignore parameters they do not
know.
"""

from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.requests import HTTPConnection
from fastapi.routing import APIRoute

from bursa.api.bodies import body_model
from bursa.api.errors import ApiError

UNKNOWN_PARAMETER = "server.request.unknown_parameter"
CHECKED = ("/api/v2/peatio/", "/api/v2/barong/")
IGNORING = ("/api/v2/barong/oauth/",)  # the OAuth provider's endpoints (RFC 6749 §3.1)

_declared: dict[int, frozenset[str] | None] = {}


def _dependants(root: Dependant) -> Iterator[Dependant]:
    pending = [root]
    while pending:
        dependant = pending.pop()
        yield dependant
        pending.extend(dependant.dependencies)


def declared_names(route: APIRoute) -> frozenset[str] | None:
    """The query parameters ``route`` takes; None when it takes any (a model that keeps
    unknown fields)."""
    names = {
        name
        for dependant in _dependants(route.dependant)
        for param in dependant.query_params
        for name in (param.alias, param.name)
    }
    model = body_model(route, from_query=True)
    if model is not None:
        if model.model_config.get("extra") == "allow":
            return None
        for name, field in model.model_fields.items():
            names.add(field.alias or name)
            names.add(name)
    return frozenset(names)


async def refuse_unknown_parameters(request: HTTPConnection) -> None:
    """An application-wide dependency: 422 naming each query parameter the matched
    route does not take (websockets pass: their streams are their own parameters)."""
    route = request.scope.get("route")
    path = request.url.path
    if not isinstance(route, APIRoute) or not path.startswith(CHECKED) or path.startswith(IGNORING):
        return
    key = id(route)
    if key not in _declared:
        _declared[key] = declared_names(route)
    names = _declared[key]
    if names is None:
        return
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in names]
    if unknown:
        raise ApiError(422, *(f"{UNKNOWN_PARAMETER}.{name}" for name in unknown))
