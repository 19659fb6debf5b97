"""``/api/v2/barong/resource/api_keys``: the signed-in member's API keys — list, create (the
secret is shown once), change scope or state, delete. Session only, and every write needs
the member's 2FA code (``bursa.identity.api_keys``)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import ApiKeysDep, SessionDep
from bursa.api.barong.schemas import ERRORS, ApiKey
from bursa.api.bodies import body_of
from bursa.api.deps import client_of

router = APIRouter(prefix="/api/v2/barong/resource/api_keys", tags=["barong resource"])
Kid = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


class NewApiKey(BaseModel):
    algorithm: str = Field(default="HS256", max_length=8)
    scope: str = Field(default="", max_length=100)
    totp_code: str | None = Field(default=None, max_length=6)


class ApiKeyChange(BaseModel):
    scope: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=8)
    totp_code: str | None = Field(default=None, max_length=6)


class TotpOnly(BaseModel):
    totp_code: str | None = Field(default=None, max_length=6)


@router.get("", responses=ERRORS, summary="The member's API keys")
async def list_api_keys(session: SessionDep, keys: ApiKeysDep) -> list[ApiKey]:
    return [ApiKey(**key) for key in await keys.list(session.user["id"])]


@router.post("", status_code=201, responses=ERRORS, summary="Create a key (needs 2FA)")
async def create_api_key(
    request: Request,
    session: SessionDep,
    keys: ApiKeysDep,
    body: Annotated[NewApiKey, body_of(NewApiKey)],
) -> ApiKey:
    key = await keys.create(
        session.user, body.algorithm, body.scope, body.totp_code, client_of(request)
    )
    return ApiKey(**key)


@router.patch("/{kid}", responses=ERRORS, summary="Change scope or state")
async def update_api_key(
    kid: Kid,
    request: Request,
    session: SessionDep,
    keys: ApiKeysDep,
    body: Annotated[ApiKeyChange, body_of(ApiKeyChange)],
) -> ApiKey:
    key = await keys.update(
        session.user, kid, body.scope, body.state, body.totp_code, client_of(request)
    )
    return ApiKey(**key)


@router.delete("/{kid}", status_code=204, responses=ERRORS, summary="Delete a key")
async def delete_api_key(
    kid: Kid, body: TotpOnly, request: Request, session: SessionDep, keys: ApiKeysDep
) -> Response:
    await keys.delete(session.user, kid, body.totp_code, client_of(request))
    return Response(status_code=204)
