"""The signed tokens in confirmation and password reset links (Barong's ``sub=confirmation``
and ``sub=reset`` JWTs), so that an OpenDAX front end can confirm an email or reset a
password with the token alone.

A token stands for one mailed one-time code (its row id rides in the ``code`` claim): the
link and the 6-digit code in the same mail are two ways to spend one code, so using either
spends both, a newer mail replaces both, and both expire together. The token itself is an
HS256 JWT under a random key of Bursa's own (``token_keys``, sealed by the key store and
shared by every API process): only Bursa verifies these tokens, so no public key is needed,
and one made with the session signer could never be mistaken for a session JWT. Tokens are
never logged and never put in events.
"""

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.identity.tables import token_keys
from bursa.secrets.keystore import KeyStore

KEY_NAME = "bursa-token-keys"  # the key store key that seals the signing keys
MAIL_TOKENS = "mail_tokens"  # the signing key's row in ``token_keys``
ALGORITHM = "HS256"
ISSUER = "bursa"
MAX_TOKEN = 2048  # far above any token Bursa makes; refused unread beyond it


class InvalidToken(ValueError):
    """Not a token Bursa made for this purpose, or past its expiry; the message names the
    reason for the operator and never holds the token."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says: whose code (``uid``, ``email``) and which one."""

    purpose: str
    uid: str
    email: str
    code_id: int


class MailTokens:
    """Signs and verifies the tokens of one purpose-bound code each. The key is read (or
    made, once for the whole database) on first use and kept in memory."""

    def __init__(self, engine: AsyncEngine, keystore: KeyStore) -> None:
        self.engine = engine
        self.keystore = keystore
        self._key: OctKey | None = None
        self._loading = asyncio.Lock()

    async def issue(
        self,
        purpose: str,
        uid: str,
        email: str,
        code_id: int,
        issued_at: datetime,
        expires_at: datetime,
    ) -> str:
        """A token for the one-time code ``code_id`` of ``purpose``, expiring with it."""
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": purpose,
            "jti": secrets.token_hex(10),
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
            "uid": uid,
            "email": email,
            "code": code_id,
        }
        return jwt.encode({"alg": ALGORITHM}, claims, await self._signing_key())

    async def read(self, token: str, purpose: str, now: datetime) -> TokenClaims:
        """The claims of a token Bursa signed for ``purpose`` that has not expired at
        ``now``; otherwise ``InvalidToken``. Whether its code is still unused is the
        caller's check, in the transaction that spends it."""
        if len(token) > MAX_TOKEN or token.count(".") != 2:
            raise InvalidToken("not a compact JWT")
        try:
            decoded = jwt.decode(token, await self._signing_key(), algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidToken(type(exc).__name__) from None
        claims = decoded.claims
        if claims.get("iss") != ISSUER or claims.get("sub") != purpose:
            raise InvalidToken("made for another purpose")
        expiry, code_id = claims.get("exp"), claims.get("code")
        uid, email = claims.get("uid"), claims.get("email")
        if not (
            isinstance(expiry, int)
            and isinstance(code_id, int)
            and isinstance(uid, str)
            and isinstance(email, str)
        ):
            raise InvalidToken("claims missing")
        if expiry <= now.timestamp():
            raise InvalidToken("expired")
        return TokenClaims(purpose, uid, email, code_id)

    async def _signing_key(self) -> OctKey:
        if self._key is None:
            async with self._loading:
                if self._key is None:
                    self._key = OctKey.import_key(await self._load_or_create())
        return self._key

    async def _load_or_create(self) -> bytes:
        """The key sealed in ``token_keys``; the first process to need it makes it (a
        concurrent one's insert loses and reads the winner's)."""
        async with self.engine.begin() as conn:
            sealed = await conn.scalar(
                select(token_keys.c.sealed).where(token_keys.c.name == MAIL_TOKENS)
            )
            if sealed is None:
                made = await self.keystore.encrypt(KEY_NAME, secrets.token_bytes(32))
                await conn.execute(
                    pg_insert(token_keys)
                    .values(name=MAIL_TOKENS, sealed=made)
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                sealed = await conn.scalar(
                    select(token_keys.c.sealed).where(token_keys.c.name == MAIL_TOKENS)
                )
        assert sealed is not None
        return await self.keystore.decrypt(KEY_NAME, sealed)
