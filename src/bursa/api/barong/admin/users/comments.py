"""``/api/v2/barong/admin/users/comments``: admins' comments on users. Writes answer the user
as ``GET users/{uid}`` shows them (Barong's ``UserWithKYC``), comments included; the author
is the calling admin, and only they edit or delete the comment."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import Admin, CommentsDep, UserAdminDep
from bursa.api.barong.schemas import UserWithActivities, present_history
from bursa.api.bodies import body_of
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/users/comments", tags=["barong admin"])


class NewComment(BaseModel):
    uid: str = Field(max_length=16)
    title: str = Field(max_length=64)
    data: str = Field(max_length=4096)


class CommentChange(BaseModel):
    id: PlainInt
    title: str | None = Field(default=None, max_length=64)
    data: str | None = Field(default=None, max_length=4096)


@router.post("", status_code=201, summary="Comment on a user")
async def add_comment(
    admin: Admin,
    comments: CommentsDep,
    users: UserAdminDep,
    body: Annotated[NewComment, body_of(NewComment)],
) -> UserWithActivities:
    user_id = await comments.add(body.uid, admin["uid"], body.title, body.data)
    return present_history(await users.with_history(user_id))


@router.put("", summary="Edit one's own comment")
async def edit_comment(
    admin: Admin,
    comments: CommentsDep,
    users: UserAdminDep,
    body: Annotated[CommentChange, body_of(CommentChange)],
) -> UserWithActivities:
    user_id = await comments.edit(body.id, admin["uid"], body.title, body.data)
    return present_history(await users.with_history(user_id))


@router.delete("", status_code=204, summary="Delete one's own comment")
async def delete_comment(
    admin: Admin, comments: CommentsDep, comment_id: Annotated[PlainInt, Query(alias="id")]
) -> Response:
    await comments.remove(comment_id, admin["uid"])
    return Response(status_code=204)
