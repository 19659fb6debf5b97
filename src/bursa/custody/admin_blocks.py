"""Asking a blockchain's node, for admins (the admin API's ``blockchains/clients``,
``blockchains/{key}/latest_block`` and ``blockchains/process_block``).

``process_block`` reads one block again through the chain's plugin and the scanner's own
code (``Scanner.rescan``): a payment to a member's address is recorded as the scan
records it (keyed by currency, txid and output, so asking twice records it once) and
credited as every deposit is, at its confirmations, through ``crediting``. Only blocks
the scan has passed can be read again: a block ahead of it is the scan's to read, and
one the chain has since replaced is the scan's to take back first.

A node that does not answer (or a chain whose plugin cannot be opened) is refused with
Peatio's codes (``admin.blockchain.latest_block``, ``admin.blockchain.process_block``),
after at most ``NODE_TIMEOUT_S``.
"""

import asyncio
import logging
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.custody import admin_blockchains, crediting, setup
from bursa.custody.addresses import Plugins
from bursa.custody.chain import ENTRY_POINTS, ChainError
from bursa.custody.scanner import Reorganised, Scanner
from bursa.errors import BursaError, Refusal
from bursa.trading import audit
from bursa.trading.audit import Actor

log = logging.getLogger(__name__)
NODE_TIMEOUT_S = 10.0  # an admin waits at most this long for a node
LATEST_BLOCK = f"{setup.BLOCKCHAIN}.latest_block"
PROCESS_BLOCK = f"{setup.BLOCKCHAIN}.process_block"
NOT_SCANNED = f"{setup.BLOCKCHAIN}.block_not_scanned"
REORGANISED = f"{setup.BLOCKCHAIN}.block_reorganised"
# What goes wrong when a node or its plugin cannot answer (never a refusal of ours).
NODE_FAILURES = (ChainError, LookupError, ValueError, OSError, TimeoutError)


def clients() -> list[str]:
    """The blockchain clients Bursa has: the chain plugins installed (``bursa.blockchains``
    entry points, e.g. ``bitcoin``, ``ethereum``)."""
    return sorted({point.name for point in entry_points(group=ENTRY_POINTS)})


async def latest_block(session: AsyncSession, plugins: Plugins, key: str) -> int:
    """The height of the newest block blockchain ``key``'s node knows."""
    await admin_blockchains.find(session, key)
    try:
        plugin, _ = await plugins.get(session, key)
        async with asyncio.timeout(NODE_TIMEOUT_S):
            return await plugin.latest_height()
    except NODE_FAILURES as exc:
        log.warning("%s: no latest block: %s", key, exc)
        raise BursaError(Refusal.INVALID, LATEST_BLOCK) from exc


async def process_block(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    submit: crediting.Submit,
    plugins: Plugins,
    actor: Actor,
    key: str,
    height: int,
) -> Any:
    """Read block ``height`` of blockchain ``key`` again and credit what it pays members;
    the blockchain's row. ``sessions`` gives the scanner its own transactions (the
    request's stays open for the audit entry)."""
    row = await admin_blockchains.find(session, key)
    if height >= row["height"]:
        raise BursaError(Refusal.INVALID, NOT_SCANNED)
    try:
        plugin, assets = await plugins.get(session, key)
        scanner = Scanner(sessions, key, plugin, assets, submit)
        async with asyncio.timeout(NODE_TIMEOUT_S):
            report = await scanner.rescan(height)
    except Reorganised as exc:
        raise BursaError(Refusal.INVALID, REORGANISED) from exc
    except NODE_FAILURES as exc:
        log.warning("%s: block %d not processed: %s", key, height, exc)
        raise BursaError(Refusal.INVALID, PROCESS_BLOCK) from exc
    found = {"block_number": height, "deposits": report.deposits, "credited": report.credited}
    await audit.record(
        session, actor, "blockchain.process_block", admin_blockchains.TARGET, key, after=found
    )
    return row
