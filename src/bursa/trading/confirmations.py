"""How many confirmations a coin deposit (or payout) needs: its blockchain's
``min_confirmations``, as in Peatio 3, unless the currency sets an override.

The rule lives here, as one SQL expression, so the scanner, the sender, the public and admin
currency answers, the member's deposits and ``bursa custody list`` can never disagree.
``blockchains`` is custody's table, named here by its columns only (this package sits below
custody and does not import it).
"""

from typing import Any

from sqlalchemy import Integer, String, column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bursa.ledger.tables import currencies

_blockchains = table("blockchains", column("key", String), column("min_confirmations", Integer))


def required_confirmations() -> ColumnElement[Any]:
    """The currency's override, else its blockchain's ``min_confirmations``; NULL for a
    currency on no configured chain (fiat, or a coin whose chain is not set up)."""
    chain = (
        select(_blockchains.c.min_confirmations)
        .where(_blockchains.c.key == currencies.c.blockchain_key)
        .scalar_subquery()
    )
    return func.coalesce(currencies.c.min_confirmations, chain)


def currency_query() -> Any:
    """``currencies`` with ``required_confirmations``: what currency answers present."""
    return select(currencies, required_confirmations().label("required_confirmations"))


async def required_by_currency(session: AsyncSession, codes: set[str]) -> dict[str, int]:
    """``required_confirmations`` of each of ``codes`` that has one."""
    if not codes:
        return {}
    query = select(currencies.c.id, required_confirmations().label("needed")).where(
        currencies.c.id.in_(codes)
    )
    return {row.id: int(row.needed) for row in await session.execute(query) if row.needed}
