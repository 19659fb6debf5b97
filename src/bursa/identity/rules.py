"""How private labels decide a user's state and KYC level (Barong's defaults)."""

from collections.abc import Iterable
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

ROLES = (
    "member",
    "admin",
    "superadmin",
    "accountant",
    "compliance",
    "support",
    "technical",
    "trader",
    "maker",
    "broker",
)
# Roles of service accounts (non-human accounts owned by a user): ``sa_`` and a name, kept
# apart from ``ROLES`` so that no user can be given one and no service account a staff role.
SERVICE_ACCOUNT_ROLE = r"sa_[a-z0-9_]{1,13}"

# Who may act on whom in the admin API: a staff member changes the state, role, 2FA or
# labels only of users ranked strictly below them, so nobody acts on a peer, a superior or
# themselves. The four staff roles are peers; members' roles (and service accounts',
# unknown ones) rank lowest. Every role of ``ROLES`` has a rank (a test checks it).
RANKS = {
    "superadmin": 3,
    "admin": 2,
    "technical": 1,
    "accountant": 1,
    "compliance": 1,
    "support": 1,
    "member": 0,
    "trader": 0,
    "broker": 0,
    "maker": 0,
}
ROLE_SETTER = "superadmin"  # the only role that changes roles

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
