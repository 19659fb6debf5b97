"""``/api/v2/barong/resource/profiles``: the member's KYC profile — read it (``me``), save it
as a draft or submit it for review (``confirm``). Personal data is sealed at rest
(``bursa.identity.pii``); an admin verifies or rejects a submitted profile."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bursa.api.barong.deps import KycDep, ReaderDep, SessionDep
from bursa.api.barong.schemas import ERRORS, Profile
from bursa.api.bodies import body_of
from bursa.api.deps import client_of

router = APIRouter(prefix="/api/v2/barong/resource/profiles", tags=["barong resource"])


class ProfileFields(BaseModel):
    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    dob: date | None = None
    address: str | None = Field(default=None, max_length=255)
    postcode: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=255)
    country: str | None = Field(default=None, min_length=2, max_length=3)
    metadata: str | None = Field(default=None, max_length=1024)
    confirm: bool = False


@router.get("/me", responses=ERRORS, summary="The member's profile")
async def my_profile(user: ReaderDep, kyc: KycDep) -> Profile:
    return Profile(**await kyc.own_profile(user["id"]))


@router.post("", status_code=201, responses=ERRORS, summary="Save the profile")
@router.put("", responses=ERRORS, summary="Edit the profile")
async def save_profile(
    request: Request,
    session: SessionDep,
    kyc: KycDep,
    body: Annotated[ProfileFields, body_of(ProfileFields)],
) -> Profile:
    fields = body.model_dump(exclude={"confirm"})
    saved = await kyc.save_profile(session.user, fields, body.confirm, client_of(request))
    return Profile(**saved)
