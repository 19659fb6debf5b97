"""The API's Prometheus side: every HTTP request counted and timed, and ``GET /metrics``.

A bare ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which costs a task and a
stream per request) wraps the whole app, so it also sees what is refused before routing
(a body too large, a page of the web app). The route label is the matched route's
*template* (``/api/v2/peatio/market/orders/{id}``), never the path: a path's ids would
make a series per order. Requests no route took are ``unmatched``.

``/metrics`` is answered here, before the web app (which would answer any page path with
its ``index.html``) and outside the OpenAPI document. Metrics tell an exchange's volume
and its members' activity, so by default they are shown only to clients at a non-global
address (loopback, private networks, a cluster's pod network: where Prometheus scrapes
from) and everyone else gets the API's 404. Behind a proxy on the same host the proxy's
address is loopback: uvicorn reads the client's own address from ``X-Forwarded-For``
when the proxy is trusted (``FORWARDED_ALLOW_IPS``), and the gateway in ``deploy/envoy``
does not route ``/metrics`` at all. ``public=True`` serves them to anyone.
"""

import ipaddress
import time

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bursa.api.errors import METHOD_NOT_ALLOWED, NOT_FOUND, error_response
from bursa.metrics.api import (
    HTTP_IN_FLIGHT,
    HTTP_REQUEST_SECONDS,
    HTTP_REQUESTS,
    UNMATCHED,
)
from bursa.metrics.lockfree import CounterChild, HistogramChild
from bursa.metrics.process import metrics_text

METRICS_PATH = "/metrics"
_RAW = METRICS_PATH.encode()
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"  # any other method a client makes up: one series, not one each
_FASTAPI_SCOPE = "fastapi"
_EFFECTIVE_ROUTE = "effective_route_context"


def route_template(scope: Scope) -> str:
    """The template of the route that took the request, with its routers' prefixes.

    FastAPI (0.165) puts the route as its router declared it in ``scope["route"]``
    (without the prefixes it was included under); the prefixed template is in its
    effective route context. A plain Starlette route has its whole template itself."""
    context = scope.get(_FASTAPI_SCOPE, {}).get(_EFFECTIVE_ROUTE)
    template = getattr(context, "path_format", None)
    if isinstance(template, str):
        return template
    template = getattr(scope.get("route"), "path_format", None)
    return template if isinstance(template, str) else UNMATCHED


def is_metrics_path(scope: Scope) -> bool:
    """``/metrics`` as sent, not percent-encoded (``/%6detrics``): a gateway that blocks
    the path by its bytes, as ``deploy/envoy`` does, blocks every way to ask for it."""
    return bool(scope["path"] == METRICS_PATH and scope.get("raw_path", _RAW) == _RAW)


def may_see_metrics(scope: Scope) -> bool:
    """Whether the client is at a non-global address (or a local socket)."""
    client = scope.get("client")
    if not client:
        return True  # a Unix socket: on this machine
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    return not address.is_global


class RequestMetrics:
    """Counts, times and gauges every HTTP request; answers ``GET /metrics``."""

    def __init__(self, app: ASGIApp, public: bool = False) -> None:
        self.app = app
        self.public = public
        # Label children by the request's values, bound once: one dictionary lookup each.
        self._counts: dict[tuple[str, str, int], CounterChild] = {}
        self._latencies: dict[tuple[str, str], HistogramChild] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # websockets: the Ranger hub counts them
            return
        status = 500  # what the server answers if the app raises before responding

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics = is_metrics_path(scope)
        started = time.perf_counter()
        HTTP_IN_FLIGHT.inc()
        try:
            if metrics:
                await self._metrics(scope, receive, send_noting_status)
            else:
                await self.app(scope, receive, send_noting_status)
        finally:
            HTTP_IN_FLIGHT.dec()
            route = METRICS_PATH if metrics else route_template(scope)
            self._record(scope["method"], route, status, time.perf_counter() - started)

    async def _metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response
        if not (self.public or may_see_metrics(scope)):
            response = error_response(404, NOT_FOUND)
        elif scope["method"] not in ("GET", "HEAD"):
            response = error_response(405, METHOD_NOT_ALLOWED, headers={"Allow": "GET, HEAD"})
        else:
            response = Response(metrics_text(), headers={"Content-Type": CONTENT_TYPE_LATEST})
        await response(scope, receive, send)

    def _record(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = OTHER_METHOD
        key = (method, route, status)
        counter = self._counts.get(key)
        if counter is None:
            counter = self._counts[key] = HTTP_REQUESTS.labels(method, route, str(status))
        counter.inc()
        latency = self._latencies.get(key[:2])
        if latency is None:
            latency = self._latencies[key[:2]] = HTTP_REQUEST_SECONDS.labels(method, route)
        latency.observe(seconds)
