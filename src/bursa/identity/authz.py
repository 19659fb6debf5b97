"""The authorization step Barong performed for the gateway (``/api/v2/auth/*``): decide
whether a request to ``path`` may go on, and mint the RS256 JWT downstream services trust.

Order, as Barong: restrictions (whitelist, maintenance, blacklist, blocklogin by IP, IP
range, country or all), block rules, pass rules, then authentication (API key signature or
session cookie, with CSRF for cookie writes), then the permission table (role, verb, path
prefix: any ``DROP`` or no ``ACCEPT`` refuses; ``AUDIT`` records an activity). A third-party
application's OAuth access token (``Authorization: Bearer``) is a third way in: its
scopes must cover the request before the permission table is asked. A request signed with
an API key must also carry the scope the path needs (``api_keys.required_scope``), checked
once the role may make it: the role decides what the member may do, the key what it may
do for them.

The JWT is also a way in, so that Bursa can serve behind an OpenDAX-style gateway (Envoy's
ext_authz asks here, then forwards the JWT upstream): an ``Authorization: Bearer`` holding
a JWT (three dot-separated parts; an OAuth access token has none) is verified with this
signer's public key alone, RS256 only, its key id, issuer, subject, audiences and expiry
checked, and then the credential it records is read again (``bursa.identity.credentials``).
A JWT that fails is refused as Peatio refuses it (``jwt.decode_and_verify``) and never falls
back to a cookie or key beside it.
"""

import ipaddress
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeyParameters, RSAKey
from sqlalchemy import select

from bursa.errors import HTTP_STATUS, Refusal
from bursa.identity import oauth_scopes
from bursa.identity.api_keys import ApiKeys, required_scope
from bursa.identity.credentials import (
    API_KEY,
    OAUTH,
    REFUSED,
    SESSION,
    Caller,
    Credential,
    Credentials,
)
from bursa.identity.oauth_store import OAuthStore
from bursa.identity.permissions import BLOCK_PREFIXES, PASS_PREFIXES
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.service_accounts import is_service_account
from bursa.identity.tables import permissions, restrictions
from bursa.signing.keyfile import rsa_private_pem

SESSION_COOKIE = "_barong_session"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CACHE_S = 10.0
RESTRICTION_ORDER = ("whitelist", "maintenance", "blacklist", "blocklogin")
LOGIN_PATH = "api/v2/barong/identity/sessions"
# Where a whitelink is redeemed: never restricted, or the visitor it is meant for (blocked
# by country, range or maintenance) could not reach it (Barong's exemption).
ACCESS_PATH = "api/v2/barong/identity/users/access"
ISSUER = "barong"
AUDIENCES = ("peatio", "barong")  # Bursa serves both, so its JWTs must be meant for both
MAX_JWT = 4096  # characters; ours are about 900
# Checked on every JWT: present, not blank, and (for these) Barong's values; ``exp``,
# ``iat`` and any ``nbf`` against the clock, with no leeway.
_ESSENTIAL = jwt.ClaimsOption(essential=True)
_CLAIMS = jwt.JWTClaimsRegistry(
    iss=jwt.ClaimsOption(essential=True, value=ISSUER),
    aud=jwt.ClaimsOption(essential=True, value=AUDIENCES[0]),
    sub=jwt.ClaimsOption(essential=True, value="session"),
    exp=_ESSENTIAL,
    iat=_ESSENTIAL,
    jti=_ESSENTIAL,
    uid=_ESSENTIAL,
)

log = logging.getLogger(__name__)


class InvalidJwt(Exception):
    """A token this signer will not trust (the reason is for logs only)."""


@dataclass(frozen=True, slots=True)
class Decision:
    status: int
    errors: list[str]
    token: str | None = None
    user: dict[str, Any] | None = None  # who was let through (None on pass rules)
    retry_after: int | None = None  # seconds, with a 429
    credential: Credential | None = None  # how they were let through (an API key's kid)


class JwtSigner:
    """RS256 tokens with Barong's claims. The private key comes from ``pem`` or from a key
    file created on first use (mode 600)."""

    def __init__(self, private_pem: bytes, ttl_s: int) -> None:
        key = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the JWT key must be an RSA key (RS256)")
        self.private_pem = private_pem  # also signs OpenID Connect ID tokens
        self.public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # RFC 7638 thumbprint: the ``kid`` the OAuth JWKS publishes for this key.
        self.key_id = RSAKey.import_key(private_pem).thumbprint()
        pinned: KeyParameters = {"kid": self.key_id, "alg": "RS256", "use": "sig"}
        self._key = RSAKey.import_key(private_pem, pinned)
        self._public_key = RSAKey.import_key(self.public_pem, pinned)
        self.ttl_s = ttl_s

    @classmethod
    def ephemeral(cls, ttl_s: int = 300) -> "JwtSigner":
        """A key made for this process only (tests, tools): nothing else can verify it."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(pem, ttl_s)

    @classmethod
    def from_file(cls, path: Path, ttl_s: int) -> "JwtSigner":
        return cls(rsa_private_pem(path), ttl_s)

    def sign(
        self,
        user: Mapping[str, Any],
        credential: Credential | None = None,
        expires_at: int | None = None,
    ) -> str:
        """A token for a user, or for a service account (Barong's claims for those:
        ``uid, email, role, level, state`` only), recording ``credential``; it expires
        ``ttl_s`` from now, or at ``expires_at`` (a JWT minted from a JWT keeps its expiry)."""
        now = int(time.time())
        claims = {
            "iat": now,
            "exp": now + self.ttl_s if expires_at is None else expires_at,
            "sub": "session",
            "iss": ISSUER,
            "aud": list(AUDIENCES),
            "jti": secrets.token_hex(10),
            "uid": user["uid"],
            "email": user["email"],
            "role": user["role"],
            "level": user["level"],
            "state": user["state"],
        }
        if not is_service_account(user):
            claims |= {"username": user.get("username"), "referral_id": user["referral_uid"]}
        if credential is not None:
            claims |= credential.claims()
        return jwt.encode({"alg": "RS256", "kid": self.key_id}, claims, self._key)

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a token this signer made, or ``InvalidJwt``: RS256 only (never
        ``none``, never an HMAC keyed with the public key), this key's id, the signature,
        Barong's issuer and subject, both audiences, ``exp`` and ``iat``."""
        if len(token) > MAX_JWT:
            raise InvalidJwt("too long")
        try:
            decoded = jwt.decode(token, self._public_key, algorithms=["RS256"])
            _CLAIMS.validate(decoded.claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidJwt(type(exc).__name__) from exc
        if decoded.header.get("kid") != self.key_id:
            raise InvalidJwt("another key")
        claims = decoded.claims
        audience = claims["aud"]
        if AUDIENCES[1] not in (audience if isinstance(audience, list) else [audience]):
            raise InvalidJwt("not meant for barong")
        if not isinstance(claims["uid"], str):
            raise InvalidJwt("not a session token")
        return claims


class Authorizer:
    def __init__(
        self,
        identity: Identity,
        api_keys: ApiKeys,
        signer: JwtSigner,
        oauth: OAuthStore,
        *,
        country_header: str | None = None,
    ) -> None:
        self.oauth = oauth
        self.identity = identity
        self.api_keys = api_keys
        self.signer = signer
        self.credentials = Credentials(identity, api_keys, oauth)
        self.country_header = country_header.lower() if country_header else None
        self._permissions: tuple[float, dict[str, list[Any]]] = (0.0, {})
        self._restrictions: tuple[float, list[Any]] = (0.0, [])

    async def decide(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        client: Client,
        *,
        mint: bool = True,
    ) -> Decision:
        """Whether the request may go on; with ``mint`` (the gateway's case) the JWT for the
        services behind it. Inside Bursa the decision is used directly and no token is
        signed: an RS256 signature costs more than the rest of the decision."""
        path = path.lstrip("/")
        method = method.upper()
        refused = await self._restricted(path, headers, client)
        if refused is not None:
            return refused
        if any(path.startswith(prefix) for prefix in BLOCK_PREFIXES):
            return Decision(401, ["authz.permission_denied"])
        if any(path.startswith(prefix) for prefix in PASS_PREFIXES):
            return Decision(200, [])
        try:
            caller = await self._authenticate(method, path, headers, cookies, client)
        except IdentityError as exc:
            return Decision(HTTP_STATUS[exc.kind], [exc.code], retry_after=exc.retry_after)
        user, key_scopes = caller.user, caller.key_scopes
        rows = await self._rows_for(user["role"], method, path)
        actions = {r.action for r in rows}
        # A service account's requests go to its owner's activities, marked with its uid.
        actor, marker = (
            (user["owner_id"], f"{user['uid']} ") if is_service_account(user) else (user["id"], "")
        )
        if "DROP" in actions or "ACCEPT" not in actions:
            async with self.identity.engine.begin() as conn:
                await self.identity.record(
                    conn,
                    actor,
                    client,
                    "permission",
                    f"{method} {path}"[:32],
                    "denied",
                    marker.strip() or None,
                )
            return Decision(401, ["authz.invalid_permission"])
        if key_scopes is not None and required_scope(method, path) not in key_scopes:
            return Decision(403, ["authz.insufficient_scope"])
        audited = [r for r in rows if r.action == "AUDIT"]
        if audited:
            async with self.identity.engine.begin() as conn:
                await self.identity.record(
                    conn,
                    actor,
                    client,
                    audited[0].topic or "audit",
                    f"{method} {path}"[:32],
                    "succeed",
                    f"{marker}{method} /{path}",
                )
        token = self.signer.sign(user, caller.credential, caller.expires_at) if mint else None
        return Decision(200, [], token, user, credential=caller.credential)

    async def gateway_caller(self, headers: Mapping[str, str]) -> Caller | None:
        """The caller a gateway JWT in ``Authorization: Bearer`` stands for, its credential
        checked again now; None when that header holds no JWT (nothing, or an OAuth access
        token). A JWT that does not verify is refused, whatever else the request carries."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or token.count(".") != 2:
            return None
        try:
            claims = self.signer.verify(token)
        except InvalidJwt as exc:
            log.info("gateway JWT refused: %s", exc)
            raise IdentityError(Refusal.UNAUTHENTICATED, REFUSED) from None
        return await self.credentials.live(claims)

    async def _authenticate(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        client: Client,
    ) -> Caller:
        """Who is calling, and how: a gateway JWT, an OAuth access token, an API key or a
        session cookie, in that order."""
        caller = await self.gateway_caller(headers)
        if caller is not None:
            scopes = caller.credential.scopes
            if caller.credential.method == OAUTH and not oauth_scopes.allows(
                scopes or frozenset(), method, path
            ):
                raise IdentityError(Refusal.FORBIDDEN, "authz.insufficient_scope")
            return caller  # no CSRF: a browser never adds an Authorization header itself
        if "authorization" in headers:  # an OAuth access token of a third-party app
            found = await self.oauth.bearer_for(headers["authorization"], method, path)
            credential = Credential(OAUTH, str(found.token_id), found.scopes, found.client_id)
            return Caller(found.user, credential)
        names = ("x-auth-apikey", "x-auth-nonce", "x-auth-signature")
        if any(name in headers for name in names):
            kid, nonce, signature = (headers.get(name, "") for name in names)
            key = await self.api_keys.verify(kid, nonce, signature, ip=client.ip)
            return Caller(key.user, Credential(API_KEY, key.kid, key.scopes))
        token = cookies.get(SESSION_COOKIE)
        if not token:
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.invalid_session")
        session = await self.identity.authenticate(token, client)
        if method in WRITE_METHODS:
            sent = headers.get("x-csrf-token")
            if not sent:
                raise IdentityError(Refusal.UNAUTHENTICATED, "authz.missing_csrf_token")
            if not secrets.compare_digest(sent, session.csrf_token):
                raise IdentityError(Refusal.UNAUTHENTICATED, "authz.csrf_token_mismatch")
        credential = Credential(SESSION, session.session_digest, csrf_token=session.csrf_token)
        return Caller(session.user, credential)

    async def _restricted(
        self, path: str, headers: Mapping[str, str], client: Client
    ) -> Decision | None:
        if path == ACCESS_PATH:
            return None
        country = headers.get(self.country_header, "").upper() if self.country_header else ""
        found = [r for r in await self._cached_restrictions() if _matches(r, client.ip, country)]
        for category in RESTRICTION_ORDER:
            for restriction in found:
                if restriction.category != category:
                    continue
                if category == "whitelist":
                    return None
                if category == "blocklogin" and not path.startswith(LOGIN_PATH):
                    continue
                return Decision(restriction.code, [f"authz.restrict.{category}"])
        return None

    async def _rows_for(self, role: str, method: str, path: str) -> list[Any]:
        """The permission table's rows that apply to a role's request (``path`` without
        its leading slash, ``method`` upper-case)."""
        return [
            r
            for r in (await self._cached_permissions()).get(role, ())
            if r.verb in (method, "ALL") and path.startswith(r.path)
        ]

    async def permits(self, role: str, method: str, path: str) -> bool:
        """Whether the permission table lets ``role`` make this request (no ``DROP``, an
        ``ACCEPT``): for a decision taken once for many requests, such as a websocket's
        orders."""
        actions = {r.action for r in await self._rows_for(role, method.upper(), path.lstrip("/"))}
        return "ACCEPT" in actions and "DROP" not in actions

    async def _cached_permissions(self) -> dict[str, list[Any]]:
        """The permission table by role."""
        loaded_at, by_role = self._permissions
        if time.monotonic() - loaded_at > CACHE_S:
            async with self.identity.engine.connect() as conn:
                rows = list(await conn.execute(select(permissions)))
            by_role = {}
            for row in rows:
                by_role.setdefault(row.role, []).append(row)
            self._permissions = (time.monotonic(), by_role)
        return by_role

    async def _cached_restrictions(self) -> list[Any]:
        loaded_at, rows = self._restrictions
        if time.monotonic() - loaded_at > CACHE_S:
            async with self.identity.engine.connect() as conn:
                rows = list(
                    await conn.execute(
                        select(restrictions).where(restrictions.c.state == "enabled")
                    )
                )
            self._restrictions = (time.monotonic(), rows)
        return rows

    def forget_cache(self) -> None:
        """Read permissions and restrictions again on the next request (after a change)."""
        self._permissions = (0.0, {})
        self._restrictions = (0.0, [])


def _matches(restriction: Any, ip: str, country: str) -> bool:
    scope, value = restriction.scope, restriction.value
    if scope == "all":
        return True
    if scope == "country":
        return bool(country) and country == value.upper()
    try:
        address = ipaddress.ip_address(ip)
        if scope == "ip":
            return address == ipaddress.ip_address(value)
        if scope == "ip_subnet":
            return address in ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return False
