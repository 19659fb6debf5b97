"""API keys: create (2FA required; the secret is shown once and stored sealed by the key
store), list, enable, disable, delete; and verify signed requests as Barong does
(``X-Auth-Apikey`` = kid, ``X-Auth-Nonce`` = milliseconds within 5 s, ``X-Auth-Signature``
= hex HMAC-SHA256 of nonce + kid) — except that a nonce is accepted only once per key.

Scopes: a comma list of ``read``, ``trade``, ``withdraw``; an empty scope allows ``read``
and ``trade``. Endpoints name the scope they need (``required_scope`` is the rule the
authorization step applies to every path); account security (password, 2FA, API keys) is
never reachable with an API key.

A key is held by a user or by one of the user's service accounts (``service_account_id``);
either way ``user_id`` is the user, whose 2FA guards the key's life cycle.
"""

import hmac
import secrets
import time
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update

from bursa.db.hot import HotReads
from bursa.errors import Refusal
from bursa.identity.limits import (
    API_KEY_FAILURES_PER_IP,
    API_KEY_PER_IP,
    API_KEY_PER_KEY,
    InProcessLimiter,
    Limiter,
)
from bursa.identity.nonces import NonceRegistry
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.service_accounts import principal
from bursa.identity.tables import api_keys, labels, service_accounts, users
from bursa.plain_input import is_digits, parse_digits

API_KEY_SEAL = "bursa-api-key"  # key store key that seals API key secrets
SCOPES = frozenset({"read", "trade", "withdraw"})
DEFAULT_SCOPES = frozenset({"read", "trade"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Writes that move funds off the member's account need ``withdraw``, never just ``trade``.
WITHDRAW_PREFIXES = (
    "api/v2/peatio/account/withdraws",
    "api/v2/peatio/account/beneficiaries",
    "api/v2/peatio/account/internal_transfers",
)
NONCE_LIFETIME_MS = 5000
NONCE_DIGITS = 19  # a millisecond time has 13 digits; longer text is no timestamp
KEYS_PER_USER = 20
# Barong's ``state`` values, and the synonym OpenDAX's front end sends for ``inactive``.
KEY_STATES = {"active": "active", "inactive": "inactive", "disabled": "inactive"}
# The columns a member may order their keys by (Barong's ``order_by``).
KEY_ORDERINGS = ("id", "kid", "state", "created_at", "updated_at")
_SECRET_CACHE_S = 60.0


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    """A request signed with an API key: who, with which key and scopes."""

    user: dict[str, Any]  # a user, or a service account's principal
    kid: str
    scopes: frozenset[str]
    service_account: bool = False


def parse_scope(scope: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in scope.split(",") if part.strip())
    unknown = names - SCOPES
    if unknown:
        raise IdentityError(
            Refusal.INVALID,
            "resource.api_key.invalid_scope",
            f"unknown: {', '.join(sorted(unknown))}",
        )
    return names


def required_scope(method: str, path: str) -> str:
    """The scope a key needs for ``method`` ``path`` (no leading slash): ``read`` to read
    anything, ``withdraw`` to write where funds leave the account, ``trade`` for any other
    write (orders, and whatever else acts for the member), so a read-only key never writes."""
    if method.upper() in READ_METHODS:
        return "read"
    path = path.lstrip("/")
    if any(path == prefix or path.startswith(prefix + "/") for prefix in WITHDRAW_PREFIXES):
        return "withdraw"
    return "trade"


def _present(row: Any) -> dict[str, Any]:
    return {
        "kid": row["kid"],
        "algorithm": row["algorithm"],
        "scope": [s for s in row["scope"].split(",") if s],
        "state": row["state"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _prefixed(prefix: str, table: Any) -> str:
    return ", ".join(f"{prefix}.{c.name} AS {prefix}_{c.name}" for c in table.c)


_KEY_COLUMNS = ("state", "scope", "secret", "service_account_id")
_USER_COLUMNS = tuple(c.name for c in users.c)
_ACCOUNT_COLUMNS = tuple(c.name for c in service_accounts.c)
# The key, its user (with the user's labels, as ``Identity.load_user`` gives them) and its
# service account if any, in one indexed read: what every signed request needs to know.
_HOLDER = f"""
SELECT {", ".join(f"k.{name} AS k_{name}" for name in _KEY_COLUMNS)},
       {_prefixed("u", users)}, {_prefixed("s", service_accounts)},
       (SELECT coalesce(array_agg(l ORDER BY l.id), '{{}}') FROM {labels.name} l
         WHERE l.user_id = u.id) AS labels
  FROM {api_keys.name} k
  JOIN {users.name} u ON u.id = k.user_id
  LEFT JOIN {service_accounts.name} s ON s.id = k.service_account_id
 WHERE k.kid = $1
"""
_USER_AT = len(_KEY_COLUMNS)
_ACCOUNT_AT = _USER_AT + len(_USER_COLUMNS)
_LABELS_AT = _ACCOUNT_AT + len(_ACCOUNT_COLUMNS)


async def _holder(
    reads: HotReads, kid: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None] | None:
    """The key ``kid``, its user and its service account (None for a user's own key)."""
    row = await reads.fetchrow(_HOLDER, kid)
    if row is None:
        return None
    # By position (the order of ``_HOLDER``'s columns): one slice and zip per part, not
    # a formatted name and a lookup per column, on every signed request.
    values = tuple(row.values())
    key = dict(zip(_KEY_COLUMNS, values[:_USER_AT], strict=True))
    user = dict(zip(_USER_COLUMNS, values[_USER_AT:_ACCOUNT_AT], strict=True))
    user["labels"] = [dict(label) for label in values[_LABELS_AT]]
    account = None
    if key["service_account_id"] is not None:
        account = dict(zip(_ACCOUNT_COLUMNS, values[_ACCOUNT_AT:_LABELS_AT], strict=True))
    return key, user, account


def _held(
    kid: str, key: dict[str, Any], user: dict[str, Any], account: dict[str, Any] | None
) -> KeyPrincipal:
    """Who an active key acts for, if its holder may act now."""
    # A service account works only while it and its owner are both active.
    allowed = ("active",) if account is not None else ("active", "pending")
    if user["state"] not in allowed or (account is not None and account["state"] != "active"):
        raise IdentityError(Refusal.UNAUTHENTICATED, "authz.invalid_session")
    if not user["otp"]:
        raise IdentityError(Refusal.UNAUTHENTICATED, "authz.disabled_2fa")
    scopes = parse_scope(key["scope"]) or DEFAULT_SCOPES
    if account is not None:
        return KeyPrincipal(principal(account, user), kid, scopes, service_account=True)
    return KeyPrincipal(user, kid, scopes)


def _held_by(user_id: int, service_account_id: int | None) -> ColumnElement[bool]:
    """The keys of one holder: the user's own, or those of one of their service accounts."""
    holder = (
        api_keys.c.service_account_id.is_(None)
        if service_account_id is None
        else api_keys.c.service_account_id == service_account_id
    )
    return and_(api_keys.c.user_id == user_id, holder)


class ApiKeys:
    def __init__(
        self, identity: Identity, nonces: NonceRegistry, limiter: Limiter | None = None
    ) -> None:
        self.identity = identity
        self.nonces = nonces
        self.limiter = limiter or InProcessLimiter()
        self._secrets: dict[str, tuple[float, bytes]] = {}

    async def create(
        self,
        user: dict[str, Any],
        algorithm: str,
        scope: str,
        otp_code: str | None,
        client: Client,
        service_account_id: int | None = None,
    ) -> dict[str, Any]:
        if algorithm != "HS256":
            raise IdentityError(Refusal.INVALID, "resource.api_key.invalid_algorithm", "only HS256")
        names = parse_scope(scope)
        if not user["otp"]:
            raise IdentityError(
                Refusal.INVALID, "resource.api_key.2fa_disabled", "enable 2FA first"
            )
        secret = secrets.token_hex(16)
        sealed = await self.identity.keystore.encrypt(API_KEY_SEAL, secret.encode())
        async with self.identity.transaction() as conn:
            await self.identity.require_otp(conn, user["id"], otp_code, client, "resource.api_key")
            count = await conn.scalar(
                select(func.count())
                .select_from(api_keys)
                .where(_held_by(user["id"], service_account_id))
            )
            if (count or 0) >= KEYS_PER_USER:
                raise IdentityError(Refusal.INVALID, "resource.api_key.limit_reached")
            row = (
                (
                    await conn.execute(
                        insert(api_keys)
                        .values(
                            kid=secrets.token_hex(8),
                            user_id=user["id"],
                            service_account_id=service_account_id,
                            algorithm=algorithm,
                            scope=",".join(sorted(names)),
                            secret=sealed,
                        )
                        .returning(api_keys)
                    )
                )
                .mappings()
                .one()
            )
            await self.identity.record(
                conn, user["id"], client, "account", "api key created", "succeed", row["kid"]
            )
        return _present(row) | {"secret": secret}

    async def page(
        self, user_id: int, page: int, limit: int, order_by: str = "id", descending: bool = False
    ) -> tuple[int, list[dict[str, Any]]]:
        """One page of the user's own keys (``order_by`` one of ``KEY_ORDERINGS``, ties in
        creation order) and how many there are."""
        column = api_keys.c[order_by if order_by in KEY_ORDERINGS else "id"]
        order = [column.desc() if descending else column.asc(), api_keys.c.id]
        held = _held_by(user_id, None)
        async with self.identity.engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(api_keys).where(held))
            rows = await conn.execute(
                select(api_keys)
                .where(held)
                .order_by(*order)
                .limit(limit)
                .offset((page - 1) * limit)
            )
            return int(total or 0), [_present(r) for r in rows.mappings()]

    async def list(
        self, user_id: int, service_account_id: int | None = None
    ) -> list[dict[str, Any]]:
        async with self.identity.engine.connect() as conn:
            rows = await conn.execute(
                select(api_keys)
                .where(_held_by(user_id, service_account_id))
                .order_by(api_keys.c.id)
            )
            return [_present(r) for r in rows.mappings()]

    async def update(
        self,
        user: dict[str, Any],
        kid: str,
        scope: str | None,
        state: str | None,
        otp_code: str | None,
        client: Client,
        service_account_id: int | None = None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {"updated_at": func.now()}
        if scope is not None:
            values["scope"] = ",".join(sorted(parse_scope(scope)))
        if state is not None:
            if state not in KEY_STATES:
                raise IdentityError(Refusal.INVALID, "resource.api_key.invalid_state")
            values["state"] = KEY_STATES[state]
        async with self.identity.transaction() as conn:
            await self.identity.require_otp(conn, user["id"], otp_code, client, "resource.api_key")
            row = (
                (
                    await conn.execute(
                        update(api_keys)
                        .where(api_keys.c.kid == kid, _held_by(user["id"], service_account_id))
                        .values(**values)
                        .returning(api_keys)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise IdentityError(Refusal.NOT_FOUND, "resource.api_key.doesnt_exist")
            await self.identity.record(
                conn, user["id"], client, "account", "api key updated", "succeed", kid
            )
        return _present(row)

    async def delete(
        self,
        user: dict[str, Any],
        kid: str,
        otp_code: str | None,
        client: Client,
        service_account_id: int | None = None,
    ) -> None:
        async with self.identity.transaction() as conn:
            await self.identity.require_otp(conn, user["id"], otp_code, client, "resource.api_key")
            gone = await conn.execute(
                delete(api_keys)
                .where(api_keys.c.kid == kid, _held_by(user["id"], service_account_id))
                .returning(api_keys.c.id)
            )
            if gone.first() is None:
                raise IdentityError(Refusal.NOT_FOUND, "resource.api_key.doesnt_exist")
            await self.identity.record(
                conn, user["id"], client, "account", "api key deleted", "succeed", kid
            )
        self._secrets.pop(kid, None)

    async def verify(self, kid: str, nonce: str, signature: str, ip: str = "") -> KeyPrincipal:
        """The principal of a signed request, or an ``authz.*`` refusal; rate-limited per
        address before the signature is checked, and per key only after (so a forger
        cannot spend someone else's budget)."""
        wait = await self.limiter.over(API_KEY_FAILURES_PER_IP, ip) or await self.limiter.allow(
            API_KEY_PER_IP, ip
        )
        if wait:
            raise IdentityError(Refusal.TOO_MANY, "authz.rate_limit.exceeded", retry_after=wait)
        try:
            found = await self._verify(kid, nonce, signature)
        except IdentityError as exc:
            if exc.kind in (Refusal.UNAUTHENTICATED, Refusal.INVALID):
                await self.limiter.allow(API_KEY_FAILURES_PER_IP, ip)
            raise
        wait = await self.limiter.allow(API_KEY_PER_KEY, kid)
        if wait:
            raise IdentityError(Refusal.TOO_MANY, "authz.rate_limit.exceeded", retry_after=wait)
        return found

    async def _verify(self, kid: str, nonce: str, signature: str) -> KeyPrincipal:
        if not (kid and nonce and signature):
            raise IdentityError(Refusal.INVALID, "authz.invalid_api_key_headers")
        # ASCII digits only: str.isdigit() is True for "²", which int() refuses. A header
        # that is no number is malformed (422, as a missing one is); counted all the same.
        if len(nonce) > NONCE_DIGITS or not is_digits(nonce):
            raise IdentityError(Refusal.INVALID, "authz.nonce_not_valid_timestamp")
        stamp = parse_digits(nonce)
        if abs(self.identity.clock.time() * 1000 - stamp) >= NONCE_LIFETIME_MS:
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.nonce_expired")
        key, user, account = await self._active(kid)
        secret = await self._secret(kid, key["secret"])
        expected = hmac.new(secret, (nonce + kid).encode(), sha256).hexdigest()
        # As bytes: compare_digest raises TypeError on non-ASCII text (a header is latin-1).
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.invalid_signature")
        held = _held(kid, key, user, account)
        if not await self.nonces.first_use(kid, stamp, 2 * NONCE_LIFETIME_MS):
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.nonce_reused")
        return held

    async def holding(self, kid: str) -> KeyPrincipal:
        """Key ``kid``'s principal as it stands now, with no signature to check: for a
        gateway JWT minted from a signed request, so that switching the key off (or its
        holder's ban) stops the JWT at once, as it stops the key."""
        key, user, account = await self._active(kid)
        return _held(kid, key, user, account)

    async def _active(
        self, kid: str
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        """Key ``kid`` with its user and service account, refused unless it is active."""
        found = await _holder(self.identity.reads, kid)
        if found is None:
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.unexistent_apikey")
        key, user, account = found
        if key["state"] != "active":
            raise IdentityError(Refusal.UNAUTHENTICATED, "authz.apikey_not_active")
        return key, user, account

    async def _secret(self, kid: str, sealed: str) -> bytes:
        """The key's secret, decrypted by the key store at most once a minute per key."""
        cached = self._secrets.get(kid)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        secret = await self.identity.keystore.decrypt(API_KEY_SEAL, sealed)
        self._secrets[kid] = (now + _SECRET_CACHE_S, secret)
        return secret
