"""``/api/v2/auth/*``: the authorization decision for an external gateway (Envoy's
ext_authz, as OpenDAX wired Barong): 200 with ``Authorization: Bearer <JWT>`` to let the
request through, or the refusal in ``{"errors": [...]}`` with its status."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bursa.api.barong.routes import client_of
from bursa.identity.authz import Authorizer

router = APIRouter(tags=["authorization"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


async def authorize(path: str, request: Request) -> Response:
    authorizer: Authorizer = request.app.state.authorizer
    decision = await authorizer.decide(
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
    )
