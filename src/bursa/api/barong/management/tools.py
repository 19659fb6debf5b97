"""Barong's Management API, the rest: ``otp/sign`` (Barong co-signs a management request
once the user's 2FA code checks: ``bursa.identity.otp_signing``), service accounts
(``bursa.identity.service_accounts``), API keys (refused) and the clock."""

import time
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from bursa.api.barong.management.users import Managed, Params, Uid, router, signed
from bursa.api.barong.schemas import ServiceAccount
from bursa.api.deps import client_of
from bursa.api.management import Nothing
from bursa.api.management_auth import VERB_MESSAGES, ManagementPolicy, ManagementRefused
from bursa.identity import otp_signing
from bursa.identity.otp_signing import CoSigner
from bursa.identity.service_accounts import ServiceAccounts
from bursa.plain_input import PlainInt

DISABLED = "disabled_management_endpoint"


class OtpSign(Params):
    user_uid: Uid
    # Six characters of any kind: Identity.require_otp reads them as plain digits and counts
    # anything else as a wrong code (a pattern here would refuse it uncounted).
    otp_code: str = Field(min_length=6, max_length=6)
    jwt: dict[str, Any]


def get_co_signer(request: Request) -> CoSigner:
    """Barong's key and the signers its own Management API policy trusts."""
    policy: ManagementPolicy = request.app.state.management["barong"]
    return CoSigner(request.app.state.barong_management_key, policy.keychain, policy.leeway_s)


@router.post(
    "/otp/sign",
    status_code=201,
    summary="Add Barong's signature to a management request once the user's 2FA code checks",
)
async def otp_sign(
    body: Annotated[OtpSign, signed("otp_sign", OtpSign)],
    managed: Managed,
    signer: Annotated[CoSigner, Depends(get_co_signer)],
    request: Request,
) -> dict[str, Any]:
    """The envelope must be unexpired and signed by a signer of Barong's keychain before a
    code is spent on it; a wrong code signs nothing and counts against the member."""
    return await otp_signing.co_sign(
        managed,
        request.app.state.limiter,
        signer,
        body.user_uid,
        body.otp_code,
        body.jwt,
        client_of(request),
    )


# ---------------------------------------------------------------- service accounts


class FindServiceAccount(Params):
    uid: Uid | None = None
    email: str | None = Field(default=None, max_length=254)

    @model_validator(mode="after")
    def _exactly_one(self) -> "FindServiceAccount":
        if (self.uid is None) == (self.email is None):
            raise ValueError("exactly one of uid, email is required")
        return self


class ListServiceAccounts(Params):
    owner_uid: Uid | None = None
    owner_email: str | None = Field(default=None, max_length=254)
    page: PlainInt = Field(default=1, ge=1, le=1_000_000)
    limit: PlainInt = Field(default=100, ge=1, le=100)


def _chosen_here(value: object) -> None:
    if value is not None:
        raise PydanticCustomError("chosen_here", "Bursa chooses it (SI…)")


class NewServiceAccount(Params):
    owner_uid: Uid
    service_account_role: str = Field(min_length=1, max_length=16)
    service_account_uid: Annotated[None, BeforeValidator(_chosen_here)] = None
    service_account_email: str | None = Field(default=None, max_length=254)


class ServiceAccountUid(Params):
    uid: Uid


def get_service_accounts(request: Request) -> ServiceAccounts:
    return ServiceAccounts(request.app.state.identity)


Accounts = Annotated[ServiceAccounts, Depends(get_service_accounts)]


@router.post("/service_accounts/get", status_code=201, summary="A service account")
async def get_service_account(
    body: Annotated[FindServiceAccount, signed("read_service_accounts", FindServiceAccount)],
    accounts: Accounts,
) -> ServiceAccount:
    return ServiceAccount(**await accounts.find(body.uid, body.email))


@router.post("/service_accounts/list", status_code=201, summary="Service accounts")
async def list_service_accounts(
    body: Annotated[ListServiceAccounts, signed("read_service_accounts", ListServiceAccounts)],
    managed: Managed,
) -> list[ServiceAccount]:
    found = await managed.service_accounts(body.owner_uid, body.owner_email, body.page, body.limit)
    return [ServiceAccount(**account) for account in found]


@router.post("/service_accounts/create", status_code=201, summary="Create a service account")
async def create_service_account(
    body: Annotated[NewServiceAccount, signed("write_service_accounts", NewServiceAccount)],
    accounts: Accounts,
) -> ServiceAccount:
    account = await accounts.create(
        body.owner_uid, body.service_account_role, body.service_account_email
    )
    return ServiceAccount(**account)


@router.post(
    "/service_accounts/delete", status_code=201, summary="Disable a service account and its keys"
)
async def delete_service_account(
    body: Annotated[ServiceAccountUid, signed("write_service_accounts", ServiceAccountUid)],
    accounts: Accounts,
) -> ServiceAccount:
    return ServiceAccount(**await accounts.disable(body.uid))


# ---------------------------------------------------------------- API keys, clock


@router.post("/api_keys", status_code=201, summary="Refused: API keys need the holder's 2FA")
@router.post("/api_keys/update", status_code=201, summary="Refused: API keys need the holder's 2FA")
async def api_keys(_: Annotated[Nothing, signed("write_apikeys", Nothing)]) -> None:
    """Barong refused these unless ``BARONG_MGN_API_KEYS_*`` was set. Bursa always
    refuses: an API key is made or changed only with its holder's 2FA code, which a
    server-to-server caller does not have."""
    raise ManagementRefused(422, DISABLED)


@router.post("/timestamp", status_code=201, summary="Barong's clock (unix seconds)")
async def timestamp(_: Annotated[Nothing, signed("tools", Nothing)]) -> dict[str, int]:
    return {"timestamp": int(time.time())}


@router.api_route(
    "/{path:path}", methods=["GET", "HEAD", "DELETE", "PATCH", "OPTIONS"], include_in_schema=False
)
async def other_verbs(path: str) -> None:
    """Barong's answer to any other verb (defined last: only unmatched methods reach it)."""
    raise ManagementRefused(405, VERB_MESSAGES["barong"])
