"""The authorization step (restrictions, session or API key or OAuth token, CSRF, the
permission table, audit of writes), served two ways:

- ``/api/v2/auth/*`` for an external gateway (Envoy's ext_authz, as OpenDAX wired Barong):
  200 with ``Authorization: Bearer <JWT>`` to let the request through, or the refusal in
  ``{"errors": [...]}`` with its status;
- ``authorized``, the same decision in process, for the endpoints the permission table
  gates (Barong's admin API, Peatio's member and admin APIs).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from bursa.api.deps import client_of
from bursa.api.errors import ApiError
from bursa.identity.authz import Authorizer

router = APIRouter(tags=["authorization"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# The forwarded request's body is the upstream endpoint's business: any type, or none.
OPAQUE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": "the body of the request to authorize, as the client sent it",
        "content": {"*/*": {"schema": {}}},
    }
}


def get_authorizer(request: Request) -> Authorizer:
    authorizer: Authorizer = request.app.state.authorizer
    return authorizer


async def authorized(request: Request) -> dict[str, Any]:
    """The caller, once the permission table lets them make this request."""
    decision = await get_authorizer(request).decide(
        request.method,
        request.url.path,
        request.headers,
        request.cookies,
        client_of(request),
        mint=False,  # used here, not forwarded: no JWT to sign
    )
    if decision.status != 200 or decision.user is None:
        retry = {"Retry-After": str(decision.retry_after)} if decision.retry_after else None
        raise ApiError(
            decision.status, *(decision.errors or ["authz.invalid_permission"]), headers=retry
        )
    request.state.credential = decision.credential  # per-key limits (order entry)
    return decision.user


Authorized = Annotated[dict[str, Any], Depends(authorized)]


async def authorize(path: str, request: Request) -> Response:
    decision = await get_authorizer(request).decide(
        request.method, path, request.headers, request.cookies, client_of(request)
    )
    if decision.status != 200:
        retry = {"Retry-After": str(decision.retry_after)} if decision.retry_after else None
        return JSONResponse({"errors": decision.errors}, status_code=decision.status, headers=retry)
    response = Response(status_code=200)
    if decision.token is not None:
        response.headers["Authorization"] = f"Bearer {decision.token}"
    return response


for _method in METHODS:  # one route per verb, so that each has its own OpenAPI operation
    router.add_api_route(
        "/api/v2/auth/{path:path}",
        authorize,
        methods=[_method],
        operation_id=f"authorize_{_method.lower()}",
        summary="May this request to /{path} go on? (for a gateway)",
        openapi_extra=OPAQUE_BODY if _method in ("POST", "PUT", "PATCH") else None,
    )
