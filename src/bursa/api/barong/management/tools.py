"""Barong's Management API, the rest: ``otp/sign`` (Barong co-signs a management request
once the user's 2FA code checks), service accounts, API keys (refused) and the clock.

``otp/sign`` is what lets Peatio's policy make ``barong`` a mandatory signer of dangerous
scopes: AppLogic signs a request, Barong adds its signature only after the member typed a
valid TOTP code, and Peatio accepts the request only with both.
"""

import time
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import Field, model_validator
from sqlalchemy import select

from bursa.api.barong.management.users import (
    Data,
    Params,
    Uid,
    identity_of,
    managed,
    parse,
    router,
)
from bursa.api.barong.routes import client_of
from bursa.api.barong.service_accounts import ServiceAccount
from bursa.api.management_auth import VERB_MESSAGES, ManagementPolicy, ManagementRefused, scope
from bursa.errors import Refusal
from bursa.identity.limits import Limiter, Rule
from bursa.identity.service import IdentityError
from bursa.identity.service_accounts import ServiceAccounts
from bursa.identity.tables import users
from bursa.plain_input import PlainInt
from bursa.signing import multisig

# Codes a caller may try per member and minute (a TOTP code has a million values).
OTP_SIGN_PER_USER = Rule("otp-sign-user", 5)
OtpSignScope = Annotated[Data, Depends(scope("barong", "otp_sign"))]
ReadServiceAccounts = Annotated[Data, Depends(scope("barong", "read_service_accounts"))]
WriteServiceAccounts = Annotated[Data, Depends(scope("barong", "write_service_accounts"))]
WriteApiKeys = Annotated[Data, Depends(scope("barong", "write_apikeys"))]
Tools = Annotated[Data, Depends(scope("barong", "tools"))]


class OtpSign(Params):
    user_uid: Uid
    # Six characters of any kind: Identity.require_otp reads them as plain digits and counts
    # anything else as a wrong code (a pattern here would refuse it uncounted).
    otp_code: str = Field(min_length=6, max_length=6)
    jwt: dict[str, Any]


@router.post(
    "/otp/sign",
    status_code=201,
    summary="Add Barong's signature to a management request once the user's 2FA code checks",
)
async def otp_sign(data: OtpSignScope, request: Request) -> dict[str, Any]:
    """The envelope must be unexpired and signed by a signer of Barong's keychain before a
    code is spent on it; a wrong
    code signs nothing, is recorded on the member's activities and counts against
    ``OTP_SIGN_PER_USER``; a code is accepted once."""
    params = parse(OtpSign, data)
    key: multisig.SignKey | None = request.app.state.barong_management_key
    if key is None:
        raise ManagementRefused(503, "Barong has no management signing key.")
    # Only a live request already signed by a party Barong's own policy knows (AppLogic)
    # is co-signed: never an arbitrary payload, never an expired one.
    policy: ManagementPolicy = request.app.state.management["barong"]
    keychain = {kid: k for kid, k in policy.keychain.items() if kid != key.kid}
    try:
        verified = multisig.verify(params.jwt, keychain, leeway_s=policy.leeway_s)
    except multisig.MultisigError as exc:
        raise ManagementRefused(422, f"jwt: {exc.reason}") from None
    if not verified.signers:
        raise ManagementRefused(422, "jwt: no known signer")
    limiter: Limiter = request.app.state.limiter
    if await limiter.allow(OTP_SIGN_PER_USER, params.user_uid):
        raise ManagementRefused(429, "Too many attempts, try again later.")
    identity = identity_of(request)
    async with identity.transaction() as conn:
        user_id = await managed(request).user_id(conn, uid=params.user_uid)
        if not await conn.scalar(select(users.c.otp).where(users.c.id == user_id)):
            raise IdentityError(Refusal.INVALID, "management.otp.disabled")
        # The caller's address is the service's, not the member's: the member's own lock
        # applies, the per-address block does not (one member's typos would block them all).
        await identity.require_otp(
            conn, user_id, params.otp_code, client_of(request), "management.otp", per_address=False
        )
    return multisig.add_signature(params.jwt, key)


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


class NewServiceAccount(Params):
    owner_uid: Uid
    service_account_role: str = Field(min_length=1, max_length=16)
    service_account_uid: Uid | None = None
    service_account_email: str | None = Field(default=None, max_length=254)


class ServiceAccountUid(Params):
    uid: Uid


def _accounts(request: Request) -> ServiceAccounts:
    return ServiceAccounts(identity_of(request))


@router.post("/service_accounts/get", status_code=201, summary="A service account")
async def get_service_account(data: ReadServiceAccounts, request: Request) -> ServiceAccount:
    params = parse(FindServiceAccount, data)
    return ServiceAccount(**await _accounts(request).find(params.uid, params.email))


@router.post("/service_accounts/list", status_code=201, summary="Service accounts")
async def list_service_accounts(
    data: ReadServiceAccounts, request: Request
) -> list[ServiceAccount]:
    params = parse(ListServiceAccounts, data)
    owner_uid = params.owner_uid
    if owner_uid is None and params.owner_email is not None:
        identity = identity_of(request)
        async with identity.engine.connect() as conn:
            owner_id = await managed(request).user_id(conn, email=params.owner_email)
            owner_uid = await conn.scalar(select(users.c.uid).where(users.c.id == owner_id))
    _, found = await _accounts(request).search(owner_uid, None, params.page, params.limit)
    return [ServiceAccount(**account) for account in found]


@router.post("/service_accounts/create", status_code=201, summary="Create a service account")
async def create_service_account(data: WriteServiceAccounts, request: Request) -> ServiceAccount:
    params = parse(NewServiceAccount, data)
    if params.service_account_uid is not None:
        raise ManagementRefused(422, "service_account_uid: Bursa chooses it (SI…)")
    account = await _accounts(request).create(
        params.owner_uid, params.service_account_role, params.service_account_email
    )
    return ServiceAccount(**account)


@router.post(
    "/service_accounts/delete", status_code=201, summary="Disable a service account and its keys"
)
async def delete_service_account(data: WriteServiceAccounts, request: Request) -> ServiceAccount:
    params = parse(ServiceAccountUid, data)
    return ServiceAccount(**await _accounts(request).disable(params.uid))


# ---------------------------------------------------------------- API keys, clock

DISABLED = "disabled_management_endpoint"


@router.post("/api_keys", status_code=201, summary="Refused: API keys need the holder's 2FA")
@router.post("/api_keys/update", status_code=201, summary="Refused: API keys need the holder's 2FA")
async def api_keys(_: WriteApiKeys) -> None:
    """Barong refused these unless ``BARONG_MGN_API_KEYS_*`` was set. Bursa always
    refuses: an API key is made or changed only with its holder's 2FA code, which a
    server-to-server caller does not have."""
    raise ManagementRefused(422, DISABLED)


@router.post("/timestamp", status_code=201, summary="Barong's clock (unix seconds)")
async def timestamp(_: Tools) -> dict[str, int]:
    return {"timestamp": int(time.time())}


@router.api_route(
    "/{path:path}", methods=["GET", "HEAD", "DELETE", "PATCH", "OPTIONS"], include_in_schema=False
)
async def other_verbs(path: str) -> None:
    """Barong's answer to any other verb (defined last: only unmatched methods reach it)."""
    raise ManagementRefused(405, VERB_MESSAGES["barong"])
