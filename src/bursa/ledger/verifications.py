"""The ledger verifications on record: each run of ``verify_ledger`` that should count
(``bursa ledger verify``, by hand or from cron) is written down, and every long-running
process shows the last one in its metrics (``bursa.metrics.ledger``), so Prometheus sees
the result from whichever process it scrapes, and an alert fires on a break or when no
verification ran for too long.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from bursa.ledger.verify import LedgerReport, verify_ledger
from bursa.metrics.ledger import LastVerification, show_last_verification

log = logging.getLogger(__name__)

SHOW_EVERY_S = 5.0  # how stale a process's figure of the last verification may be


async def record(conn: asyncpg.Connection, report: LedgerReport, source: str) -> None:
    """Write ``report``'s outcome down (its own transaction: a verification is read-only)."""
    await conn.execute(
        "INSERT INTO ledger_verifications (ok, breaks, accounts_checked, source)"
        " VALUES ($1, $2, $3, $4)",
        report.ok,
        len(report.breaks),
        report.accounts_checked,
        source[:32],
    )


async def verify_and_record(conn: asyncpg.Connection, source: str) -> LedgerReport:
    """Verify the ledger and record the outcome."""
    report = await verify_ledger(conn)
    await record(conn, report, source)
    return report


async def last(conn: asyncpg.Connection) -> LastVerification | None:
    """The newest verification on record (the primary key's index: one row read)."""
    row = await conn.fetchrow(
        "SELECT extract(epoch FROM verified_at) AS at, ok FROM ledger_verifications"
        " ORDER BY id DESC LIMIT 1"
    )
    return None if row is None else LastVerification(float(row["at"]), bool(row["ok"]))


async def _show_forever(database_url: str, every_s: float) -> None:
    conn: asyncpg.Connection | None = None
    complained = False
    try:
        while True:
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(database_url, timeout=5)
                show_last_verification(await last(conn))
                complained = False
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                if not complained:  # one line per outage, not one per attempt
                    log.warning("the last ledger verification cannot be read: %s", exc)
                    complained = True
                if conn is not None:
                    conn.terminate()
                conn = None
            await asyncio.sleep(every_s)
    finally:
        if conn is not None:
            conn.terminate()


@contextlib.asynccontextmanager
async def showing_last_verification(
    database_url: str, *, every_s: float = SHOW_EVERY_S
) -> AsyncIterator[None]:
    """Within the block, keep the metrics' last verification up to date (read every
    ``every_s`` on a connection of its own)."""
    task = asyncio.create_task(_show_forever(database_url, every_s), name="ledger-last-verify")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
