"""What a worker process exposes besides its work: ``/metrics``, ``/health/alive`` and
``/health/ready`` on a port of its own, for Prometheus and an orchestrator's probes.

The API serves these on its own port; the engine and the workers (scanner, sender, relay,
mailer, AppLogic, bots…) call ``serve_metrics`` when given ``--metrics-port``. ``ready``
tells whether the role can do its work now (an active engine, a relay holding its lock,
a connected consumer); a stand-by is alive and ready (it is ready to take over), so
``role_active`` says which one works.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from importlib.metadata import PackageNotFoundError, version

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

log = logging.getLogger(__name__)

try:
    VERSION = version("bursa")
except PackageNotFoundError:  # a source tree that was never installed
    VERSION = "unknown"

BUILD_INFO = Gauge("bursa_build_info", "Bursa's version (always 1)", ["version"])
BUILD_INFO.labels(VERSION).set(1)
ROLE_UP = Gauge("bursa_role_up", "1 while this process runs the role", ["role"])

Ready = Callable[[], bool]

_Scope = dict[str, object]
_Receive = Callable[[], object]


def metrics_text() -> bytes:
    """The default registry in Prometheus' text format."""
    return generate_latest()


class _HealthAndMetrics:
    """A bare ASGI app: no framework needed for three fixed paths."""

    def __init__(self, ready: Ready) -> None:
        self.ready = ready

    async def __call__(self, scope: _Scope, receive: _Receive, send: Callable[..., object]) -> None:
        if scope["type"] == "lifespan":
            return
        path = scope.get("path")
        if path == "/metrics":
            status, body, kind = 200, metrics_text(), CONTENT_TYPE_LATEST
        elif path == "/health/alive":
            status, body, kind = 200, b"", "text/plain"
        elif path == "/health/ready":
            status = 200 if self.ready() else 503
            body, kind = b"", "text/plain"
        else:
            status, body, kind = 404, b"", "text/plain"
        await send(  # type: ignore[misc]
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", kind.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})  # type: ignore[misc]


class _QuietServer(uvicorn.Server):
    """Leaves signals to the process's own command: it stops this server when it ends."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_metrics(
    role: str, host: str, port: int | None, ready: Ready = lambda: True
) -> AsyncIterator[None]:
    """Marks ``role`` up for the block's duration and, when ``port`` is set (not None or
    0), serves ``/metrics`` and the health paths on ``host:port`` meanwhile."""
    ROLE_UP.labels(role).set(1)
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    if port:
        config = uvicorn.Config(
            _HealthAndMetrics(ready),
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        server = _QuietServer(config)
        task = asyncio.create_task(server.serve(), name=f"metrics-{role}")
        log.info("%s: metrics and health on http://%s:%d", role, host, port)
    try:
        yield
    finally:
        ROLE_UP.labels(role).set(0)
        if server is not None and task is not None:
            server.should_exit = True
            await task
