"""``/api/v2/barong/resource/api_keys``: the signed-in member's API keys — list (in pages),
create (the secret is shown once), change scope or state, delete. Session only, and every
write needs the member's 2FA code (``bursa.identity.api_keys``).

As Barong (Grape) does, every write takes its parameters from the query string as well as
the body: OpenDAX's front end sends ``DELETE …/api_keys/{kid}?totp_code=…``. ``state``
takes ``disabled`` as a synonym of ``inactive`` (what that front end sends)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import ApiKeysDep, SessionDep
from bursa.api.barong.schemas import ERRORS, ApiKey
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.api.errors import error_code
from bursa.api.peatio.params import paginate
from bursa.identity.api_keys import KEY_ORDERINGS
from bursa.plain_input import PlainInt

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


@router.get("", responses=ERRORS, summary="The member's API keys, one page")
async def list_api_keys(
    session: SessionDep,
    keys: ApiKeysDep,
    response: Response,
    page: Annotated[PlainInt, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[PlainInt, Query(ge=1, le=1000)] = 100,
    ordering: Annotated[
        str,
        Query(
            pattern="^(asc|desc)$",
            json_schema_extra=error_code("resource.api_key.invalid_ordering"),
        ),
    ] = "asc",
    order_by: Annotated[
        str,
        Query(
            pattern=f"^({'|'.join(KEY_ORDERINGS)})$",
            json_schema_extra=error_code("resource.api_key.invalid_order_by"),
        ),
    ] = "id",
) -> list[ApiKey]:
    total, found = await keys.page(session.user["id"], page, limit, order_by, ordering == "desc")
    paginate(response, total, page, limit)
    return [ApiKey(**key) for key in found]


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
    kid: Kid,
    request: Request,
    session: SessionDep,
    keys: ApiKeysDep,
    body: Annotated[TotpOnly, body_of(TotpOnly)],
) -> Response:
    await keys.delete(session.user, kid, body.totp_code, client_of(request))
    return Response(status_code=204)
