"""JWS general JSON serialization with several signers, as jwt-multisig writes it.

``{"payload": b64url(claims), "signatures": [{"protected": b64url({"alg": ...}),
"header": {"kid": ...}, "signature": ...}, ...]}``: every signature is an ordinary JWS
signature over ``protected.payload``, and the signer is named by the unprotected ``kid``.
joserfc writes and checks the serialization; this module adds jwt-multisig's rules around it.

Unlike jwt-multisig, the algorithm is never taken from the token: each key id is bound to
one asymmetric algorithm (its JWK carries that ``alg`` too), and a signature claiming
another is refused (a public key can then never serve as an HMAC secret).
"""

import base64
import binascii
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
    PublicKeyTypes,
)
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey, GuestProtocol, OKPKey, RSAKey
from joserfc.util import urlsafe_b64decode

# Asymmetric only: a shared secret would let every verifier sign as the signer.
ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_SIGNATURES = 16  # more than any policy needs; bounds the work a forged body can cause
# joserfc refuses payloads over 128 000 characters by default; an event or a management
# call never comes near, but a large legitimate one must not be refused as malformed.
MAX_PAYLOAD_CHARS = 1024 * 1024

JoseKey = RSAKey | ECKey | OKPKey


class MultisigError(Exception):
    """Why an envelope was refused: ``malformed``, ``wrong_algorithm``, ``bad_signature``,
    ``expired``, ``not_yet_valid`` or ``missing_claim``. Never carries the token itself."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _key_class(algorithm: str) -> type[RSAKey] | type[ECKey] | type[OKPKey]:
    if algorithm.startswith(("RS", "PS")):
        return RSAKey
    return ECKey if algorithm.startswith("ES") else OKPKey


def _jose_key(pem: bytes, kid: str, algorithm: str) -> JoseKey:
    """The key as joserfc uses it, pinned to its one algorithm and key id."""
    try:
        return _key_class(algorithm).import_key(pem, {"kid": kid, "alg": algorithm, "use": "sig"})
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"key {kid!r} is not a key for {algorithm}") from exc


@dataclass(frozen=True, slots=True)
class VerifyKey:
    kid: str
    algorithm: str
    key: PublicKeyTypes
    jwk: JoseKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pem = self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        object.__setattr__(self, "jwk", _jose_key(pem, self.kid, self.algorithm))


@dataclass(frozen=True, slots=True)
class SignKey:
    kid: str
    algorithm: str
    key: PrivateKeyTypes
    jwk: JoseKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        object.__setattr__(self, "jwk", _jose_key(pem, self.kid, self.algorithm))


@dataclass(frozen=True, slots=True)
class Verified:
    claims: dict[str, Any]
    signers: frozenset[str]  # key ids whose signature verified
    unknown: frozenset[str]  # key ids not in the keychain (ignored, as jwt-multisig does)


def _check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} is not one of {sorted(ALGORITHMS)}")
    return algorithm


@cache
def _registry(algorithms: frozenset[str]) -> jws.JWSRegistry:
    """joserfc's rules allowing exactly ``algorithms`` (never ``none``, never an HMAC)."""
    registry = jws.JWSRegistry(algorithms=sorted(algorithms))
    registry.max_payload_length = MAX_PAYLOAD_CHARS
    return registry


def pem_text(value: str) -> bytes:
    """A PEM given as is or as (URL-safe) Base64 of the PEM, as OpenDAX configures keys."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("key is neither PEM nor Base64 of a PEM") from exc


def verify_key(kid: str, algorithm: str, value: str) -> VerifyKey:
    """A public key for ``kid``; a private key is refused (configs must not hold them)."""
    pem = pem_text(value)
    if b"PRIVATE KEY" in pem:
        raise ValueError(f"key {kid!r}: a private key was given where a public key belongs")
    return VerifyKey(kid, _check_algorithm(algorithm), serialization.load_pem_public_key(pem))


def sign_key(kid: str, algorithm: str, value: str) -> SignKey:
    pem = pem_text(value)
    return SignKey(kid, _check_algorithm(algorithm), serialization.load_pem_private_key(pem, None))


def public_of(key: SignKey) -> VerifyKey:
    """The verify key matching a signing key (for keychains built from one's own key)."""
    return VerifyKey(key.kid, key.algorithm, key.key.public_key())


def _signed(payload: bytes, keys: Iterable[SignKey]) -> dict[str, Any]:
    """A general JSON serialization of ``payload`` signed by each key, in order."""
    by_kid = {key.kid: key for key in keys}

    def key_of(member: GuestProtocol) -> JoseKey:
        return by_kid[member.headers()["kid"]].jwk

    members: list[jws.HeaderDict] = [
        {"protected": {"alg": key.algorithm}, "header": {"kid": key.kid}} for key in by_kid.values()
    ]
    registry = _registry(frozenset(key.algorithm for key in by_kid.values()))
    envelope = jws.serialize_json(members, payload, key_of, registry=registry)
    return {"payload": envelope["payload"], "signatures": [dict(s) for s in envelope["signatures"]]}


def sign(claims: Mapping[str, Any], *keys: SignKey) -> dict[str, Any]:
    """An envelope of ``claims`` signed by every key given."""
    return _signed(orjson.dumps(dict(claims)), keys)


def add_signature(envelope: Mapping[str, Any], key: SignKey) -> dict[str, Any]:
    """``envelope`` with one more signature over the same payload (Barong's OTP co-sign)."""
    payload = envelope["payload"]
    signatures = [s for s in envelope["signatures"] if s.get("header", {}).get("kid") != key.kid]
    added = _signed(_unb64(payload), [key])
    if added["payload"] != payload:  # _unb64 takes canonical Base64url only: never happens
        raise MultisigError("malformed", "payload is not canonical Base64url")
    return {"payload": payload, "signatures": [*signatures, *added["signatures"]]}


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise MultisigError("malformed", "a part is not a string")
    try:
        return urlsafe_b64decode(text.encode())
    except (binascii.Error, ValueError) as exc:
        raise MultisigError("malformed", "a part is not Base64url") from exc


def _verify_signature(payload: str, entry: Mapping[str, Any], key: VerifyKey) -> None:
    """One known signer's signature: its protected ``alg`` must be its key's, then joserfc
    checks the signature over ``protected.payload``."""
    try:
        protected = orjson.loads(_unb64(entry.get("protected")))
    except orjson.JSONDecodeError as exc:
        raise MultisigError("malformed", "protected header is not JSON") from exc
    if not isinstance(protected, dict) or protected.get("alg") != key.algorithm:
        raise MultisigError("wrong_algorithm", f"signer {key.kid} must use {key.algorithm}")
    alone: Any = {"payload": payload, "signatures": [dict(entry)]}
    try:
        jws.deserialize_json(alone, key.jwk, registry=_registry(frozenset({key.algorithm})))
    except BadSignatureError as exc:
        raise MultisigError("bad_signature", f"signature of {key.kid} does not verify") from exc
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise MultisigError("malformed", f"signature of {key.kid}: {type(exc).__name__}") from exc


def verify(
    envelope: Any,
    keychain: Mapping[str, VerifyKey],
    *,
    leeway_s: int = 0,
    require: tuple[str, ...] = ("iat", "exp", "jti"),
    now: float | None = None,
) -> Verified:
    """Check every signature whose ``kid`` is in ``keychain`` and the time claims.

    A signature by a known key that fails, or that names another algorithm than its key's,
    refuses the whole envelope; signatures by unknown key ids are ignored (the caller's
    policy decides whether enough signers remain).
    """
    if not isinstance(envelope, Mapping):
        raise MultisigError("malformed", "not a JSON object")
    payload = envelope.get("payload")
    signatures = envelope.get("signatures")
    if not isinstance(payload, str) or not isinstance(signatures, list):
        raise MultisigError("malformed", "payload and signatures are required")
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise MultisigError("malformed", "wrong number of signatures")
    signed: set[str] = set()
    unknown: set[str] = set()
    for entry in signatures:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("header"), Mapping):
            raise MultisigError("malformed", "a signature lacks its header")
        kid = entry["header"].get("kid")
        if not isinstance(kid, str):
            raise MultisigError("malformed", "a signature lacks its kid")
        key = keychain.get(kid)
        if key is None:
            unknown.add(kid)
            continue
        _verify_signature(payload, entry, key)
        signed.add(kid)
    try:
        claims = orjson.loads(_unb64(payload))
    except orjson.JSONDecodeError as exc:
        raise MultisigError("malformed", "payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise MultisigError("malformed", "payload is not a JSON object")
    if signed:
        _check_times(claims, require, leeway_s, time.time() if now is None else now)
    return Verified(claims, frozenset(signed), frozenset(unknown))


def _check_times(claims: dict[str, Any], require: tuple[str, ...], leeway: int, now: float) -> None:
    for name in require:
        if name not in claims:
            raise MultisigError("missing_claim", name)
    for name in ("iat", "exp", "nbf"):
        if name in claims and (
            isinstance(claims[name], bool) or not isinstance(claims[name], int | float)
        ):
            raise MultisigError("malformed", f"{name} is not a number")
    if "exp" in claims and claims["exp"] + leeway <= now:
        raise MultisigError("expired")
    if "nbf" in claims and claims["nbf"] - leeway > now:
        raise MultisigError("not_yet_valid")
    if "iat" in claims and claims["iat"] - leeway > now:
        raise MultisigError("not_yet_valid", "issued in the future")
