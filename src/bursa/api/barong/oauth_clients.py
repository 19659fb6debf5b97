"""Who may use OAuth: admins register client applications
(``/api/v2/barong/admin/oauth/clients``); members see and revoke the applications they
allowed (``/api/v2/barong/resource/oauth/grants``, session only — an application cannot
manage its own access)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.admin.users import Admin
from bursa.api.barong.routes import SessionDep, client_of
from bursa.identity.oauth_store import OAuthStore

admin_router = APIRouter(prefix="/api/v2/barong/admin/oauth", tags=["barong admin"])
resource_router = APIRouter(prefix="/api/v2/barong/resource/oauth", tags=["barong resource"])
ClientId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


def _store(request: Request) -> OAuthStore:
    store: OAuthStore = request.app.state.oauth_store
    return store


StoreDep = Annotated[OAuthStore, Depends(_store)]


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
    created_at: datetime
    updated_at: datetime
    client_secret: str | None = Field(default=None, description="shown once, at registration")


class Grant(BaseModel):
    client_id: str
    name: str
    scope: list[str]
    created_at: datetime


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


@admin_router.get("/clients", summary="Registered OAuth client applications")
async def list_clients(admin: Admin, store: StoreDep) -> list[OAuthClient]:
    return [_present(row) for row in await store.clients()]


@admin_router.post("/clients", status_code=201, summary="Register an OAuth client application")
async def register_client(
    body: NewClient, request: Request, admin: Admin, store: StoreDep
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


@admin_router.delete(
    "/clients/{client_id}", status_code=204, summary="Disable a client and revoke its tokens"
)
async def disable_client(
    client_id: ClientId, request: Request, admin: Admin, store: StoreDep
) -> Response:
    await store.disable_client(admin, client_id, client_of(request))
    return Response(status_code=204)


@resource_router.get("/grants", summary="Applications the member allowed")
async def list_grants(session: SessionDep, store: StoreDep) -> list[Grant]:
    return [Grant(**grant) for grant in await store.grants_of(session.user["id"])]


@resource_router.delete(
    "/grants/{client_id}", status_code=204, summary="Take an application's access away"
)
async def revoke_grant(
    client_id: ClientId, request: Request, session: SessionDep, store: StoreDep
) -> Response:
    await store.revoke_grants(session.user, client_id, client_of(request))
    return Response(status_code=204)
