"""Who may call the member's Peatio endpoints (``/api/v2/peatio/account``, ``…/market``).

Every request first passes the Barong authorization step (``barong_admin.authorized``:
restrictions, session cookie with CSRF on writes, API-key signature and scope, OAuth bearer
scopes, the permission table, audit). Then Peatio's own checks: the member must be active
(Peatio refuses any JWT whose state is not ``active``) and have the KYC level the area
needs (Peatio's ``MINIMUM_MEMBER_LEVEL_FOR_{DEPOSIT,WITHDRAW,TRADING}``).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from bursa.api.barong_admin import authorized
from bursa.api.errors import ApiError
from bursa.identity.service_accounts import is_service_account
from bursa.trading.member_levels import MemberLevels


@dataclass(frozen=True, slots=True)
class Member:
    """The caller as the engine knows them: ``id`` is their member id in every command."""

    id: int
    uid: str
    level: int


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
        if is_service_account(user):
            # Members are users in the engine; service accounts get members of their own
            # with the custody issue (Peatio gives every uid its own member).
            raise ApiError(401, "authz.invalid_permission")
        if user["state"] != "active":
            raise ApiError(401, "authz.user_not_active")
        if area is not None:
            levels: MemberLevels = request.app.state.member_levels
            if int(user["level"]) < getattr(levels, area):
                raise ApiError(403, GATES[area])
        return Member(int(user["id"]), str(user["uid"]), int(user["level"]))

    return member


AccountMember = Annotated[Member, Depends(member_gate(None))]
DepositMember = Annotated[Member, Depends(member_gate("deposit"))]
WithdrawMember = Annotated[Member, Depends(member_gate("withdraw"))]
TradingMember = Annotated[Member, Depends(member_gate("trading"))]
