"""What an OAuth 2.0 scope lets a third-party application do.

A token's scopes name (verb, path prefix) pairs; a request outside them is refused before
the permission table is even consulted, and the permission table still applies to the
member's role. No scope reaches account security (password, 2FA, API keys, phones,
documents), withdrawals or any admin API: those stay with the member.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    description: str  # shown on the consent screen
    rules: tuple[tuple[str, str], ...] = ()  # (verb or ALL, path prefix without "/")


ME = ("GET", "api/v2/barong/resource/users/me")

SCOPES: dict[str, Scope] = {
    "openid": Scope("Confirm who you are (OpenID Connect sign-in)"),
    "email": Scope("See your email address and whether it is confirmed"),
    "profile": Scope("See your user id, username and role", (ME,)),
    "kyc": Scope("See your verification level and which checks you passed", (ME,)),
    "read": Scope(
        "See your balances, orders and trades",
        (("GET", "api/v2/peatio/account"), ("GET", "api/v2/peatio/market"), ME),
    ),
    "trade": Scope(
        "Place and cancel orders for you",
        (("ALL", "api/v2/peatio/market"),),
    ),
}


def known(names: list[str]) -> list[str]:
    """The names that are not scopes (empty when all are)."""
    return [name for name in names if name not in SCOPES]


def allows(scopes: frozenset[str], method: str, path: str) -> bool:
    """Whether a token with ``scopes`` may make ``method`` ``path`` (no leading slash)."""
    path = path.lstrip("/")
    method = method.upper()
    for name in scopes:
        scope = SCOPES.get(name)
        if scope is None:
            continue
        for verb, prefix in scope.rules:
            if verb in (method, "ALL") and (path == prefix or path.startswith(prefix + "/")):
                return True
    return False
