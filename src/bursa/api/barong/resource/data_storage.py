"""``POST /api/v2/barong/resource/data_storage``: file a JSON document under an allowed title
(once per title); it then shows in ``users/me`` under ``data_storages``. Admins delete one
with ``DELETE /api/v2/barong/admin/users/data_storage``."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bursa.api.barong.deps import SessionDep, StoragesDep
from bursa.api.barong.schemas import ERRORS, DataStorage
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.api.schemas import Errors

router = APIRouter(prefix="/api/v2/barong/resource/data_storage", tags=["barong resource"])
_WITH_409: dict[int | str, dict[str, Any]] = ERRORS | {409: {"model": Errors}}


class NewDataStorage(BaseModel):
    title: str = Field(max_length=64)
    data: str = Field(max_length=64 * 1024)  # the service allows 5 KB and says so


@router.post(
    "",
    status_code=201,
    responses=_WITH_409,
    summary="File a JSON document under an allowed title (once per title)",
)
async def create_data_storage(
    request: Request,
    session: SessionDep,
    storages: StoragesDep,
    body: Annotated[NewDataStorage, body_of(NewDataStorage)],
) -> DataStorage:
    created = await storages.create(session.user, body.title, body.data, client_of(request))
    return DataStorage(**created)
