"""Fixtures of the browser tests: one real ``bursa up`` for the whole run (per pytest-xdist
worker), Debian's Chromium, and the artifact folder of screenshots.

Outside CI a missing piece (the browser, the built web app, PostgreSQL) skips the tests
with the reason; in CI (``CI=true``) it fails them.
"""

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import asyncpg
import pytest
from playwright.sync_api import expect, sync_playwright

from bursa.api import web
from bursa.db.scratch import with_database
from tests.conftest import IN_CI, SERVER_URL, require
from tests.e2e.api import PASSWORD, Admins, sign_in
from tests.e2e.browser import AXE, TIMEOUT_MS, Session
from tests.e2e.server import BursaServer, Mail, free_port, run_bursa, server_env

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BURSA_CHROMIUM", "/usr/bin/chromium")
MAKER, CHECKER = "maker@example.com", "checker@example.com"
ARTIFACTS = Path(os.environ.get("BURSA_E2E_ARTIFACTS", REPO / ".e2e-artifacts"))


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Marks a failed test, for its browser to keep what the pages showed."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


def missing(reason: str) -> None:
    """Fail in CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


class Stack:
    """The running exchange: its server, the mail it sends, and two admins (made by
    ``bursa user create`` while the first steps run: each such process takes seconds)."""

    def __init__(self, server: BursaServer, mail: Mail, making: list[Callable[[], None]]):
        self.server = server
        self.mail = mail
        self._making = making
        self._admins: Admins | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def admins(self) -> Admins:
        if self._admins is None:
            for made in self._making:
                made()
            self._admins = Admins(sign_in(self.url, MAKER), sign_in(self.url, CHECKER))
        return self._admins

    def settle(self) -> None:
        """Waits for the admin processes (before the database they write to is dropped)."""
        for made in self._making:
            with contextlib.suppress(AssertionError):
                made()


async def _database(sql: str) -> None:
    conn = await asyncpg.connect(SERVER_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium (never one Playwright downloads): ``BURSA_CHROMIUM`` or
    ``/usr/bin/chromium``."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set BURSA_CHROMIUM)")
    return CHROMIUM


@pytest.fixture(scope="session")
def stack(
    chromium: str, tmp_path_factory: pytest.TempPathFactory, artifacts: Path
) -> Iterator[Stack]:
    """``bursa up --demo`` on a scratch database, with its own data folder and SMTP
    server, and two admins made by ``bursa user create`` (maker and checker). Only for a
    browser: without one no server is started."""
    if not web.DIST.joinpath("index.html").is_file():
        missing(f"the web app is not built in {web.DIST}: run scripts/build-web")
    if not AXE.is_file():
        missing(f"axe-core is not installed at {AXE}: run scripts/build-web (npm ci)")
    require(SERVER_URL, 5432, "PostgreSQL")
    data_dir = tmp_path_factory.mktemp("bursa-e2e")
    mail = Mail(data_dir / "mail")
    name = f"bursa_e2e_{uuid.uuid4().hex[:12]}"  # a killed run leaves it: drop bursa_e2e_*
    env = server_env(with_database(SERVER_URL, name), data_dir, mail.url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = BursaServer(env, free_port(), artifacts / f"bursa-up-{worker}.log")
    server.log_path.unlink(missing_ok=True)  # this run's log only
    asyncio.run(_database(f'CREATE DATABASE "{name}"'))
    try:
        mail.start()
        server.start()
        making = [
            run_bursa(
                env, "user", "create", "--email", email, "--password", PASSWORD, "--role", role
            )
            for email, role in ((MAKER, "admin"), (CHECKER, "superadmin"))
        ]
        stack = Stack(server, mail, making)
        yield stack
        stack.settle()
    finally:
        server.stop()
        mail.stop()
        asyncio.run(_database(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def browser(
    chromium: str, stack: Stack, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Session]:
    """A browser for one test; its screenshots go to ``<artifacts>/<test name>/``."""
    folder = artifacts / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        session = Session(launched, stack.url, folder)
        try:
            yield session
        finally:
            session.close(failed=request.node.stash.get(FAILED, False))
            launched.close()
