"""Shared fixtures: real PostgreSQL and RabbitMQ, never mocks.

Each test that needs a database gets a fresh one, cloned from a template that was migrated
and seeded with the demo seeds once per run. Outside CI a missing server skips the tests
that need it, with the reason; in CI (``CI=true``) it fails them.

``scripts/test`` runs the suite in two processes (pytest-xdist): every process builds its
own template and pool, ports are free ones, queue, exchange and key names carry a random
part, and the one test that stops RabbitMQ runs while no other test uses it (``amqp_url``).
"""

import asyncio
import contextlib
import fcntl
import gc
import os
import queue
import socket
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from argon2 import PasswordHasher

from bursa.db.migrate import upgrade
from bursa.db.session import create_engine
from bursa.identity import passwords
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.seeds import DEMO_SEEDS, seed_file

# Password hashes in this process are argon2id at its cheapest (microseconds instead of
# about 0.2 s of CPU each); what they assert does not depend on the cost. ``bursa``
# processes that tests start hash with the defaults.
passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

SERVER_URL = os.environ.get(
    "BURSA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BURSA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("BURSA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
IN_CI = os.environ.get("CI", "").lower() == "true"

# Every test run on this machine that uses RabbitMQ holds this file locked: shared, or alone
# for a test marked ``stops_rabbitmq`` (it stops the broker under everyone else's feet).
RABBITMQ_LOCK = Path(tempfile.gettempdir()) / "bursa-tests-rabbitmq.lock"


@pytest.fixture(scope="session", autouse=True)
def data_dir_of_this_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``bursa`` processes started without ``BURSA_DATA_DIR`` keep their key files in this
    worker's temporary directory, not in the checkout's ``.bursa`` (where two workers would
    race to create the same key file)."""
    if "BURSA_DATA_DIR" in os.environ:
        yield
        return
    os.environ["BURSA_DATA_DIR"] = str(tmp_path_factory.mktemp("bursa-data"))
    yield
    os.environ.pop("BURSA_DATA_DIR", None)


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
    them, by two background threads: a test neither waits for its database to be made nor
    for the last one to be dropped (a drop forces a PostgreSQL checkpoint: 0.1 s on a quiet
    server, seconds on a busy one, so drops never hold up the making)."""

    def __init__(self, template: str, ahead: int = 3) -> None:
        self.template = template
        self.ready: queue.Queue[str] = queue.Queue(maxsize=ahead)
        self.doomed: queue.Queue[str] = queue.Queue()
        self.stopping = threading.Event()  # make no more
        self.drained = threading.Event()  # nothing more will be doomed
        self.failure: BaseException | None = None
        self.maker = threading.Thread(target=self._run, args=(self._make,), daemon=True)
        self.dropper = threading.Thread(target=self._run, args=(self._drop_doomed,), daemon=True)
        self.maker.start()
        self.dropper.start()

    def _run(self, work: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
        async def connected() -> None:
            conn = await asyncpg.connect(SERVER_URL)
            try:
                await work(conn)
            finally:
                await conn.close()

        try:
            asyncio.run(connected())
        except BaseException as exc:  # handed to the next test that asks, never lost
            self.failure = exc
            raise

    async def _make(self, conn: asyncpg.Connection) -> None:
        while not self.stopping.is_set():
            name = f"bursa_test_{uuid.uuid4().hex[:12]}"
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            while True:
                try:
                    self.ready.put(name, timeout=0.2)
                    break
                except queue.Full:
                    if self.stopping.is_set():
                        self.doomed.put(name)
                        return

    async def _drop_doomed(self, conn: asyncpg.Connection) -> None:
        while True:
            try:
                name = self.doomed.get(timeout=0.2)
            except queue.Empty:
                if self.drained.is_set():
                    return
                continue
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
        """Stop making clones and drop every one left (waits for the drops)."""
        self.stopping.set()
        self.maker.join(timeout=60)
        while not self.ready.empty():
            self.doomed.put(self.ready.get())
        self.drained.set()
        self.dropper.join(timeout=300)


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
def amqp_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The RabbitMQ to test against (guest/guest on 127.0.0.1 by default), shared with the
    other tests that use it, or held alone by a test marked ``stops_rabbitmq``."""
    require(AMQP_URL, 5672, "RabbitMQ")
    alone = request.node.get_closest_marker("stops_rabbitmq") is not None
    with RABBITMQ_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        yield AMQP_URL  # the lock goes with the file's closing


@pytest.fixture
def redis_url() -> str:
    """The Redis to test against (127.0.0.1:6379 by default)."""
    require(REDIS_URL, 6379, "Redis")
    return REDIS_URL


@pytest.fixture
def local_keystore(tmp_path_factory: pytest.TempPathFactory) -> LocalKeyStore:
    """The embedded default's key store, with a fresh key file."""

    return LocalKeyStore(tmp_path_factory.mktemp("keys") / "master.key")
