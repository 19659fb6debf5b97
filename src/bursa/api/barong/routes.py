"""Barong's identity endpoints (``/api/v2/barong/identity``) and the member's own account
(``/api/v2/barong/resource``): sign-up, email confirmation, sessions, ``users/me``,
activities.

Sessions travel in an HTTP-only, SameSite=Lax cookie (``Secure`` outside the embedded
default); writes authenticated by the cookie need the ``X-CSRF-Token`` header that login
returns, as Barong does.
"""

import time
from datetime import date, datetime
from importlib.metadata import version as _package_version
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from bursa.api.errors import ApiError, status_of
from bursa.api.schemas import Errors
from bursa.identity import oauth_scopes, passwords
from bursa.identity.api_keys import ApiKeys
from bursa.identity.authz import Authorizer
from bursa.identity.credentials import API_KEY, OAUTH, SESSION, Caller
from bursa.identity.documents import MAX_UPLOAD, Documents
from bursa.identity.kyc import Kyc
from bursa.identity.limits import (
    CODE_CHECK_PER_EMAIL,
    CODE_CHECK_PER_IP,
    CODE_SEND_PER_IP,
    LOGIN_FAILURES_PER_IP,
    LOGIN_PER_EMAIL,
    LOGIN_PER_IP,
    PASSWORD_CHECK_PER_IP,
    PASSWORD_CHECK_PER_USER,
    SIGN_UP_PER_IP,
    Limiter,
    Rule,
)
from bursa.identity.oauth_store import OAuthStore
from bursa.identity.service import Authenticated, Client, Identity, IdentityError, OpenSession
from bursa.identity.service_accounts import is_service_account
from bursa.plain_input import PlainInt

SESSION_COOKIE = "_barong_session"
BURSA_VERSION = _package_version("bursa")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

identity_router = APIRouter(prefix="/api/v2/barong/identity", tags=["barong identity"])
resource_router = APIRouter(prefix="/api/v2/barong/resource", tags=["barong resource"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Errors},
    403: {"model": Errors},
    422: {"model": Errors},
}


class Label(BaseModel):
    key: str
    value: str
    scope: str
    created_at: datetime
    updated_at: datetime


class Phone(BaseModel):
    country: str | None  # ISO 3166 alpha-2, from the calling code
    number: str  # masked
    validated_at: datetime | None


class Profile(BaseModel):
    first_name: str | None
    last_name: str | None
    dob: date | None
    address: str | None
    postcode: str | None
    city: str | None
    country: str | None
    metadata: str | None
    state: str
    reason: str | None = None  # why an admin rejected it
    created_at: datetime
    updated_at: datetime


class DataStorage(BaseModel):
    title: str
    data: str  # a JSON object as text
    created_at: datetime
    updated_at: datetime


class User(BaseModel):
    """Barong's ``UserWithFullInfo``: phones, profiles and data storages are filled where a
    whole user is shown (``users/me``, login, an admin's view of one user)."""

    email: str
    uid: str
    role: str
    level: int
    otp: bool
    state: str
    referral_uid: str | None
    data: str
    username: str | None
    labels: list[Label]
    phones: list[Phone]
    profiles: list[Profile]
    data_storages: list[DataStorage]
    created_at: datetime
    updated_at: datetime
    csrf_token: str | None = None


class Activity(BaseModel):
    id: int
    user_ip: str
    user_agent: str
    topic: str
    action: str
    result: str
    data: str | None
    created_at: datetime


class SignUp(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=200)
    refid: str | None = Field(default=None, max_length=16)
    username: str | None = Field(default=None, max_length=64)  # the service checks 4-12
    data: str | None = Field(default=None, max_length=1024)


class EmailOnly(BaseModel):
    email: str = Field(max_length=254)


class ConfirmCode(BaseModel):
    email: str = Field(max_length=254)
    token: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")


class ResetPassword(BaseModel):
    email: str = Field(max_length=254)
    reset_password_token: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")
    password: str = Field(max_length=200)
    confirm_password: str = Field(max_length=200)


class ChangePassword(BaseModel):
    old_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)
    confirm_password: str = Field(max_length=200)
    otp_code: str | None = Field(default=None, max_length=6)


class OtpCode(BaseModel):
    code: str = Field(max_length=6)


class OtpSecret(BaseModel):
    barcode: str  # base64 PNG of the QR code
    url: str  # otpauth:// URL


class OtpAnswer(BaseModel):
    """Barong answered with the Vault secret whose ``data`` holds barcode and url."""

    data: OtpSecret


class LogIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=200)
    otp_code: str | None = Field(default=None, max_length=6)


async def _limit(request: Request, *checks: tuple[Rule, str]) -> None:
    """429 with ``Retry-After`` when any (rule, subject) is over its limit."""
    limiter: Limiter = request.app.state.limiter
    for rule, subject in checks:
        wait = await limiter.allow(rule, subject)
        if wait:
            raise ApiError(429, "identity.rate_limit.exceeded", headers={"Retry-After": str(wait)})


async def get_identity(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


def client_of(request: Request) -> Client:
    host = request.client.host if request.client else "unknown"
    return Client(ip=host, user_agent=request.headers.get("user-agent", "")[:1000])


def present_user(user: dict[str, Any], csrf_token: str | None = None) -> User:
    return User(
        email=user["email"],
        uid=user["uid"],
        role=user["role"],
        level=user["level"],
        otp=bool(user["otp"]),
        state=user["state"],
        referral_uid=user["referral_uid"],
        data=user["data"],
        username=user["username"],
        labels=[Label(**label) for label in user["labels"] if label["scope"] == "public"]
        + [Label(**label) for label in user["labels"] if label["scope"] == "private"],
        phones=[Phone(**phone) for phone in user.get("phones", [])],
        profiles=[Profile(**profile) for profile in user.get("profiles", [])],
        data_storages=[DataStorage(**stored) for stored in user.get("data_storages", [])],
        created_at=user["created_at"],
        updated_at=user["updated_at"],
        csrf_token=csrf_token,
    )


def _set_session(request: Request, response: Response, session: OpenSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies,
        path="/",
    )


def _failed(exc: IdentityError) -> ApiError:
    retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return ApiError(status_of(exc), exc.code, headers=retry)


async def gateway_caller(request: Request) -> Caller | None:
    """The caller a gateway JWT (``Authorization: Bearer``) stands for, or None without
    one; a JWT that does not verify, or whose credential has ended, is refused."""
    authorizer: Authorizer = request.app.state.authorizer
    return await authorizer.gateway_caller(request.headers)


async def current_session(
    request: Request, identity: Annotated[Identity, Depends(get_identity)]
) -> Authenticated:
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


async def get_api_keys(request: Request) -> ApiKeys:
    keys: ApiKeys = request.app.state.api_keys
    return keys


API_KEY_HEADERS = ("x-auth-apikey", "x-auth-nonce", "x-auth-signature")


def needs_scope(scope: str) -> Any:
    """A dependency: the caller's user, from the session cookie, from an API key signature
    (which must carry ``scope``) or from an OAuth access token (whose scopes must cover
    this request), or from a gateway JWT minted from one of those (the same rule)."""

    async def principal(
        request: Request,
        identity: Annotated[Identity, Depends(get_identity)],
        keys: Annotated[ApiKeys, Depends(get_api_keys)],
    ) -> dict[str, Any]:
        headers = request.headers
        caller = await gateway_caller(request)
        if caller is not None:
            credential = caller.credential
            granted = credential.scopes or frozenset()
            if credential.method == API_KEY:
                if is_service_account(caller.user):  # a member's own account only
                    raise ApiError(401, "authz.invalid_permission")
                if scope not in granted:
                    raise ApiError(403, "authz.insufficient_scope")
            if credential.method == OAUTH and not oauth_scopes.allows(
                granted, request.method, request.url.path
            ):
                raise ApiError(403, "authz.insufficient_scope")
            return caller.user
        if "authorization" in headers:  # an OAuth access token of a third-party app
            oauth: OAuthStore = request.app.state.oauth_store
            found = await oauth.bearer_for(
                headers["authorization"], request.method, request.url.path
            )
            return found.user
        if any(name in headers for name in API_KEY_HEADERS):
            kid, nonce, signature = (headers.get(name, "") for name in API_KEY_HEADERS)
            key = await keys.verify(kid, nonce, signature, ip=client_of(request).ip)
            if key.service_account:  # these endpoints serve a member's own account
                raise ApiError(401, "authz.invalid_permission")
            if scope not in key.scopes:
                raise ApiError(403, "authz.insufficient_scope")
            return key.user
        return (await current_session(request, identity)).user

    return principal


IdentityDep = Annotated[Identity, Depends(get_identity)]
SessionDep = Annotated[Authenticated, Depends(current_session)]
ApiKeysDep = Annotated[ApiKeys, Depends(get_api_keys)]
ReaderDep = Annotated[dict[str, Any], Depends(needs_scope("read"))]


@identity_router.post("/users", status_code=201, responses=_ERRORS, summary="Sign up")
async def sign_up(
    body: SignUp, request: Request, response: Response, identity: IdentityDep
) -> User:
    await _limit(request, (SIGN_UP_PER_IP, client_of(request).ip))
    user, session = await identity.sign_up(
        body.email, body.password, body.refid, client_of(request), body.username
    )
    _set_session(request, response, session)
    return present_user(user, session.csrf_token)


@identity_router.post(
    "/users/email/generate_code",
    status_code=201,
    summary="Send a new confirmation code (always 201: accounts are not enumerable)",
)
async def generate_email_code(
    body: EmailOnly, request: Request, identity: IdentityDep
) -> dict[str, str]:
    await _limit(request, (CODE_SEND_PER_IP, client_of(request).ip))
    await identity.resend_confirmation(body.email)
    return {}


@identity_router.post(
    "/users/email/confirm_code", status_code=201, responses=_ERRORS, summary="Confirm email"
)
async def confirm_email_code(
    body: ConfirmCode, request: Request, response: Response, identity: IdentityDep
) -> User:
    await _limit(
        request,
        (CODE_CHECK_PER_IP, client_of(request).ip),
        (CODE_CHECK_PER_EMAIL, body.email.lower()),
    )
    user, session = await identity.confirm_email(body.email, body.token, client_of(request))
    _set_session(request, response, session)
    return present_user(user, session.csrf_token)


@identity_router.post(
    "/users/password/generate_code",
    status_code=201,
    summary="Mail a password reset code (always 201: accounts are not enumerable)",
)
async def generate_password_code(
    body: EmailOnly, request: Request, identity: IdentityDep
) -> dict[str, str]:
    await _limit(request, (CODE_SEND_PER_IP, client_of(request).ip))
    await identity.request_password_reset(body.email, client_of(request))
    return {}


@identity_router.post(
    "/users/password/confirm_code",
    status_code=201,
    responses=_ERRORS,
    summary="Set a new password with the mailed code (ends every session)",
)
async def confirm_password_code(
    body: ResetPassword, request: Request, identity: IdentityDep
) -> dict[str, str]:
    await _limit(
        request,
        (CODE_CHECK_PER_IP, client_of(request).ip),
        (CODE_CHECK_PER_EMAIL, body.email.lower()),
    )
    if body.password != body.confirm_password:
        raise ApiError(422, "identity.user.passwords_doesnt_match")
    await identity.reset_password(
        body.email, body.reset_password_token, body.password, client_of(request)
    )
    return {}


async def open_session(
    request: Request,
    response: Response,
    identity: Identity,
    body: LogIn,
) -> tuple[dict[str, Any], OpenSession]:
    """Log in with the login limits (per IP, per address, failures per IP) and set the
    session cookie on ``response``. Used by the JSON API and by the OAuth sign-in form."""
    limiter: Limiter = request.app.state.limiter
    ip = client_of(request).ip
    wait = await limiter.over(LOGIN_FAILURES_PER_IP, ip)
    if wait:
        raise ApiError(
            429, "identity.session.too_many_failures", headers={"Retry-After": str(wait)}
        )
    await _limit(
        request,
        (LOGIN_PER_IP, client_of(request).ip),
        (LOGIN_PER_EMAIL, body.email.lower()),
    )
    try:
        user, session = await identity.log_in(
            body.email,
            body.password,
            client_of(request),
            request.cookies.get(SESSION_COOKIE),
            body.otp_code,
        )
    except IdentityError as exc:  # every refusal of a login is a failed login
        await limiter.allow(LOGIN_FAILURES_PER_IP, ip)
        raise _failed(exc) from exc
    _set_session(request, response, session)
    return user, session


@identity_router.post("/sessions", responses=_ERRORS, summary="Log in")
async def log_in(body: LogIn, request: Request, response: Response, identity: IdentityDep) -> User:
    user, session = await open_session(request, response, identity, body)
    return present_user(user, session.csrf_token)


@identity_router.delete("/sessions", responses=_ERRORS, summary="Log out")
async def log_out(
    request: Request, response: Response, session: SessionDep, identity: IdentityDep
) -> dict[str, str]:
    await identity.log_out(session.session_digest, session.user["id"], client_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {}


@resource_router.get("/users/me", responses=_ERRORS, summary="The signed-in member")
async def me(user: ReaderDep, identity: IdentityDep) -> User:
    async with identity.engine.connect() as conn:
        return present_user(await identity.load_user(conn, user["id"], full=True))


@resource_router.get(
    "/users/activity/{topic}", responses=_ERRORS, summary="The member's own activities"
)
async def my_activities(
    user: ReaderDep,
    identity: IdentityDep,
    topic: str,
    limit: Annotated[PlainInt, Query(ge=1, le=1000)] = 100,
) -> list[Activity]:
    if topic not in ("all", "session", "otp", "password", "account"):
        raise ApiError(422, "resource.user.wrong_topic")
    found = await identity.activities_of(user["id"], limit)
    return [Activity(**a) for a in found if topic == "all" or a["topic"] == topic]


@resource_router.put(
    "/users/password",
    status_code=201,
    responses=_ERRORS,
    summary="Change the password (other sessions end)",
)
async def change_password(
    body: ChangePassword, request: Request, session: SessionDep, identity: IdentityDep
) -> dict[str, str]:
    if body.new_password != body.confirm_password:
        raise ApiError(422, "resource.password.doesnt_match")
    await _limit(
        request,
        (PASSWORD_CHECK_PER_IP, client_of(request).ip),
        (PASSWORD_CHECK_PER_USER, session.user["uid"]),
    )
    await identity.change_password(
        session, body.old_password, body.new_password, client_of(request), body.otp_code
    )
    return {}


@resource_router.post(
    "/otp/generate_qrcode",
    status_code=201,
    responses={400: {"model": Errors}},
    summary="A new TOTP seed as otpauth URL and QR code (shown once)",
)
async def generate_qrcode(session: SessionDep, identity: IdentityDep) -> OtpAnswer:
    url, barcode = await identity.generate_otp(session)
    return OtpAnswer(data=OtpSecret(barcode=barcode, url=url))


@resource_router.post("/otp/enable", status_code=201, responses=_ERRORS, summary="Enable 2FA")
async def enable_otp(
    body: OtpCode, request: Request, session: SessionDep, identity: IdentityDep
) -> dict[str, str]:
    await identity.enable_otp(session, body.code, client_of(request))
    return {}


@resource_router.post("/otp/disable", status_code=201, responses=_ERRORS, summary="Disable 2FA")
async def disable_otp(
    body: OtpCode, request: Request, session: SessionDep, identity: IdentityDep
) -> dict[str, str]:
    await identity.disable_otp(session, body.code, client_of(request))
    return {}


class ApiKey(BaseModel):
    kid: str
    algorithm: str
    scope: list[str]
    state: str
    created_at: datetime
    updated_at: datetime
    secret: str | None = None  # only in the answer that creates the key


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


Kid = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


@resource_router.get("/api_keys", responses=_ERRORS, summary="The member's API keys")
async def list_api_keys(session: SessionDep, keys: ApiKeysDep) -> list[ApiKey]:
    return [ApiKey(**key) for key in await keys.list(session.user["id"])]


@resource_router.post(
    "/api_keys", status_code=201, responses=_ERRORS, summary="Create a key (needs 2FA)"
)
async def create_api_key(
    body: NewApiKey, request: Request, session: SessionDep, keys: ApiKeysDep
) -> ApiKey:
    key = await keys.create(
        session.user, body.algorithm, body.scope, body.totp_code, client_of(request)
    )
    return ApiKey(**key)


@resource_router.patch("/api_keys/{kid}", responses=_ERRORS, summary="Change scope or state")
async def update_api_key(
    kid: Kid, body: ApiKeyChange, request: Request, session: SessionDep, keys: ApiKeysDep
) -> ApiKey:
    key = await keys.update(
        session.user, kid, body.scope, body.state, body.totp_code, client_of(request)
    )
    return ApiKey(**key)


@resource_router.delete(
    "/api_keys/{kid}", status_code=204, responses=_ERRORS, summary="Delete a key"
)
async def delete_api_key(
    kid: Kid, body: TotpOnly, request: Request, session: SessionDep, keys: ApiKeysDep
) -> Response:
    await keys.delete(session.user, kid, body.totp_code, client_of(request))
    return Response(status_code=204)


class PhoneNumber(BaseModel):
    phone_number: str = Field(max_length=32)


class PhoneVerification(BaseModel):
    phone_number: str = Field(max_length=32)
    verification_code: str = Field(pattern=r"^[0-9]{6}$")


class ProfileFields(BaseModel):
    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    dob: date | None = None
    address: str | None = Field(default=None, max_length=255)
    postcode: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=255)
    country: str | None = Field(default=None, min_length=2, max_length=3)
    metadata: str | None = Field(default=None, max_length=1024)
    confirm: bool = False


def get_kyc(request: Request) -> Kyc:
    kyc: Kyc = request.app.state.kyc
    return kyc


KycDep = Annotated[Kyc, Depends(get_kyc)]


@resource_router.get("/phones", responses=_ERRORS, summary="The member's phones (masked)")
async def list_phones(user: ReaderDep, kyc: KycDep) -> list[Phone]:
    return [Phone(**phone) for phone in await kyc.list_phones(user["id"])]


# 503: no SMS provider configured (sms_unavailable) or it failed (sms_failed, Retry-After).
_SMS_ERRORS = _ERRORS | {429: {"model": Errors}, 503: {"model": Errors}}


@resource_router.post("/phones", status_code=201, responses=_SMS_ERRORS, summary="Add a phone")
@resource_router.post(
    "/phones/send_code", status_code=201, responses=_SMS_ERRORS, summary="Text a new code"
)
async def add_phone(
    body: PhoneNumber, request: Request, session: SessionDep, kyc: KycDep
) -> dict[str, str]:
    try:
        masked = await kyc.add_phone(session.user, body.phone_number, client_of(request))
    except IdentityError as exc:
        if exc.code == "resource.phone.sms_failed":  # the provider may be back in a minute
            raise ApiError(status_of(exc), exc.code, headers={"Retry-After": "60"}) from exc
        raise _failed(exc) from exc
    return {"number": masked}


@resource_router.post(
    "/phones/verify", status_code=201, responses=_ERRORS, summary="Verify a phone by its code"
)
async def verify_phone(
    body: PhoneVerification,
    request: Request,
    session: SessionDep,
    kyc: KycDep,
    identity: IdentityDep,
) -> User:
    await kyc.verify_phone(
        session.user, body.phone_number, body.verification_code, client_of(request)
    )
    async with identity.engine.connect() as conn:
        return present_user(await identity.load_user(conn, session.user["id"], full=True))


@resource_router.get("/profiles/me", responses=_ERRORS, summary="The member's profile")
async def my_profile(user: ReaderDep, kyc: KycDep) -> Profile:
    found = await kyc.profile(user["id"])
    if found is None:
        raise ApiError(404, "resource.profile.not_exist")
    return Profile(**found)


@resource_router.post("/profiles", status_code=201, responses=_ERRORS, summary="Save the profile")
@resource_router.put("/profiles", responses=_ERRORS, summary="Edit the profile")
async def save_profile(
    body: ProfileFields, request: Request, session: SessionDep, kyc: KycDep
) -> Profile:
    fields = body.model_dump(exclude={"confirm"})
    if fields.get("country"):
        fields["country"] = fields["country"].upper()
    saved = await kyc.save_profile(session.user, fields, body.confirm, client_of(request))
    return Profile(**saved)


class Document(BaseModel):
    id: int
    doc_type: str
    doc_expire: date | None
    content_type: str
    size: int
    state: str
    reason: str | None
    created_at: datetime
    updated_at: datetime


def get_documents(request: Request) -> Documents:
    found: Documents = request.app.state.documents
    return found


DocumentsDep = Annotated[Documents, Depends(get_documents)]


@resource_router.get("/documents", responses=_ERRORS, summary="The member's documents")
async def list_documents(user: ReaderDep, docs: DocumentsDep) -> list[Document]:
    return [Document(**d) for d in await docs.of_user(user["id"])]


@resource_router.post(
    "/documents", status_code=201, responses=_ERRORS, summary="Upload an identity document"
)
async def upload_document(
    request: Request,
    session: SessionDep,
    docs: DocumentsDep,
    doc_type: Annotated[str, Form(max_length=32)],
    doc_number: Annotated[str, Form(min_length=1, max_length=128)],
    upload: Annotated[UploadFile, File()],
    doc_expire: Annotated[date | None, Form()] = None,
) -> Document:
    content = await upload.read(MAX_UPLOAD + 1)
    saved = await docs.upload(
        session.user, doc_type, doc_number, doc_expire, content, client_of(request)
    )
    return Document(**saved)


class PasswordToCheck(BaseModel):
    password: str = Field(max_length=200)


async def ping() -> dict[str, str]:
    return {"ping": "pong"}


async def server_time() -> dict[str, int]:
    return {"time": int(time.time())}


async def version() -> dict[str, str]:
    """Barong's build description; Bursa has no git metadata at run time, so the package
    version stands in for the tag."""
    return {"version": BURSA_VERSION, "git_tag": BURSA_VERSION, "git_sha": "", "build_date": ""}


async def configs(identity: IdentityDep) -> dict[str, Any]:
    return {
        "session_expire_time": int(identity.session_ttl.total_seconds()),
        "captcha_type": "none",
        "phone_verification_type": "sms",
        "password_min_length": passwords.MIN_LENGTH,
        "password_min_entropy": passwords.MIN_ENTROPY_BITS,
    }


async def validate_password(body: PasswordToCheck) -> dict[str, Any]:
    verdict = passwords.check_strength(body.password)
    if verdict.ok:
        return {"result": "strong"}
    return {
        "result": "weak" if verdict.code == "password.weak" else "requirements",
        "reason": verdict.message,
    }


# Barong serves these helpers under both ``identity`` and ``public``.
public_router = APIRouter(prefix="/api/v2/barong/public", tags=["barong public"])
for _router in (identity_router, public_router):
    _router.add_api_route("/ping", ping, methods=["GET"], summary="Liveness")
    _router.add_api_route("/time", server_time, methods=["GET"], summary="Server time, Unix s")
    _router.add_api_route("/version", version, methods=["GET"], summary="Version of Bursa")
    _router.add_api_route(
        "/configs", configs, methods=["GET"], summary="What a front end needs to know"
    )
    _router.add_api_route(
        "/password/validate",
        validate_password,
        methods=["POST"],
        summary="Would this password be accepted?",
    )
