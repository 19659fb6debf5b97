"""Whitelinks (Barong's ``restrictions/whitelink`` and ``identity/users/access``): an admin
hands out a link token; whoever holds it whitelists the address they call from, so that a
blacklist or maintenance restriction by IP, range or country no longer stops them.

Unlike Barong's (kept in a cache, reusable until it expires), a token here works once:
only its SHA-256 digest is stored, redeeming marks it used in the same statement that checks
it is unused and unexpired (so two holders racing get one whitelisting), and both the making
and the use are recorded on the issuing admin's activities.
"""

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from bursa.errors import Refusal
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import restrictions, whitelinks
from bursa.identity.user_admin import ADMIN_TOPIC

LIFETIME_UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
MAX_LIFETIME = 30  # units of ``LIFETIME_UNITS``, as Barong
WHITELIST_CODE = 200  # a whitelist answers nothing; its code is only stored
INVALID_TOKEN = "identity.user.access.invalid_token"  # noqa: S105 - an error code


@dataclass(frozen=True, slots=True)
class Whitelink:
    token: str  # shown once, to the admin who made it
    expires_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Whitelinks:
    def __init__(self, identity: Identity, forget: Callable[[], None]) -> None:
        self.identity = identity
        self.forget = forget  # drops the authorization step's cached restrictions

    async def make(
        self, admin: Mapping[str, Any], lifetime: int, unit: str, client: Client
    ) -> Whitelink:
        """A new token valid for ``lifetime`` days or hours (1..30)."""
        if unit not in LIFETIME_UNITS:
            raise IdentityError(Refusal.INVALID, "admin.restriction.invalid_range")
        if not 1 <= lifetime <= MAX_LIFETIME:
            raise IdentityError(Refusal.INVALID, "admin.restriction.invalid_expire")
        token = secrets.token_hex(32)
        expires_at = self.identity.clock.now() + lifetime * LIFETIME_UNITS[unit]
        async with self.identity.transaction() as conn:
            link_id = await conn.scalar(
                insert(whitelinks)
                .values(token_digest=digest(token), created_by=admin["id"], expires_at=expires_at)
                .returning(whitelinks.c.id)
            )
            await self.identity.record(
                conn, admin["id"], client, ADMIN_TOPIC, "whitelink created", "succeed", str(link_id)
            )
        return Whitelink(token, expires_at)

    async def redeem(self, token: str, client: Client) -> str:
        """Spend the token: the caller's IP gets an enabled ``whitelist`` restriction (unless
        it has one). Answers the IP; an unknown, used or expired token is refused alike."""
        identity = self.identity
        async with identity.transaction() as conn:
            used = (
                await conn.execute(
                    update(whitelinks)
                    .where(
                        whitelinks.c.token_digest == digest(token),
                        whitelinks.c.used_at.is_(None),
                        whitelinks.c.expires_at > identity.clock.now(),
                    )
                    .values(used_at=identity.clock.now(), used_ip=client.ip)
                    .returning(whitelinks.c.id, whitelinks.c.created_by)
                )
            ).first()
            if used is None:
                raise IdentityError(Refusal.INVALID, INVALID_TOKEN)
            restriction_id = await conn.scalar(
                select(restrictions.c.id).where(
                    restrictions.c.category == "whitelist",
                    restrictions.c.scope == "ip",
                    restrictions.c.value == client.ip,
                    restrictions.c.state == "enabled",
                )
            )
            if restriction_id is None:
                restriction_id = await conn.scalar(
                    insert(restrictions)
                    .values(scope="ip", value=client.ip, category="whitelist", code=WHITELIST_CODE)
                    .returning(restrictions.c.id)
                )
            await conn.execute(
                update(whitelinks)
                .where(whitelinks.c.id == used.id)
                .values(restriction_id=restriction_id)
            )
            await identity.record(
                conn,
                used.created_by,
                client,
                ADMIN_TOPIC,
                "whitelink used",
                "succeed",
                f"{used.id} {client.ip}",
            )
        self.forget()
        return client.ip
