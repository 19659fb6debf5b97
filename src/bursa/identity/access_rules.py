"""The tables the authorization step reads (``bursa.identity.authz``): permissions (role,
verb, path prefix, action) and restrictions (by IP, IP range, country or everyone).

Admins edit them through Barong's admin API; the ``Authorizer`` caches both, so every change
tells it to read them again (``forget``) once committed.
"""

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.errors import Refusal
from bursa.identity.rules import ROLES, SERVICE_ACCOUNT_ROLE
from bursa.identity.service import IdentityError
from bursa.identity.tables import permissions, restrictions

# The status a restriction answers unless it names one: Barong's defaults per scope, and
# 471 for maintenance whatever the scope.
DEFAULT_CODES = {"all": 401, "ip": 401, "ip_subnet": 403, "country": 423}
MAINTENANCE_CODE = 471


class AccessRules:
    def __init__(self, engine: AsyncEngine, forget: Callable[[], None]) -> None:
        self.engine = engine
        self.forget = forget  # drops the authorization step's cached tables

    async def permissions(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(permissions).order_by(permissions.c.id))
            return [dict(r) for r in rows.mappings()]

    async def add_permission(
        self, role: str, verb: str, path: str, action: str, topic: str | None
    ) -> dict[str, Any]:
        """A new row for a user role or a service account role (``sa_…``)."""
        if role not in ROLES and not re.fullmatch(SERVICE_ACCOUNT_ROLE, role):
            raise IdentityError(Refusal.INVALID, "admin.permission.invalid_role")
        values = {"role": role, "verb": verb, "path": path, "action": action, "topic": topic}
        async with self.engine.begin() as conn:
            found = await conn.execute(insert(permissions).values(**values).returning(permissions))
            row = dict(found.mappings().one())
        self.forget()
        return row

    async def remove_permission(self, permission_id: int) -> None:
        async with self.engine.begin() as conn:
            gone = await conn.execute(
                delete(permissions)
                .where(permissions.c.id == permission_id)
                .returning(permissions.c.id)
            )
            if gone.first() is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.permission.doesnt_exist")
        self.forget()

    async def restrictions(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(restrictions).order_by(restrictions.c.id))
            return [dict(r) for r in rows.mappings()]

    async def add_restriction(
        self, scope: str, value: str, category: str, code: int | None
    ) -> dict[str, Any]:
        """A new restriction; without ``code`` it answers its scope's default status (471
        for maintenance)."""
        if code is None:
            code = MAINTENANCE_CODE if category == "maintenance" else DEFAULT_CODES[scope]
        values = {"scope": scope, "value": value, "category": category, "code": code}
        async with self.engine.begin() as conn:
            found = await conn.execute(
                insert(restrictions).values(**values).returning(restrictions)
            )
            row = dict(found.mappings().one())
        self.forget()
        return row

    async def remove_restriction(self, restriction_id: int) -> None:
        async with self.engine.begin() as conn:
            gone = await conn.execute(
                delete(restrictions)
                .where(restrictions.c.id == restriction_id)
                .returning(restrictions.c.id)
            )
            if gone.first() is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.restriction.doesnt_exist")
        self.forget()
