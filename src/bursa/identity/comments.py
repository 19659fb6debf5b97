"""Admins' comments on a user (Barong's ``comments``): notes staff leave for each other, never
shown to the member. Each keeps its author's uid; only the author may change or remove it,
so a note cannot be reworded under someone else's name."""

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bursa.errors import Refusal
from bursa.identity.service import Identity, IdentityError
from bursa.identity.tables import comments, users


def _check(title: str | None, data: str | None) -> None:
    if title is not None and not title.strip():
        raise IdentityError(Refusal.INVALID, "admin.comment.invalid_title")
    if data is not None and not data.strip():
        raise IdentityError(Refusal.INVALID, "admin.comment.invalid_data")


class Comments:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def add(self, uid: str, author_uid: str, title: str, data: str) -> int:
        """Comment on user ``uid``; answers the user's id."""
        _check(title, data)
        async with self.identity.engine.begin() as conn:
            user_id = await conn.scalar(select(users.c.id).where(users.c.uid == uid))
            if user_id is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.user.doesnt_exist")
            await conn.execute(
                insert(comments).values(
                    user_id=user_id, author_uid=author_uid, title=title.strip(), data=data
                )
            )
        return int(user_id)

    async def edit(
        self, comment_id: int, author_uid: str, title: str | None, data: str | None
    ) -> int:
        """Change the title and/or text of one's own comment; answers the user's id."""
        if title is None and data is None:
            raise IdentityError(Refusal.INVALID, "admin.comment.missing_params", "title or data")
        _check(title, data)
        values: dict[str, Any] = {"updated_at": func.now()}
        if title is not None:
            values["title"] = title.strip()
        if data is not None:
            values["data"] = data
        async with self.identity.engine.begin() as conn:
            await self._own(conn, comment_id, author_uid)
            user_id = await conn.scalar(
                update(comments)
                .where(comments.c.id == comment_id)
                .values(**values)
                .returning(comments.c.user_id)
            )
        assert user_id is not None
        return int(user_id)

    async def remove(self, comment_id: int, author_uid: str) -> None:
        async with self.identity.engine.begin() as conn:
            await self._own(conn, comment_id, author_uid)
            await conn.execute(delete(comments).where(comments.c.id == comment_id))

    async def of_user(self, user_id: int) -> list[dict[str, Any]]:
        async with self.identity.engine.connect() as conn:
            rows = await conn.execute(
                select(comments).where(comments.c.user_id == user_id).order_by(comments.c.id)
            )
            return [dict(r) for r in rows.mappings()]

    @staticmethod
    async def _own(conn: AsyncConnection, comment_id: int, author_uid: str) -> None:
        author = await conn.scalar(
            select(comments.c.author_uid).where(comments.c.id == comment_id).with_for_update()
        )
        if author is None:
            raise IdentityError(Refusal.NOT_FOUND, "admin.comment.doesnt_exist")
        if author != author_uid:
            raise IdentityError(Refusal.FORBIDDEN, "admin.comment.not_author")
