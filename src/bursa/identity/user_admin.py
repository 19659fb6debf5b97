"""What staff do to users (Barong's admin API): search, look one up with their history, and
change role, state, labels or 2FA.

The permission table decides who may call what; these are the rules no table can grant.
Staff act only on users ranked strictly below them (``rules.RANKS``, ``Identity.subordinate``:
``admin.user.rank_too_low``), and only a superadmin changes roles. A state is never written
directly: it follows the private labels (``rules.STATE_TRIGGERS``), so banning and locking
set a label and activating removes every label that forces a state. Each change is one
transaction that also records the admin's activity or emits the identity event.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update

from bursa.errors import Refusal
from bursa.identity.comments import Comments
from bursa.identity.public_labels import RESERVED_KEYS
from bursa.identity.rules import ACCESS_NAMES, ROLE_SETTER, ROLES, STATE_TRIGGERS
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import activities, users

ADMIN_STATES = ("active", "banned", "locked")
STATE_LABELS = {"banned": "ban", "locked": "lock"}  # the label an admin's state change sets
HISTORY = 100  # activities shown with one user
ADMIN_TOPIC = "admin"  # activities of staff changes


class UserAdmin:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def search(
        self, email: str | None, role: str | None, state: str | None, page: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Users by part of their email, role and state (oldest first), and how many match."""
        query = select(users.c.id)
        if email:
            query = query.where(users.c.email.contains(email.lower(), autoescape=True))
        if role:
            query = query.where(users.c.role == role)
        if state:
            query = query.where(users.c.state == state)
        identity = self.identity
        async with identity.engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(query.subquery()))
            ids = await conn.scalars(
                query.order_by(users.c.id).limit(limit).offset((page - 1) * limit)
            )
            found = [await identity.load_user(conn, user_id) for user_id in ids]
        return int(total or 0), found

    async def user_id(self, uid: str) -> int:
        """The id of user ``uid`` (``admin.user.doesnt_exist`` when there is none)."""
        async with self.identity.engine.connect() as conn:
            found = await conn.scalar(select(users.c.id).where(users.c.uid == uid))
        if found is None:
            raise IdentityError(Refusal.NOT_FOUND, "admin.user.doesnt_exist")
        return int(found)

    async def show(self, uid: str) -> dict[str, Any]:
        return await self.with_history(await self.user_id(uid))

    async def with_history(self, user_id: int) -> dict[str, Any]:
        """The whole user (``load_user(full=True)``) with their latest ``activities`` and
        staff's ``comments``: Barong's ``UserWithKYC``."""
        identity = self.identity
        notes = await Comments(identity).of_user(user_id)
        async with identity.engine.connect() as conn:
            user = await identity.load_user(conn, user_id, full=True)
            rows = await conn.execute(
                select(activities)
                .where(activities.c.user_id == user_id)
                .order_by(activities.c.id.desc())
                .limit(HISTORY)
            )
            found = [dict(r) for r in rows.mappings()]
        return user | {"activities": found, "comments": notes}

    async def change_role(self, admin: Mapping[str, Any], uid: str, role: str) -> dict[str, Any]:
        """Only a superadmin changes roles, whatever the permission table lets through, and
        never another superadmin's (nor their own)."""
        if admin["role"] != ROLE_SETTER:
            raise IdentityError(Refusal.FORBIDDEN, "admin.user.superadmin_only")
        if role not in ROLES:
            raise IdentityError(Refusal.INVALID, "admin.user.invalid_role")
        identity = self.identity
        async with identity.transaction() as conn:
            user_id = await identity.subordinate(conn, admin, uid)
            before = await identity.load_user(conn, user_id)
            await conn.execute(update(users).where(users.c.id == user_id).values(role=role))
            user = await identity.load_user(conn, user_id)
            if before["role"] != role:
                changes = {"role": before["role"]}
                await identity.emit(conn, "model.user.updated", user, changes=changes)
        return user

    async def change_state(
        self, admin: Mapping[str, Any], uid: str, state: str, client: Client
    ) -> dict[str, Any]:
        """Ban, lock or activate through the labels that drive the state. Activating removes
        every state-forcing label; the user must still meet the activation requirements
        (a confirmed email), or nothing changes (``admin.user.activation_requirements``)."""
        if state not in ADMIN_STATES:
            raise IdentityError(Refusal.INVALID, "admin.user.invalid_state")
        identity = self.identity
        async with identity.transaction() as conn:
            user_id = await identity.subordinate(conn, admin, uid)
            if state in STATE_LABELS:
                await identity.set_label(conn, user_id, STATE_LABELS[state], "admin", "private")
            else:
                for keys in STATE_TRIGGERS.values():
                    for key in keys:
                        await identity.remove_label(conn, user_id, key, "private")
            user = await identity.load_user(conn, user_id)
            if user["state"] != state:
                raise IdentityError(Refusal.INVALID, "admin.user.activation_requirements")
            await identity.record(
                conn, admin["id"], client, ADMIN_TOPIC, f"state {state}", "succeed", uid
            )
        return user

    async def set_label(
        self, admin: Mapping[str, Any], uid: str, key: str, value: str, scope: str
    ) -> dict[str, Any]:
        """Set a label (a private one moves state and level); answers the user."""
        refuse_reserved(key, scope)
        identity = self.identity
        async with identity.transaction() as conn:
            user_id = await identity.subordinate(conn, admin, uid)
            await identity.set_label(conn, user_id, key, value, scope)
            return await identity.load_user(conn, user_id)

    async def remove_label(
        self, admin: Mapping[str, Any], uid: str, key: str, scope: str, client: Client
    ) -> None:
        identity = self.identity
        async with identity.transaction() as conn:
            user_id = await identity.subordinate(conn, admin, uid)
            if not await identity.remove_label(conn, user_id, key, scope):
                raise IdentityError(Refusal.NOT_FOUND, "admin.label.doesnt_exist")
            await identity.record(
                conn,
                admin["id"],
                client,
                ADMIN_TOPIC,
                "label removed",
                "succeed",
                f"{uid} {scope} {key}",
            )


def refuse_reserved(key: str, scope: str) -> None:
    """A label must not pass for access: never one named after what the identity keeps
    itself (role, level, state, 2FA), nor a public one named like a KYC or state label."""
    if key in ACCESS_NAMES or (scope == "public" and key in RESERVED_KEYS):
        raise IdentityError(Refusal.INVALID, "admin.label.reserved_key")
