"""Members' beneficiaries: where a member may withdraw to, confirmed by a mailed code.

A new beneficiary is ``pending``; a 6-digit code is mailed to the member and must be typed
back (``activate``) before any withdrawal may use it: whoever steals a session cannot send
money to a new address without also reading the member's mail. The code is kept only as an
argon2 hash, works for ``PIN_TTL`` and ``PIN_ATTEMPTS`` tries, and a new one may be asked
for once a minute. ``data`` (the address) is sealed by the key store at rest and shown only
to its owner. Deleting archives: withdrawals made to it still name it.
"""

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.clock import SYSTEM_CLOCK, Clock
from bursa.custody.beneficiary_tables import beneficiaries
from bursa.custody.tables import blockchains
from bursa.db.pages import page_of
from bursa.errors import BursaError, Refusal
from bursa.identity import passwords
from bursa.identity.mail import Mail, Mailer
from bursa.ledger.tables import currencies
from bursa.secrets.keystore import KeyStore

DATA_KEY_NAME = "custody-beneficiary"  # the key store's key sealing ``data``
PENDING, ACTIVE, ARCHIVED = "pending", "active", "archived"
AVAILABLE = (PENDING, ACTIVE)  # what the member sees (Peatio's ``available_to_member``)
PIN_TTL = timedelta(hours=1)
PIN_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)
MOST_NAME, MOST_DESCRIPTION, MOST_ADDRESS, MOST_DATA = 64, 255, 128, 1024

NOT_FOUND = "account.beneficiary.doesnt_exist"
CURRENCY_NOT_FOUND = "account.currency.doesnt_exist"
BLOCKCHAIN_NOT_FOUND = "account.beneficiary.blockchain_key_doesnt_exist"
# Letters, digits and the separators real addresses use (``bitcoincash:q…``); anything
# else (quotes, ``;&?=``, spaces, control characters) is refused, as Peatio refuses it.
ADDRESS = re.compile(r"[A-Za-z0-9:._\-]+")
ETHEREUM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
ETHEREUM_CLIENTS = ("ethereum",)
# Names and descriptions are shown back in web pages and mails.
FORBIDDEN_TEXT = re.compile(r"[<>\"'`\\\x00-\x1f\x7f]")


class BeneficiaryRefused(BursaError):
    """A beneficiary request refused, by its Peatio code: nothing was changed."""

    def __init__(self, kind: Refusal, code: str) -> None:
        super().__init__(kind, code)


@dataclass(frozen=True, slots=True)
class NewBeneficiary:
    """A ``POST /beneficiaries`` as sent (strings not yet checked)."""

    currency: str
    name: str
    description: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """A beneficiary as its owner sees it (``data`` unsealed)."""

    id: int
    currency: str
    blockchain_key: str | None
    name: str
    description: str
    data: dict[str, Any]
    state: str
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class BeneficiaryFilter:
    """What a member's list is narrowed to (Peatio's ``currency``, ``state``,
    ``blockchain_key``)."""

    currency: str | None = None
    state: str | None = None
    blockchain_key: str | None = None


def _text(value: str, most: int, code: str) -> str:
    text = value.strip()
    if len(text) > most or FORBIDDEN_TEXT.search(text):
        raise BeneficiaryRefused(Refusal.INVALID, code)
    return text


def check_address(address: Any, client: str | None) -> str:
    """``address`` stripped, or refused: empty, too long, a refused character, or not the
    shape of the chain's addresses (Ethereum: ``0x`` and 40 hex digits)."""
    if not isinstance(address, str) or not address.strip():
        raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.missing_address_in_data")
    text = address.strip()
    if len(text) > MOST_ADDRESS or not ADDRESS.fullmatch(text):
        raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.failed_to_create")
    if client in ETHEREUM_CLIENTS and not ETHEREUM_ADDRESS.fullmatch(text):
        raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.failed_to_create")
    return text


def _check_data(data: Mapping[str, Any], kind: str, client: str | None) -> dict[str, Any]:
    """Every value a short string; a coin's ``address`` checked, a fiat's ``full_name``."""
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(value, str) or len(key) > 64:
            raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.failed_to_create")
        cleaned[key] = _text(value, MOST_DESCRIPTION, "account.beneficiary.failed_to_create")
    if kind == "coin":
        cleaned["address"] = check_address(data.get("address"), client)
    elif not cleaned.get("full_name"):
        raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.missing_full_name_in_data")
    if len(json.dumps(cleaned)) > MOST_DATA:
        raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.failed_to_create")
    return cleaned


def new_pin() -> tuple[str, str]:
    """A fresh 6-digit code and its argon2 hash (only the hash is stored)."""
    pin = f"{secrets.randbelow(10**6):06d}"
    return pin, passwords.hash_password(pin)


def pin_mail(to: str, app_name: str, pin: str, name: str) -> Mail:
    minutes = int(PIN_TTL.total_seconds() // 60)
    return Mail(
        to=to,
        subject=f"{app_name}: confirm a new withdrawal address",
        body=(
            f"Your beneficiary activation code is {pin}.\n"
            f"It activates the withdrawal address named {name!r}, for {minutes} minutes.\n"
            "If you did not add this address, do not type the code anywhere: change your "
            "password and delete the address."
        ),
    )


class Beneficiaries:
    """The member's beneficiaries over the database, the key store and the mailer; each
    method is one request inside the caller's session (it commits its own transaction)."""

    def __init__(
        self, keystore: KeyStore, mailer: Mailer, app_name: str, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._keystore = keystore
        self._mailer = mailer
        self._app_name = app_name
        self._clock = clock  # when a code was sent, and whether it has expired

    async def _present(self, rows: list[Any]) -> list[Beneficiary]:
        sealed = [row["data"] for row in rows]
        opened = await self._keystore.decrypt_many(DATA_KEY_NAME, sealed) if sealed else []
        return [
            Beneficiary(
                id=row["id"],
                currency=row["currency_id"],
                blockchain_key=row["blockchain_key"],
                name=row["name"],
                description=row["description"],
                data=json.loads(data),
                state=row["state"],
                sent_at=row["sent_at"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
            for row, data in zip(rows, opened, strict=True)
        ]

    async def listed(
        self,
        session: AsyncSession,
        member_id: int,
        found: BeneficiaryFilter,
        *,
        limit: int,
        page: int,
    ) -> tuple[list[Beneficiary], int]:
        """One page of the pending and active ones, newest first, and how many there are;
        an unknown ``blockchain_key`` is refused."""
        if found.blockchain_key is not None:
            known = select(blockchains.c.key).where(blockchains.c.key == found.blockchain_key)
            if await session.scalar(known) is None:
                raise BeneficiaryRefused(Refusal.INVALID, BLOCKCHAIN_NOT_FOUND)
        b = beneficiaries.c
        query = select(beneficiaries).where(b.member_id == member_id, b.state.in_(AVAILABLE))
        exact = [
            (b.currency_id, found.currency),
            (b.state, found.state),
            (b.blockchain_key, found.blockchain_key),
        ]
        query = query.where(*(column == value for column, value in exact if value is not None))
        rows = await page_of(session, query.order_by(b.id.desc()), limit, page)
        return await self._present(list(rows.rows)), rows.total

    async def _of_currency(
        self, session: AsyncSession, member_id: int, currency: str
    ) -> list[Beneficiary]:
        """All the pending and active ones in ``currency`` (to find a duplicate address)."""
        b = beneficiaries.c
        query = select(beneficiaries).where(
            b.member_id == member_id, b.state.in_(AVAILABLE), b.currency_id == currency
        )
        return await self._present(list((await session.execute(query)).mappings().all()))

    async def one(self, session: AsyncSession, member_id: int, beneficiary_id: int) -> Beneficiary:
        return (await self._present([await _available(session, member_id, beneficiary_id)]))[0]

    async def create(
        self,
        session: AsyncSession,
        member_id: int,
        email: str,
        ask: NewBeneficiary,
        *,
        active: bool = False,
    ) -> Beneficiary:
        """Record a pending beneficiary and mail its activation code to ``email``; or,
        ``active`` (the Management API, which vouches for the destination itself), an
        active one, with no code and no mail."""
        name = _text(ask.name, MOST_NAME, "account.beneficiary.too_long_name")
        if not name:
            raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.missing_name")
        description = _text(
            ask.description, MOST_DESCRIPTION, "account.beneficiary.too_long_description"
        )
        c = currencies.c
        async with session.begin():
            currency = (
                (
                    await session.execute(
                        select(c.id, c.type, c.blockchain_key, c.withdrawal_enabled, c.state).where(
                            c.id == ask.currency.lower()
                        )
                    )
                )
                .mappings()
                .first()
            )
            if currency is None or currency["state"] == "hidden":
                raise BeneficiaryRefused(Refusal.INVALID, CURRENCY_NOT_FOUND)
            if not currency["withdrawal_enabled"] or currency["state"] == "disabled":
                raise BeneficiaryRefused(Refusal.INVALID, "account.currency.withdrawal_disabled")
            client = None
            if currency["blockchain_key"] is not None:
                client = await session.scalar(
                    select(blockchains.c.client).where(
                        blockchains.c.key == currency["blockchain_key"]
                    )
                )
            data = _check_data(ask.data, currency["type"], client)
            if currency["type"] == "coin":
                for other in await self._of_currency(session, member_id, currency["id"]):
                    if other.data.get("address") == data["address"]:
                        raise BeneficiaryRefused(
                            Refusal.INVALID, "account.beneficiary.duplicate_address"
                        )
            pin, pin_hash = new_pin()
            sealed = await self._keystore.encrypt(DATA_KEY_NAME, json.dumps(data).encode())
            row = (
                (
                    await session.execute(
                        insert(beneficiaries)
                        .values(
                            member_id=member_id,
                            currency_id=currency["id"],
                            blockchain_key=currency["blockchain_key"],
                            name=name,
                            description=description,
                            data=sealed,
                            state=ACTIVE if active else PENDING,
                            pin_hash=None if active else pin_hash,
                            sent_at=None if active else self._clock.now(),
                        )
                        .returning(beneficiaries)
                    )
                )
                .mappings()
                .one()
            )
        if not active:
            await self._mailer.send(pin_mail(email, self._app_name, pin, name))
        return (await self._present([row]))[0]

    async def activate(
        self, session: AsyncSession, member_id: int, beneficiary_id: int, pin: str
    ) -> Beneficiary:
        """``pin`` right: active. Wrong: counted (committed), refused; after
        ``PIN_ATTEMPTS`` wrong ones, or ``PIN_TTL`` after sending, the code is expired."""
        async with session.begin():
            row = await _available(session, member_id, beneficiary_id, lock=True)
            if row["state"] != PENDING or row["pin_hash"] is None:
                raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.cant_activate")
            if row["pin_attempts"] >= PIN_ATTEMPTS or row["sent_at"] + PIN_TTL <= self._clock.now():
                raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.pin_expired")
            if not passwords.verify_password(row["pin_hash"], pin):
                await session.execute(
                    update(beneficiaries)
                    .where(beneficiaries.c.id == row["id"])
                    .values(pin_attempts=beneficiaries.c.pin_attempts + 1)
                )
                wrong = True
            else:
                wrong = False
                row = await _change(session, row["id"], state=ACTIVE, pin_hash=None)
        if wrong:
            raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.invalid_pin")
        return (await self._present([row]))[0]

    async def resend_pin(
        self, session: AsyncSession, member_id: int, email: str, beneficiary_id: int
    ) -> None:
        """A new code for a pending beneficiary (the old one stops working), once a minute."""
        async with session.begin():
            row = await _available(session, member_id, beneficiary_id, lock=True)
            if row["state"] != PENDING:
                raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.cant_resend")
            if row["sent_at"] is not None and row["sent_at"] + RESEND_INTERVAL > self._clock.now():
                raise BeneficiaryRefused(
                    Refusal.INVALID, "account.beneficiary.cant_resend_within_1_minute"
                )
            pin, pin_hash = new_pin()
            await _change(
                session, row["id"], pin_hash=pin_hash, pin_attempts=0, sent_at=self._clock.now()
            )
        await self._mailer.send(pin_mail(email, self._app_name, pin, row["name"]))

    async def archive(self, session: AsyncSession, member_id: int, beneficiary_id: int) -> None:
        async with session.begin():
            row = await _available(session, member_id, beneficiary_id, lock=True)
            await _change(session, row["id"], state=ARCHIVED, pin_hash=None)

    async def destination(
        self, session: AsyncSession, member_id: int, beneficiary_id: int, currency: str
    ) -> str:
        """The address of the member's active beneficiary for ``currency`` (withdrawals)."""
        row = (
            (
                await session.execute(
                    select(beneficiaries).where(
                        beneficiaries.c.id == beneficiary_id,
                        beneficiaries.c.member_id == member_id,
                        beneficiaries.c.state.in_(AVAILABLE),
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["currency_id"] != currency:
            raise BeneficiaryRefused(Refusal.INVALID, NOT_FOUND)
        if row["state"] != ACTIVE:
            raise BeneficiaryRefused(
                Refusal.INVALID, "account.beneficiary.invalid_state_for_withdrawal"
            )
        data = (await self._present([row]))[0].data
        address = data.get("address")
        if not isinstance(address, str) or not address:
            raise BeneficiaryRefused(Refusal.INVALID, "account.beneficiary.missing_address_in_data")
        return address


async def _available(
    session: AsyncSession, member_id: int, beneficiary_id: int, *, lock: bool = False
) -> Any:
    """The member's pending or active beneficiary; another member's is as unknown as none."""
    query = select(beneficiaries).where(
        beneficiaries.c.id == beneficiary_id,
        beneficiaries.c.member_id == member_id,
        beneficiaries.c.state.in_(AVAILABLE),
    )
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise BeneficiaryRefused(Refusal.NOT_FOUND, NOT_FOUND)
    return row


async def _change(session: AsyncSession, beneficiary_id: int, **values: Any) -> Any:
    return (
        (
            await session.execute(
                update(beneficiaries)
                .where(beneficiaries.c.id == beneficiary_id)
                .values(**values, updated_at=func.now())
                .returning(beneficiaries)
            )
        )
        .mappings()
        .one()
    )
