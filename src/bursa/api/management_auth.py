"""Management API authentication: a jwt-multisig envelope, checked per endpoint scope.

Each application (``peatio``, ``barong``) has its own policy file in Peatio's
``management_api.yml`` format::

    keychain:                       # key id -> public key, algorithm pinned
      applogic: {algorithm: RS256, value: <PEM, or URL-safe Base64 of the PEM>}
    jwt: {leeway: 30, max_lifetime: 300}
    scopes:
      write_deposits: {permitted_signers: [applogic, gateway], mandatory_signers: [gateway]}

A request is refused (401, Peatio's messages) when a known signer's signature fails or
names another algorithm than its key's, when ``iat``, ``exp`` or ``jti`` is missing, the
token has expired or lives longer than ``max_lifetime``, its ``jti`` was used before, or a
mandatory signer of the endpoint's scope did not sign. Every refusal is logged with its
reason, never with the token.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NoReturn

import orjson
import yaml
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.errors import ApiError
from bursa.signing import multisig
from bursa.signing.tables import used_jtis

log = logging.getLogger(__name__)

ManagedApp = Literal["peatio", "barong"]
# Peatio took POST, PUT and DELETE; Barong POST and PUT.
VERBS: dict[str, tuple[str, ...]] = {"peatio": ("POST", "PUT", "DELETE"), "barong": ("POST", "PUT")}
VERB_MESSAGES = {
    "peatio": "Only POST, PUT, and DELETE verbs are allowed.",
    "barong": "Only POST and PUT verbs are allowed.",
}
FAILED = "Failed to verify JWT."
NOT_ENOUGH = "Not enough signatures for the action."
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024  # Barong's document upload travels base64 in the JWT


class _KeyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    algorithm: str
    value: str


class _ScopeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    permitted_signers: list[str] = Field(min_length=1)
    mandatory_signers: list[str] = Field(min_length=1)


class _JwtConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    leeway: int = Field(default=30, ge=0, le=600)
    max_lifetime: int = Field(default=300, ge=1, le=86_400)


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keychain: dict[str, _KeyConfig]
    jwt: _JwtConfig = _JwtConfig()
    scopes: dict[str, _ScopeConfig]

    @field_validator("scopes")
    @classmethod
    def _mandatory_are_permitted(cls, scopes: dict[str, _ScopeConfig]) -> dict[str, _ScopeConfig]:
        for name, scope in scopes.items():
            if not set(scope.mandatory_signers) <= set(scope.permitted_signers):
                raise ValueError(f"scope {name}: mandatory signers must be permitted signers")
        return scopes


@dataclass(frozen=True, slots=True)
class Scope:
    permitted: frozenset[str]
    mandatory: frozenset[str]


@dataclass(frozen=True, slots=True)
class ManagementPolicy:
    keychain: Mapping[str, multisig.VerifyKey]
    scopes: Mapping[str, Scope]
    leeway_s: int = 30
    max_lifetime_s: int = 300

    @classmethod
    def from_mapping(cls, raw: Any) -> "ManagementPolicy":
        parsed = _PolicyFile.model_validate(raw)
        keychain = {
            kid: multisig.verify_key(kid, key.algorithm, key.value)
            for kid, key in parsed.keychain.items()
        }
        scopes: dict[str, Scope] = {}
        for name, scope in parsed.scopes.items():
            unknown = set(scope.permitted_signers) - set(keychain)
            if unknown:
                raise ValueError(f"scope {name}: signers {sorted(unknown)} are not in keychain")
            scopes[name] = Scope(
                frozenset(scope.permitted_signers), frozenset(scope.mandatory_signers)
            )
        return cls(keychain, scopes, parsed.jwt.leeway, parsed.jwt.max_lifetime)

    @classmethod
    def from_file(cls, path: Path) -> "ManagementPolicy":
        """Read a policy file; any mistake stops the process with what to fix."""
        try:
            raw = yaml.safe_load(path.read_text())
            return cls.from_mapping(raw)
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise ValueError(f"management API config {path}: {exc}") from exc


class ManagementRefused(ApiError):
    """A refusal the Management API's edge makes itself (the gate, a parameter), answered
    as Grape answered: ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status)


def _refuse(request: Request, scope: str, reason: str, status: int, message: str) -> NoReturn:
    client = request.client.host if request.client else "-"
    log.warning(
        "management request refused: %s %s scope=%s reason=%s client=%s",
        request.method,
        request.url.path,
        scope,
        reason,
        client,
    )
    raise ManagementRefused(status, message)


async def _remember_jti(
    sessions: async_sessionmaker[AsyncSession], jti: str, signers: str, expires: datetime
) -> bool:
    """Record ``jti``; False when it was recorded before (a replay)."""
    async with sessions() as session, session.begin():
        await session.execute(delete(used_jtis).where(used_jtis.c.expires_at < func.now()))
        inserted = await session.execute(
            insert(used_jtis)
            .values(jti=jti, signer=signers, expires_at=expires)
            .on_conflict_do_nothing()
            .returning(used_jtis.c.jti)
        )
        return inserted.first() is not None


async def authenticate(request: Request, app_name: ManagedApp, scope_name: str) -> dict[str, Any]:
    """The request's ``data`` once its envelope satisfies ``scope_name`` (else raises
    ``ManagementRefused``)."""
    policies: Mapping[str, ManagementPolicy] = request.app.state.management
    policy = policies.get(app_name)
    if policy is None:
        _refuse(request, scope_name, "not_configured", 401, "Management API is not configured.")
    if request.method not in VERBS[app_name]:
        _refuse(request, scope_name, "verb", 405, VERB_MESSAGES[app_name])
    if request.url.query:
        _refuse(request, scope_name, "query", 400, "Query parameters are not allowed.")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        _refuse(request, scope_name, "content_type", 400, "Content-Type must be application/json.")
    scope = policy.scopes.get(scope_name)
    if scope is None:
        _refuse(
            request,
            scope_name,
            "scope_not_configured",
            401,
            "Not enough signatures for the action.",
        )
        raise AssertionError
    body = await request.body()
    if len(body) > MAX_ENVELOPE_BYTES:
        _refuse(request, scope_name, "too_large", 413, "Request body is too large.")
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError:
        _refuse(request, scope_name, "malformed", 401, FAILED)
    keychain = {kid: key for kid, key in policy.keychain.items() if kid in scope.permitted}
    try:
        verified = multisig.verify(envelope, keychain, leeway_s=policy.leeway_s)
    except multisig.MultisigError as exc:
        _refuse(request, scope_name, exc.reason, 401, FAILED)
    if not scope.mandatory <= verified.signers:
        _refuse(request, scope_name, "missing_signer", 401, NOT_ENOUGH)
    claims = verified.claims
    if claims["exp"] - claims["iat"] > policy.max_lifetime_s:
        _refuse(request, scope_name, "lifetime", 401, FAILED)
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 255:
        _refuse(request, scope_name, "malformed", 401, FAILED)
    expires = datetime.fromtimestamp(claims["exp"] + policy.leeway_s, UTC) + timedelta(seconds=1)
    signers = ",".join(sorted(verified.signers))[:64]
    if not await _remember_jti(request.app.state.session_factory, jti, signers, expires):
        _refuse(request, scope_name, "replayed", 401, "JWT has already been used.")
    data = claims.get("data", {})
    if not isinstance(data, dict):
        _refuse(request, scope_name, "malformed", 422, "data must be a JSON object.")
    request.state.management_signers = verified.signers
    return dict(data)


def scope(app_name: ManagedApp, scope_name: str) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    """A FastAPI dependency giving the verified ``data`` of a ``scope_name`` endpoint."""

    async def dependency(request: Request) -> dict[str, Any]:
        return await authenticate(request, app_name, scope_name)

    dependency.__name__ = f"management_{app_name}_{scope_name}"
    return dependency
