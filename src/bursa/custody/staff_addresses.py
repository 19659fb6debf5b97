"""A member's deposit address asked for by staff (Peatio's admin ``deposit_address`` and
the Management API's ``deposit_address/new``): the very address the member's own
``GET account/deposit_address/{currency}`` answers (``bursa.custody.addresses``), made now
if the member has none. Refusals carry the caller's ``area`` (``admin``, ``management``)
instead of the member API's ``account``; a new address is audited, with who asked."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import address_formats, addresses
from bursa.custody.tables import payment_addresses
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies
from bursa.trading import audit
from bursa.trading.audit import Actor


@dataclass(frozen=True, slots=True)
class AddressAsk:
    member_id: int
    currency: str
    blockchain_key: str | None = None  # must be the currency's, if sent
    address_format: str | None = None  # refused on every chain Bursa ships (address_formats)


async def deposit_address(
    session: AsyncSession,
    plugins: addresses.Plugins | None,
    actor: Actor,
    ask: AddressAsk,
    *,
    area: str,
) -> tuple[addresses.DepositAddress, bool]:
    """The member's address for ``ask.currency`` and whether it was made now; the caller
    commits. A ``blockchain_key`` other than the currency's is refused
    (``<area>.blockchain_key.doesnt_exist``: Bursa serves each currency on one chain)."""
    code = ask.currency.lower()
    key = await session.scalar(select(currencies.c.blockchain_key).where(currencies.c.id == code))
    if ask.blockchain_key is not None and key is not None and ask.blockchain_key != key:
        raise BursaError(Refusal.INVALID, f"{area}.blockchain_key.doesnt_exist")
    had = await session.scalar(
        select(payment_addresses.c.address).where(
            payment_addresses.c.member_id == ask.member_id,
            payment_addresses.c.blockchain_key == key,
        )
    )
    try:
        if ask.address_format is not None:
            await address_formats.refuse_format(session, code)
        if plugins is None:
            raise addresses.AddressRefused(addresses.WALLET_NOT_FOUND)
        found = await addresses.deposit_address(session, plugins, ask.member_id, code)
    except addresses.AddressRefused as exc:
        raise BursaError(
            Refusal.INVALID, *(c.replace("account.", f"{area}.", 1) for c in exc.codes)
        ) from exc
    made = had is None
    if made:
        await audit.record(
            session,
            actor,
            "payment_address.create",
            "PaymentAddress",
            ask.member_id,
            after={
                "member_id": ask.member_id,
                "blockchain_key": found.blockchain_key,
                "address": found.address,
            },
        )
    return found, made
