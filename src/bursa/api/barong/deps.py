"""What Barong's endpoints depend on: who is calling and the identity services.

Callers: ``current_session`` (the session cookie, or a gateway JWT minted from a session;
cookie-authenticated writes must carry the ``X-CSRF-Token`` login returned), ``needs_scope``
(the session, an API key signature, an OAuth access token, or a gateway JWT minted from one
of those) and ``Admin`` (the authorization step's permission table, ``bursa.api.authz``).
Services are the application's (``create_app`` builds them once) or built per request over
the identity service.
"""

from typing import Annotated, Any

from fastapi import Depends, Request, Response

from bursa.api.authz import authorized, get_authorizer
from bursa.api.deps import client_of
from bursa.api.errors import ApiError
from bursa.identity import oauth_scopes
from bursa.identity.access_rules import AccessRules
from bursa.identity.account import Accounts
from bursa.identity.activity_log import ActivityLog
from bursa.identity.addresses import AddressProofs
from bursa.identity.api_keys import ApiKeys
from bursa.identity.comments import Comments
from bursa.identity.credentials import API_KEY, OAUTH, SESSION, Caller
from bursa.identity.data_storage import DataStorages
from bursa.identity.documents import Documents
from bursa.identity.kyc import Kyc
from bursa.identity.limits import Rule
from bursa.identity.login import within_limits
from bursa.identity.oauth_store import OAuthStore
from bursa.identity.service import Authenticated, Identity, OpenSession
from bursa.identity.service_accounts import ServiceAccounts, is_service_account
from bursa.identity.user_admin import UserAdmin
from bursa.identity.whitelinks import Whitelinks

SESSION_COOKIE = "_barong_session"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_KEY_HEADERS = ("x-auth-apikey", "x-auth-nonce", "x-auth-signature")


# ---------------------------------------------------------------- services


async def get_identity(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


async def get_api_keys(request: Request) -> ApiKeys:
    keys: ApiKeys = request.app.state.api_keys
    return keys


def get_kyc(request: Request) -> Kyc:
    kyc: Kyc = request.app.state.kyc
    return kyc


def get_documents(request: Request) -> Documents:
    found: Documents = request.app.state.documents
    return found


def get_addresses(request: Request) -> AddressProofs:
    found: AddressProofs = request.app.state.addresses
    return found


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def get_storages(request: Request) -> DataStorages:
    found: DataStorages = request.app.state.data_storages
    return found


def get_oauth_store(request: Request) -> OAuthStore:
    store: OAuthStore = request.app.state.oauth_store
    return store


def get_user_admin(request: Request) -> UserAdmin:
    return UserAdmin(request.app.state.identity)


def get_comments(request: Request) -> Comments:
    return Comments(request.app.state.identity)


def get_activity_log(request: Request) -> ActivityLog:
    return ActivityLog(request.app.state.identity)


def get_service_accounts(request: Request) -> ServiceAccounts:
    return ServiceAccounts(request.app.state.identity)


def get_access_rules(request: Request) -> AccessRules:
    identity: Identity = request.app.state.identity
    return AccessRules(identity.engine, get_authorizer(request).forget_cache)


def get_whitelinks(request: Request) -> Whitelinks:
    identity: Identity = request.app.state.identity
    return Whitelinks(identity, get_authorizer(request).forget_cache)


IdentityDep = Annotated[Identity, Depends(get_identity)]
ApiKeysDep = Annotated[ApiKeys, Depends(get_api_keys)]
KycDep = Annotated[Kyc, Depends(get_kyc)]
DocumentsDep = Annotated[Documents, Depends(get_documents)]
AddressesDep = Annotated[AddressProofs, Depends(get_addresses)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
StoragesDep = Annotated[DataStorages, Depends(get_storages)]
OAuthStoreDep = Annotated[OAuthStore, Depends(get_oauth_store)]
UserAdminDep = Annotated[UserAdmin, Depends(get_user_admin)]
CommentsDep = Annotated[Comments, Depends(get_comments)]
ActivityLogDep = Annotated[ActivityLog, Depends(get_activity_log)]
ServiceAccountsDep = Annotated[ServiceAccounts, Depends(get_service_accounts)]
AccessRulesDep = Annotated[AccessRules, Depends(get_access_rules)]
WhitelinksDep = Annotated[Whitelinks, Depends(get_whitelinks)]


# ---------------------------------------------------------------- callers


async def gateway_caller(request: Request) -> Caller | None:
    """The caller a gateway JWT (``Authorization: Bearer``) stands for, or None without
    one; a JWT that does not verify, or whose credential has ended, is refused."""
    return await get_authorizer(request).gateway_caller(request.headers)


async def current_session(request: Request, identity: IdentityDep) -> Authenticated:
    """The signed-in member; cookie-authenticated writes must carry the CSRF token. A
    gateway JWT minted from a session stands for that session (it needs no CSRF token: no
    browser adds the header by itself); one minted from an API key or an OAuth token never
    reaches these endpoints, as the key or token itself never does."""
    caller = await gateway_caller(request)
    if caller is not None:
        if caller.credential.method != SESSION:
            raise ApiError(401, "authz.invalid_session")
        credential = caller.credential
        return Authenticated(caller.user, credential.csrf_token, credential.ref)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise ApiError(401, "authz.invalid_session")
    session = await identity.authenticate(token, client_of(request))
    if request.method in WRITE_METHODS:
        sent = request.headers.get("x-csrf-token")
        if not sent:
            raise ApiError(401, "authz.missing_csrf_token")
        if sent != session.csrf_token:
            raise ApiError(401, "authz.csrf_token_mismatch")
    return session


def needs_scope(scope: str) -> Any:
    """A dependency: the caller's user, from the session cookie, from an API key signature
    (which must carry ``scope``) or from an OAuth access token (whose scopes must cover
    this request), or from a gateway JWT minted from one of those (the same rule). Service
    accounts' keys are refused: these endpoints serve a member's own account."""

    async def principal(
        request: Request, identity: IdentityDep, keys: ApiKeysDep
    ) -> dict[str, Any]:
        headers = request.headers
        caller = await gateway_caller(request)
        if caller is not None:
            credential = caller.credential
            granted = credential.scopes or frozenset()
            if credential.method == API_KEY:
                if is_service_account(caller.user):
                    raise ApiError(401, "authz.invalid_permission")
                if scope not in granted:
                    raise ApiError(403, "authz.insufficient_scope")
            if credential.method == OAUTH and not oauth_scopes.allows(
                granted, request.method, request.url.path
            ):
                raise ApiError(403, "authz.insufficient_scope")
            return caller.user
        if "authorization" in headers:  # an OAuth access token of a third-party app
            found = await get_oauth_store(request).bearer_for(
                headers["authorization"], request.method, request.url.path
            )
            return found.user
        if any(name in headers for name in API_KEY_HEADERS):
            kid, nonce, signature = (headers.get(name, "") for name in API_KEY_HEADERS)
            key = await keys.verify(kid, nonce, signature, ip=client_of(request).ip)
            if key.service_account:
                raise ApiError(401, "authz.invalid_permission")
            if scope not in key.scopes:
                raise ApiError(403, "authz.insufficient_scope")
            return key.user
        return (await current_session(request, identity)).user

    return principal


SessionDep = Annotated[Authenticated, Depends(current_session)]
ReaderDep = Annotated[dict[str, Any], Depends(needs_scope("read"))]
Admin = Annotated[dict[str, Any], Depends(authorized)]


# ---------------------------------------------------------------- limits and cookies


async def rate_limit(request: Request, *checks: tuple[Rule, str]) -> None:
    """Count this request against each (rule, subject): 429 ``identity.rate_limit.exceeded``
    with ``Retry-After`` when one is over its limit."""
    await within_limits(request.app.state.limiter, *checks)


def set_session_cookie(request: Request, response: Response, session: OpenSession) -> None:
    """The session in an HTTP-only, SameSite=Lax cookie (``Secure`` unless the application
    was built without it, as the embedded default on plain HTTP is)."""
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies,
        path="/",
    )
