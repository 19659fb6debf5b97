"""A real anvil node (Foundry's local Ethereum node, installed by ``scripts/install-anvil``)
for the Ethereum plugin's tests: one per test session, on a free port, stopped by pid."""

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
CHAIN_ID = 31337
IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Anvil:
    url: str
    pid: int

    async def rpc(self, method: str, *params: Any) -> Any:
        """Call the node directly (anvil_*, evm_* and the odd eth_* the tests need)."""
        async with httpx.AsyncClient(timeout=10) as client:
            answer = (
                await client.post(
                    self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
                )
            ).json()
        if "error" in answer:
            raise AssertionError(f"anvil refused {method}: {answer['error']}")
        return answer["result"]

    async def set_balance(self, address: str, wei: int) -> None:
        await self.rpc("anvil_setBalance", address, hex(wei))

    async def mine(self, blocks: int = 1) -> None:
        await self.rpc("anvil_mine", hex(blocks))

    async def automine(self, on: bool) -> None:
        await self.rpc("evm_setAutomine", on)

    async def height(self) -> int:
        return int(await self.rpc("eth_blockNumber"), 16)


def _wait_until_up(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise AssertionError(f"anvil exited with code {process.returncode} at start")
        try:
            answer = httpx.post(
                url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=1
            )
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"anvil did not answer at {url} within 20 s")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    if not ANVIL.exists():
        message = f"anvil is not installed at {ANVIL}: run scripts/install-anvil"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen(
        [
            str(ANVIL),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(CHAIN_ID),
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url)
        yield Anvil(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
