"""``DELETE /api/v2/barong/admin/users/data_storage``: delete a member's data storage (they
may then file it again, ``resource/data_storage``)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from bursa.api.barong.deps import Admin, StoragesDep
from bursa.api.deps import client_of

router = APIRouter(prefix="/api/v2/barong/admin/users/data_storage", tags=["barong admin"])


@router.delete(
    "", status_code=204, summary="Delete a member's data storage (they may then file it again)"
)
async def delete_data_storage(
    request: Request,
    admin: Admin,
    storages: StoragesDep,
    uid: Annotated[str, Query(min_length=1, max_length=16)],
    title: Annotated[str, Query(min_length=1, max_length=64)],
) -> Response:
    await storages.delete(admin, uid, title, client_of(request))
    return Response(status_code=204)
