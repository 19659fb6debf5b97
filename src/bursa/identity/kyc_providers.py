"""KYC providers' callbacks (Barong's ``POST /public/kyc``): the contract a provider adapter
meets, and the one adapter shipped, KYCAID's.

An adapter does two things, both pure: ``verify`` authenticates a callback (headers and the
raw body, before anything is parsed) and reads it as a ``KycVerdict`` — which member, which
checks passed or failed — or refuses it with a ``KycCallbackRefused``. What a verdict
changes (``bursa.identity.kyc_callbacks``) is the same for every provider, so a second
provider is one more class here.

KYCAID (docs.kycaid.com, "Callback integrity verification") signs every callback: the
``x-data-integrity`` header holds the lower-case hex HMAC-SHA512, keyed with the account's
API token, of the Base64 encoding of the raw body. A callback names its member through the
applicant's ``external_applicant_id``, which the operator sets to the member's uid when
creating the applicant; its ``request_id`` is unique per callback (the replay key). Only
``VERIFICATION_COMPLETED`` carries a verdict (``verifications``: ``profile``,
``document``, ``address``…, each with ``verified`` true or false); other types are
acknowledged and change nothing.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bursa.errors import BursaError, Refusal

# The checks a verdict may carry, after the label each one sets (Barong's KYC labels).
CHECKS = ("profile", "document", "address")
MAX_BODY_BYTES = 1_000_000  # a callback with the applicant's details is a few kilobytes
MAX_REASON = 1000


class KycCallbackRefused(BursaError):
    """A callback that is not accepted (a bad signature, a body that says nothing)."""

    def __init__(self, kind: Refusal, code: str, message: str = "") -> None:
        super().__init__(kind, code, message=message)


@dataclass(frozen=True, slots=True)
class KycVerdict:
    """What one authentic callback says. ``callback_id`` is unique per callback (a second
    delivery repeats it); ``uid`` is None for a callback about no member's result;
    ``checks`` maps each of ``CHECKS`` the provider decided to whether it passed."""

    provider: str
    callback_id: str
    kind: str
    uid: str | None = None
    reference: str | None = None  # the provider's id of the verification
    checks: Mapping[str, bool] = field(default_factory=dict)
    reason: str | None = None  # why a check failed, as the provider words it


class KycProvider(Protocol):
    """A KYC provider's callback adapter."""

    name: str

    def verify(self, headers: Mapping[str, str], body: bytes) -> KycVerdict:
        """The callback's verdict if it is authentic, else ``KycCallbackRefused``."""
        ...


class Kycaid:
    """KYCAID's callbacks, authenticated with the account's API token."""

    name = "kycaid"
    SIGNATURE_HEADER = "x-data-integrity"
    COMPLETED = "VERIFICATION_COMPLETED"

    def __init__(self, api_token: str) -> None:
        if not api_token:
            raise ValueError("KYCAID needs its API token to authenticate callbacks")
        self._key = api_token.encode()

    def signature(self, body: bytes) -> str:
        """What KYCAID sends in ``x-data-integrity`` for ``body``."""
        return hmac.new(self._key, base64.b64encode(body), hashlib.sha512).hexdigest()

    def verify(self, headers: Mapping[str, str], body: bytes) -> KycVerdict:
        sent = headers.get(self.SIGNATURE_HEADER, "")
        if not sent:
            raise KycCallbackRefused(Refusal.UNAUTHENTICATED, "public.kyc.missing_signature")
        if len(body) > MAX_BODY_BYTES:
            raise KycCallbackRefused(Refusal.INVALID, "public.kyc.invalid_callback", "too large")
        # As bytes: compare_digest refuses non-ASCII text, and a header is latin-1.
        if not hmac.compare_digest(self.signature(body).encode(), sent.strip().lower().encode()):
            raise KycCallbackRefused(Refusal.UNAUTHENTICATED, "public.kyc.invalid_signature")
        return self._read(_json_object(body))

    def _read(self, callback: dict[str, Any]) -> KycVerdict:
        request_id = _text(callback.get("request_id"))
        kind = _text(callback.get("type"))
        if request_id is None or kind is None:
            raise KycCallbackRefused(
                Refusal.INVALID, "public.kyc.invalid_callback", "request_id and type are required"
            )
        if kind != self.COMPLETED:
            return KycVerdict(self.name, request_id, kind)
        applicant = callback.get("applicant")
        uid = _text(applicant.get("external_applicant_id")) if isinstance(applicant, dict) else None
        uid = uid or _text(callback.get("external_applicant_id"))
        if uid is None:
            raise KycCallbackRefused(
                Refusal.INVALID, "public.kyc.unknown_applicant", "no external_applicant_id"
            )
        checks: dict[str, bool] = {}
        reasons: list[str] = []
        verifications = callback.get("verifications")
        for check, outcome in (verifications if isinstance(verifications, dict) else {}).items():
            if check not in CHECKS or not isinstance(outcome, dict):
                continue
            verified = outcome.get("verified")
            if not isinstance(verified, bool):  # null: not decided yet
                continue
            checks[check] = verified
            if not verified:
                reasons.extend(_reasons(check, outcome))
        return KycVerdict(
            self.name,
            request_id,
            kind,
            uid=uid,
            reference=_text(callback.get("verification_id")),
            checks=checks,
            reason="; ".join(reasons)[:MAX_REASON] or None,
        )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        found = None
    if not isinstance(found, dict):
        raise KycCallbackRefused(
            Refusal.INVALID, "public.kyc.invalid_callback", "not a JSON object"
        )
    return found


def _text(value: object, longest: int = 64) -> str | None:
    """A non-empty identifier of at most ``longest`` characters, else None."""
    if isinstance(value, str) and 0 < len(value) <= longest:
        return value
    return None


def _reasons(check: str, outcome: dict[str, Any]) -> list[str]:
    words = [outcome.get("comment"), *(outcome.get("decline_reasons") or [])]
    return [f"{check}: {word}" for word in words if isinstance(word, str) and word]


def configured_provider(kycaid_api_token: str | None) -> KycProvider | None:
    """The provider the settings name (``BURSA_KYCAID_API_TOKEN``), or None: callbacks off."""
    return Kycaid(kycaid_api_token) if kycaid_api_token else None
