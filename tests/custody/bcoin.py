"""A real bcoin node on regtest for the Bitcoin plugin's tests (tools/bcoin/launch.js).

bcoin is installed from npm by ``scripts/install-bcoin`` (``scripts/bootstrap dev`` runs
it). Without Node.js or that install the tests fail in CI and are skipped elsewhere.
"""

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "bcoin"
SEGWIT_HEIGHT = 432  # regtest activates segwit at 431: bech32 payments need it below them


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BcoinNode:
    """The running node: its RPC (with the API key) and a way to call it directly."""

    port: int
    wallet_port: int
    api_key: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def server(self) -> str:
        """The plugin's server URL, as a blockchain row would hold it."""
        return f"http://x:{self.api_key}@127.0.0.1:{self.port}/?network=regtest"

    def rpc(self, method: str, *params: Any, wallet: bool = False) -> Any:
        port = self.wallet_port if wallet else self.port
        body = {"method": method, "params": list(params), "id": 1}
        answer = httpx.post(
            f"http://127.0.0.1:{port}/", json=body, auth=("x", self.api_key), timeout=60
        ).json(parse_float=Decimal)
        if answer.get("error"):
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def mine(self, blocks: int, address: str) -> list[str]:
        hashes: list[str] = self.rpc("generatetoaddress", blocks, address)
        return hashes

    def height(self) -> int:
        return int(self.rpc("getblockcount"))


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def bcoin() -> Iterator[BcoinNode]:
    """bcoin on regtest, in memory, on free ports; stopped (by its pid) after the run."""
    node_binary = shutil.which("node")
    if node_binary is None:
        _unavailable("Node.js is not installed: the Bitcoin tests run a bcoin node")
    if not (TOOLS / "node_modules" / "bcoin").is_dir():
        _unavailable("bcoin is not installed: run scripts/install-bcoin")
    assert node_binary is not None
    port, wallet_port, p2p_port = free_port(), free_port(), free_port()
    api_key = secrets.token_hex(16)
    prefix = Path(os.environ.get("TMPDIR", "/tmp")) / f"bursa-bcoin-{secrets.token_hex(4)}"
    prefix.mkdir(parents=True)
    log = prefix / "node.log"
    arguments = [
        f"--prefix={prefix}",
        f"--http-port={port}",
        f"--wallet-http-port={wallet_port}",
        f"--port={p2p_port}",
        f"--api-key={api_key}",
        "--http-host=127.0.0.1",
        "--index-tx=true",
        "--index-address=true",
        "--wallet-witness=true",
        "--memory=true",
        "--workers=false",
        "--listen=false",
        "--max-outbound=1",
        "--log-level=warning",
        "--log-file=false",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [node_binary, str(TOOLS / "launch.js"), *arguments],
            cwd=TOOLS,
            env={**os.environ, "BCOIN_NETWORK": "regtest"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    node = BcoinNode(port, wallet_port, api_key, process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if node.rpc("getblockchaininfo")["chain"] == "regtest":
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"bcoin did not start; its log:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield node
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(prefix, ignore_errors=True)
