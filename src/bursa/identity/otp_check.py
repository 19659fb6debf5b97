"""Checking a member's TOTP code on request (Barong's ``resource/otp/verify``): a front end
confirms the member still holds their second factor before a sensitive step of its own.

It is the same check every 2FA-guarded write makes (``Identity.require_otp``): a code is
used once, wrong codes count toward the lock-out shared with login and the other checks,
and each one is recorded as an ``otp`` activity."""

from typing import Any

from bursa.identity.service import Client, Identity

SCOPE = "resource.otp"  # codes: resource.otp.{not_enabled,missing_otp,invalid_otp,otp_locked,…}


async def verify_code(identity: Identity, user: dict[str, Any], code: str, client: Client) -> None:
    """Nothing when ``code`` is the member's fresh TOTP code; else ``require_otp``'s refusal
    (``resource.otp.not_enabled`` without 2FA)."""
    async with identity.transaction() as conn:
        await identity.require_otp(conn, user["id"], code, client, SCOPE)
        await identity.record(conn, user["id"], client, "otp", "verify", "succeed")
