"""Who may use the Peatio admin API (``/api/v2/peatio/admin``).

Two checks, as in OpenDAX: the Barong permission table first (``bursa.api.authz.authorized``:
the gateway's step, which also audits writes), then Peatio's own abilities by role
(Peatio's ``config/abilities.yml``): which records each staff role may read, and which it
may change. A role with no abilities here is not staff and gets ``admin.ability.not_permitted``.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, Request

from bursa.api.authz import authorized
from bursa.api.deps import client_of
from bursa.api.errors import ApiError
from bursa.trading.audit import Actor

PREFIX = "/api/v2/peatio/admin"
NOT_PERMITTED = "admin.ability.not_permitted"

Action = Literal["read", "manage"]

CONFIG = frozenset({"Currency", "Market", "TradingFee", "Engine", "Blockchain", "Wallet"})
FINANCE = frozenset(
    {
        "Operations",
        "Member",
        "Account",
        "Adjustment",
        "Deposit",
        "Withdraw",
        "WithdrawLimit",
        "InternalTransfer",
        "Beneficiary",
        "PaymentAddress",
    }
)
RECORDS = frozenset({"Order", "Trade", "AuditLog", "Ledger"})
EVERYTHING = CONFIG | FINANCE | RECORDS

# role → (records it may read, records it may change)
ABILITIES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "superadmin": (EVERYTHING, CONFIG | FINANCE | {"Order"}),
    "admin": (EVERYTHING, CONFIG | FINANCE | {"Order"}),
    "technical": (
        CONFIG | RECORDS | {"Operations", "Member", "Account", "InternalTransfer"},
        CONFIG | {"Order"},
    ),
    "accountant": (EVERYTHING, frozenset({"Adjustment", "Deposit"})),
    "compliance": (EVERYTHING - {"Adjustment"}, frozenset()),
    "support": (EVERYTHING - {"Adjustment"}, frozenset()),
    "reporter": (
        frozenset({"Operations", "Deposit", "Withdraw", "Currency", "Wallet", "Blockchain"}),
        frozenset(),
    ),
}


def may(role: str, action: Action, record: str) -> bool:
    """Whether Peatio's abilities let ``role`` ``action`` a ``record`` (e.g. "Market")."""
    readable, changeable = ABILITIES.get(role, (frozenset(), frozenset()))
    return record in (changeable if action == "manage" else readable | changeable)


def admin_gate(action: Action, record: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the authorized staff member allowed to ``action`` a ``record``."""

    async def staff(
        request: Request, user: Annotated[dict[str, Any], Depends(authorized)]
    ) -> Actor:
        if user.get("state") != "active" or not may(str(user["role"]), action, record):
            raise ApiError(403, NOT_PERMITTED)
        return Actor(uid=str(user["uid"]), role=str(user["role"]), ip=client_of(request).ip)

    return staff
