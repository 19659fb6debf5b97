"""Service accounts over HTTP: admins create, list and disable them
(``/api/v2/barong/admin/service_accounts``, gated by the permission table); owners list theirs
and manage their API keys (``/api/v2/barong/resource/service_accounts``: session cookie and
the owner's 2FA code, as for the owner's own keys — never reachable with an API key)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.admin.users import Admin
from bursa.api.barong.routes import (
    ApiKey,
    ApiKeysDep,
    Kid,
    SessionDep,
    TotpOnly,
    client_of,
)
from bursa.api.errors import ApiError, error_code
from bursa.identity.service_accounts import STATES, ServiceAccounts
from bursa.plain_input import PlainInt

admin_router = APIRouter(prefix="/api/v2/barong/admin/service_accounts", tags=["barong admin"])
resource_router = APIRouter(
    prefix="/api/v2/barong/resource/service_accounts", tags=["barong resource"]
)
SaUid = Annotated[str, Field(max_length=16)]


class Owner(BaseModel):
    uid: str
    email: str
    role: str
    level: int
    otp: bool
    state: str


class ServiceAccount(BaseModel):
    """Barong's ``ServiceAccounts`` entity; ``user`` is the owner."""

    uid: str
    email: str
    role: str
    level: int
    state: str
    user: Owner
    created_at: datetime
    updated_at: datetime


class NewServiceAccount(BaseModel):
    owner_uid: str = Field(max_length=16)
    service_account_role: str = Field(max_length=16)
    service_account_email: str | None = Field(default=None, max_length=254)


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


def _accounts(request: Request) -> ServiceAccounts:
    return ServiceAccounts(request.app.state.identity)


def _present(account: dict[str, Any]) -> ServiceAccount:
    return ServiceAccount(**account)


@admin_router.get("", summary="Service accounts, by owner and state")
async def list_service_accounts(
    _: Admin,
    request: Request,
    response: Response,
    owner_uid: Annotated[str | None, Query(max_length=16)] = None,
    state: Annotated[
        str | None,
        Query(
            pattern=f"^({'|'.join(STATES)})$",
            json_schema_extra=error_code("admin.service_account.invalid_state"),
        ),
    ] = None,
    page: Annotated[PlainInt, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[PlainInt, Query(ge=1, le=100)] = 100,
) -> list[ServiceAccount]:
    total, found = await _accounts(request).search(owner_uid, state, page, limit)
    response.headers["Total"] = str(total)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)
    return [_present(account) for account in found]


@admin_router.post("", status_code=201, summary="Create a service account for an active user")
async def create_service_account(
    _: Admin, request: Request, body: NewServiceAccount
) -> ServiceAccount:
    created = await _accounts(request).create(
        body.owner_uid, body.service_account_role, body.service_account_email
    )
    return _present(created)


@admin_router.delete("/{uid}", summary="Disable a service account and its keys")
async def disable_service_account(_: Admin, request: Request, uid: str) -> ServiceAccount:
    return _present(await _accounts(request).disable(uid))


@resource_router.get("", summary="The caller's service accounts")
async def my_service_accounts(session: SessionDep, request: Request) -> list[ServiceAccount]:
    return [_present(a) for a in await _accounts(request).of_owner(session.user["id"])]


async def _owned(request: Request, session: SessionDep, uid: str) -> dict[str, Any]:
    return await _accounts(request).owned(session.user["id"], uid)


@resource_router.get("/api_keys", summary="API keys of one of the caller's service accounts")
async def list_keys(
    session: SessionDep,
    request: Request,
    keys: ApiKeysDep,
    service_account_uid: Annotated[str, Query(max_length=16)],
) -> list[ApiKey]:
    account = await _owned(request, session, service_account_uid)
    return [ApiKey(**key) for key in await keys.list(session.user["id"], account["id"])]


@resource_router.post("/api_keys", status_code=201, summary="Create a key (owner's 2FA)")
async def create_key(
    session: SessionDep, request: Request, keys: ApiKeysDep, body: NewServiceAccountKey
) -> ApiKey:
    account = await _owned(request, session, body.service_account_uid)
    if account["state"] != "active":
        raise ApiError(422, "resource.service_account.disabled")
    key = await keys.create(
        session.user,
        body.algorithm,
        body.scope,
        body.totp_code,
        client_of(request),
        service_account_id=account["id"],
    )
    return ApiKey(**key)


@resource_router.patch("/api_keys/{kid}", summary="Change a key's scope or state")
@resource_router.put("/api_keys/{kid}", summary="Change a key's scope or state (Barong's verb)")
async def update_key(
    kid: Kid,
    session: SessionDep,
    request: Request,
    keys: ApiKeysDep,
    body: ServiceAccountKeyChange,
) -> ApiKey:
    account = await _owned(request, session, body.service_account_uid)
    if body.state == "active" and account["state"] != "active":
        raise ApiError(422, "resource.service_account.disabled")
    key = await keys.update(
        session.user,
        kid,
        body.scope,
        body.state,
        body.totp_code,
        client_of(request),
        service_account_id=account["id"],
    )
    return ApiKey(**key)


@resource_router.delete("/api_keys/{kid}", status_code=204, summary="Delete a key")
async def delete_key(
    kid: Kid,
    session: SessionDep,
    request: Request,
    keys: ApiKeysDep,
    body: ServiceAccountKeyRemoval,
) -> Response:
    account = await _owned(request, session, body.service_account_uid)
    await keys.delete(
        session.user, kid, body.totp_code, client_of(request), service_account_id=account["id"]
    )
    return Response(status_code=204)
