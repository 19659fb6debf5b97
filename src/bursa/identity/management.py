"""What Barong's Management API does to identities that members and admins do not: find a
user by uid, email or phone number, create one without a session, import one with its
password digest, change role and data, set or remove a verified phone, page through users
(optionally those carrying a label), list service accounts by their owner's uid or email.

Each change goes through the identity service's own methods (labels recompute state and
level; events are emitted as the service emits them).
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bursa.errors import Refusal
from bursa.identity.account import check_data
from bursa.identity.kyc import PHONE_KEY, country_of, mask, normalize_number
from bursa.identity.rules import ACCESS_NAMES, ROLES
from bursa.identity.service import Identity, IdentityError, normalize_email
from bursa.identity.service_accounts import ServiceAccounts
from bursa.identity.tables import labels, phones, users

RANGES = ("created", "updated")
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2x$", "$2y$")


@dataclass(frozen=True, slots=True)
class Page:
    """Which users to list: a time window on ``created_at`` or ``updated_at`` and a page."""

    range: str = "created"
    since: int | None = None  # unix seconds, inclusive
    before: int | None = None  # unix seconds, exclusive
    page: int = 1
    limit: int = 100


def check_digest(digest: str) -> None:
    """Accept an argon2id digest (what Bursa verifies at login and re-hashes when its
    parameters change); refuse bcrypt ones, which Bursa cannot verify."""
    if digest.startswith(BCRYPT_PREFIXES):
        raise IdentityError(
            Refusal.INVALID,
            "management.user.unsupported_digest",
            "bcrypt digests cannot be verified here: send an argon2id digest, or create the"
            " user with a password",
        )
    try:
        parameters = extract_parameters(digest)
    except (InvalidHashError, ValueError) as exc:
        raise IdentityError(Refusal.INVALID, "management.user.invalid_digest") from exc
    if parameters.type.name != "ID":
        raise IdentityError(Refusal.INVALID, "management.user.invalid_digest", "argon2id only")


class ManagedUsers:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def user_id(
        self,
        conn: AsyncConnection,
        *,
        uid: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> int:
        """The id of the user named by one of ``uid``, ``email`` or phone number (404)."""
        found: Any = None
        if uid is not None:
            found = await conn.scalar(select(users.c.id).where(users.c.uid == uid))
        elif email is not None:
            address = email.strip().lower()
            found = await conn.scalar(select(users.c.id).where(users.c.email == address))
        elif phone is not None:
            found = await self._phone_owner(conn, phone)
        if found is None:
            raise IdentityError(Refusal.NOT_FOUND, "management.user.doesnt_exist")
        return int(found)

    async def _phone_owner(self, conn: AsyncConnection, number: str) -> int | None:
        """Numbers are sealed: only rows with the same masked form are opened."""
        try:
            normalized = normalize_number(number)
        except IdentityError:
            return None
        rows = await conn.execute(
            select(phones.c.user_id, phones.c.number)
            .where(phones.c.masked == mask(normalized))
            .order_by(phones.c.id)
        )
        for row in rows:
            plain = await self.identity.keystore.decrypt(PHONE_KEY, row.number)
            if plain.decode() == normalized:
                return int(row.user_id)
        return None

    async def create(
        self, email: str, password: str, referral_uid: str | None, digest: str | None = None
    ) -> dict[str, Any]:
        """A pending user (as Barong's management API made them: no session, no mail).
        With ``digest`` the password is that argon2id digest instead of ``password``."""
        address = normalize_email(email)
        if digest is None:
            self.identity._check_new_password(password, address)
        else:
            check_digest(digest)
        async with self.identity.transaction() as conn:
            if referral_uid is not None:
                referrer = await conn.scalar(select(users.c.id).where(users.c.uid == referral_uid))
                if referrer is None:
                    raise IdentityError(Refusal.INVALID, "management.user.referral_doesnt_exist")
            user_id = await self.identity._insert_user(
                conn, address, password, referral_uid=referral_uid
            )
            if digest is not None:
                await conn.execute(
                    update(users).where(users.c.id == user_id).values(password_hash=digest)
                )
            user = await self.identity.load_user(conn, user_id)
            await self.identity.emit(conn, "model.user.created", user)
        return user

    async def import_user(
        self, email: str, digest: str, referral_uid: str | None
    ) -> dict[str, Any]:
        # The row needs some password hash before the digest replaces it, in one
        # transaction: a random one nobody knows.
        return await self.create(email, secrets.token_urlsafe(24), referral_uid, digest)

    async def update(self, uid: str, role: str | None, data: str | None) -> dict[str, Any]:
        if role is not None and role not in ROLES:
            raise IdentityError(Refusal.INVALID, "management.user.invalid_role")
        if data is not None:
            check_data(data, "management.user")
        values: dict[str, Any] = {"updated_at": func.now()}
        if role is not None:
            values["role"] = role
        if data is not None:
            values["data"] = data
        async with self.identity.transaction() as conn:
            user_id = await self.user_id(conn, uid=uid)
            before = await self.identity.load_user(conn, user_id)
            await conn.execute(update(users).where(users.c.id == user_id).values(**values))
            user = await self.identity.load_user(conn, user_id)
            # Previous values of what changed; Barong leaves ``updated_at`` out.
            changes = {
                k: before[k] for k in values if k != "updated_at" and before.get(k) != user.get(k)
            }
            if changes:
                await self.identity.emit(conn, "model.user.updated", user, changes=changes)
        return user

    async def page(
        self, window: Page, label: tuple[str, str | None, str] | None = None
    ) -> tuple[int, list[int]]:
        """(how many match, the ids on ``window``'s page), oldest first; ``label`` keeps the
        users carrying (key, value or any, scope)."""
        if window.range not in RANGES:
            raise IdentityError(Refusal.INVALID, "management.user.invalid_range")
        column = users.c.created_at if window.range == "created" else users.c.updated_at
        query = select(users.c.id)
        if window.since is not None:
            query = query.where(column >= datetime.fromtimestamp(window.since, UTC))
        if window.before is not None:
            query = query.where(column < datetime.fromtimestamp(window.before, UTC))
        if label is not None:
            key, value, scope = label
            carrying = select(labels.c.user_id).where(labels.c.key == key, labels.c.scope == scope)
            if value is not None:
                carrying = carrying.where(labels.c.value == value)
            query = query.where(users.c.id.in_(carrying))
        async with self.identity.engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(query.subquery()))
            ids = await conn.scalars(
                query.order_by(users.c.id)
                .limit(window.limit)
                .offset((window.page - 1) * window.limit)
            )
            return int(total or 0), [int(i) for i in ids]

    async def listed(
        self,
        window: Page,
        label: tuple[str, str | None, str] | None = None,
        *,
        full: bool = False,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many match, the users on ``window``'s page) as ``page`` finds them, each
        loaded whole (``full``: with phones, profiles, data storages) or plain."""
        total, ids = await self.page(window, label)
        async with self.identity.engine.connect() as conn:
            found = [await self.identity.load_user(conn, i, full=full) for i in ids]
        return total, found

    async def service_accounts(
        self, owner_uid: str | None, owner_email: str | None, page: int, limit: int
    ) -> list[dict[str, Any]]:
        """Service accounts, of the owner named by ``owner_uid`` or else ``owner_email``
        (an unknown email is not found), or everyone's."""
        if owner_uid is None and owner_email is not None:
            async with self.identity.engine.connect() as conn:
                owner_id = await self.user_id(conn, email=owner_email)
                owner_uid = await conn.scalar(select(users.c.uid).where(users.c.id == owner_id))
        _, found = await ServiceAccounts(self.identity).search(owner_uid, None, page, limit)
        return found

    async def add_phone(self, uid: str, number: str) -> dict[str, Any]:
        """A phone the calling service has verified: validated now, label ``phone:
        verified``."""
        normalized = normalize_number(number)
        sealed = await self.identity.keystore.encrypt(PHONE_KEY, normalized.encode())
        async with self.identity.transaction() as conn:
            user_id = await self.user_id(conn, uid=uid)
            if await self._phone_owner(conn, normalized) is not None:
                raise IdentityError(Refusal.INVALID, "management.phone.number_exist")
            row = (
                (
                    await conn.execute(
                        insert(phones)
                        .values(
                            user_id=user_id,
                            number=sealed,
                            masked=mask(normalized),
                            country=country_of(normalized),
                            validated_at=func.now(),
                        )
                        .returning(phones.c.masked, phones.c.country, phones.c.validated_at)
                    )
                )
                .mappings()
                .one()
            )
            await self.identity.set_label(conn, user_id, "phone", "verified", "private")
        return {
            "country": row["country"],
            "number": row["masked"],
            "validated_at": row["validated_at"],
        }

    async def remove_phone(self, uid: str, number: str) -> dict[str, Any]:
        """Remove one of the user's phones; with no verified phone left the ``phone`` label
        goes too (state and level follow)."""
        normalized = normalize_number(number)
        async with self.identity.transaction() as conn:
            user_id = await self.user_id(conn, uid=uid)
            rows = await conn.execute(select(phones).where(phones.c.user_id == user_id))
            target = None
            for row in rows.mappings():
                plain = await self.identity.keystore.decrypt(PHONE_KEY, row["number"])
                if plain.decode() == normalized:
                    target = row
                    break
            if target is None:
                raise IdentityError(Refusal.NOT_FOUND, "management.phone.doesnt_exist")
            await conn.execute(delete(phones).where(phones.c.id == target["id"]))
            verified_left = await conn.scalar(
                select(func.count())
                .select_from(phones)
                .where(phones.c.user_id == user_id, phones.c.validated_at.is_not(None))
            )
            if not verified_left:  # the label goes, with its event
                await self.identity.remove_label(conn, user_id, "phone", "private")
        return {
            "country": target["country"],
            "number": target["masked"],
            "validated_at": target["validated_at"],
        }

    # ---------------------------------------------------------------- private labels

    async def labels_of(self, uid: str) -> list[dict[str, Any]]:
        async with self.identity.engine.connect() as conn:
            user_id = await self.user_id(conn, uid=uid)
            rows = await conn.execute(
                select(labels).where(labels.c.user_id == user_id).order_by(labels.c.id)
            )
            return [dict(r) for r in rows.mappings()]

    async def set_label(
        self, uid: str, key: str, value: str, *, create: bool, update: bool
    ) -> dict[str, Any]:
        """Create (``create``) or change (``update``) the private label ``key``; a label
        that exists when only ``create`` is allowed is refused, a missing one when only
        ``update`` is allowed is not found. State and level follow, as for the admin API.
        Names of what the identity keeps itself (role, level, state, 2FA) are refused: such
        a label would look like access and grant none."""
        if key in ACCESS_NAMES:
            raise IdentityError(Refusal.INVALID, "management.label.reserved_key")
        async with self.identity.transaction() as conn:
            user_id = await self.user_id(conn, uid=uid)
            exists = await self._label(conn, user_id, key) is not None
            if exists and not update:
                raise IdentityError(Refusal.INVALID, "management.label.already_exists")
            if not exists and not create:
                raise IdentityError(Refusal.NOT_FOUND, "management.label.doesnt_exist")
            await self.identity.set_label(conn, user_id, key, value, "private")
            label = await self._label(conn, user_id, key)
        assert label is not None
        return label

    async def delete_label(self, uid: str, key: str) -> None:
        async with self.identity.transaction() as conn:
            user_id = await self.user_id(conn, uid=uid)
            label = await self._label(conn, user_id, key)
            if label is None:
                raise IdentityError(Refusal.NOT_FOUND, "management.label.doesnt_exist")
            await self.identity.remove_label(conn, user_id, key, "private")

    @staticmethod
    async def _label(conn: AsyncConnection, user_id: int, key: str) -> dict[str, Any] | None:
        row = (
            (
                await conn.execute(
                    select(labels).where(
                        labels.c.user_id == user_id,
                        labels.c.key == key,
                        labels.c.scope == "private",
                    )
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None
