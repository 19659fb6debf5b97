"""``GET /api/v2/barong/admin/api_keys``: a member's API keys, for support (never their
secrets)."""

from typing import Annotated

from fastapi import APIRouter, Query

from bursa.api.barong.deps import Admin, ApiKeysDep, UserAdminDep
from bursa.api.barong.schemas import ApiKey

router = APIRouter(prefix="/api/v2/barong/admin/api_keys", tags=["barong admin"])


@router.get("", summary="A member's API keys (never their secrets)")
async def member_api_keys(
    _: Admin,
    users: UserAdminDep,
    keys: ApiKeysDep,
    uid: Annotated[str, Query(max_length=16)],
) -> list[ApiKey]:
    return [ApiKey(**key) for key in await keys.list(await users.user_id(uid))]
