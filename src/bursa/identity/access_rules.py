"""The tables the authorization step reads (``bursa.identity.authz``): permissions (role,
verb, path prefix, action) and restrictions (by IP, IP range, country or everyone).

Admins edit them through Barong's admin API; the ``Authorizer`` caches both, so every change
tells it to read them again (``forget``) once committed.
"""

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.errors import Refusal
from bursa.identity.rules import ROLES, SERVICE_ACCOUNT_ROLE
from bursa.identity.service import IdentityError
from bursa.identity.tables import permissions, restrictions

# What an admin may change of a row (``PUT``); ``id`` and the times are the table's.
PERMISSION_FIELDS = ("role", "verb", "path", "action", "topic")
RESTRICTION_FIELDS = ("scope", "value", "category", "code", "state")

# What ``abilities`` reports on: Barong's admin models and the path that serves each.
ADMIN_RESOURCES = {
    "Ability": "api/v2/barong/admin/abilities",
    "User": "api/v2/barong/admin/users",
    "Level": "api/v2/barong/admin/levels",
    "Label": "api/v2/barong/admin/users/labels",
    "Profile": "api/v2/barong/admin/profiles",
    "Activity": "api/v2/barong/admin/activities",
    "APIKey": "api/v2/barong/admin/api_keys",
    "Permission": "api/v2/barong/admin/permissions",
    "Restriction": "api/v2/barong/admin/restrictions",
    "Document": "api/v2/barong/admin/users/documents",
    "Comment": "api/v2/barong/admin/users/comments",
    "ServiceAccount": "api/v2/barong/admin/service_accounts",
}
WRITE_VERBS = ("POST", "PUT", "DELETE")

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

    async def update_permission(
        self, permission_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Change some of a permission's fields (at least one); the role must be a user or
        service account role, as for a new row."""
        changes = {k: v for k, v in changes.items() if k in PERMISSION_FIELDS}
        if not changes:
            raise IdentityError(Refusal.INVALID, "admin.permission.one_of_role_verb_path_action")
        role = changes.get("role")
        if role is not None and role not in ROLES and not re.fullmatch(SERVICE_ACCOUNT_ROLE, role):
            raise IdentityError(Refusal.INVALID, "admin.permission.invalid_role")
        row = await self._update(permissions, permission_id, changes)
        if row is None:
            raise IdentityError(Refusal.NOT_FOUND, "admin.permission.doesnt_exist")
        return row

    async def abilities(self, role: str) -> dict[str, list[str]]:
        """What ``role`` may do in Barong's admin API, by the permission table as the
        authorization step reads it: ``manage`` a model whose path it may read and write
        (POST, PUT and DELETE), ``read`` one it may only read. Answered as Barong's
        ``{"read": [...], "manage": [...]}``, without an empty list."""
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(select(permissions).where(permissions.c.role == role)))
        found: dict[str, list[str]] = {}
        for model, path in ADMIN_RESOURCES.items():
            if not allows(rows, "GET", path):
                continue
            manages = all(allows(rows, verb, path) for verb in WRITE_VERBS)
            found.setdefault("manage" if manages else "read", []).append(model)
        return found

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
        self, scope: str, value: str, category: str, code: int | None, state: str = "enabled"
    ) -> dict[str, Any]:
        """A new restriction; without ``code`` it answers its scope's default status (471
        for maintenance). A ``disabled`` one is kept but not applied."""
        if code is None:
            code = MAINTENANCE_CODE if category == "maintenance" else DEFAULT_CODES[scope]
        values = {
            "scope": scope,
            "value": value,
            "category": category,
            "code": code,
            "state": state,
        }
        async with self.engine.begin() as conn:
            found = await conn.execute(
                insert(restrictions).values(**values).returning(restrictions)
            )
            row = dict(found.mappings().one())
        self.forget()
        return row

    async def update_restriction(
        self, restriction_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Change some of a restriction's fields (at least one): its scope, value,
        category, status code, or state (``disabled`` keeps it but stops applying it)."""
        changes = {k: v for k, v in changes.items() if k in RESTRICTION_FIELDS}
        if not changes:
            raise IdentityError(Refusal.INVALID, "admin.restriction.nothing_to_change")
        row = await self._update(restrictions, restriction_id, changes)
        if row is None:
            raise IdentityError(Refusal.NOT_FOUND, "admin.restriction.doesnt_exist")
        return row

    async def _update(
        self, table: Any, row_id: int, changes: dict[str, Any]
    ) -> dict[str, Any] | None:
        async with self.engine.begin() as conn:
            found = await conn.execute(
                update(table)
                .where(table.c.id == row_id)
                .values(**changes, updated_at=func.now())
                .returning(table)
            )
            row = found.mappings().first()
        if row is None:
            return None
        self.forget()
        return dict(row)

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


def allows(rows: list[Any], verb: str, path: str) -> bool:
    """The permission table's rule (``identity.authz``): among ``rows`` (one role's) those
    for ``verb`` (or ``ALL``) whose path prefixes ``path``; none may ``DROP`` and one must
    ``ACCEPT``."""
    actions = {r.action for r in rows if r.verb in (verb, "ALL") and path.startswith(r.path)}
    return "ACCEPT" in actions and "DROP" not in actions
