"""Shared fixtures: real PostgreSQL and RabbitMQ, never mocks.

Each test that needs a database gets a fresh one, cloned from a template that was migrated
and seeded with the demo seeds once per run. Outside CI a missing server skips the tests
that need it, with the reason; in CI (``CI=true``) it fails them.
"""

import asyncio
import contextlib
import gc
import os
import queue
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


class DatabasePool:
    """Clones of the template made ahead of the tests that need them, and dropped behind
    them, by one background thread: creating and dropping a database (about 0.15 s) then
    overlaps the tests instead of adding to each of them."""

    def __init__(self, template: str, ahead: int = 2) -> None:
        self.template = template
        self.ready: queue.Queue[str] = queue.Queue(maxsize=ahead)
        self.doomed: queue.Queue[str] = queue.Queue()
        self.stopping = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=asyncio.run, args=(self._work(),), daemon=True)
        self.thread.start()

    async def _work(self) -> None:
        conn = await asyncpg.connect(SERVER_URL)
        try:
            while not self.stopping.is_set():
                while not self.doomed.empty():  # drop first: it frees the disk
                    await self._drop(conn, self.doomed.get())
                if self.ready.full():
                    with contextlib.suppress(queue.Empty):
                        await self._drop(conn, self.doomed.get(timeout=0.05))
                    continue
                name = f"bursa_test_{uuid.uuid4().hex[:12]}"
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
                self.ready.put(name)
        except BaseException as exc:  # handed to the next test that asks, never lost
            self.failure = exc
            raise
        finally:
            while not self.doomed.empty():
                await self._drop(conn, self.doomed.get())
            while not self.ready.empty():
                await self._drop(conn, self.ready.get())
            await conn.close()

    @staticmethod
    async def _drop(conn: asyncpg.Connection, name: str) -> None:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def take(self) -> str:
        """A fresh clone (waits while the thread makes one)."""
        while True:
            if self.failure is not None:
                raise RuntimeError("the database pool stopped") from self.failure
            with contextlib.suppress(queue.Empty):
                return self.ready.get(timeout=0.5)

    def give_back(self, name: str) -> None:
        """``name`` is done with: dropped in the background."""
        self.doomed.put(name)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)


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


@pytest.fixture(scope="session")
def database_pool(template_database: str) -> Iterator[DatabasePool]:
    pool = DatabasePool(template_database)
    yield pool
    pool.close()


@pytest.fixture
async def fresh_database_url(database_pool: DatabasePool) -> AsyncIterator[str]:
    """URL of a new database: migrated, demo-seeded, no members, no orders."""
    name = await asyncio.to_thread(database_pool.take)
    yield database_url(name)
    database_pool.give_back(name)


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
