"""The captcha hook: Barong's ``captcha_response`` on sign-up, login and the code mails.

Off by default, as in OpenDAX (``BARONG_CAPTCHA=none``). An operator switches it on by
naming a provider, ``BURSA_CAPTCHA_PROVIDER=package.module:factory``: ``factory()`` returns
a ``CaptchaProvider`` (reCAPTCHA, Geetest, hCaptcha, … verify a response with their own
servers). No provider ships with Bursa: none could be exercised here, and a provider that
cannot reach its servers must refuse, never accept. So the hook fails loudly instead of
silently: a name that does not load, or that loads something that is not a provider, stops
the process at start (``load_provider``); a provider's error refuses the request.

When the gate is on, the endpoints in ``PROTECTED`` (Barong's default
``captcha_protected_endpoints``) need a response: none is 400 ``identity.captcha.required``,
a wrong one 422 ``identity.captcha.verification_failed``.
"""

import importlib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bursa.errors import BursaError, Refusal

log = logging.getLogger(__name__)

USER_CREATE = "user_create"
SESSION_CREATE = "session_create"
PASSWORD_RESET = "password_reset"  # noqa: S105 - an endpoint name
EMAIL_CONFIRMATION = "email_confirmation"
PROTECTED = frozenset({USER_CREATE, SESSION_CREATE, PASSWORD_RESET, EMAIL_CONFIRMATION})
REQUIRED = "identity.captcha.required"
FAILED = "identity.captcha.verification_failed"
DISABLED = "identity.captcha.disabled"

CaptchaResponse = str | Mapping[str, Any]  # Geetest answers with fields, reCAPTCHA a string


class CaptchaError(BursaError):
    """The captcha refused the request (or is not there to ask)."""

    def __init__(self, kind: Refusal, code: str, message: str = "") -> None:
        super().__init__(kind, code, message=message)


class CaptchaConfigError(ValueError):
    """``BURSA_CAPTCHA_PROVIDER`` names nothing usable: the process must not start."""


@runtime_checkable
class CaptchaProvider(Protocol):
    """A captcha service. ``verify`` says whether ``response`` (what the widget gave the
    browser) is a solved challenge for a caller at ``client_ip``; it raises when the
    service cannot be asked, which refuses the request. ``challenge`` is what
    ``register_geetest`` answers (a provider without one raises ``NotImplementedError``)."""

    name: str

    async def verify(self, response: CaptchaResponse, client_ip: str) -> bool: ...

    async def challenge(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class CaptchaGate:
    """Whether the endpoints named ``protected`` need a solved captcha (``provider`` set)."""

    provider: CaptchaProvider | None = None
    protected: frozenset[str] = field(default=PROTECTED)

    @property
    def on(self) -> bool:
        return self.provider is not None

    async def check(self, endpoint: str, response: CaptchaResponse | None, client_ip: str) -> None:
        """Nothing when the gate is off or ``endpoint`` is not protected; otherwise the
        response must verify."""
        if self.provider is None or endpoint not in self.protected:
            return
        if response is None or (isinstance(response, str) and not response.strip()):
            raise CaptchaError(Refusal.MALFORMED, REQUIRED, "captcha_response is required")
        try:
            solved = await self.provider.verify(response, client_ip)
        except Exception:
            log.exception("captcha provider %s failed; the request is refused", self.provider.name)
            solved = False
        if not solved:
            raise CaptchaError(Refusal.INVALID, FAILED)

    async def challenge(self) -> dict[str, Any]:
        """The provider's challenge (``GET register_geetest``); refused when the gate is
        off or its provider has none."""
        if self.provider is None:
            raise CaptchaError(
                Refusal.NOT_FOUND, DISABLED, "no captcha is configured (BURSA_CAPTCHA_PROVIDER)"
            )
        try:
            return await self.provider.challenge()
        except NotImplementedError:
            raise CaptchaError(
                Refusal.NOT_FOUND, DISABLED, f"{self.provider.name} has no challenge to register"
            ) from None


def load_provider(reference: str) -> CaptchaProvider:
    """The provider ``package.module:factory`` makes, or ``CaptchaConfigError`` saying why
    not (so that switching the captcha on never silently leaves it off)."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise CaptchaConfigError(f"{reference!r}: expected package.module:factory")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise CaptchaConfigError(f"{reference!r} does not load: {exc}") from exc
    if not callable(factory):
        raise CaptchaConfigError(f"{reference!r} is not callable")
    provider = factory()
    if not isinstance(provider, CaptchaProvider):
        raise CaptchaConfigError(
            f"{reference!r} made {type(provider).__name__}, not a captcha provider"
            " (needs name, async verify(response, client_ip), async challenge())"
        )
    return provider


def gate_for(reference: str | None, protected: Collection[str] = PROTECTED) -> CaptchaGate:
    """The gate ``BURSA_CAPTCHA_PROVIDER`` asks for: off when unset."""
    if reference is None:
        return CaptchaGate()
    return CaptchaGate(load_provider(reference), frozenset(protected))
