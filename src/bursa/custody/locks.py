"""Who may spend from a chain's hot wallets right now.

On account chains a transaction's nonce is the node's count of the sender's pending
transactions, read when signing. The withdrawal sender and the sweeper's surplus sends both
spend from the hot wallet, possibly in different processes; if both signed before either
broadcast, they would take the same nonce and one payment would be refused. Each holds this
PostgreSQL transaction-scoped advisory lock from signing until its broadcast returned.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@asynccontextmanager
async def hot_wallet_spending(
    sessions: async_sessionmaker[AsyncSession], blockchain_key: str
) -> AsyncIterator[None]:
    """Hold the chain's hot-wallet spending lock (waits while another holds it)."""
    async with sessions() as session, session.begin():
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
            {"name": f"bursa.hot.{blockchain_key}"},
        )
        yield
