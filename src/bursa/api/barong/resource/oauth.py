"""``/api/v2/barong/resource/oauth/grants``: the applications the member allowed (OAuth), and
taking one's access away. Session only: an application cannot manage its own access.
Admins register the applications (``admin/oauth/clients``)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel

from bursa.api.barong.deps import OAuthStoreDep, SessionDep
from bursa.api.deps import client_of
from bursa.api.schemas import Moment

router = APIRouter(prefix="/api/v2/barong/resource/oauth", tags=["barong resource"])
ClientId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


class Grant(BaseModel):
    client_id: str
    name: str
    scope: list[str]
    created_at: Moment


@router.get("/grants", summary="Applications the member allowed")
async def list_grants(session: SessionDep, store: OAuthStoreDep) -> list[Grant]:
    return [Grant(**grant) for grant in await store.grants_of(session.user["id"])]


@router.delete("/grants/{client_id}", status_code=204, summary="Take an application's access away")
async def revoke_grant(
    client_id: ClientId, request: Request, session: SessionDep, store: OAuthStoreDep
) -> Response:
    await store.revoke_grants(session.user, client_id, client_of(request))
    return Response(status_code=204)
