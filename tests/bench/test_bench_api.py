"""``bursa bench api``'s hello-world baseline: measured in the same run, on the same server
stack, and only ever in the bench's own server."""

import httpx
import pytest

from bursa.api.app import create_app
from bursa.bench.api import HELLO, ApiFigures, HelloFigures, add_hello, run_api_bench


async def test_a_short_run_measures_orders_and_the_hello_world_baseline(
    fresh_database_url: str,
) -> None:
    figures = await run_api_bench(fresh_database_url, members=2, seconds=1, progress=lambda _: None)

    numbers = figures.as_json()
    assert numbers["errors"] == 0 and numbers["hello_errors"] == 0, numbers["error_kinds"]
    assert numbers["orders"] > 0 and numbers["cancels"] > 0
    assert numbers["hello_per_s"] > 0
    assert 0 < numbers["hello_p50_ms"] <= numbers["hello_p95_ms"] <= numbers["hello_p99_ms"]
    ratio = numbers["orders_per_s"] / numbers["hello_per_s"]
    assert numbers["ratio"] == pytest.approx(ratio, abs=0.002)
    # The exchange's own CPU per request, for each phase: an order costs more than hello.
    assert 0 < numbers["hello_cpu_us_per_request"] < numbers["cpu_us_per_request"]


def test_the_figures_give_both_rates_their_ratio_and_percentiles() -> None:
    hello = HelloFigures(2.0, 8000, 0, [float(i) for i in range(1, 101)], cpu_s=0.8)
    figures = ApiFigures(2.0, 2000, 1000, 0, [float(i) for i in range(1, 201)], {}, hello, 0.9)

    numbers = figures.as_json()

    assert numbers["orders_per_s"] == 1000.0 and numbers["hello_per_s"] == 4000.0
    assert numbers["ratio"] == 0.25
    assert (numbers["hello_p50_ms"], numbers["hello_p99_ms"]) == (51.0, 100.0)
    assert (numbers["p50_ms"], numbers["p99_ms"]) == (101.0, 199.0)
    assert numbers["hello_cpu_us_per_request"] == 100.0
    assert numbers["cpu_us_per_request"] == 300.0


async def test_the_hello_endpoint_is_the_bench_servers_own() -> None:
    app = create_app(None, None, None)  # type: ignore[arg-type]  # routes only
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:
        assert (await client.post(HELLO)).status_code == 404
        add_hello(app)
        answer = await client.post(HELLO, content=b'{"market":"btcusdt"}')
        assert answer.status_code == 200 and answer.json() == {"hello": "world"}
        # Behind the app's own middleware: counted as a route like any other.
        metrics = (await client.get("/metrics")).text
    assert f'route="{HELLO}",status="200"' in metrics
    assert getattr(app.router.routes[0], "path", None) == HELLO
    assert HELLO not in app.openapi()["paths"]
