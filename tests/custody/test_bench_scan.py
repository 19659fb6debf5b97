"""``bursa bench scan`` reading blocks from a real anvil through the Ethereum plugin."""

import asyncio
import json
import os
import subprocess
import sys

import pytest
import typer

from bursa.cli.bench import scan
from tests.custody.anvil import free_port
from tests.custody.test_ethereum import ETH, ONE_ETH, Chain, chain, funded, pay  # noqa: F401


def bursa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bursa", *args],
        env=os.environ | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_bench_scan_reads_blocks_through_the_plugin(chain: Chain) -> None:
    payers = [await funded(chain, ONE_ETH, 1_000) for _ in range(3)]
    first = await chain.anvil.height() + 1
    for payer in payers:  # automine: one block each, one ETH and one token transfer
        await pay(chain, payer, chain.treasury.address, 10**9, ETH)
        await pay(chain, payer, chain.treasury.address, 1_000, chain.token)
    token = f"btd:6:{chain.token.contract}"
    args = ["bench", "scan", "--server", chain.anvil.url, "--currency", "eth:18"]
    args += ["--currency", token, "--start", str(first), "--blocks", "6", "--json"]

    done = await asyncio.to_thread(bursa, *args)

    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert (figures["first_height"], figures["blocks"], figures["transfers"]) == (first, 6, 6)
    assert figures["blocks_per_s"] > 0 and figures["block_p99_ms"] > 0


def test_bench_scan_on_a_node_that_is_down_says_what_to_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(typer.Exit) as exited:
        scan(server=server, blocks=2)
    assert exited.value.exit_code == 1
    stderr = capsys.readouterr().err
    assert "eth_blockNumber on" in stderr and "check --server" in stderr
