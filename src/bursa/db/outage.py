"""The database being away, told apart from every other database error, and told once.

While PostgreSQL is down or restarting, every request and loop that needs it fails the
same way; an operator needs one line when it goes and one when it is back, and callers
need a clear "try again shortly" (503), not a server error with a traceback each time.

``is_database_unavailable`` recognises the failures that mean "not reachable right now":
a refused or broken connection (raised by the driver, directly or through SQLAlchemy),
a server shutting down, crashing or still starting up, or full. ``OutageLog`` tells an
outage once when it begins and once when it ends, for a loop that retries by itself;
``OutageWatch`` does the same for the API, probing until the database answers again.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType

import asyncpg
import sqlalchemy.exc

# The server is away, going away, still starting up, or full: a later try may succeed.
_SERVER_AWAY = (
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08: no connection
    asyncpg.exceptions.AdminShutdownError,  # 57P01: shut down under us
    asyncpg.exceptions.CrashShutdownError,  # 57P02: another backend crashed
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up, in recovery
    asyncpg.exceptions.TooManyConnectionsError,  # 53300
    # A connection cut off in the middle of an answer, used before its end was seen.
    asyncpg.exceptions.InternalClientError,
)
_DRIVERS = ("asyncpg", "sqlalchemy")


class ConnectionLost(Exception):
    """A connection of one's own closed under its user: the server went away. (asyncpg
    then says only "connection is closed", as it does for a connection closed on purpose,
    so the one who holds the connection tells.)"""


def raise_if_closed(exc: BaseException, *conns: asyncpg.Connection | None) -> None:
    """Raise ``ConnectionLost`` from ``exc`` when one of ``conns`` is closed."""
    if any(conn is not None and conn.is_closed() for conn in conns):
        raise ConnectionLost(type(exc).__name__) from exc


_CHAIN_DEPTH = 8


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: SQLAlchemy's ``orig``, causes and contexts."""
    seen: set[int] = set()
    pending = [exc]
    while pending and len(seen) < _CHAIN_DEPTH:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _raised_by_driver(exc: BaseException) -> bool:
    """Whether ``exc`` came up through the database driver (a socket error raised while
    connecting or talking to PostgreSQL, not to Redis, RabbitMQ or a blockchain node)."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.split(".", 1)[0] in _DRIVERS:
            return True
        tb = tb.tb_next
    return False


def is_database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means PostgreSQL cannot be reached now (see the module's doc)."""
    for inner in _chain(exc):
        if isinstance(inner, (*_SERVER_AWAY, ConnectionLost)):
            return True
        if isinstance(inner, sqlalchemy.exc.DBAPIError) and inner.connection_invalidated:
            return True
        if isinstance(inner, OSError) and _raised_by_driver(inner):
            return True  # refused, reset, unreachable, or timed out while connecting
    return False


def describe(exc: BaseException) -> str:
    """A short, secret-free name for the failure: its type, never its text (which may
    carry a URL with a password)."""
    for inner in _chain(exc):
        if isinstance(inner, (*_SERVER_AWAY, OSError)):
            return type(inner).__name__
        if isinstance(inner, ConnectionLost):
            return "connection closed"
    return type(exc).__name__


class OutageLog:
    """One line when the database goes away for ``what``, one when it is back, nothing
    in between: for a loop that retries by itself. ``failed`` says whether the failure
    was the database being away (logged once per outage); any other failure is the
    caller's to log."""

    def __init__(
        self, what: str, logger: logging.Logger | None = None, *, meanwhile: str = ""
    ) -> None:
        self.what = what
        self.log = logger or logging.getLogger(__name__)
        self.meanwhile = meanwhile  # what happens until it is back, for the first line
        self._since: float | None = None

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> bool:
        if not is_database_unavailable(exc):
            return False
        if self._since is None:
            self._since = time.monotonic()
            self.log.warning(
                "%s: the database is unavailable (%s)%s",
                self.what,
                describe(exc),
                f"; {self.meanwhile}" if self.meanwhile else "",
            )
        return True

    def succeeded(self) -> None:
        if self._since is not None:
            away, self._since = time.monotonic() - self._since, None
            self.log.warning("%s: the database is back after %.1f s", self.what, away)


Probe = Callable[[], Awaitable[object]]


class OutageWatch:
    """An ``OutageLog`` for what does not retry by itself (the API answers requests):
    ``lost`` tells the first failure of an outage and starts probing; the first probe
    that succeeds tells the return."""

    def __init__(
        self,
        what: str,
        probe: Probe,
        *,
        logger: logging.Logger | None = None,
        probe_every_s: float = 0.5,
    ) -> None:
        self.outage = OutageLog(what, logger, meanwhile="answering 503 until it is back")
        self.probe = probe
        self.probe_every_s = probe_every_s
        self._task: asyncio.Task[None] | None = None

    @property
    def down(self) -> bool:
        return self.outage.down

    def lost(self, exc: BaseException) -> None:
        """``exc`` (which ``is_database_unavailable``) failed a request."""
        if not self.outage.down and self.outage.failed(exc):
            self._task = asyncio.create_task(self._until_back(), name="database-probe")

    async def _until_back(self) -> None:
        while True:
            await asyncio.sleep(self.probe_every_s)
            if await self._answers():
                break
        self.outage.succeeded()

    async def _answers(self) -> bool:
        try:
            await self.probe()
        except Exception:  # still away (or failing otherwise): the failures say which
            return False
        return True

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
