"""How private labels decide a user's state and KYC level (Barong's defaults)."""

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

# A user becomes active once these private labels are present.
ACTIVATION_REQUIREMENTS = {"email": "verified"}
# The presence of a private label with one of these keys forces the state.
STATE_TRIGGERS = {
    "banned": ("ban", "fraud"),
    "deleted": ("delete",),
    "locked": ("suspicious", "lock"),
}


class Level(NamedTuple):
    key: str
    value: str
    description: str


# Level N needs every label of levels 1..N. Kept in code, not in a table: the KYC flows set
# exactly these labels, so changing a level is a change of code anyway.
LEVELS = (
    Level("email", "verified", "Email address confirmed"),
    Level("phone", "verified", "Phone number verified by SMS code"),
    Level("document", "verified", "Identity document verified by an admin"),
)


class Role(StrEnum):
    """A user's role: what the permission table grants and ``RANKS`` orders."""

    MEMBER = "member"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"
    ACCOUNTANT = "accountant"
    COMPLIANCE = "compliance"
    SUPPORT = "support"
    TECHNICAL = "technical"
    TRADER = "trader"
    MAKER = "maker"
    BROKER = "broker"


ROLES: tuple[Role, ...] = tuple(Role)  # compares with plain text: ``"admin" in ROLES``
# Roles of service accounts (non-human accounts owned by a user): ``sa_`` and a name, kept
# apart from ``Role`` so that no user can be given one and no service account a staff role.
SERVICE_ACCOUNT_ROLE = r"sa_[a-z0-9_]{1,13}"

# Who may act on whom in the admin API: a staff member changes the state, role, 2FA or
# labels only of users ranked strictly below them, so nobody acts on a peer, a superior or
# themselves. The four staff roles are peers; members' roles (and service accounts',
# unknown ones) rank lowest. Every ``Role`` has a rank (a test checks it).
RANKS: dict[str, int] = {
    Role.SUPERADMIN: 3,
    Role.ADMIN: 2,
    Role.TECHNICAL: 1,
    Role.ACCOUNTANT: 1,
    Role.COMPLIANCE: 1,
    Role.SUPPORT: 1,
    Role.MEMBER: 0,
    Role.TRADER: 0,
    Role.BROKER: 0,
    Role.MAKER: 0,
}
ROLE_SETTER = Role.SUPERADMIN  # the only role that changes roles

# What a user *is* for access (role, KYC level, state, 2FA) lives in columns the identity
# keeps itself; a label with one of these names would look like access and grant none.
# ``otp: enabled|disabled`` is the identity's own mirror of the 2FA switch.
ACCESS_NAMES = frozenset({"role", "level", "state", "otp"})


def rank(role: str) -> int:
    return RANKS.get(role, 0)


def outranks(actor_role: str, target_role: str) -> bool:
    """Whether ``actor_role`` may act on a user of ``target_role`` (strictly above it)."""
    return rank(actor_role) > rank(target_role)


def state_for(private_labels: Iterable[tuple[str, str]]) -> str:
    labels = dict(private_labels)
    for state, keys in STATE_TRIGGERS.items():
        if any(key in labels for key in keys):
            return state
    if all(labels.get(k) == v for k, v in ACTIVATION_REQUIREMENTS.items()):
        return "active"
    return "pending"


def level_for(private_labels: Iterable[tuple[str, str]]) -> int:
    labels = dict(private_labels)
    level = 0
    for key, value, _ in LEVELS:
        if labels.get(key) != value:
            break
        level += 1
    return level
