"""A member closes their own account (Barong's ``DELETE /resource/users/me``).

Nothing is erased: the private label ``delete: by_user`` moves the state to ``deleted``
(Barong's state triggers), which refuses every later login, session and API key; the
sessions end and the keys are switched off at once, in the same transaction. The records
stay for the operator (ledger, audit); the identity event tells other services.
"""

import json
from typing import Any

from sqlalchemy import delete, func, select, update

from bursa.errors import Refusal
from bursa.identity import passwords
from bursa.identity.service import Authenticated, Client, Identity, IdentityError
from bursa.identity.tables import api_keys, user_sessions, users

DELETE_LABEL = ("delete", "by_user", "private")


MAX_DATA_BYTES = 1024


def check_data(data: str, scope: str) -> None:
    """A user's free ``data`` field must be a JSON object of at most 1 KB."""
    if len(data.encode()) > MAX_DATA_BYTES:
        raise IdentityError(Refusal.INVALID, f"{scope}.data_too_long")
    try:
        parsed = json.loads(data)
    except ValueError as exc:
        raise IdentityError(Refusal.INVALID, f"{scope}.invalid_data") from exc
    if not isinstance(parsed, dict):
        raise IdentityError(Refusal.INVALID, f"{scope}.invalid_data")


class Accounts:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def show(self, user_id: int) -> dict[str, Any]:
        """The whole user as ``users/me`` shows them (phones, profiles, data storages)."""
        async with self.identity.engine.connect() as conn:
            return await self.identity.load_user(conn, user_id, full=True)

    async def set_data(self, user_id: int, data: str, client: Client) -> dict[str, Any]:
        """Barong's ``PUT users/me``: the member's free ``data`` field, a JSON object of at
        most 1 KB (front ends keep preferences there); answers the whole user."""
        check_data(data, "resource.user")
        async with self.identity.transaction() as conn:
            await conn.execute(
                update(users).where(users.c.id == user_id).values(data=data, updated_at=func.now())
            )
            await self.identity.record(conn, user_id, client, "account", "data changed", "succeed")
            return await self.identity.load_user(conn, user_id, full=True)

    async def delete(
        self, session: Authenticated, password: str, otp_code: str | None, client: Client
    ) -> None:
        """Close the signed-in member's account after checking the password (and the 2FA
        code when 2FA is on); a wrong one changes nothing but the failed activity."""
        identity, user_id = self.identity, session.user["id"]
        async with identity.transaction() as conn:
            stored = await conn.scalar(
                select(users.c.password_hash).where(users.c.id == user_id).with_for_update()
            )
            assert stored is not None
            if not passwords.verify_password(stored, password):
                await identity.record(conn, user_id, client, "account", "delete", "failed")
                raise IdentityError(Refusal.INVALID, "resource.user.invalid_password", keep=True)
            await identity.require_otp(conn, user_id, otp_code, client, "resource.user")
            key, value, scope = DELETE_LABEL
            await identity.set_label(conn, user_id, key, value, scope)
            await conn.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id))
            await conn.execute(
                update(api_keys)
                .where(api_keys.c.user_id == user_id)
                .values(state="inactive", updated_at=func.now())
            )
            await identity.record(conn, user_id, client, "account", "delete", "succeed")
            user = await identity.load_user(conn, user_id)
            await identity.emit(conn, "system.user.account.deleted", user, client)
