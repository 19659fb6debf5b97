"""Barong's ``otp/sign``: Barong adds its signature to a Management API request once the
member's 2FA code checks.

This is what lets Peatio's policy make ``barong`` a mandatory signer of dangerous scopes:
AppLogic signs a request, Barong co-signs only after the member typed a valid TOTP code,
and Peatio accepts the request only with both. Barong never co-signs an arbitrary payload
or an expired one: the envelope must already carry a valid signature of a signer Barong's
own policy trusts. A wrong code signs nothing, is recorded on the member's activities and
counts against ``OTP_SIGN_PER_USER``; a code is accepted once.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bursa.errors import BursaError, Refusal
from bursa.identity.limits import Limiter, Rule
from bursa.identity.management import ManagedUsers
from bursa.identity.service import Client, IdentityError
from bursa.identity.tables import users
from bursa.signing import multisig

# Codes a caller may try per member and minute (a TOTP code has a million values).
OTP_SIGN_PER_USER = Rule("otp-sign-user", 5)
OTP_SCOPE = "management.otp"


@dataclass(frozen=True, slots=True)
class CoSigner:
    """Barong's signing key (None: not configured) and the signers it trusts (its
    Management API keychain), with the clock leeway its policy allows."""

    key: multisig.SignKey | None
    keychain: Mapping[str, multisig.VerifyKey]
    leeway_s: int


async def co_sign(
    managed: ManagedUsers,
    limiter: Limiter,
    signer: CoSigner,
    user_uid: str,
    otp_code: str,
    envelope: dict[str, Any],
    client: Client,
) -> dict[str, Any]:
    """``envelope`` with Barong's signature added, once ``otp_code`` is the member's."""
    key = signer.key
    if key is None:
        raise BursaError(Refusal.UNAVAILABLE, "Barong has no management signing key.")
    keychain = {kid: k for kid, k in signer.keychain.items() if kid != key.kid}
    try:
        verified = multisig.verify(envelope, keychain, leeway_s=signer.leeway_s)
    except multisig.MultisigError as exc:
        raise BursaError(Refusal.INVALID, f"jwt: {exc.reason}") from None
    if not verified.signers:
        raise BursaError(Refusal.INVALID, "jwt: no known signer")
    if await limiter.allow(OTP_SIGN_PER_USER, user_uid):
        raise BursaError(Refusal.TOO_MANY, "Too many attempts, try again later.")
    identity = managed.identity
    async with identity.transaction() as conn:
        user_id = await managed.user_id(conn, uid=user_uid)
        if not await conn.scalar(select(users.c.otp).where(users.c.id == user_id)):
            raise IdentityError(Refusal.INVALID, "management.otp.disabled")
        # The caller's address is the service's, not the member's: the member's own lock
        # applies, the per-address block does not (one member's typos would block them all).
        await identity.require_otp(conn, user_id, otp_code, client, OTP_SCOPE, per_address=False)
    return multisig.add_signature(envelope, key)
