"""How a caller proved who they are, and that proof checked again whenever the gateway JWT
minted for it comes back.

The JWT ``/api/v2/auth`` signs records its credential beside Barong's claims: ``auth`` is
``session``, ``api_key`` or ``oauth``, then ``sid`` (the session), ``api_kid`` (the key) or
``client_id`` and ``oauth_tid`` (the access token), and ``scope`` (the key's or the token's
scopes, space-separated). When a JWT is presented, Bursa reads that credential and its
holder again (one statement each): a ban, a logout, a key switched off or a revoked token
stops the JWT at once, and the holder's current role, level and scopes apply rather than
the claims'. The credential also keeps each endpoint's rule: only a session's JWT reaches
account security, a key's JWT carries its key's scopes, a token's JWT its token's.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bursa.errors import Refusal
from bursa.identity.api_keys import ApiKeys
from bursa.identity.oauth_store import OAuthStore
from bursa.identity.service import LOGIN_STATES, Identity, IdentityError
from bursa.identity.tables import labels, user_sessions, users

SESSION = "session"
API_KEY = "api_key"
OAUTH = "oauth"
REFUSED = "jwt.decode_and_verify"  # Peatio's answer to a JWT it cannot trust

_USER_COLUMNS = tuple(c.name for c in users.c)
# A live session and its user with labels (as ``Identity.load_user`` gives them): one read.
_SESSION = f"""
SELECT s.csrf_token AS session_csrf_token, {", ".join(f"u.{name}" for name in _USER_COLUMNS)},
       (SELECT coalesce(array_agg(l ORDER BY l.id), '{{}}') FROM {labels.name} l
         WHERE l.user_id = u.id) AS labels
  FROM {user_sessions.name} s
  JOIN {users.name} u ON u.id = s.user_id
 WHERE s.id_digest = $1 AND s.expires_at > $2
"""


@dataclass(frozen=True, slots=True)
class Credential:
    """What authenticated a request: a session (``ref`` = its digest), an API key (its
    kid) or an OAuth access token (its row id)."""

    method: str
    ref: str
    scopes: frozenset[str] | None = None  # the key's or the token's; None for a session
    client_id: str = ""  # an OAuth token's application
    csrf_token: str = ""  # a session's

    def claims(self) -> dict[str, Any]:
        """What the JWT records of it."""
        found: dict[str, Any] = {"auth": self.method}
        if self.method == SESSION:
            found["sid"] = self.ref
        elif self.method == API_KEY:
            found["api_kid"] = self.ref
        else:
            found |= {"client_id": self.client_id, "oauth_tid": int(self.ref)}
        if self.scopes is not None:
            found["scope"] = " ".join(sorted(self.scopes))
        return found


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller; ``expires_at`` is set when a gateway JWT brought them (a
    JWT minted again for them keeps that expiry, so a JWT never extends itself)."""

    user: dict[str, Any]
    credential: Credential
    expires_at: int | None = None

    @property
    def key_scopes(self) -> frozenset[str] | None:
        """The API key's scopes (None unless a key authenticated the request)."""
        return self.credential.scopes if self.credential.method == API_KEY else None


class Credentials:
    """The credential a verified JWT names, read again now."""

    def __init__(self, identity: Identity, api_keys: ApiKeys, oauth: OAuthStore) -> None:
        self.identity = identity
        self.api_keys = api_keys
        self.oauth = oauth

    async def live(self, claims: Mapping[str, Any]) -> Caller:
        """The caller behind a JWT's claims, or the refusal their credential would get now."""
        method = claims.get("auth")
        if method == SESSION and isinstance(claims.get("sid"), str):
            caller = await self._session(claims["sid"])
        elif method == API_KEY and isinstance(claims.get("api_kid"), str):
            key = await self.api_keys.holding(claims["api_kid"])
            caller = Caller(key.user, Credential(API_KEY, key.kid, key.scopes))
        elif method == OAUTH and type(claims.get("oauth_tid")) is int:
            token = await self.oauth.bearer_by_id(claims["oauth_tid"])
            credential = Credential(OAUTH, str(token.token_id), token.scopes, token.client_id)
            caller = Caller(token.user, credential)
        else:  # none of ours: a JWT from before credentials were recorded, or forged
            raise IdentityError(Refusal.UNAUTHENTICATED, REFUSED)
        if caller.user["uid"] != claims["uid"]:
            raise IdentityError(Refusal.UNAUTHENTICATED, REFUSED)
        return Caller(caller.user, caller.credential, int(claims["exp"]))

    async def _session(self, digest: str) -> Caller:
        row = await self.identity.reads.fetchrow(_SESSION, digest, self.identity.clock.now())
        if row is None:  # logged out, replaced, expired or ended by a password change
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.invalid_session")
        user = {name: row[name] for name in _USER_COLUMNS}
        user["labels"] = [dict(label) for label in row["labels"]]
        if user["state"] not in LOGIN_STATES:
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.user_not_active")
        return Caller(user, Credential(SESSION, digest, csrf_token=row["session_csrf_token"]))
