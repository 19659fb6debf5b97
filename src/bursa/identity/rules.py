"""How private labels decide a user's state and KYC level (Barong's defaults)."""

from collections.abc import Iterable

# A user becomes active once these private labels are present.
ACTIVATION_REQUIREMENTS = {"email": "verified"}
# The presence of a private label with one of these keys forces the state.
STATE_TRIGGERS = {
    "banned": ("ban", "fraud"),
    "deleted": ("delete",),
    "locked": ("suspicious", "lock"),
}
# Level N needs every label of levels 1..N.
LEVELS = (("email", "verified"), ("phone", "verified"), ("document", "verified"))

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
    for key, value in LEVELS:
        if labels.get(key) != value:
            break
        level += 1
    return level
