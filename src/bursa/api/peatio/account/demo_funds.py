"""Bursa's demo funds (``/api/v2/peatio/account/demo_funds``), not an OpenDAX endpoint: on
a demo exchange a member claims a fixed set of balances once (``bursa.trading.demo_funds``).
The new balances reach the member's ``balance`` stream as any credit's do.

A session or an API key (``read`` to look, ``trade`` to claim, as any other member write);
no OAuth scope reaches the claim: it stays with the member.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from bursa.api.bodies import NoParameters, body_of
from bursa.api.deps import Runner, Transaction
from bursa.api.peatio.auth import AccountMember
from bursa.api.schemas import Errors
from bursa.engine.commands import Command
from bursa.formats import decimal_text
from bursa.trading import orders
from bursa.trading.demo_funds import DemoFunds, Fund

router = APIRouter(prefix="/api/v2/peatio/account", tags=["account"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 422, 503)
}


class DemoFund(BaseModel):
    """One currency of the demo funds and its amount (a decimal string)."""

    currency: str
    amount: str


class DemoFundsOffer(BaseModel):
    """Whether this exchange gives demo funds, whether the member has claimed them, and
    what they are (empty when the exchange gives none)."""

    available: bool
    granted: bool
    funds: list[DemoFund]


def faucet_of(request: Request) -> DemoFunds:
    """The app's demo funds (``app.state.demo_funds``); an app built without them is off."""
    found = getattr(request.app.state, "demo_funds", None)
    return found if isinstance(found, DemoFunds) else DemoFunds.off()


def _shown(funds: tuple[Fund, ...] | list[Fund]) -> list[DemoFund]:
    return [DemoFund(currency=f.currency, amount=decimal_text(f.amount)) for f in funds]


@router.get("/demo_funds", summary="The demo funds a member may claim", responses=_ERRORS)
async def demo_funds_offer(
    member: AccountMember, request: Request, session: Transaction
) -> DemoFundsOffer:
    faucet = faucet_of(request)
    if not faucet.available:
        return DemoFundsOffer(available=False, granted=False, funds=[])
    granted = await faucet.granted(session, member.id)
    return DemoFundsOffer(available=True, granted=granted, funds=_shown(faucet.funds))


@router.post(
    "/demo_funds",
    status_code=201,
    summary="Claim the demo funds (once per member and currency)",
    responses=_ERRORS,
)
async def claim_demo_funds(
    member: AccountMember,
    request: Request,
    session: Transaction,
    runner: Runner,
    _: Annotated[NoParameters, body_of(NoParameters)],
) -> list[DemoFund]:
    """The funds credited now. ``account.demo_funds.disabled`` when the exchange gives
    none, ``account.demo_funds.already_granted`` when nothing is left to claim."""

    async def to_engine(command: Command) -> dict[str, Any]:
        return await orders.submit(runner, command)  # 503 when the engine is not running

    return _shown(await faucet_of(request).grant(session, to_engine, member.id))
