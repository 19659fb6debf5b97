"""Deposits admins record or refund (the admin API's ``deposits/new`` and
``deposits/{id}/refund``).

``new``: an admin records a fiat payment a member made (a bank transfer the admin has
seen). It becomes a ``submitted`` fiat deposit with its ``model.deposit.created`` event,
exactly as a payment gateway's (``management_deposits``): the currency's deposit fee
comes out of the amount, and the money moves only when an admin accepts it
(``deposits/actions``: ``crediting.accept``, the engine's ``Credit``, once). A ``tid`` sent
again with the same payment answers the first deposit; with another payment it is
refused; without a ``tid`` each request is a new deposit (Peatio's ``TID…``).

``refund``: Peatio sends a coin deposit it never credited (``skipped`` below the
minimum, ``rejected``, ``aml_suspicious``) back to an address, from the deposit wallet.
Bursa holds those coins at the member's deposit address, and paying from it needs the
sweeper's signing path extended to an outside address with a fee policy and a refund
record: not built. So a refundable deposit is refused on purpose
(``admin.deposit.refund_not_supported``), and any other is refused as Peatio does
(``admin.deposit.cannot_refund``): nothing moves in either case.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import admin_deposits, crediting
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.identity import directory
from bursa.trading import audit, deposits
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND

AREA = admin_deposits.AREA
CURRENCY_NOT_FIAT = f"{AREA}.currency_doesnt_exist"
MEMBER_NOT_FOUND = f"{AREA}.member_doesnt_exist"
INVALID_AMOUNT = f"{AREA}.invalid_amount"
TID_TAKEN = f"{AREA}.tid_taken"
CANNOT_REFUND = f"{AREA}.cannot_refund"
REFUND_NOT_SUPPORTED = f"{AREA}.refund_not_supported"
REFUNDABLE = ("skipped", deposits.REJECTED, "aml_suspicious")  # coin, never credited


@dataclass(frozen=True, slots=True)
class FiatPayment:
    """What a member paid (``amount``, before the currency's deposit fee)."""

    uid: str
    currency: str
    amount: Decimal
    tid: str | None


def _invalid(code: str) -> BursaError:
    return BursaError(Refusal.INVALID, code)


async def record(session: AsyncSession, actor: Actor, payment: FiatPayment) -> dict[str, Any]:
    """Record ``payment`` as a ``submitted`` fiat deposit (or answer the one its ``tid``
    made); the deposit as admins see it. The caller commits."""
    currency = await deposits.currency_rules(session, payment.currency)
    if currency is None or currency["type"] != "fiat":
        raise _invalid(CURRENCY_NOT_FIAT)
    try:
        to_units(payment.amount, currency["precision"])
    except OverPrecise:
        raise _invalid(INVALID_AMOUNT) from None
    fee = currency["deposit_fee"]
    if payment.amount < currency["min_deposit_amount"] or payment.amount <= fee:
        raise _invalid(INVALID_AMOUNT)
    member_id = await directory.member_id(session, uid=payment.uid)
    if member_id is None:
        raise _invalid(MEMBER_NOT_FOUND)
    row, created = await deposits.create(
        session,
        tid=payment.tid or deposits.new_tid(),
        member_id=member_id,
        uid=payment.uid,
        currency_id=currency["id"],
        type="fiat",
        amount=payment.amount - fee,
        fee=fee,
        transfer_type="fiat",
    )
    if not created:
        paid = (row["member_id"], row["currency_id"], row["type"], row["amount"] + row["fee"])
        if paid != (member_id, currency["id"], "fiat", payment.amount):
            raise _invalid(TID_TAKEN)
        return await admin_deposits.find(session, row["id"])
    await crediting.created(session, row)
    shown = await admin_deposits.find(session, row["id"])
    await audit.record(session, actor, "deposit.create", "Deposit", row["id"], after=shown)
    return shown


async def refund(session: AsyncSession, deposit_id: int, address: str) -> dict[str, Any]:
    """Refused, always (see the module): which refusal says whether the deposit could be
    refunded at all. ``address`` is checked by the edge."""
    row = await deposits.by_id(session, deposit_id)
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    if row["type"] != "coin" or row["state"] not in REFUNDABLE:
        raise _invalid(CANNOT_REFUND)
    raise _invalid(REFUND_NOT_SUPPORTED)
