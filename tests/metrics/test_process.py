"""``serve_metrics``: what a worker process shows Prometheus and its orchestrator on its own
port: the default registry with its role up, liveness, and readiness as the role says."""

import asyncio
import contextlib
import socket

import httpx

from bursa.metrics.process import metrics_text, serve_metrics
from tests.metrics.scrape import Samples, label_values, parse, value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def listening(http: httpx.AsyncClient) -> httpx.Response:
    """``/metrics`` once the server listens (``serve_metrics`` starts it in a task)."""
    for _ in range(100):
        with contextlib.suppress(httpx.ConnectError):
            return await http.get("/metrics")
        await asyncio.sleep(0.05)
    raise AssertionError("the metrics server did not listen within 5 s")


async def test_metrics_and_health_on_the_workers_port() -> None:
    port, ready = free_port(), [True]
    async with (
        serve_metrics("mailer", "127.0.0.1", port, lambda: ready[0]),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        metrics = await listening(http)
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain; version=")
        samples = parse(metrics.text)
        assert value(samples, "bursa_role_up", role="mailer") == 1
        (version,) = label_values(samples, "bursa_build_info", "version")
        assert value(samples, "bursa_build_info", version=version) == 1
        assert (await http.get("/health/alive")).status_code == 200
        assert (await http.get("/health/ready")).status_code == 200
        ready[0] = False  # e.g. a consumer that lost its broker
        assert (await http.get("/health/ready")).status_code == 503
        assert (await http.get("/health/alive")).status_code == 200
        assert (await http.get("/nothing")).status_code == 404
    assert value(parse_registry(), "bursa_role_up", role="mailer") == 0
    with socket.socket() as sock:  # the port is free again
        sock.bind(("127.0.0.1", port))


async def test_without_a_port_the_role_is_only_marked_up() -> None:
    async with serve_metrics("candles", "127.0.0.1", None):
        assert value(parse_registry(), "bursa_role_up", role="candles") == 1
    async with serve_metrics("candles", "127.0.0.1", 0):  # 0 means off too
        assert value(parse_registry(), "bursa_role_up", role="candles") == 1
    assert value(parse_registry(), "bursa_role_up", role="candles") == 0


def parse_registry() -> Samples:
    return parse(metrics_text().decode())
