"""``/api/v2/barong/admin/profiles``: members' KYC profiles by state (submitted ones wait
for review), a profile an admin enters for a member (submitted; another admin verifies it:
``bursa.identity.admin_profiles``), and the review: verify or reject with a reason the
member reads (``bursa.identity.profile_review``)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import Admin, KycDep, get_identity
from bursa.api.barong.schemas import Profile
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.api.errors import error_code
from bursa.api.peatio.params import paginate
from bursa.identity.admin_profiles import AdminProfiles
from bursa.identity.profile_review import PROFILE_STATES, ProfileReview
from bursa.identity.service import Identity
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin/profiles", tags=["barong admin"])


class AdminProfile(Profile):
    """Barong's admin ``Profile``: the member's, with their ``uid``."""

    uid: str


class ProfileDecision(BaseModel):
    uid: str = Field(max_length=16)
    state: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=1024)


class NewProfile(BaseModel):
    """A member's profile as an admin enters it (Barong's fields)."""

    uid: str = Field(max_length=16)
    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    dob: date | None = None
    address: str | None = Field(default=None, max_length=255)
    postcode: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=255)
    country: str | None = Field(default=None, min_length=2, max_length=3)
    metadata: str | None = Field(default=None, max_length=1024)


def get_admin_profiles(
    identity: Annotated[Identity, Depends(get_identity)], kyc: KycDep
) -> AdminProfiles:
    return AdminProfiles(identity, kyc)


def get_review(identity: Annotated[Identity, Depends(get_identity)], kyc: KycDep) -> ProfileReview:
    return ProfileReview(identity, kyc)


ReviewDep = Annotated[ProfileReview, Depends(get_review)]


@router.get("", summary="Profiles, by state (submitted ones wait for review)")
async def list_profiles(
    _: Admin,
    review: ReviewDep,
    response: Response,
    state: Annotated[
        str | None,
        Query(
            pattern=f"^({'|'.join(PROFILE_STATES)})$",
            json_schema_extra=error_code("admin.profiles.invalid_state"),
        ),
    ] = None,
    page: Annotated[PlainInt, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[PlainInt, Query(ge=1, le=100)] = 100,
) -> list[AdminProfile]:
    total, found = await review.search(state, page, limit)
    paginate(response, total, page, limit)
    return [AdminProfile(**profile) for profile in found]


@router.post("", status_code=201, summary="Enter a member's profile (submitted for review)")
async def create_profile(
    admin: Admin,
    request: Request,
    entered: Annotated[AdminProfiles, Depends(get_admin_profiles)],
    body: Annotated[NewProfile, body_of(NewProfile)],
) -> AdminProfile:
    fields = body.model_dump(exclude={"uid"})
    return AdminProfile(**await entered.create(admin, body.uid, fields, client_of(request)))


@router.put("", summary="Verify or reject a submitted profile")
async def review_profile(
    admin: Admin,
    request: Request,
    review: ReviewDep,
    body: Annotated[ProfileDecision, body_of(ProfileDecision)],
) -> AdminProfile:
    reviewed = await review.review(body.uid, body.state, body.reason, admin, client_of(request))
    return AdminProfile(**reviewed)
