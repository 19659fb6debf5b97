"""The OAuth 2.0 / OpenID Connect provider, built on Authlib's authorization server.

Authlib's grants are synchronous; Bursa's storage is asyncio. Each OAuth request therefore
runs in a worker thread (``anyio.to_thread``) and every storage call the grants make hops
back to the event loop (``anyio.from_thread``). The HTTP layer hands over a plain
``HttpRequest`` and gets a plain ``HttpResponse`` back, so nothing here knows FastAPI.

Policy beyond Authlib's defaults: PKCE with S256 is required from every client (public or
confidential), refresh tokens rotate on every use, and only ``active`` members may grant.
"""

import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from anyio import from_thread, to_thread
from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer as AuthlibServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import RSAKey

from bursa.identity import oauth_scopes
from bursa.identity.oauth_store import (
    AUTH_METHODS,
    AuthorizationCode,
    OAuthClient,
    OAuthStore,
    Token,
)
from bursa.identity.service import Client

ACCESS_TTL_S = 900
REFRESH_TTL = timedelta(days=30)
ID_TOKEN_TTL_S = 3600
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str]  # case-insensitive (Authlib looks up "Authorization")
    query: dict[str, str]
    form: dict[str, str]
    client: Client


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: Any  # dict for JSON, str otherwise
    headers: list[tuple[str, str]]


def _wait(call: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run a storage coroutine on the event loop from Authlib's worker thread."""
    return from_thread.run(call, *args)


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, request: HttpRequest) -> None:
        self._data = request.query | request.form
        self._datalist = {key: [value] for key, value in self._data.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self.http = request
        self.payload = _Payload(request)

    @property
    def args(self) -> dict[str, str]:
        return self.http.query

    @property
    def form(self) -> dict[str, str]:
        return self.http.form


def user_claims(user: dict[str, Any], scope: str) -> UserInfo:
    """OpenID claims for ``scope``: ``sub`` always; the rest only as the scopes allow."""
    granted = set(scope.split())
    claims: dict[str, Any] = {"sub": user["uid"]}
    if "email" in granted:
        verified = any(
            label["key"] == "email" and label["value"] == "verified" and label["scope"] == "private"
            for label in user["labels"]
        )
        claims |= {"email": user["email"], "email_verified": verified}
    if "profile" in granted:
        claims |= {
            "preferred_username": user.get("username") or user["uid"],
            "role": user["role"],
            "updated_at": int(user["updated_at"].timestamp()),
        }
    if "kyc" in granted:
        claims |= {
            "level": user["level"],
            "state": user["state"],
            "kyc": {
                label["key"]: label["value"]
                for label in user["labels"]
                if label["scope"] == "private"
                and label["key"] in ("email", "phone", "profile", "document", "address")
            },
        }
    return UserInfo(claims)


class _S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only (``plain`` protects nothing against a leaked URL)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge_method


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    server: "OAuthServer"

    def save_authorization_code(self, code: str, request: _Request) -> None:
        data = request.payload.data
        _wait(
            self.server.store.save_code,
            code,
            request.client.client_id,
            request.user["id"],
            data.get("redirect_uri") or request.client.get_default_redirect_uri(),
            request.scope or "",
            data.get("nonce"),
            (data["code_challenge"], data["code_challenge_method"]),
            request.http.client,
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        return _wait(self.server.store.take_code, code, client.client_id)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing left to do: ``take_code`` marked the code used when it found it."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> dict[str, Any] | None:
        return self.server.active_user(authorization_code.user_id)


class _RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: "OAuthServer"

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        client_id = self.request.client.client_id
        return _wait(self.server.store.take_refresh, refresh_token, client_id)

    def authenticate_user(self, refresh_token: Token) -> dict[str, Any] | None:
        return self.server.active_user(refresh_token.user_id)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Nothing left to do: ``take_refresh`` revoked it when it found it."""


class _OpenId(OpenIDCode):  # type: ignore[misc]
    def __init__(self, server: "OAuthServer") -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce: str, request: _Request) -> bool:
        return _wait(self.server.store.nonce_used, request.payload.client_id, nonce)

    def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
        return user_claims(user, scope)

    def resolve_client_private_key(self, client: OAuthClient) -> RSAKey:
        return self.server.key

    def get_client_algorithm(self, client: OAuthClient) -> str:
        return "RS256"

    def get_client_claims(self, client: OAuthClient) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.server.issuer,
            "aud": [client.client_id],
            "iat": now,
            "exp": now + ID_TOKEN_TTL_S,
        }

    def get_encode_header(self, client: OAuthClient) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.server.key_id}


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    server: "OAuthServer"

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return _wait(self.server.store.find_token, token_string, token_type_hint)

    def revoke_token(self, token: Token, request: _Request) -> None:
        _wait(self.server.store.revoke, token)


class OAuthServer(AuthlibServer):  # type: ignore[misc]
    """Authlib's server with Bursa's storage, keys and policy."""

    def __init__(self, store: OAuthStore, issuer: str, private_pem: bytes) -> None:
        super().__init__(scopes_supported=list(oauth_scopes.SCOPES))
        self.store = store
        self.issuer = issuer.rstrip("/")
        self.key = RSAKey.import_key(private_pem)
        self.key_id = self.key.thumbprint()
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda *args, **kwargs: generate_token(43),
                lambda *args, **kwargs: generate_token(48),
                lambda client, grant_type: ACCESS_TTL_S,
            ),
        )
        self.register_grant(_CodeGrant, [_S256Only(required=True), _OpenId(self)])
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)

    # ---------------------------------------------------- Authlib's framework hooks

    def query_client(self, client_id: str) -> OAuthClient | None:
        if not client_id or len(client_id) > 64:
            return None
        return _wait(self.store.client, client_id)

    def save_token(self, token: dict[str, Any], request: _Request) -> None:
        origin = request.authorization_code or request.refresh_token
        _wait(
            self.store.save_token,
            origin.grant_id,
            request.client.client_id,
            request.user["id"],
            token,
            REFRESH_TTL,
        )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return _Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("Bursa's OAuth endpoints take forms, not JSON")

    def handle_response(self, status: int, body: Any, headers: Any) -> HttpResponse:
        return HttpResponse(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners: activities are recorded by the store itself."""

    def active_user(self, user_id: int) -> dict[str, Any] | None:
        """The member a code or refresh token acts for, while they may still use Bursa."""
        user = _wait(self._load_user, user_id)
        return user if user["state"] == "active" else None

    async def _load_user(self, user_id: int) -> dict[str, Any]:
        async with self.store.identity.engine.connect() as conn:
            return await self.store.identity.load_user(conn, user_id)

    # ------------------------------------------------ what the HTTP layer calls

    async def consent(self, request: HttpRequest, user: dict[str, Any] | None) -> Any:
        """The validated grant to show on the consent screen, or the ``HttpResponse`` that
        answers the request instead (an error, to the client or to the member)."""

        def validate() -> Any:
            try:
                return self.get_consent_grant(request, end_user=user)
            except OAuth2Error as error:
                return self.handle_error_response(None, error)

        return await to_thread.run_sync(validate)

    async def authorize(
        self, request: HttpRequest, grant: Any, user: dict[str, Any] | None
    ) -> HttpResponse:
        """Redirect back to the client with a code (``user`` given) or ``access_denied``."""

        def respond() -> HttpResponse:
            response: HttpResponse = self.create_authorization_response(
                request, grant_user=user, grant=grant
            )
            return response

        return await to_thread.run_sync(respond)

    async def token(self, request: HttpRequest) -> HttpResponse:
        def respond() -> HttpResponse:
            response: HttpResponse = self.create_token_response(request)
            return response

        return await to_thread.run_sync(respond)

    async def revoke(self, request: HttpRequest) -> HttpResponse:
        def respond() -> HttpResponse:
            response: HttpResponse = self.create_endpoint_response("revocation", request)
            return response

        return await to_thread.run_sync(respond)

    def public_jwks(self) -> dict[str, Any]:
        key = self.key.as_dict(private=False) | {"kid": self.key_id, "use": "sig", "alg": "RS256"}
        return {"keys": [key]}
