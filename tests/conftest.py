"""Shared fixtures: real PostgreSQL and RabbitMQ, never mocks.

Each test that needs a database gets a fresh one, cloned from a template that was migrated
and seeded with the demo seeds once per run. Outside CI a missing server skips the tests
that need it, with the reason; in CI (``CI=true``) it fails them.
"""

import asyncio
import gc
import os
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bursa.db.migrate import upgrade
from bursa.db.session import create_engine
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.seeds import DEMO_SEEDS, seed_file

SERVER_URL = os.environ.get(
    "BURSA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BURSA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("BURSA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _dump_waiting_tasks(nodeid: str) -> None:
    """Print where every unfinished asyncio task waits: a hung coroutine shows its await
    chain here, where pytest-timeout's thread dump shows only the idle event loop."""
    tasks = [o for o in gc.get_objects() if isinstance(o, asyncio.Task) and not o.done()]
    print(f"\n== {nodeid} is close to its timeout; {len(tasks)} tasks wait:", file=sys.stderr)
    for task in tasks:
        print(f"-- {task.get_name()}", file=sys.stderr)
        awaited: object = task.get_coro()
        while awaited is not None:  # down the await chain, outermost first
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is not None:
                print(f"   {frame.f_code.co_filename}:{frame.f_lineno}", file=sys.stderr)
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    limit = float(item.config.getini("timeout") or 0)
    timer = None
    if limit > 30:
        timer = threading.Timer(limit - 20, _dump_waiting_tasks, (item.nodeid,))
        timer.daemon = True
        timer.start()
    try:
        return (yield)
    finally:
        if timer is not None:
            timer.cancel()


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require(url: str, default_port: int, what: str) -> None:
    """Fail in CI, skip elsewhere, when a required server does not answer."""
    if _reachable(url, default_port):
        return
    message = f"{what} is not reachable at {urlsplit(url).netloc}; start it (see README)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def database_url(name: str) -> str:
    """``SERVER_URL`` pointing at database ``name``."""
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    """A database migrated to head and seeded with the demo seeds, cloned per test."""
    require(SERVER_URL, 5432, "PostgreSQL")
    name = f"bursa_test_tpl_{uuid.uuid4().hex[:10]}"

    async def build() -> None:
        await _admin(f'CREATE DATABASE "{name}"')
        url = database_url(name)
        await upgrade(url)
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                await seed_file(conn, DEMO_SEEDS)
        finally:
            await engine.dispose()

    asyncio.run(build())
    yield name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def fresh_database_url(template_database: str) -> AsyncIterator[str]:
    """URL of a new database: migrated, demo-seeded, no members, no orders."""
    name = f"bursa_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield database_url(name)
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def amqp_url() -> str:
    """The RabbitMQ to test against (guest/guest on 127.0.0.1 by default)."""
    require(AMQP_URL, 5672, "RabbitMQ")
    return AMQP_URL


@pytest.fixture
def redis_url() -> str:
    """The Redis to test against (127.0.0.1:6379 by default)."""
    require(REDIS_URL, 6379, "Redis")
    return REDIS_URL


@pytest.fixture
def local_keystore(tmp_path_factory: pytest.TempPathFactory) -> LocalKeyStore:
    """The embedded default's key store, with a fresh key file."""

    return LocalKeyStore(tmp_path_factory.mktemp("keys") / "master.key")
