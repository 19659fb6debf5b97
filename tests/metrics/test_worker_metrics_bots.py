"""The bots' metrics against a real Bursa (the bots' own fixtures): a placed ladder counts
its orders and shows them open, the kill switch shows the strategy halted, and a tick that
cannot reach the exchange counts an error."""

import asyncio
from pathlib import Path

from prometheus_client import REGISTRY

from bursa.bots.drivers.opendax import OpenDaxClient
from tests.bots.conftest import bursa  # noqa: F401 - the fixture
from tests.bots.exchange import MARKET, Bursa
from tests.bots.test_runner import (
    alice,  # noqa: F401 - the fixture
    bots_orders,
    config,
    runner,
)


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"strategy": "ladder"}) or 0.0


async def test_placed_orders_open_orders_halt_and_errors(
    bursa: Bursa,
    alice: OpenDaxClient,
    tmp_path: Path,
) -> None:
    placed = sample("bursa_bot_orders_placed_total")
    async with runner(bursa, config(bursa, tmp_path, on_stop="keep"), tmp_path) as bots:
        step = bots.strategies["ladder"]
        await step.step()
        assert len(bots_orders(await alice.open_orders(MARKET))) == 6
        assert sample("bursa_bot_orders_placed_total") == placed + 6
        assert sample("bursa_bot_open_orders") == 6
        assert sample("bursa_bot_halted") == 0
        assert sample("bursa_bot_inventory") == 0

        running = asyncio.create_task(bots.run(signals=False))
        await asyncio.sleep(0.2)
        bots.kill()  # SIGUSR1 or the kill switch file
        outcome = await asyncio.wait_for(running, 10)
    assert outcome.killed and outcome.clean
    assert sample("bursa_bot_halted") == 1
    assert sample("bursa_bot_open_orders") == 0

    errors = sample("bursa_bot_errors_total")
    down = config(bursa, tmp_path, host="http://127.0.0.1:1")  # nobody serves there
    async with runner(bursa, down, tmp_path) as unreachable:
        await unreachable.strategies["ladder"].step()
    assert sample("bursa_bot_errors_total") == errors + 1
