"""KYC steps a member takes: a verified phone (level 2) and a profile for review.

Phone numbers are personal data: stored only as key store ciphertext plus a masked form;
profiles are sealed the same way (``bursa.identity.pii``).
A code is sent by SMS and must be typed back; a verified phone sets the private label
``phone: verified``. A submitted profile sets ``profile: submitted`` for admins to review.
"""

import logging
import re
from datetime import date
from typing import Any

import phonenumbers
from sqlalchemy import delete, func, insert, select, update

from bursa.errors import Refusal
from bursa.formats import iso
from bursa.identity import pii
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.sms import SmsError, SmsSender
from bursa.identity.tables import phones, profiles

log = logging.getLogger(__name__)

PHONE_KEY = "bursa-pii"  # key store key that seals personal data
PHONE = "phone"
PHONES_PER_USER = 5
EDITABLE_PROFILE_STATES = ("drafted", "rejected")


def normalize_number(number: str) -> str:
    """The number in E.164 digits (no ``+``), if it is a possible international number
    (``+`` or ``00`` then country code); libphonenumber decides what is possible."""
    text = number.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+"):
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise IdentityError(Refusal.INVALID, "resource.phone.invalid_num") from None
    if not phonenumbers.is_possible_number(parsed):
        raise IdentityError(Refusal.INVALID, "resource.phone.invalid_num")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]


def country_of(normalized: str) -> str | None:
    """ISO 3166 alpha-2 country of an E.164 number: by its number range when known, else
    by its calling code's main country (+1 → US, +44 → GB)."""
    parsed = phonenumbers.parse("+" + normalized, None)
    region = phonenumbers.region_code_for_number(parsed)
    if not region and parsed.country_code:
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
    return None if region in (None, "ZZ", "001") else str(region)


def mask(number: str) -> str:
    return "+" + number[:2] + "*" * (len(number) - 4) + number[-2:]


class Kyc:
    def __init__(self, identity: Identity, sms: SmsSender | None) -> None:
        """``sms`` None: no provider is configured, and no code is ever sent."""
        self.identity = identity
        self.sms = sms

    async def add_phone(self, user: dict[str, Any], number: str, client: Client) -> str:
        """Register ``number`` and text it a code; answers the masked number.

        Without an SMS provider nothing is written (503). When the provider fails, nothing
        stays usable: the code stops working and a phone this call added is removed. A code
        the provider could not deliver still counts against the send limits (so a failing
        provider is not hammered), except when the provider refused the number itself: then
        the member may correct it at once."""
        if self.sms is None:
            raise IdentityError(
                Refusal.UNAVAILABLE,
                "resource.phone.sms_unavailable",
                "no SMS provider is configured",
            )
        normalized = normalize_number(number)
        sealed = await self.identity.keystore.encrypt(PHONE_KEY, normalized.encode())
        async with self.identity.transaction() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(phones).where(phones.c.user_id == user["id"])
            )
            if (count or 0) >= PHONES_PER_USER:
                raise IdentityError(Refusal.INVALID, "resource.phone.limit_reached")
            added = None
            if await self._find(conn, user["id"], normalized) is None:
                added = await conn.scalar(
                    insert(phones)
                    .values(
                        user_id=user["id"],
                        number=sealed,
                        masked=mask(normalized),
                        country=country_of(normalized),
                    )
                    .returning(phones.c.id)
                )
            if not await self.identity.may_send_code(conn, user["id"], PHONE):
                raise IdentityError(
                    Refusal.TOO_MANY, "resource.phone.too_many_codes", "wait a minute"
                )
            code = await self.identity.new_code(conn, user["id"], PHONE)
            await self.identity.record(
                conn, user["id"], client, "account", "phone code sent", "succeed"
            )
        try:
            await self.sms.send(normalized, f"{self.identity.app_name} code: {code}")
        except SmsError as exc:
            log.warning("phone code to %s not sent: %s", mask(normalized), exc.reason)
            async with self.identity.transaction() as conn:
                await self.identity.cancel_code(
                    conn, user["id"], PHONE, code, counted=not exc.bad_number
                )
                if added is not None:
                    await conn.execute(delete(phones).where(phones.c.id == added))
                await self.identity.record(
                    conn, user["id"], client, "account", "phone code sent", "failed"
                )
            if exc.bad_number:
                raise IdentityError(
                    Refusal.INVALID, "resource.phone.invalid_num", exc.reason
                ) from None
            raise IdentityError(  # the provider may be back in a minute
                Refusal.UNAVAILABLE, "resource.phone.sms_failed", exc.reason, retry_after=60
            ) from None
        return mask(normalized)

    async def verify_phone(
        self, user: dict[str, Any], number: str, code: str, client: Client
    ) -> dict[str, Any]:
        """Verify the member's phone by the texted code; answers the whole user (with the
        ``phone: verified`` label and the level it gives)."""
        normalized = normalize_number(number)
        async with self.identity.transaction() as conn:
            phone_id = await self._find(conn, user["id"], normalized)
            if phone_id is None:
                raise IdentityError(Refusal.NOT_FOUND, "resource.phone.doesnt_exist")
            await self.identity.use_code(conn, user["id"], PHONE, code)
            await conn.execute(
                update(phones).where(phones.c.id == phone_id).values(validated_at=func.now())
            )
            await self.identity.set_label(conn, user["id"], "phone", "verified", "private")
            await self.identity.record(
                conn, user["id"], client, "account", "phone verified", "succeed"
            )
            return await self.identity.load_user(conn, user["id"], full=True)

    async def list_phones(self, user_id: int) -> list[dict[str, Any]]:
        async with self.identity.engine.connect() as conn:
            rows = await conn.execute(
                select(phones.c.masked, phones.c.country, phones.c.validated_at)
                .where(phones.c.user_id == user_id)
                .order_by(phones.c.id)
            )
            return [
                {"country": r.country, "number": r.masked, "validated_at": r.validated_at}
                for r in rows
            ]

    async def save_profile(
        self,
        user: dict[str, Any],
        fields: dict[str, Any],
        confirm: bool,
        client: Client,
        *,
        author_uid: str | None = None,
    ) -> dict[str, Any]:
        """Create or edit the member's profile; ``confirm`` submits it for review. The
        country is kept upper-case. ``author_uid`` is the admin entering it for the member
        (``identity.admin_profiles``): another admin must verify it; the member's own edit
        clears it."""
        if fields.get("country"):
            fields = fields | {"country": fields["country"].upper()}
        country = fields.get("country")
        if country is not None and not re.fullmatch(r"[A-Z]{2,3}", country):
            raise IdentityError(Refusal.INVALID, "resource.profile.invalid_country")
        dob = fields.get("dob")
        if isinstance(dob, date) and dob >= date.today():
            raise IdentityError(Refusal.INVALID, "resource.profile.invalid_dob")
        state = "submitted" if confirm else "drafted"
        sealed = await pii.seal(self.identity.keystore, fields)
        async with self.identity.transaction() as conn:
            existing = (
                (
                    await conn.execute(
                        select(profiles).where(profiles.c.user_id == user["id"]).with_for_update()
                    )
                )
                .mappings()
                .first()
            )
            values = sealed | {
                "country": country,
                "sealed": True,
                "metadata": fields.get("metadata"),
                "state": state,
                "reason": None,  # a rejection's reason ends with the new version
                "author_uid": author_uid,
                "updated_at": func.now(),
            }
            if existing is None:
                row = (
                    (
                        await conn.execute(
                            insert(profiles)
                            .values(user_id=user["id"], **values)
                            .returning(profiles)
                        )
                    )
                    .mappings()
                    .one()
                )
            elif existing["state"] in EDITABLE_PROFILE_STATES:
                row = (
                    (
                        await conn.execute(
                            update(profiles)
                            .where(profiles.c.id == existing["id"])
                            .values(**values)
                            .returning(profiles)
                        )
                    )
                    .mappings()
                    .one()
                )
            else:
                raise IdentityError(Refusal.INVALID, "resource.profile.already_submitted")
            if confirm:
                await self.identity.set_label(conn, user["id"], "profile", "submitted", "private")
            # Barong's event without the personal fields: they are sealed at rest, and an
            # event reaches every consumer of the exchange.
            await self.identity.emit(
                conn,
                "model.profile.created" if existing is None else "model.profile.updated",
                user,
                record={
                    "country": row["country"],
                    "state": row["state"],
                    "created_at": iso(row["created_at"]),
                    "updated_at": iso(row["updated_at"]),
                },
                changes=None
                if existing is None or existing["state"] == state
                else {"state": existing["state"]},
            )
            await self.identity.record(
                conn, user["id"], client, "account", f"profile {state}", "succeed"
            )
        return dict(row) | {name: fields.get(name) for name in pii.SEALED_FIELDS}

    async def own_profile(self, user_id: int) -> dict[str, Any]:
        """The member's own profile (``resource.profile.not_exist`` before they save one)."""
        found = await self.profile(user_id)
        if found is None:
            raise IdentityError(Refusal.NOT_FOUND, "resource.profile.not_exist")
        return found

    async def profile(self, user_id: int) -> dict[str, Any] | None:
        """The profile in the clear, for its owner or an admin only."""
        async with self.identity.engine.connect() as conn:
            row = (
                (await conn.execute(select(profiles).where(profiles.c.user_id == user_id)))
                .mappings()
                .first()
            )
        return await pii.opened(self.identity.keystore, dict(row)) if row else None

    async def _find(self, conn: Any, user_id: int, normalized: str) -> int | None:
        rows = await conn.execute(
            select(phones.c.id, phones.c.number).where(phones.c.user_id == user_id)
        )
        for row in rows:
            plain = await self.identity.keystore.decrypt(PHONE_KEY, row.number)
            if plain.decode() == normalized:
                return int(row.id)
        return None
