"""Labels as staff see them (Barong's admin ``users/labels``): users by label, the private
labels in use, and changing a user's label value.

A change goes through ``Identity.set_label`` (a private label moves state and level, and
the event goes out) after ``Identity.subordinate`` (staff act only below their rank), and is
recorded on the admin's activities, as every admin change is.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, exists, func, select

from bursa.errors import Refusal
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import labels, users
from bursa.identity.user_admin import ADMIN_TOPIC, refuse_reserved


class AdminLabels:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def users_with(
        self, key: str, value: str, page: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Users holding a label ``key: value`` in either scope (oldest first), and how
        many there are."""
        holds = exists().where(
            and_(labels.c.user_id == users.c.id, labels.c.key == key, labels.c.value == value)
        )
        query = select(users.c.id).where(holds)
        identity = self.identity
        async with identity.engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(query.subquery()))
            ids = await conn.scalars(
                query.order_by(users.c.id).limit(limit).offset((page - 1) * limit)
            )
            found = [await identity.load_user(conn, user_id) for user_id in ids]
        return int(total or 0), found

    async def in_use(self) -> list[tuple[str, str, int]]:
        """Each private ``(key, value)`` held by someone, with how many users hold it."""
        async with self.identity.engine.connect() as conn:
            rows = await conn.execute(
                select(labels.c.key, labels.c.value, func.count())
                .where(labels.c.scope == "private")
                .group_by(labels.c.key, labels.c.value)
                .order_by(labels.c.key, labels.c.value)
            )
            return [(row[0], row[1], int(row[2])) for row in rows]

    async def update(
        self,
        admin: Mapping[str, Any],
        uid: str,
        change: tuple[str, str, str],
        client: Client,
        *,
        create: bool,
    ) -> dict[str, Any]:
        """Give the user's label ``(key, scope, value)``; without ``create`` it must exist
        already (``admin.label.doesnt_exist``). Answers the user."""
        key, scope, value = change
        refuse_reserved(key, scope)
        identity = self.identity
        async with identity.transaction() as conn:
            user_id = await identity.subordinate(conn, admin, uid)
            had = await conn.scalar(
                select(labels.c.value).where(
                    labels.c.user_id == user_id, labels.c.key == key, labels.c.scope == scope
                )
            )
            if had is None and not create:
                raise IdentityError(Refusal.NOT_FOUND, "admin.label.doesnt_exist")
            await identity.set_label(conn, user_id, key, value, scope)
            action = "label created" if had is None else "label updated"
            await identity.record(
                conn, admin["id"], client, ADMIN_TOPIC, action, "succeed", f"{uid} {scope} {key}"
            )
            return await identity.load_user(conn, user_id)
