"""OAuth 2.0 records: client applications admins register, authorization codes and tokens.

Client secrets, codes and tokens are high-entropy random strings, stored only as SHA-256
digests. Every use that must happen once is one atomic statement: a code is marked used
by the ``UPDATE`` that finds it, a refresh token is revoked by the ``UPDATE`` that finds
it. Presenting a used code or a rotated refresh token again revokes every token of that
grant (someone holds a copy).
"""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bursa.errors import Refusal
from bursa.identity import oauth_scopes
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import oauth_clients, oauth_codes, oauth_tokens

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
GRANT_TYPES = ("authorization_code", "refresh_token")
CODE_TTL = timedelta(minutes=5)
MAX_REDIRECT_URIS = 10


def digest(secret: str) -> str:
    return sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def check_redirect_uri(uri: str) -> str:
    """A redirect URI a client may register: absolute, no fragment, HTTPS — or plain HTTP
    only to the loopback address, for native apps (RFC 8252)."""
    parts = urlsplit(uri)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if (
        len(uri) > 2000
        or not parts.hostname
        or parts.fragment
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        raise IdentityError(Refusal.INVALID, "admin.oauth_client.invalid_redirect_uri", uri[:200])
    return uri


@dataclass(frozen=True)
class OAuthClient(ClientMixin):  # type: ignore[misc]
    """A registered application, as Authlib's grants ask about it."""

    client_id: str
    name: str
    secret_digest: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    auth_method: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str | None:
        """The scope as asked, if it is not empty and the client may ask for all of it;
        ``None`` (``invalid_scope``) otherwise: scopes are never narrowed silently."""
        asked = scope_to_list(scope) if scope else []
        if not asked or any(name not in self.scopes for name in asked):
            return None
        return str(list_to_scope(asked))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_digest is None:
            return False
        return secrets.compare_digest(digest(client_secret), self.secret_digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


@dataclass(frozen=True)
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    grant_id: str
    client_id: str
    user_id: int
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: datetime

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass(frozen=True)
class Token(TokenMixin):  # type: ignore[misc]
    id: int
    grant_id: str
    client_id: str
    user_id: int
    scope: str
    access_expires_at: datetime
    revoked_at: datetime | None

    def check_client(self, client: OAuthClient) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.access_expires_at - _now()).total_seconds()))

    def is_expired(self) -> bool:
        return self.access_expires_at <= _now()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class BearerPrincipal:
    """A request made with an access token: whose, for which application, which scopes."""

    user: dict[str, Any]
    client_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    token_id: int = 0  # the access token's row


def _token(row: Any) -> Token:
    return Token(
        row["id"],
        row["grant_id"],
        row["client_id"],
        row["user_id"],
        row["scope"],
        row["access_expires_at"],
        row["revoked_at"],
    )


class OAuthStore:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    # ------------------------------------------------------------ clients (admins)

    async def register_client(
        self,
        admin: dict[str, Any],
        name: str,
        redirect_uris: list[str],
        scopes: list[str],
        confidential: bool,
        client: Client,
    ) -> tuple[dict[str, Any], str | None]:
        """A new client application and, for a confidential one, its secret (shown once)."""
        unknown = oauth_scopes.known(scopes)
        if unknown or not scopes:
            raise IdentityError(
                Refusal.INVALID, "admin.oauth_client.invalid_scope", ", ".join(unknown)
            )
        if not 1 <= len(redirect_uris) <= MAX_REDIRECT_URIS:
            raise IdentityError(Refusal.INVALID, "admin.oauth_client.invalid_redirect_uri")
        uris = [check_redirect_uri(uri) for uri in redirect_uris]
        secret = secrets.token_urlsafe(32) if confidential else None
        async with self.identity.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        insert(oauth_clients)
                        .values(
                            client_id=secrets.token_hex(12),
                            secret_digest=digest(secret) if secret else None,
                            name=name,
                            redirect_uris=uris,
                            scopes=" ".join(dict.fromkeys(scopes)),
                            auth_method="client_secret_basic" if confidential else "none",
                            created_by=admin["id"],
                        )
                        .returning(oauth_clients)
                    )
                )
                .mappings()
                .one()
            )
            await self.identity.record(
                conn, admin["id"], client, "oauth", "client registered", "succeed", name
            )
        return dict(row), secret

    async def clients(self) -> list[dict[str, Any]]:
        async with self.identity.engine.connect() as conn:
            found = await conn.execute(select(oauth_clients).order_by(oauth_clients.c.id))
            return [dict(row) for row in found.mappings()]

    async def disable_client(self, admin: dict[str, Any], client_id: str, client: Client) -> None:
        """The client stops working at once: its codes and tokens die with it."""
        async with self.identity.transaction() as conn:
            found = await conn.execute(
                update(oauth_clients)
                .where(oauth_clients.c.client_id == client_id)
                .values(state="disabled", updated_at=func.now())
                .returning(oauth_clients.c.id)
            )
            if found.first() is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.oauth_client.doesnt_exist")
            await conn.execute(
                update(oauth_tokens)
                .where(oauth_tokens.c.client_id == client_id, oauth_tokens.c.revoked_at.is_(None))
                .values(revoked_at=func.now())
            )
            await self.identity.record(
                conn, admin["id"], client, "oauth", "client disabled", "succeed", client_id
            )

    async def client(self, client_id: str) -> OAuthClient | None:
        """An active client, as Authlib's grants see it."""
        async with self.identity.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(oauth_clients).where(
                            oauth_clients.c.client_id == client_id,
                            oauth_clients.c.state == "active",
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return OAuthClient(
            row["client_id"],
            row["name"],
            row["secret_digest"],
            tuple(row["redirect_uris"]),
            tuple(row["scopes"].split()),
            row["auth_method"],
        )

    # ------------------------------------------------------------------- codes

    async def save_code(
        self,
        code: str,
        client_id: str,
        user_id: int,
        redirect_uri: str,
        scope: str,
        nonce: str | None,
        challenge: tuple[str, str],
        client: Client,
    ) -> None:
        now = _now()
        async with self.identity.transaction() as conn:
            await conn.execute(
                oauth_codes.delete().where(oauth_codes.c.expires_at < now - timedelta(days=1))
            )
            await conn.execute(
                insert(oauth_codes).values(
                    code_digest=digest(code),
                    grant_id=secrets.token_hex(16),
                    client_id=client_id,
                    user_id=user_id,
                    redirect_uri=redirect_uri,
                    scope=scope,
                    nonce=nonce,
                    code_challenge=challenge[0],
                    code_challenge_method=challenge[1],
                    auth_time=now,
                    expires_at=now + CODE_TTL,
                )
            )
            await self.identity.record(
                conn, user_id, client, "oauth", "application authorized", "succeed", client_id
            )

    async def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code, marked used by this very statement; a second use revokes the tokens the
        first one produced (RFC 6749 §4.1.2)."""
        async with self.identity.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        update(oauth_codes)
                        .where(
                            oauth_codes.c.code_digest == digest(code),
                            oauth_codes.c.client_id == client_id,
                            oauth_codes.c.used_at.is_(None),
                            oauth_codes.c.expires_at > func.now(),
                        )
                        .values(used_at=func.now())
                        .returning(oauth_codes)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                reused = await conn.scalar(
                    select(oauth_codes.c.grant_id).where(
                        oauth_codes.c.code_digest == digest(code),
                        oauth_codes.c.used_at.is_not(None),
                    )
                )
                if reused is not None:
                    await self._revoke_grant(conn, reused)
                return None
        return AuthorizationCode(
            row["grant_id"],
            row["client_id"],
            row["user_id"],
            row["redirect_uri"],
            row["scope"],
            row["nonce"],
            row["code_challenge"],
            row["code_challenge_method"],
            row["auth_time"],
        )

    async def nonce_used(self, client_id: str, nonce: str) -> bool:
        async with self.identity.engine.connect() as conn:
            found = await conn.scalar(
                select(func.count())
                .select_from(oauth_codes)
                .where(oauth_codes.c.client_id == client_id, oauth_codes.c.nonce == nonce)
            )
        return bool(found)

    # ------------------------------------------------------------------ tokens

    async def save_token(
        self,
        grant_id: str,
        client_id: str,
        user_id: int,
        token: dict[str, Any],
        refresh_ttl: timedelta,
    ) -> None:
        now = _now()
        refresh = token.get("refresh_token")
        async with self.identity.transaction() as conn:
            await conn.execute(
                insert(oauth_tokens).values(
                    grant_id=grant_id,
                    client_id=client_id,
                    user_id=user_id,
                    scope=token.get("scope") or "",
                    access_digest=digest(token["access_token"]),
                    refresh_digest=digest(refresh) if refresh else None,
                    access_expires_at=now + timedelta(seconds=int(token["expires_in"])),
                    refresh_expires_at=now + refresh_ttl if refresh else None,
                )
            )

    async def take_refresh(self, refresh: str, client_id: str) -> Token | None:
        """The token row of a live refresh token, revoked by this very statement (rotation).
        A refresh token that was already rotated revokes its whole grant."""
        async with self.identity.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        update(oauth_tokens)
                        .where(
                            oauth_tokens.c.refresh_digest == digest(refresh),
                            oauth_tokens.c.client_id == client_id,
                            oauth_tokens.c.revoked_at.is_(None),
                            oauth_tokens.c.refresh_expires_at > func.now(),
                        )
                        .values(revoked_at=func.now())
                        .returning(oauth_tokens)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                reused = await conn.scalar(
                    select(oauth_tokens.c.grant_id).where(
                        oauth_tokens.c.refresh_digest == digest(refresh),
                        oauth_tokens.c.revoked_at.is_not(None),
                    )
                )
                if reused is not None:
                    await self._revoke_grant(conn, reused)
                return None
        return _token(row)

    async def find_token(self, token: str, hint: str | None) -> Token | None:
        """For revocation: the row holding ``token`` as access or refresh token."""
        columns = {
            "access_token": [oauth_tokens.c.access_digest],
            "refresh_token": [oauth_tokens.c.refresh_digest],
        }.get(hint or "", [oauth_tokens.c.access_digest, oauth_tokens.c.refresh_digest])
        async with self.identity.engine.connect() as conn:
            for column in columns:
                row = (
                    (await conn.execute(select(oauth_tokens).where(column == digest(token))))
                    .mappings()
                    .first()
                )
                if row is not None:
                    found = _token(row)
                    if column is oauth_tokens.c.refresh_digest:
                        return _RefreshToken(**found.__dict__)
                    return found
        return None

    async def revoke(self, token: Token) -> None:
        """An access token dies alone; a refresh token takes its whole grant with it."""
        async with self.identity.transaction() as conn:
            if isinstance(token, _RefreshToken):
                await self._revoke_grant(conn, token.grant_id)
            else:
                await conn.execute(
                    update(oauth_tokens)
                    .where(oauth_tokens.c.id == token.id, oauth_tokens.c.revoked_at.is_(None))
                    .values(revoked_at=func.now())
                )

    async def bearer(self, access_token: str) -> BearerPrincipal:
        """Who a live access token acts for, or ``authz.invalid_token``."""
        return await self._bearer(oauth_tokens.c.access_digest == digest(access_token))

    async def bearer_by_id(self, token_id: int) -> BearerPrincipal:
        """The same for the token a gateway JWT names (minted from a request that carried
        it), so that revoking the token, or its client, stops that JWT at once too."""
        return await self._bearer(oauth_tokens.c.id == token_id)

    async def _bearer(self, which: ColumnElement[bool]) -> BearerPrincipal:
        async with self.identity.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(
                            oauth_tokens.c.id,
                            oauth_tokens.c.user_id,
                            oauth_tokens.c.client_id,
                            oauth_tokens.c.scope,
                        )
                        .join(
                            oauth_clients,
                            and_(
                                oauth_clients.c.client_id == oauth_tokens.c.client_id,
                                oauth_clients.c.state == "active",
                            ),
                        )
                        .where(
                            which,
                            oauth_tokens.c.revoked_at.is_(None),
                            oauth_tokens.c.access_expires_at > func.now(),
                        )
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise IdentityError(Refusal.UNAUTHENTICATED, "authz.invalid_token")
            user = await self.identity.load_user(conn, row["user_id"])
        if user["state"] != "active":
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.user_not_active")
        return BearerPrincipal(
            user, row["client_id"], frozenset(row["scope"].split()), token_id=row["id"]
        )

    async def bearer_for(self, authorization: str, method: str, path: str) -> BearerPrincipal:
        """The token behind an ``Authorization: Bearer`` header, if its scopes cover
        ``method`` ``path``; else ``authz.invalid_token`` or ``authz.insufficient_scope``."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or len(token) > 256:
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.invalid_token")
        principal = await self.bearer(token.strip())
        if not oauth_scopes.allows(principal.scopes, method, path):
            raise IdentityError(Refusal.FORBIDDEN, "authz.insufficient_scope")
        return principal

    # ------------------------------------------------------ the member's grants

    async def grants_of(self, user_id: int) -> list[dict[str, Any]]:
        """Applications holding a live token for the member, with the scopes granted."""
        live = and_(
            oauth_tokens.c.user_id == user_id,
            oauth_tokens.c.revoked_at.is_(None),
            func.greatest(
                oauth_tokens.c.access_expires_at,
                func.coalesce(oauth_tokens.c.refresh_expires_at, oauth_tokens.c.access_expires_at),
            )
            > func.now(),
        )
        async with self.identity.engine.connect() as conn:
            found = await conn.execute(
                select(
                    oauth_clients.c.client_id,
                    oauth_clients.c.name,
                    func.string_agg(oauth_tokens.c.scope.distinct(), " ").label("scope"),
                    func.min(oauth_tokens.c.created_at).label("created_at"),
                )
                .join(oauth_clients, oauth_clients.c.client_id == oauth_tokens.c.client_id)
                .where(live)
                .group_by(oauth_clients.c.client_id, oauth_clients.c.name)
                .order_by(oauth_clients.c.name)
            )
            grants = []
            for row in found.mappings():
                scopes = sorted(set(row["scope"].split()))
                grants.append(dict(row) | {"scope": scopes})
            return grants

    async def revoke_grants(self, user: dict[str, Any], client_id: str, client: Client) -> None:
        async with self.identity.transaction() as conn:
            done = await conn.execute(
                update(oauth_tokens)
                .where(
                    oauth_tokens.c.user_id == user["id"],
                    oauth_tokens.c.client_id == client_id,
                    oauth_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=func.now())
            )
            if not done.rowcount:
                raise IdentityError(Refusal.NOT_FOUND, "resource.oauth_grant.doesnt_exist")
            await self.identity.record(
                conn, user["id"], client, "oauth", "application revoked", "succeed", client_id
            )

    async def _revoke_grant(self, conn: AsyncConnection, grant_id: str) -> None:
        await conn.execute(
            update(oauth_tokens)
            .where(oauth_tokens.c.grant_id == grant_id, oauth_tokens.c.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )


@dataclass(frozen=True)
class _RefreshToken(Token):
    """A token row found by its refresh token (revoking it ends the whole grant)."""
