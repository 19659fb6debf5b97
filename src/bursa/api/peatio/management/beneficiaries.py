"""Peatio's Management API for members' beneficiaries: ``beneficiaries/list`` (scope
``read_beneficiaries``) and ``beneficiaries`` (``write_beneficiaries``: one added for a
member).

A beneficiary added ``pending`` (the default) is the member's own kind: its activation code
is mailed to the member (``bursa.custody.beneficiaries``); ``state: active`` makes it
usable at once, with no code: the signing service vouches for the destination, as Peatio's
Management API lets it. The same checks apply either way (currency open for withdrawals,
the address's shape, no duplicate address). The entity is the admin API's (this router
leaves its ``null`` fields out).
"""

import json
from typing import Annotated, Any, Literal

from fastapi import Request, Response
from pydantic import BeforeValidator, Field

from bursa.api.deps import Session
from bursa.api.peatio.admin.beneficiaries import AdminBeneficiary as Beneficiary
from bursa.api.peatio.admin.beneficiaries import keystore_of, present
from bursa.api.peatio.management.common import Code, Paged, Params, Uid, peatio_router, signed
from bursa.api.peatio.params import paginate
from bursa.custody import staff_beneficiaries as staff
from bursa.custody.beneficiaries import AVAILABLE, Beneficiaries, NewBeneficiary
from bursa.errors import BursaError, Refusal
from bursa.identity import directory
from bursa.identity.service import Identity
from bursa.trading.admin_queries import Listing

router = peatio_router()
CURRENCY_NOT_FOUND = "currency.doesnt_exist"
BLOCKCHAIN_NOT_FOUND = "blockchain_key.doesnt_exist"


async def _member(session: Session, uid: str) -> int:
    """The member ``uid`` names; nobody: ``Couldn't find record.`` (404), as Peatio."""
    found = await directory.member_id(session, uid=uid)
    if found is None:
        raise BursaError(Refusal.NOT_FOUND, staff.NOT_FOUND)
    return found


class BeneficiaryList(Paged):
    uid: Uid
    currency: Code | None = None
    state: Literal["pending", "active"] | None = None
    blockchain_key: str | None = Field(default=None, min_length=1, max_length=32)


@router.post("/beneficiaries/list", status_code=201, summary="A member's beneficiaries")
async def list_beneficiaries(
    body: Annotated[BeneficiaryList, signed("read_beneficiaries", BeneficiaryList)],
    session: Session,
    request: Request,
    response: Response,
) -> list[Beneficiary]:
    """The member's pending and active ones (what the member sees), oldest first; ``page``
    and ``limit`` (100 by default) page them, with the ``Total`` headers."""
    member_id = await _member(session, body.uid)
    currency = body.currency.lower() if body.currency else None
    if currency is not None and not await staff.currency_exists(session, currency):
        raise BursaError(Refusal.INVALID, CURRENCY_NOT_FOUND)
    key = body.blockchain_key
    if key is not None and not await staff.blockchain_exists(session, key):
        raise BursaError(Refusal.INVALID, BLOCKCHAIN_NOT_FOUND)
    found, total = await staff.listed(
        session,
        keystore_of(request),
        staff.StaffFilter(
            member_id=member_id,
            currency=currency,
            states=(body.state,) if body.state else AVAILABLE,
            blockchain_key=key,
        ),
        Listing(),
        limit=body.limit,
        page=body.page,
    )
    paginate(response, total, body.page, body.limit)
    return [present(item) for item in found]


def _json_object(value: object) -> object:
    """Peatio's ``data``: a JSON object, or a string holding one."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("must be a JSON object") from None
    return value


class NewBeneficiaryParams(Params):
    uid: Uid
    currency: Code
    name: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=255)
    data: Annotated[dict[str, Any], BeforeValidator(_json_object)]
    state: Literal["pending", "active"] = "pending"


@router.post("/beneficiaries", status_code=201, summary="Add a beneficiary for a member")
async def create_beneficiary(
    body: Annotated[NewBeneficiaryParams, signed("write_beneficiaries", NewBeneficiaryParams)],
    session: Session,
    request: Request,
) -> Beneficiary:
    """Refusals are the member API's (``account.beneficiary.duplicate_address``, ...)."""
    member_id = await _member(session, body.uid)
    people = await directory.people(session, [member_id])
    await session.commit()  # the service runs its own transaction
    identity: Identity = request.app.state.identity
    service = Beneficiaries(identity.keystore, identity.mailer, identity.app_name, identity.clock)
    made = await service.create(
        session,
        member_id,
        people[member_id].email if member_id in people else "",
        NewBeneficiary(
            currency=body.currency, name=body.name, description=body.description, data=body.data
        ),
        active=body.state == "active",
    )
    rows = await staff.listed(
        session, identity.keystore, staff.StaffFilter(id=made.id), Listing(), limit=1, page=1
    )
    return present(rows[0][0])
