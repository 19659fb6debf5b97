"""Peatio's ``address_format`` (``legacy`` | ``cash``) of a member's deposit address.

The two formats are Bitcoin Cash's two spellings of one address (base58 and CashAddr);
Peatio converts on chains that have them and ignores the parameter elsewhere. No chain
Bursa ships (Ethereum, Bitcoin) spells its addresses two ways, so rather than answer an
address that is not in the format asked for, a format is refused on every coin with its
own code, after the refusals the currency itself earns (unknown, fiat, deposits off).
"""

from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody.addresses import CURRENCY_NOT_FOUND, DEPOSIT_DISABLED, AddressRefused
from bursa.ledger.tables import currencies

FORMATS = ("legacy", "cash")
NOT_SUPPORTED = "account.deposit_address.address_format_not_supported"


async def refuse_format(session: AsyncSession, currency: str) -> NoReturn:
    """Refuse an ``address_format`` asked for ``currency``, by the first code that
    applies; nothing is made or changed."""
    query = select(
        currencies.c.type, currencies.c.deposit_enabled, currencies.c.blockchain_key
    ).where(currencies.c.id == currency.lower())
    found = (await session.execute(query)).mappings().first()
    if found is None:
        raise AddressRefused(CURRENCY_NOT_FOUND)
    if found["type"] != "coin" or not found["deposit_enabled"] or not found["blockchain_key"]:
        raise AddressRefused(DEPOSIT_DISABLED)
    raise AddressRefused(NOT_SUPPORTED)
