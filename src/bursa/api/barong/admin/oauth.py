"""``/api/v2/barong/admin/oauth/clients``: the OAuth client applications admins register
(the secret is shown once) and disable (their tokens are revoked). Members see and revoke
what they allowed under ``resource/oauth/grants``."""

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import Admin, OAuthStoreDep
from bursa.api.barong.resource.oauth import ClientId
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.api.schemas import Moment

router = APIRouter(prefix="/api/v2/barong/admin/oauth", tags=["barong admin"])


class NewClient(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    redirect_uris: list[str] = Field(min_length=1, max_length=10)
    scopes: list[str] = Field(min_length=1, max_length=10)
    confidential: bool = Field(
        default=True, description="a server-side app with a secret; false for SPAs and mobile"
    )


class OAuthClient(BaseModel):
    client_id: str
    name: str
    redirect_uris: list[str]
    scopes: list[str]
    token_endpoint_auth_method: str
    state: str
    created_at: Moment
    updated_at: Moment
    client_secret: str | None = Field(default=None, description="shown once, at registration")


def _present(row: dict[str, object], secret: str | None = None) -> OAuthClient:
    return OAuthClient(
        client_id=str(row["client_id"]),
        name=str(row["name"]),
        redirect_uris=list(row["redirect_uris"]),  # type: ignore[call-overload]
        scopes=str(row["scopes"]).split(),
        token_endpoint_auth_method=str(row["auth_method"]),
        state=str(row["state"]),
        created_at=row["created_at"],  # type: ignore[arg-type]
        updated_at=row["updated_at"],  # type: ignore[arg-type]
        client_secret=secret,
    )


@router.get("/clients", summary="Registered OAuth client applications")
async def list_clients(admin: Admin, store: OAuthStoreDep) -> list[OAuthClient]:
    return [_present(row) for row in await store.clients()]


@router.post("/clients", status_code=201, summary="Register an OAuth client application")
async def register_client(
    request: Request,
    admin: Admin,
    store: OAuthStoreDep,
    body: Annotated[NewClient, body_of(NewClient)],
) -> OAuthClient:
    row, secret = await store.register_client(
        admin,
        body.name,
        body.redirect_uris,
        body.scopes,
        body.confidential,
        client_of(request),
    )
    return _present(row, secret)


@router.delete(
    "/clients/{client_id}", status_code=204, summary="Disable a client and revoke its tokens"
)
async def disable_client(
    client_id: ClientId, request: Request, admin: Admin, store: OAuthStoreDep
) -> Response:
    await store.disable_client(admin, client_id, client_of(request))
    return Response(status_code=204)
