"""``/api/v2/barong/resource/service_accounts``: the caller's service accounts, and their API
keys (``api_keys``) — session cookie and the owner's 2FA code, as for the owner's own keys;
never reachable with an API key (the permission table drops it for service accounts).
Admins create and disable service accounts (``admin/service_accounts``)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import ApiKeysDep, ServiceAccountsDep, SessionDep
from bursa.api.barong.resource.api_keys import Kid, TotpOnly
from bursa.api.barong.schemas import ApiKey, ServiceAccount
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.identity.service_account_keys import ServiceAccountKeys

router = APIRouter(prefix="/api/v2/barong/resource/service_accounts", tags=["barong resource"])
SaUid = Annotated[str, Field(max_length=16)]


class NewServiceAccountKey(BaseModel):
    service_account_uid: SaUid
    algorithm: str = Field(default="HS256", max_length=8)
    scope: str = Field(default="", max_length=100)
    totp_code: str | None = Field(default=None, max_length=6)


class ServiceAccountKeyChange(BaseModel):
    service_account_uid: SaUid
    scope: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=8)
    totp_code: str | None = Field(default=None, max_length=6)


class ServiceAccountKeyRemoval(TotpOnly):
    service_account_uid: SaUid


def get_keys(accounts: ServiceAccountsDep, keys: ApiKeysDep) -> ServiceAccountKeys:
    return ServiceAccountKeys(accounts, keys)


KeysDep = Annotated[ServiceAccountKeys, Depends(get_keys)]


@router.get("", summary="The caller's service accounts")
async def my_service_accounts(
    session: SessionDep, accounts: ServiceAccountsDep
) -> list[ServiceAccount]:
    return [ServiceAccount(**a) for a in await accounts.of_owner(session.user["id"])]


@router.get("/api_keys", summary="API keys of one of the caller's service accounts")
async def list_keys(
    session: SessionDep,
    keys: KeysDep,
    service_account_uid: Annotated[str, Query(max_length=16)],
) -> list[ApiKey]:
    return [ApiKey(**key) for key in await keys.list(session.user, service_account_uid)]


@router.post("/api_keys", status_code=201, summary="Create a key (owner's 2FA)")
async def create_key(
    session: SessionDep,
    request: Request,
    keys: KeysDep,
    body: Annotated[NewServiceAccountKey, body_of(NewServiceAccountKey)],
) -> ApiKey:
    key = await keys.create(
        session.user,
        body.service_account_uid,
        body.algorithm,
        body.scope,
        body.totp_code,
        client_of(request),
    )
    return ApiKey(**key)


@router.patch("/api_keys/{kid}", summary="Change a key's scope or state")
@router.put("/api_keys/{kid}", summary="Change a key's scope or state (Barong's verb)")
async def update_key(
    kid: Kid,
    session: SessionDep,
    request: Request,
    keys: KeysDep,
    body: Annotated[ServiceAccountKeyChange, body_of(ServiceAccountKeyChange)],
) -> ApiKey:
    key = await keys.update(
        session.user,
        body.service_account_uid,
        kid,
        body.scope,
        body.state,
        body.totp_code,
        client_of(request),
    )
    return ApiKey(**key)


@router.delete("/api_keys/{kid}", status_code=204, summary="Delete a key")
async def delete_key(
    kid: Kid,
    session: SessionDep,
    request: Request,
    keys: KeysDep,
    body: Annotated[ServiceAccountKeyRemoval, body_of(ServiceAccountKeyRemoval)],
) -> Response:
    await keys.delete(
        session.user, body.service_account_uid, kid, body.totp_code, client_of(request)
    )
    return Response(status_code=204)
