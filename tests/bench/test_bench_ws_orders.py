"""``bursa bench ws-orders``: a tiny run, from the command line as a user runs it, places
orders over real private websockets and reports their answers."""

import json

from tests.test_cli import bursa


def test_bench_ws_orders_places_orders_over_the_websocket(template_database: str) -> None:
    from tests.conftest import SERVER_URL

    done = bursa(
        "bench", "ws-orders", "--seconds", "2", "--connections", "2", "--pipeline", "4",
        "--json", "--database-url", SERVER_URL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["orders"] > 0
    assert figures["errors"] == 0, figures["error_kinds"]
    assert (figures["connections"], figures["pipeline"]) == (2, 4)
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert figures["orders_per_s"] > 0
    assert figures["server_cpu_us_per_order"] > 0


def test_bench_ws_orders_counts_each_placement_of_a_bulk(template_database: str) -> None:
    from tests.conftest import SERVER_URL

    done = bursa(
        "bench", "ws-orders", "--seconds", "1", "--connections", "2", "--pipeline", "1",
        "--bulk", "5", "--json", "--database-url", SERVER_URL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["bulk"] == 5
    assert figures["errors"] == 0, figures["error_kinds"]
    assert figures["orders"] >= 5
    assert figures["orders"] % 5 == 0  # every placement of every answered bulk
