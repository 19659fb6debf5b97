"""``POST /api/v2/barong/resource/data_storage``: file a JSON document under an allowed
title; it then shows in ``users/me`` under ``data_storages``. Admins delete one with
``DELETE /api/v2/barong/admin/users/data_storage``."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.admin.users import Admin
from bursa.api.barong.routes import _ERRORS, DataStorage, SessionDep, client_of
from bursa.api.schemas import Errors
from bursa.identity.data_storage import DataStorages

router = APIRouter(prefix="/api/v2/barong/resource", tags=["barong resource"])
admin_router = APIRouter(prefix="/api/v2/barong/admin", tags=["barong admin"])
_WITH_409: dict[int | str, dict[str, Any]] = _ERRORS | {409: {"model": Errors}}


class NewDataStorage(BaseModel):
    title: str = Field(max_length=64)
    data: str = Field(max_length=64 * 1024)  # the service allows 5 KB and says so


def get_storages(request: Request) -> DataStorages:
    found: DataStorages = request.app.state.data_storages
    return found


@router.post(
    "/data_storage",
    status_code=201,
    responses=_WITH_409,
    summary="File a JSON document under an allowed title (once per title)",
)
async def create_data_storage(
    body: NewDataStorage,
    request: Request,
    session: SessionDep,
    storages: Annotated[DataStorages, Depends(get_storages)],
) -> DataStorage:
    created = await storages.create(session.user, body.title, body.data, client_of(request))
    return DataStorage(**created)


@admin_router.delete(
    "/users/data_storage",
    status_code=204,
    summary="Delete a member's data storage (they may then file it again)",
)
async def delete_data_storage(
    request: Request,
    admin: Admin,
    storages: Annotated[DataStorages, Depends(get_storages)],
    uid: Annotated[str, Query(min_length=1, max_length=16)],
    title: Annotated[str, Query(min_length=1, max_length=64)],
) -> Response:
    await storages.delete(admin, uid, title, client_of(request))
    return Response(status_code=204)
