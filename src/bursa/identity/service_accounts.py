"""Service accounts: non-human accounts a user owns (market-making bots), as Barong's.

An admin creates one for an active user (uid ``SI`` + 10 hex, a role ``sa_…`` that the
permission table knows, an email derived from the owner's unless given) and can disable it,
which switches its keys off. The owner manages its API keys (``bursa.identity.api_keys``,
with the owner's 2FA). A request signed with such a key acts as the service account: its
role's permissions, a JWT with Barong's service account claims, and only while both the
service account and its owner are active.
"""

import re
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bursa.errors import Refusal
from bursa.identity.rules import SERVICE_ACCOUNT_ROLE
from bursa.identity.service import Identity, IdentityError, normalize_email
from bursa.identity.tables import api_keys, permissions, service_accounts, users

UID_PREFIX = "SI"
STATES = ("active", "disabled")


def new_uid() -> str:
    return UID_PREFIX + secrets.token_hex(5).upper()


def principal(account: Any, owner: Any) -> dict[str, Any]:
    """Who a service account's key authenticates as. ``id`` is None on purpose: nothing may
    take it for a user id; activities go to the owner (``owner_id``). The level never
    exceeds the owner's current one."""
    return {
        "id": None,
        "service_account_id": account["id"],
        "owner_id": owner["id"],
        "uid": account["uid"],
        "email": account["email"],
        "role": account["role"],
        "level": min(account["level"], owner["level"]),
        "state": account["state"],
        "referral_uid": None,
    }


def is_service_account(who: Mapping[str, Any]) -> bool:
    return "service_account_id" in who


_OWNER = users.alias("owner")


def _with_owner() -> Any:
    owner = _OWNER
    return (
        select(
            service_accounts,
            owner.c.uid.label("owner_uid"),
            owner.c.email.label("owner_email"),
            owner.c.role.label("owner_role"),
            owner.c.level.label("owner_level"),
            owner.c.otp.label("owner_otp"),
            owner.c.state.label("owner_state"),
        )
        .join(owner, owner.c.id == service_accounts.c.owner_id)
        .order_by(service_accounts.c.id)
    )


def _present(row: RowMapping) -> dict[str, Any]:
    found = dict(row)
    found["user"] = {
        "uid": found.pop("owner_uid"),
        "email": found.pop("owner_email"),
        "role": found.pop("owner_role"),
        "level": found.pop("owner_level"),
        "otp": found.pop("owner_otp"),
        "state": found.pop("owner_state"),
    }
    return found


class ServiceAccounts:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def create(self, owner_uid: str, role: str, email: str | None) -> dict[str, Any]:
        """A new active service account of an active user, at the owner's level."""
        if not re.fullmatch(SERVICE_ACCOUNT_ROLE, role):
            raise IdentityError(Refusal.INVALID, "admin.service_account.invalid_role", "sa_<name>")
        uid = new_uid()
        async with self.identity.transaction() as conn:
            owner = (
                (await conn.execute(select(users).where(users.c.uid == owner_uid)))
                .mappings()
                .first()
            )
            if owner is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.user.doesnt_exist")
            if owner["state"] != "active":
                raise IdentityError(Refusal.INVALID, "admin.service_account.owner_not_active")
            known = select(func.count()).select_from(permissions).where(permissions.c.role == role)
            if not await conn.scalar(known):
                raise IdentityError(Refusal.INVALID, "admin.service_account.role_doesnt_exist")
            if email is None:
                name, domain = owner["email"].split("@", 1)
                email = f"{name}+{uid.lower()}@{domain}"
            try:
                address = normalize_email(email)
            except IdentityError as exc:
                raise IdentityError(Refusal.INVALID, "admin.service_account.invalid_email") from exc
            if await conn.scalar(select(users.c.id).where(users.c.email == address)):
                raise IdentityError(Refusal.INVALID, "admin.service_account.email_taken")
            try:
                async with conn.begin_nested():
                    account_id = await conn.scalar(
                        insert(service_accounts)
                        .values(
                            uid=uid,
                            owner_id=owner["id"],
                            email=address,
                            role=role,
                            level=owner["level"],
                        )
                        .returning(service_accounts.c.id)
                    )
            except IntegrityError as exc:  # the email (unique) belongs to another one
                raise IdentityError(Refusal.INVALID, "admin.service_account.email_taken") from exc
            row = (
                (await conn.execute(_with_owner().where(service_accounts.c.id == account_id)))
                .mappings()
                .one()
            )
        return _present(row)

    async def search(
        self, owner_uid: str | None, state: str | None, page: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        query = _with_owner()
        if owner_uid is not None:
            query = query.where(_OWNER.c.uid == owner_uid)
        if state is not None:
            query = query.where(service_accounts.c.state == state)
        async with self.identity.engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(query.subquery()))
            rows = await conn.execute(query.limit(limit).offset((page - 1) * limit))
            return int(total or 0), [_present(r) for r in rows.mappings()]

    async def disable(self, uid: str) -> dict[str, Any]:
        """Disable a service account and switch its keys off (they stay off if it returns)."""
        async with self.identity.transaction() as conn:
            account_id = await conn.scalar(
                update(service_accounts)
                .where(service_accounts.c.uid == uid)
                .values(state="disabled", updated_at=func.now())
                .returning(service_accounts.c.id)
            )
            if account_id is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.service_account.doesnt_exist")
            await conn.execute(
                update(api_keys)
                .where(api_keys.c.service_account_id == account_id, api_keys.c.state != "inactive")
                .values(state="inactive", updated_at=func.now())
            )
            row = (
                (await conn.execute(_with_owner().where(service_accounts.c.id == account_id)))
                .mappings()
                .one()
            )
        return _present(row)

    async def of_owner(self, owner_id: int) -> list[dict[str, Any]]:
        async with self.identity.engine.connect() as conn:
            rows = await conn.execute(_with_owner().where(service_accounts.c.owner_id == owner_id))
            return [_present(r) for r in rows.mappings()]

    async def owned(self, owner_id: int, uid: str) -> dict[str, Any]:
        """The owner's service account ``uid``; someone else's is as unknown as a missing one."""
        async with self.identity.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        _with_owner().where(
                            service_accounts.c.uid == uid, service_accounts.c.owner_id == owner_id
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise IdentityError(Refusal.NOT_FOUND, "resource.service_account.doesnt_exist")
        return _present(row)

    async def find(self, uid: str | None, email: str | None) -> dict[str, Any]:
        """The service account with ``uid`` or else ``email`` (404 when none)."""
        query = _with_owner()
        if uid is not None:
            query = query.where(service_accounts.c.uid == uid)
        else:
            query = query.where(service_accounts.c.email == (email or "").strip().lower())
        async with self.identity.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise IdentityError(Refusal.NOT_FOUND, "admin.service_account.doesnt_exist")
        return _present(row)
