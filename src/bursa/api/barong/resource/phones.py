"""``/api/v2/barong/resource/phones``: the member's phone numbers (shown masked). Adding one,
or asking for a new code, texts a code; verifying it sets the private label ``phone:
verified`` (KYC level 2). Without an SMS provider the writes answer 503
(``resource.phone.sms_unavailable``); when the provider fails, 503 with ``Retry-After``."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bursa.api.barong.deps import KycDep, ReaderDep, SessionDep
from bursa.api.barong.schemas import ERRORS, Phone, User, present_user
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.api.schemas import Errors

router = APIRouter(prefix="/api/v2/barong/resource/phones", tags=["barong resource"])
SMS_ERRORS: dict[int | str, dict[str, Any]] = ERRORS | {
    429: {"model": Errors},
    503: {"model": Errors},
}


class PhoneNumber(BaseModel):
    phone_number: str = Field(max_length=32)


class PhoneVerification(BaseModel):
    phone_number: str = Field(max_length=32)
    verification_code: str = Field(pattern=r"^[0-9]{6}$")


@router.get("", responses=ERRORS, summary="The member's phones (masked)")
async def list_phones(user: ReaderDep, kyc: KycDep) -> list[Phone]:
    return [Phone(**phone) for phone in await kyc.list_phones(user["id"])]


@router.post("", status_code=201, responses=SMS_ERRORS, summary="Add a phone")
@router.post("/send_code", status_code=201, responses=SMS_ERRORS, summary="Text a new code")
async def add_phone(
    request: Request,
    session: SessionDep,
    kyc: KycDep,
    body: Annotated[PhoneNumber, body_of(PhoneNumber)],
) -> dict[str, str]:
    masked = await kyc.add_phone(session.user, body.phone_number, client_of(request))
    return {"number": masked}


@router.post("/verify", status_code=201, responses=ERRORS, summary="Verify a phone by its code")
async def verify_phone(
    request: Request,
    session: SessionDep,
    kyc: KycDep,
    body: Annotated[PhoneVerification, body_of(PhoneVerification)],
) -> User:
    user = await kyc.verify_phone(
        session.user, body.phone_number, body.verification_code, client_of(request)
    )
    return present_user(user)
