"""Peatio's Management API ``deposit_address/new`` (scope ``write_payment_addresses``): a
member's deposit address for a coin, made now (synchronously) if they have none; the same
address the member's own ``GET account/deposit_address/{currency}`` answers
(``bursa.custody.staff_addresses``). Bursa makes addresses itself (keys on its side), so
``remote: true`` (an address made by a remote wallet service) is refused."""

from typing import Annotated

from fastapi import Request, Response
from pydantic import BaseModel, Field, StrictBool

from bursa.api.deps import Session
from bursa.api.peatio.management.common import (
    Code,
    Params,
    Uid,
    actor_of,
    peatio_router,
    signed,
)
from bursa.custody import staff_addresses
from bursa.custody.addresses import Plugins
from bursa.errors import BursaError, Refusal
from bursa.identity import directory

router = peatio_router()
NOT_FOUND = "record.not_found"
REMOTE_NOT_SUPPORTED = "management.deposit_address.remote_not_supported"


class PaymentAddress(BaseModel):
    """Peatio's management ``PaymentAddress``."""

    uid: str
    currencies: list[str]
    blockchain_key: str
    address: str
    state: str
    remote: bool


class NewAddress(Params):
    uid: Uid
    currency: Code
    blockchain_key: str | None = Field(
        default=None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$"
    )
    remote: StrictBool = False


@router.post(
    "/deposit_address/new",
    status_code=201,
    summary="A member's deposit address for a coin (made now if they have none)",
)
async def new_address(
    body: Annotated[NewAddress, signed("write_payment_addresses", NewAddress)],
    request: Request,
    response: Response,
    session: Session,
) -> PaymentAddress:
    """201 when the address is made now, 200 when the member had it already. Refusals:
    an unknown ``uid`` (404), ``management.currency.doesnt_exist``,
    ``management.currency.deposit_disabled``, ``management.wallet.not_found``,
    ``management.blockchain_key.doesnt_exist``, and ``remote`` asked for."""
    if body.remote:
        raise BursaError(Refusal.INVALID, REMOTE_NOT_SUPPORTED)
    member_id = await directory.member_id(session, uid=body.uid)
    if member_id is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    plugins: Plugins | None = request.app.state.custody
    found, made = await staff_addresses.deposit_address(
        session,
        plugins,
        actor_of(request),
        staff_addresses.AddressAsk(member_id, body.currency, body.blockchain_key),
        area="management",
    )
    await session.commit()
    if not made:
        response.status_code = 200
    return PaymentAddress(
        uid=body.uid,
        currencies=found.currencies,
        blockchain_key=found.blockchain_key,
        address=found.address,
        state="active",
        remote=False,
    )
