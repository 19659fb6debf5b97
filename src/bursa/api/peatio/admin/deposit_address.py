"""Peatio's admin ``deposit_address`` (``/api/v2/peatio/admin/deposit_address``): a
member's deposit address for a coin, made now if they have none; the same address the
member's own ``GET account/deposit_address/{currency}`` answers
(``bursa.custody.staff_addresses``)."""

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BeforeValidator, Field

from bursa.api.bodies import body_of, codes
from bursa.api.deps import Transaction
from bursa.api.errors import ApiError
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import ERRORS
from bursa.api.peatio.admin.fields import AdminBody, field_codes, text
from bursa.api.peatio.admin.lists import USER_NOT_FOUND
from bursa.api.peatio.schemas import PaymentAddress
from bursa.custody import address_formats, staff_addresses
from bursa.custody.addresses import Plugins
from bursa.identity import directory
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["peatio admin"])
AREA = "admin.deposit_address"
CODE = re.compile(r"^[a-z0-9_]{1,10}$")
KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")

Manager = Annotated[Actor, Depends(admin_gate("manage", "PaymentAddress"))]


class AddressRequest(AdminBody):
    """Whose address (``uid``), for which ``currency``; ``blockchain_key``, if sent, must be
    the currency's (Bursa serves each currency on one chain)."""

    uid: Annotated[str, BeforeValidator(text(32))] = Field(
        json_schema_extra=codes(USER_NOT_FOUND, missing=f"{AREA}.missing_uid")
    )
    currency: Annotated[str, BeforeValidator(text(10, pattern=CODE, lower=True))] = Field(
        json_schema_extra=field_codes("deposit_address", "currency")
    )
    blockchain_key: Annotated[str | None, BeforeValidator(text(32, pattern=KEY))] = Field(
        default=None, json_schema_extra=codes(f"{AREA}.invalid_blockchain_key")
    )
    address_format: Literal[address_formats.FORMATS] | None = Field(  # type: ignore[valid-type]
        default=None, json_schema_extra=codes(f"{AREA}.invalid_address_format")
    )


@router.post(
    "/deposit_address",
    status_code=201,
    summary="A member's deposit address for a coin (made now if they have none)",
    responses=ERRORS,
)
async def deposit_address(
    actor: Manager,
    body: Annotated[AddressRequest, body_of(AddressRequest)],
    request: Request,
    session: Transaction,
) -> PaymentAddress:
    """Refusals: ``admin.user.doesnt_exist``, ``admin.currency.doesnt_exist``,
    ``admin.currency.deposit_disabled`` (fiat, or deposits off), ``admin.wallet.not_found``
    (no deposit wallet or chain plugin), ``admin.deposit_address.address_format_not_supported``.
    A new address is audited (``payment_address.create``)."""
    member_id = await directory.member_id(session, uid=body.uid)
    if member_id is None:
        raise ApiError(422, USER_NOT_FOUND)
    plugins: Plugins | None = request.app.state.custody
    found, _made = await staff_addresses.deposit_address(
        session,
        plugins,
        actor,
        staff_addresses.AddressAsk(
            member_id, body.currency, body.blockchain_key, body.address_format
        ),
        area="admin",
    )
    return PaymentAddress(
        currencies=found.currencies,
        blockchain_key=found.blockchain_key,
        address=found.address,
        state="active",
    )
