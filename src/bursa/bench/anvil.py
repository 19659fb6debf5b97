"""A local anvil node (Foundry's Ethereum node from npm, installed into ``tools/anvil`` by
``scripts/install-anvil``) for ``bursa bench scan`` and the custody tests: started on a
free port, stopped by its process id."""

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[3]
ANVIL = ROOT / "tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
CHAIN_ID = 31337


class AnvilMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Anvil:
    url: str
    pid: int

    async def rpc(self, method: str, *params: Any) -> Any:
        """Call the node directly (anvil_*, evm_* and the odd eth_* call)."""
        async with httpx.AsyncClient(timeout=30) as client:
            answer = (
                await client.post(
                    self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
                )
            ).json()
        if "error" in answer:
            raise RuntimeError(f"anvil refused {method}: {answer['error']}")
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
            raise RuntimeError(f"anvil exited with code {process.returncode} at start")
        try:
            answer = httpx.post(
                url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=1
            )
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"anvil did not answer at {url} within 20 s")
        time.sleep(0.05)


@contextmanager
def running_anvil() -> Iterator[Anvil]:
    """An anvil on a free port for the duration of the block."""
    if not ANVIL.exists():
        raise AnvilMissing(f"anvil is not installed at {ANVIL}: run scripts/install-anvil")
    port = free_port()
    command = [str(ANVIL), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--chain-id", str(CHAIN_ID), "--silent"]
    process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
        command,
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
