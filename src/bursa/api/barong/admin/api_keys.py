"""``GET /api/v2/barong/admin/api_keys``: a member's API keys, for support (never their
secrets), one page at a time (``Total``, ``Page``, ``Per-Page``)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from bursa.api.barong.deps import Admin, ApiKeysDep, UserAdminDep
from bursa.api.barong.schemas import ApiKey
from bursa.api.errors import error_code
from bursa.api.peatio.params import paginate
from bursa.identity.api_keys import KEY_ORDERINGS
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/api_keys", tags=["barong admin"])


@router.get("", summary="A member's API keys (never their secrets), one page")
async def member_api_keys(
    _: Admin,
    users: UserAdminDep,
    keys: ApiKeysDep,
    response: Response,
    uid: Annotated[str, Query(max_length=16)],
    page: Annotated[PlainInt, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[PlainInt, Query(ge=1, le=100)] = 100,
    ordering: Annotated[
        str,
        Query(
            pattern="^(asc|desc)$",
            json_schema_extra=error_code("api_keys.ordering.invalid_ordering"),
        ),
    ] = "asc",
    order_by: Annotated[
        str,
        Query(
            pattern=f"^({'|'.join(KEY_ORDERINGS)})$",
            json_schema_extra=error_code("api_keys.ordering.invalid_attribute"),
        ),
    ] = "id",
) -> list[ApiKey]:
    user_id = await users.user_id(uid)
    total, found = await keys.page(user_id, page, limit, order_by, ordering == "desc")
    paginate(response, total, page, limit)
    return [ApiKey(**key) for key in found]
