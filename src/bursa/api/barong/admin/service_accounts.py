"""``/api/v2/barong/admin/service_accounts``: admins list service accounts (by owner and
state), create one for an active user, and disable one with its keys
(``bursa.identity.service_accounts``). Owners manage the keys (``resource/service_accounts``).
"""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import Admin, ServiceAccountsDep
from bursa.api.barong.schemas import ServiceAccount
from bursa.api.bodies import body_of
from bursa.api.errors import error_code
from bursa.api.peatio.params import paginate
from bursa.identity.service_accounts import STATES
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/service_accounts", tags=["barong admin"])


class NewServiceAccount(BaseModel):
    owner_uid: str = Field(max_length=16)
    service_account_role: str = Field(max_length=16)
    service_account_email: str | None = Field(default=None, max_length=254)


@router.get("", summary="Service accounts, by owner and state")
async def list_service_accounts(
    _: Admin,
    accounts: ServiceAccountsDep,
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
    total, found = await accounts.search(owner_uid, state, page, limit)
    paginate(response, total, page, limit)
    return [ServiceAccount(**account) for account in found]


@router.post("", status_code=201, summary="Create a service account for an active user")
async def create_service_account(
    _: Admin,
    accounts: ServiceAccountsDep,
    body: Annotated[NewServiceAccount, body_of(NewServiceAccount)],
) -> ServiceAccount:
    created = await accounts.create(
        body.owner_uid, body.service_account_role, body.service_account_email
    )
    return ServiceAccount(**created)


@router.delete("/{uid}", summary="Disable a service account and its keys")
async def disable_service_account(
    _: Admin, accounts: ServiceAccountsDep, uid: str
) -> ServiceAccount:
    return ServiceAccount(**await accounts.disable(uid))
