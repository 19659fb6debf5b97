"""``POST /api/v2/peatio/market/orders/cancel_all_after``: the member's heartbeat
(``bursa.trading.dead_man``). ``timeout`` seconds from now, unless called again, all the
member's open orders are cancelled; 0 disarms.

The heartbeat is not counted in the order-entry rate limit: a market maker that spent its
budget on orders must still be able to keep its switch armed (refusing the heartbeat would
cancel its book).
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bursa.api.bodies import body_of, codes
from bursa.api.errors import ApiError
from bursa.api.peatio.auth import TradingMember
from bursa.api.schemas import Errors
from bursa.formats import iso
from bursa.plain_input import PlainInt
from bursa.trading.dead_man import MAX_TIMEOUT_S, CancelAfterWatcher

router = APIRouter(prefix="/api/v2/peatio/market", tags=["market"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 422, 503)
}
INVALID_TIMEOUT = "market.order.invalid_timeout"
UNAVAILABLE = "server.cancel_all_after_unavailable"


class CancelAllAfter(BaseModel):
    timeout: PlainInt = Field(
        ge=0,
        le=MAX_TIMEOUT_S,
        description=f"Seconds (whole, 0 to {MAX_TIMEOUT_S}) until all open orders are"
        " cancelled, unless called again; 0 disarms.",
        json_schema_extra=codes(INVALID_TIMEOUT, missing="market.order.missing_timeout"),
    )


class CancelAllAfterState(BaseModel):
    current_time: str = Field(description="The server's time when the call was counted.")
    trigger_time: str | None = Field(
        description="When the open orders will be cancelled; null: disarmed."
    )


def _time(ms: int) -> str:
    return iso(datetime.fromtimestamp(ms / 1000, UTC))


@router.post(
    "/orders/cancel_all_after",
    status_code=201,
    summary="Cancel all open orders after a timeout, unless called again (a heartbeat)",
    responses=_ERRORS,
)
async def cancel_all_after(
    request: Request,
    member: TradingMember,
    body: Annotated[CancelAllAfter, body_of(CancelAllAfter)],
) -> CancelAllAfterState:
    watcher: CancelAfterWatcher | None = getattr(request.app.state, "cancel_after", None)
    if watcher is None:  # nothing would fire: refused rather than a false promise
        raise ApiError(503, UNAVAILABLE)
    armed = await watcher.deadlines.arm(member.id, body.timeout * 1000)
    return CancelAllAfterState(
        current_time=_time(armed.now_ms),
        trigger_time=None if armed.deadline_ms is None else _time(armed.deadline_ms),
    )
