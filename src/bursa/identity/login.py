"""Logging in under the limits people try to brute-force it against.

Before the password is checked: too many failed logins from the address in a quarter of an
hour (``identity.session.too_many_failures``), or too many attempts per address or per
email in a minute (``identity.rate_limit.exceeded``), answer 429 with when to retry. Every
refused login counts as a failure of its address. The same path serves Barong's JSON login
and the OAuth provider's sign-in form.
"""

from typing import Any

from bursa.errors import Refusal
from bursa.identity.limits import (
    LOGIN_FAILURES_PER_IP,
    LOGIN_PER_EMAIL,
    LOGIN_PER_IP,
    Limiter,
    Rule,
)
from bursa.identity.service import Client, Identity, IdentityError, OpenSession

RATE_LIMITED = "identity.rate_limit.exceeded"
TOO_MANY_FAILURES = "identity.session.too_many_failures"


async def within_limits(limiter: Limiter, *checks: tuple[Rule, str]) -> None:
    """Count one request against each (rule, subject); refused with when to retry as soon
    as one is over its limit."""
    for rule, subject in checks:
        wait = await limiter.allow(rule, subject)
        if wait:
            raise IdentityError(Refusal.TOO_MANY, RATE_LIMITED, retry_after=wait)


async def log_in(
    identity: Identity,
    limiter: Limiter,
    email: str,
    password: str,
    client: Client,
    previous_token: str | None,
    otp_code: str | None,
) -> tuple[dict[str, Any], OpenSession]:
    """``Identity.log_in`` under the login limits counted by ``limiter`` (the API's, which
    it shares with the identity's count of wrong second factors); ``previous_token`` is the
    session the new one replaces."""
    wait = await limiter.over(LOGIN_FAILURES_PER_IP, client.ip)
    if wait:
        raise IdentityError(Refusal.TOO_MANY, TOO_MANY_FAILURES, retry_after=wait)
    await within_limits(limiter, (LOGIN_PER_IP, client.ip), (LOGIN_PER_EMAIL, email.lower()))
    try:
        return await identity.log_in(email, password, client, previous_token, otp_code)
    except IdentityError:  # every refusal of a login is a failed login
        await limiter.allow(LOGIN_FAILURES_PER_IP, client.ip)
        raise
