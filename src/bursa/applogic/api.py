"""AppLogic's HTTP API for approvers (``/api/v2/applogic/withdraws``): members signed in
to Bursa as usual (session, API key or OAuth, through the same authorization step as the
Peatio member API); only the configured approvers of a currency see and decide its
withdrawals, never their own. Errors in OpenDAX's ``{"errors": [...]}`` form."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from pydantic import BaseModel

from bursa.api.bodies import NoParameters, body_of
from bursa.api.errors import ApiError
from bursa.api.peatio.auth import AccountMember
from bursa.api.schemas import Errors
from bursa.applogic.approvals import Approval, WithdrawalApprovals
from bursa.applogic.management import ManagementError
from bursa.formats import decimal_text, iso

PREFIX = "/api/v2/applogic/withdraws"
router = APIRouter(prefix=PREFIX, tags=["applogic"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 502)
}
Tid = Annotated[str, Path(min_length=1, max_length=64)]
NoBody = Annotated[NoParameters, body_of(NoParameters)]  # a vote takes no parameters


class Vote(BaseModel):
    uid: str
    at: str


class PendingWithdrawal(BaseModel):
    tid: str
    uid: str
    currency: str
    amount: str
    required: int
    approvals: list[Vote]
    rejected_by: str | None
    state: str
    created_at: str
    updated_at: str


def _shown(found: Approval) -> PendingWithdrawal:
    return PendingWithdrawal(
        tid=found.tid,
        uid=found.uid,
        currency=found.currency,
        amount=decimal_text(found.amount),
        required=found.required,
        approvals=[Vote(uid=uid, at=at) for uid, at in sorted(found.approvals.items())],
        rejected_by=found.rejected_by,
        state=found.state,
        created_at=iso(found.created_at),
        updated_at=iso(found.updated_at),
    )


def _service(request: Request) -> WithdrawalApprovals:
    service: WithdrawalApprovals = request.app.state.applogic
    return service


Service = Annotated[WithdrawalApprovals, Depends(_service)]


async def _decided(call: Any) -> PendingWithdrawal:
    try:
        return _shown(await call)
    except ManagementError as exc:
        # The vote is recorded; the decision is sent again on the next vote.
        raise ApiError(502, "applogic.withdraw.peatio_unavailable") from exc


@router.get("", summary="Withdrawals waiting for the caller's approval", responses=_ERRORS)
async def pending(member: AccountMember, service: Service) -> list[PendingWithdrawal]:
    return [_shown(found) for found in await service.pending(member.uid)]


@router.post("/{tid}/approve", status_code=201, summary="Approve", responses=_ERRORS)
async def approve(
    member: AccountMember, service: Service, tid: Tid, _: NoBody
) -> PendingWithdrawal:
    """The ``required``-th approval has Peatio process the withdrawal."""
    return await _decided(service.approve(tid, member.uid))


@router.post("/{tid}/reject", status_code=201, summary="Reject", responses=_ERRORS)
async def reject(member: AccountMember, service: Service, tid: Tid, _: NoBody) -> PendingWithdrawal:
    """One rejection has Peatio cancel the withdrawal (its funds are released)."""
    return await _decided(service.reject(tid, member.uid))


def install(app: FastAPI, service: WithdrawalApprovals) -> None:
    """Serve AppLogic's API from ``app`` (Bursa's), deciding through ``service``."""
    app.state.applogic = service
    app.include_router(router)
