"""Admins' comments on users (``/api/v2/barong/admin/users/comments``), gated like the rest of
the admin API by the permission table. Writes answer the user as ``GET users/{uid}`` shows
them (Barong's ``UserWithKYC``), comments included; the author is the calling admin."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.admin.users import Admin, UserWithActivities, user_with_kyc
from bursa.identity.comments import Comments
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


def _comments(request: Request) -> Comments:
    return Comments(request.app.state.identity)


@router.post("", status_code=201, summary="Comment on a user")
async def add_comment(admin: Admin, request: Request, body: NewComment) -> UserWithActivities:
    user_id = await _comments(request).add(body.uid, admin["uid"], body.title, body.data)
    return await user_with_kyc(request, user_id)


@router.put("", summary="Edit one's own comment")
async def edit_comment(admin: Admin, request: Request, body: CommentChange) -> UserWithActivities:
    user_id = await _comments(request).edit(body.id, admin["uid"], body.title, body.data)
    return await user_with_kyc(request, user_id)


@router.delete("", status_code=204, summary="Delete one's own comment")
async def delete_comment(
    admin: Admin, request: Request, comment_id: Annotated[PlainInt, Query(alias="id")]
) -> Response:
    await _comments(request).remove(comment_id, admin["uid"])
    return Response(status_code=204)
