"""The API's ``GET /metrics`` over the real in-process exchange (engine runner, PostgreSQL):
what an operator reads after members trade: requests by route template and status, their
latency, requests in flight, rate-limit refusals; and who may read it."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bursa.api.app import create_app
from tests.api.members import AGENT, MARKET, Exchange, exchange  # noqa: F401 - fixture
from tests.api.test_envoy_gateway import gateway
from tests.api.test_ranger import served
from tests.metrics.scrape import Samples, has, label_values, parse, value

ORDERS = "/api/v2/peatio/market/orders"
CANCEL = "/api/v2/peatio/market/orders/{id}/cancel"
BUY = {"market": "btcusdt", "side": "buy", "volume": "0.01", "price": "100"}


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


async def test_orders_show_by_route_template_and_status(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "usdt", "1000")
    before = await scrape(alice.client)

    placed = await alice.post(f"{MARKET}/orders", BUY, headers={"X-CSRF-Token": alice.csrf})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    cancelled = await alice.post(
        f"{MARKET}/orders/{order_id}/cancel", headers={"X-CSRF-Token": alice.csrf}
    )
    assert cancelled.status_code == 201, cancelled.text
    poor = await alice.post(
        f"{MARKET}/orders", BUY | {"volume": "100"}, headers={"X-CSRF-Token": alice.csrf}
    )
    assert poor.status_code == 422, poor.text
    missing = await alice.client.get("/api/v2/peatio/no/such/path/12345")
    assert missing.status_code == 404
    after = await scrape(alice.client)

    def added(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "bursa_http_requests_total"
    assert added(requests, method="POST", route=ORDERS, status="201") == 1
    assert added(requests, method="POST", route=ORDERS, status="422") == 1
    assert added(requests, method="POST", route=CANCEL, status="201") == 1
    assert added(requests, method="GET", route="unmatched", status="404") == 1
    # The scrape before this one was counted too (the one running is still in flight).
    assert added(requests, method="GET", route="/metrics", status="200") == 1
    assert value(after, "bursa_http_in_flight") == 1  # this scrape itself
    # Latency: one observation per request of the route, each well under 10 s.
    seconds = "bursa_http_request_seconds"
    assert added(f"{seconds}_count", method="POST", route=ORDERS) == 2
    assert added(f"{seconds}_bucket", method="POST", route=ORDERS, le="10.0") == 2
    assert added(f"{seconds}_bucket", method="POST", route=ORDERS, le="+Inf") == 2
    assert added(f"{seconds}_sum", method="POST", route=ORDERS) > 0
    # Templates, never paths: no id of an order or of a path makes a series of its own.
    routes = label_values(after, requests, "route")
    assert not [r for r in routes if re.search(r"\d{3,}", r)], routes
    assert str(order_id) not in " ".join(routes)


async def test_metrics_stay_out_of_the_openapi_document(exchange: Exchange) -> None:
    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://b") as client:
        document = await client.get("/api/v2/peatio/openapi.json")
        assert document.status_code == 200
        assert "/metrics" not in document.json()["paths"]
        samples = await scrape(client)
    assert has(samples, "bursa_build_info", version=_version(samples))


def _version(samples: Samples) -> str:
    (version,) = label_values(samples, "bursa_build_info", "version")
    return version


async def test_metrics_are_shown_only_to_non_global_addresses(exchange: Exchange) -> None:
    """Prometheus scrapes from loopback or a private network; anyone on the Internet who
    reaches the API's port directly gets the API's 404 (unless told to show them)."""
    outside = httpx.ASGITransport(app=exchange.app, client=("8.8.8.8", 5000))
    app = exchange.app.state
    public_app = create_app(
        app.runner, app.session_factory, app.identity, secure_cookies=False, metrics_public=True
    )
    shown = httpx.ASGITransport(app=public_app, client=("8.8.8.8", 5000))
    inside = httpx.ASGITransport(app=exchange.app, client=("10.1.2.3", 5000))
    for transport, allowed in ((outside, False), (shown, True), (inside, True)):
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
            response = await client.get("/metrics")
            if allowed:
                assert response.status_code == 200
                assert "bursa_http_requests_total" in response.text
            else:
                assert response.status_code == 404
                assert response.json() == {"errors": ["record.not_found"]}
    async with httpx.AsyncClient(transport=inside, base_url="http://b") as client:
        # Only the path's own bytes: a gateway that blocks "/metrics" blocks it for good.
        encoded = await client.get("/%6detrics")
        assert "bursa_http_requests_total" not in encoded.text
        posted = await client.post("/metrics")
        assert posted.status_code == 405


async def test_the_web_app_does_not_take_metrics_for_a_page(
    exchange: Exchange, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Bursa</title>")
    state = exchange.app.state
    app = create_app(
        state.runner, state.session_factory, state.identity, secure_cookies=False, web_dist=tmp_path
    )
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
        assert "Bursa</title>" in (await client.get("/trade/btcusdt")).text  # a page
        metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "bursa_http_requests_total" in metrics.text


async def test_rate_limit_refusals_by_limit(exchange: Exchange) -> None:
    await exchange.identity.create_user("carol@example.com", "Tr4de-Night!Owl", "member")
    async with httpx.AsyncClient(
        transport=exchange.transport, base_url="http://b", headers=AGENT
    ) as client:
        before = await scrape(client)
        statuses = []
        for _ in range(12):  # 10 a minute per email address: the 11th and 12th are refused
            response = await client.post(
                "/api/v2/barong/identity/sessions",
                json={"email": "carol@example.com", "password": "wrong-password-1"},
            )
            statuses.append(response.status_code)
        after = await scrape(client)
    assert statuses.count(429) == 2, statuses
    scope = "login-email"
    refused = value(after, "bursa_rate_limit_refusals_total", scope=scope) - value(
        before, "bursa_rate_limit_refusals_total", scope=scope
    )
    assert refused == 2
    route = "/api/v2/barong/identity/sessions"
    requests = "bursa_http_requests_total"
    assert value(after, requests, method="POST", route=route, status="429") - value(
        before, requests, method="POST", route=route, status="429"
    ) == pytest.approx(2)


async def test_the_gateway_does_not_route_metrics(exchange: Exchange) -> None:
    """Behind ``deploy/envoy`` (a real Envoy) the metrics are not reachable from outside,
    however the path is spelled; Bursa's own port still serves them to Prometheus."""
    async with served(exchange.app) as ranger:
        upstream = urlsplit(ranger).port or 0
        async with (
            gateway(upstream) as url,
            httpx.AsyncClient(base_url=url) as outside,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{upstream}") as prometheus,
        ):
            for path in ("/metrics", "/metrics?format=text", "/%6detrics", "//metrics"):
                response = await outside.get(path)
                assert "bursa_http_requests_total" not in response.text, path
            assert (await outside.get("/metrics")).status_code == 404
            assert (await outside.get("/api/v2/peatio/public/markets")).status_code == 200
            direct = await prometheus.get("/metrics")
            assert direct.status_code == 200
            assert "bursa_http_requests_total" in direct.text
