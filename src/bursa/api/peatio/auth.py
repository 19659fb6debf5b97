"""Who may call the member's Peatio endpoints (``/api/v2/peatio/account``, ``…/market``).

Every request first passes the Barong authorization step (``bursa.api.authz.authorized``:
restrictions, session cookie with CSRF on writes, API-key signature and scope, OAuth bearer
scopes, the permission table, audit). Then Peatio's own checks: the member must be active
(Peatio refuses any JWT whose state is not ``active``) and have the KYC level the area
needs (Peatio's ``MINIMUM_MEMBER_LEVEL_FOR_{DEPOSIT,WITHDRAW,TRADING}``).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from bursa.api.authz import authorized
from bursa.api.errors import ApiError
from bursa.identity.directory import SERVICE_ACCOUNT_MEMBERS
from bursa.identity.service_accounts import is_service_account
from bursa.trading.member_levels import MemberLevels


@dataclass(frozen=True, slots=True)
class Member:
    """The caller as the engine knows them: ``id`` is their member id in every command."""

    id: int
    uid: str
    level: int
    email: str = ""


def member_id_of(who: dict[str, Any]) -> int:
    """The engine's member id of an authorized user or service account."""
    if is_service_account(who):
        return SERVICE_ACCOUNT_MEMBERS + int(who["service_account_id"])
    return int(who["id"])


GATES = {
    "deposit": "account.deposit.not_permitted",
    "withdraw": "account.withdraw.not_permitted",
    "trading": "market.trade.not_permitted",
}


def member_gate(area: str | None) -> Callable[..., Awaitable[Member]]:
    """A dependency: the authorized, active caller with the level ``area`` needs (None:
    only authentication, as Peatio's balances)."""

    async def member(
        request: Request, user: Annotated[dict[str, Any], Depends(authorized)]
    ) -> Member:
        return admit(request, user, area)

    return member


def admit(request: Request, user: dict[str, Any], area: str | None) -> Member:
    """Peatio's checks on an authorized ``user``: active, with the level ``area`` needs."""
    if user["state"] != "active":
        raise ApiError(401, "authz.user_not_active")
    if area is not None:
        levels: MemberLevels = request.app.state.member_levels
        if int(user["level"]) < getattr(levels, area):
            raise ApiError(403, GATES[area])
    return Member(member_id_of(user), str(user["uid"]), int(user["level"]), str(user["email"]))


async def trading_member(request: Request) -> Member:
    """``TradingMember`` in one dependency instead of two (the authorization step, then the
    gate): order entry's routes, where FastAPI's cost per dependency counts."""
    return admit(request, await authorized(request), "trading")


AccountMember = Annotated[Member, Depends(member_gate(None))]
DepositMember = Annotated[Member, Depends(member_gate("deposit"))]
WithdrawMember = Annotated[Member, Depends(member_gate("withdraw"))]
TradingMember = Annotated[Member, Depends(member_gate("trading"))]
