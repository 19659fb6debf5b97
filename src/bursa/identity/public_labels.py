"""The member's own labels (Barong's resource labels API).

Members see all their labels but write only ``public`` ones: private labels decide state
and KYC level, so only the identity itself and admins set them. A key that a private label
of the member uses, or that Bursa itself reads for access (``email``, ``ban``, ``document``,
``role``, ``level``, …), is refused for a public label too, so nobody reading labels can
mistake one for the other.
"""

import re
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bursa.errors import Refusal
from bursa.identity.rules import ACCESS_NAMES, ACTIVATION_REQUIREMENTS, LEVELS, STATE_TRIGGERS
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import labels

PATTERN = re.compile(r"[a-z0-9_-]{3,255}")
PUBLIC = "public"
PRIVATE = "private"
LABELS_PER_USER = 50
# Keys the identity sets as private labels itself, or that name what a user is for access:
# never a member's public label.
RESERVED_KEYS = frozenset(
    {
        *ACTIVATION_REQUIREMENTS,
        *(key for keys in STATE_TRIGGERS.values() for key in keys),
        *(level.key for level in LEVELS),
        *ACCESS_NAMES,  # role, level, state, otp
        "address",
        "profile",
        "withdraw_review",  # custody: every withdrawal of a member carrying it is reviewed
    }
)


def normalize(text: str, field: str) -> str:
    """Lower-cased; 3 to 255 characters of ``a-z 0-9 _ -`` (Barong's label rule)."""
    lowered = text.lower()
    if not PATTERN.fullmatch(lowered):
        raise IdentityError(
            Refusal.INVALID, f"resource.label.invalid_{field}", "3-255 of a-z 0-9 _ -"
        )
    return lowered


class PublicLabels:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def list(self, user_id: int) -> list[dict[str, Any]]:
        """Every label of the member, public ones first."""
        async with self.identity.engine.connect() as conn:
            rows = await conn.execute(
                select(labels)
                .where(labels.c.user_id == user_id)
                .order_by(labels.c.scope.desc(), labels.c.id)
            )
            return [dict(r) for r in rows.mappings()]

    async def get(self, user_id: int, key: str) -> dict[str, Any]:
        """The label with this key: the public one if both scopes have it."""
        key = normalize(key, "key")
        async with self.identity.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(labels)
                        .where(labels.c.user_id == user_id, labels.c.key == key)
                        .order_by(labels.c.scope.desc())
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise IdentityError(Refusal.NOT_FOUND, "resource.label.doesnt_exist")
        return dict(row)

    async def create(
        self, user: dict[str, Any], key: str, value: str, client: Client
    ) -> dict[str, Any]:
        key, value = normalize(key, "key"), normalize(value, "value")
        async with self.identity.transaction() as conn:
            await self._refuse_private(conn, user["id"], key)
            count = await conn.scalar(
                select(func.count())
                .select_from(labels)
                .where(labels.c.user_id == user["id"], labels.c.scope == PUBLIC)
            )
            if (count or 0) >= LABELS_PER_USER:
                raise IdentityError(Refusal.INVALID, "resource.label.limit_reached")
            row = (
                (
                    await conn.execute(
                        pg_insert(labels)
                        .values(user_id=user["id"], key=key, value=value, scope=PUBLIC)
                        .on_conflict_do_nothing(constraint="uq_labels_user_id_key_scope")
                        .returning(labels)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise IdentityError(Refusal.INVALID, "resource.label.already_exists")
            await self.identity.record(
                conn, user["id"], client, "account", "label created", "succeed", key
            )
            await self.identity.emit(conn, "model.label.created", user, label=(key, value, PUBLIC))
        return dict(row)

    async def update(
        self, user: dict[str, Any], key: str, value: str, client: Client
    ) -> dict[str, Any]:
        key, value = normalize(key, "key"), normalize(value, "value")
        if key in RESERVED_KEYS:  # one set before the names were reserved keeps its value
            raise IdentityError(Refusal.INVALID, "resource.label.private_key")
        async with self.identity.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        update(labels)
                        .where(
                            labels.c.user_id == user["id"],
                            labels.c.key == key,
                            labels.c.scope == PUBLIC,
                        )
                        .values(value=value, updated_at=func.now())
                        .returning(labels)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                await self._refuse_private(conn, user["id"], key)
                raise IdentityError(Refusal.NOT_FOUND, "resource.label.doesnt_exist")
            await self.identity.record(
                conn, user["id"], client, "account", "label updated", "succeed", key
            )
            await self.identity.emit(conn, "model.label.updated", user, label=(key, value, PUBLIC))
        return dict(row)

    async def delete(self, user: dict[str, Any], key: str, client: Client) -> None:
        key = normalize(key, "key")
        async with self.identity.transaction() as conn:
            gone = (
                await conn.execute(
                    delete(labels)
                    .where(
                        labels.c.user_id == user["id"],
                        labels.c.key == key,
                        labels.c.scope == PUBLIC,
                    )
                    .returning(labels.c.value)
                )
            ).first()
            if gone is None:
                await self._refuse_private(conn, user["id"], key)
                raise IdentityError(Refusal.NOT_FOUND, "resource.label.doesnt_exist")
            await self.identity.record(
                conn, user["id"], client, "account", "label deleted", "succeed", key
            )
            await self.identity.emit(
                conn, "model.label.deleted", user, label=(key, gone.value, PUBLIC)
            )

    @staticmethod
    async def _refuse_private(conn: AsyncConnection, user_id: int, key: str) -> None:
        """422 ``resource.label.private_key`` for a key that belongs to the private scope."""
        if key in RESERVED_KEYS:
            raise IdentityError(Refusal.INVALID, "resource.label.private_key")
        private = await conn.scalar(
            select(labels.c.id).where(
                labels.c.user_id == user_id, labels.c.key == key, labels.c.scope == PRIVATE
            )
        )
        if private is not None:
            raise IdentityError(Refusal.INVALID, "resource.label.private_key")
