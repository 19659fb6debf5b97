"""``promtool check metrics`` (Prometheus' own linter) on what the API's ``/metrics`` shows
once an exchange has run: names, types, units and help texts as Prometheus expects them.
promtool is Debian's ``prometheus`` package; CI installs it, elsewhere the test skips."""

import asyncio
import shutil
import subprocess

import httpx
import pytest

from tests.api.members import MARKET, Exchange, exchange  # noqa: F401 - fixture
from tests.conftest import IN_CI

BUY = {"market": "btcusdt", "side": "buy", "volume": "0.01", "price": "100"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is not installed (apt-get install prometheus)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


async def test_the_exposition_passes_promtool(exchange: Exchange) -> None:
    tool = promtool()
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "usdt", "1000")
    placed = await alice.post(f"{MARKET}/orders", BUY, {"X-CSRF-Token": alice.csrf})
    assert placed.status_code == 201, placed.text
    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://b") as client:
        exposition = (await client.get("/metrics")).text
    assert "bursa_engine_commands_total" in exposition
    assert "bursa_http_request_seconds_bucket" in exposition
    assert "bursa_ws_connections" in exposition
    checked = await asyncio.create_subprocess_exec(
        tool,
        "check",
        "metrics",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(checked.communicate(exposition.encode()), 30)
    problems = output.decode()
    assert checked.returncode == 0 and not problems.strip(), problems
