"""Data storages (Barong's ``POST /resource/data_storage``): small JSON documents a member
files under a title the operator allows (``BURSA_USER_STORAGE_TITLES``), e.g. answers to
an onboarding questionnaire, shown in ``UserWithFullInfo.data_storages``.

One per title and written once: as in Barong, a member cannot change what they filed (an
admin reviewing it must see what was submitted); a second one with the same title is 409.
An admin may delete one (Barong's ``DELETE admin/users/data_storage``), after which the
member can file it again.
"""

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bursa.errors import Refusal
from bursa.formats import iso
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import data_storages, users

DEFAULT_TITLES = ("personal", "company")
# Titles of Barong's own entities: never a data storage.
FORBIDDEN_TITLES = frozenset({"document", "label", "profile", "phone", "user"})
MAX_DATA_BYTES = 5 * 1024


def allowed_titles(titles: Iterable[str]) -> frozenset[str]:
    """The operator's list, checked: a forbidden title is a configuration error."""
    found = frozenset(title.strip().lower() for title in titles if title.strip())
    if found & FORBIDDEN_TITLES:
        raise ValueError(f"forbidden titles: {', '.join(sorted(found & FORBIDDEN_TITLES))}")
    return found


class DataStorages:
    def __init__(self, identity: Identity, titles: Iterable[str] = DEFAULT_TITLES) -> None:
        self.identity = identity
        self.titles = allowed_titles(titles)

    async def create(
        self, user: dict[str, Any], title: str, data: str, client: Client
    ) -> dict[str, Any]:
        title = title.strip().lower()
        if title in FORBIDDEN_TITLES or title not in self.titles:
            raise IdentityError(
                Refusal.INVALID,
                "resource.data_storage.invalid_title",
                ", ".join(sorted(self.titles)),
            )
        if len(data.encode()) > MAX_DATA_BYTES:
            raise IdentityError(
                Refusal.INVALID, "resource.data_storage.data_too_long", "at most 5 KB"
            )
        try:
            parsed = json.loads(data)
        except ValueError as exc:
            raise IdentityError(
                Refusal.INVALID, "resource.data_storage.invalid_data", "not JSON"
            ) from exc
        if not isinstance(parsed, dict):
            raise IdentityError(
                Refusal.INVALID, "resource.data_storage.invalid_data", "a JSON object"
            )
        async with self.identity.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        pg_insert(data_storages)
                        .values(user_id=user["id"], title=title, data=data)
                        .on_conflict_do_nothing(constraint="uq_data_storages_user_id_title")
                        .returning(data_storages)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise IdentityError(Refusal.CONFLICT, "resource.data_storage.already_exists")
            await self.identity.record(
                conn, user["id"], client, "account", "data storage created", "succeed", title
            )
            await self.identity.emit(
                conn,
                "model.data_storage.created",
                user,
                record={
                    "title": row["title"],
                    "data": row["data"],
                    "created_at": iso(row["created_at"]),
                    "updated_at": iso(row["updated_at"]),
                },
            )
        return dict(row)

    async def delete(self, admin: dict[str, Any], uid: str, title: str, client: Client) -> None:
        """An admin removes a member's data storage; recorded on the admin's activities."""
        async with self.identity.transaction() as conn:
            user_id = await conn.scalar(select(users.c.id).where(users.c.uid == uid))
            if user_id is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.user.doesnt_exist")
            gone = await conn.execute(
                delete(data_storages)
                .where(
                    data_storages.c.user_id == user_id,
                    data_storages.c.title == title.strip().lower(),
                )
                .returning(data_storages.c.id)
            )
            if gone.first() is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.data_storage.doesnt_exist")
            await self.identity.record(
                conn,
                admin["id"],
                client,
                "admin",
                "data storage deleted",
                "succeed",
                f"{uid} {title}",
            )
