"""A real ``bursa up`` for the browser tests: a process of its own, on a scratch database
of the machine's PostgreSQL, with its own port, data folder and SMTP server.

``bursa up`` on a database it does not run itself refuses to start without an SMTP server
(it keeps mail as files only on the embedded default), so the tests run one: aiosmtpd,
delivering into the Maildir ``<data dir>/mail``, where the tests read the mailed codes.
"""

import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

READY_PATH = "/api/v2/peatio/public/health/ready"
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bursa_command() -> list[str]:
    """The installed ``bursa`` beside this interpreter (``.venv/bin/bursa``)."""
    script = Path(sys.executable).with_name("bursa")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bursa"]


class Mail:
    """The Maildir an SMTP server on a free port delivers to; codes are read from it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.controller = Controller(Mailbox(folder), hostname="127.0.0.1", port=self.port)
        self.taken: set[str] = set()  # messages whose code a test already used
        self.running = False

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False

    def code(self, to: str, pattern: str, timeout_s: float = 10) -> str:
        """The code (``pattern``'s group 1) of the first mail to ``to`` not read before."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self._unread_match(to, re.compile(pattern))
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail to {to} matching {pattern!r} in {self.folder}")
            time.sleep(0.1)

    def _unread_match(self, to: str, pattern: re.Pattern[str]) -> str | None:
        new = self.folder / "new"
        if not new.is_dir():
            return None
        # Maildir names start with the delivery time: sorted, the oldest first.
        for path in sorted(new.iterdir(), key=lambda p: p.stat().st_mtime_ns):
            if path.name in self.taken:
                continue
            with path.open("rb") as file:
                message = email.message_from_binary_file(file, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if to.lower() not in str(message["To"]).lower():
                continue
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            match = pattern.search(text)
            if match:
                self.taken.add(path.name)
                return match.group(1)
        return None


class BursaServer:
    """``bursa up --demo`` as an operator starts it; stopped with Ctrl-C (SIGINT) and
    started again on the same port, database and data folder."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env = env
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None, "already running"
        with self.log_path.open("ab") as log:
            log.write(f"== bursa up on port {self.port}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [*bursa_command(), "up", "--port", str(self.port), "--demo"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(self.process)

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bursa up exited ({process.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.url + READY_PATH, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"bursa up was not ready in {START_TIMEOUT_S} s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self) -> int:
        """Ctrl-C, then a second one if it lingers (open websockets); its exit status."""
        process, self.process = self.process, None
        if process is None:
            return 0
        for signum in (signal.SIGINT, signal.SIGINT, signal.SIGKILL):
            if process.poll() is None:
                process.send_signal(signum)
            try:
                return process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                continue
        return process.wait()

    def restart(self) -> None:
        status = self.stop()
        assert status == 0, f"bursa up stopped with status {status}:\n{self.log_tail()}"
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.is_file():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def server_env(database_url: str, data_dir: Path, smtp_url: str) -> dict[str, str]:
    """What ``bursa up`` is given: the scratch database, its own data folder and mail; no
    RabbitMQ or Redis (in process: one server needs neither)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURSA_")}
    return env | {
        "BURSA_DATABASE_URL": database_url,
        "BURSA_DATA_DIR": str(data_dir),
        "BURSA_SMTP_URL": smtp_url,
        # Plain HTTP on 127.0.0.1: cookies marked Secure would not be sent back.
        "BURSA_COOKIE_SECURE": "false",
        # The flow withdraws without passing KYC (level 1: email confirmed); the KYC
        # pages have tests of their own.
        "BURSA_MIN_WITHDRAW_LEVEL": "1",
        "BURSA_LOG_LEVEL": "warning",
    }


def run_bursa(env: dict[str, str], *args: str) -> Callable[[], None]:
    """Start ``bursa <args>`` now; the returned callable waits for it and checks it."""
    process = subprocess.Popen(
        [*bursa_command(), *args],
        env=env | {"COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    output: list[bytes] = []

    def finished() -> None:
        if not output:  # once: later calls only check again
            output.append(process.communicate(timeout=120)[0])
        assert process.returncode == 0, output[0].decode(errors="replace")

    return finished
