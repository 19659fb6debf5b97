"""Ranger's websocket metrics, as ``/metrics`` shows them: connections by kind that come and
go with their clients, streams subscribed, messages sent, slow clients dropped, refused
connections, and the hub's resyncs."""

import asyncio
from typing import cast

import httpx
from prometheus_client import REGISTRY
from websockets.asyncio.client import connect

from bursa.api.deps import EngineView
from bursa.api.ranger.hub import RESYNC, TOO_SLOW, Limits, RangerHub
from bursa.events.bus import BOOK, Event, InProcessBus
from tests.api.members import MARKET, Exchange, exchange  # noqa: F401 - fixture
from tests.api.test_ranger import cookie_of, receive, served
from tests.metrics.scrape import Samples, parse, value

BUY = {"market": "btcusdt", "side": "buy", "volume": "0.01", "price": "100"}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    return parse(response.text)


async def test_connections_come_and_go_with_their_clients(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "usdt", "1000")
    async with served(exchange.app) as ranger:
        base = ranger.replace("ws://", "http://").removesuffix("/api/v2/ranger")
        async with httpx.AsyncClient(base_url=base) as http:
            before = await scrape(http)
            public_url = f"{ranger}/public/?stream=btcusdt.ob-inc,btcusdt.trades"
            private_url = f"{ranger}/private/?stream=order"
            async with (
                connect(public_url) as public,
                connect(private_url, additional_headers=cookie_of(alice)) as private,
            ):
                assert "btcusdt.ob-snap" in await receive(public)
                placed = await alice.post(f"{MARKET}/orders", BUY, {"X-CSRF-Token": alice.csrf})
                assert placed.status_code == 201, placed.text
                assert (await receive(private))["order"]["id"] == placed.json()["id"]
                assert "btcusdt.ob-inc" in await receive(public)
                during = await scrape(http)

            def added(samples: Samples, name: str, **labels: str) -> float:
                return value(samples, name, **labels) - value(before, name, **labels)

            connections = "bursa_ws_connections"
            assert added(during, connections, kind="public") == 1
            assert added(during, connections, kind="private") == 1
            assert added(during, "bursa_ws_subscriptions") == 3
            # The snapshot, the increment and the member's order at least.
            assert added(during, "bursa_ws_messages_sent_total") >= 3
            for _ in range(100):  # the server lets go of the connections once they close
                after = await scrape(http)
                if (
                    added(after, connections, kind="public")
                    == 0
                    == added(after, connections, kind="private")
                ):
                    break
                await asyncio.sleep(0.05)
            assert added(after, connections, kind="public") == 0
            assert added(after, connections, kind="private") == 0
            assert added(after, "bursa_ws_subscriptions") == 0


async def test_slow_clients_and_refused_connections_are_counted() -> None:
    hub = RangerHub(cast(EngineView, None), InProcessBus(), Limits(outbox=2, per_ip=1))
    drops = sample("bursa_ws_slow_client_drops_total")
    refusals = sample("bursa_rate_limit_refusals_total", scope="ws-ip")
    slow = hub.connect("10.0.0.1", None)
    assert slow is not None
    assert hub.connect("10.0.0.1", None) is None  # one connection per address here
    assert sample("bursa_rate_limit_refusals_total", scope="ws-ip") == refusals + 1
    hub.subscribe(slow, ["btcusdt.trades"])
    for n in range(5):  # nobody reads: the third message finds the outbox full
        hub.publish("btcusdt.trades", {"n": n})
    assert (slow.close_code, slow.close_reason) == (TOO_SLOW, "too slow")
    assert sample("bursa_ws_slow_client_drops_total") == drops + 1
    hub.disconnect(slow)


async def test_a_resync_is_counted(exchange: Exchange) -> None:
    bus = InProcessBus()
    hub = RangerHub(exchange.runner, bus, Limits(backlog=3))
    resyncs = sample("bursa_ws_resyncs_total")
    await hub.start()
    try:
        conn = hub.connect("10.0.0.1", None)
        assert conn is not None
        hub.subscribe(conn, ["btcusdt.ob-inc"])
        levels = {"market": "btcusdt", "levels": [["sell", 3_000_000, 100_000]]}
        bus.publish([Event(BOOK, 10**9 + n, levels) for n in range(4)])  # one too many
        await asyncio.wait_for(conn.closed.wait(), 5)
        assert conn.close_code == RESYNC
        assert sample("bursa_ws_resyncs_total") == resyncs + 1
        hub.disconnect(conn)
    finally:
        await hub.stop()
