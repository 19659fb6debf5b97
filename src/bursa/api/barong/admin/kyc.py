"""KYC review for admins: profiles (list, verify or reject) and the KYC levels, under
``/api/v2/barong/admin``, gated like the rest of the admin API by the permission table."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.admin.users import Admin
from bursa.api.barong.routes import Profile, client_of
from bursa.api.errors import error_code
from bursa.identity.profile_review import PROFILE_STATES, ProfileReview
from bursa.identity.rules import LEVELS
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin", tags=["barong admin"])


class AdminProfile(Profile):
    """Barong's admin ``Profile``: the member's, with their ``uid``."""

    uid: str


class ProfileDecision(BaseModel):
    uid: str = Field(max_length=16)
    state: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=1024)


class Level(BaseModel):
    id: int
    key: str
    value: str
    description: str


def _review(request: Request) -> ProfileReview:
    return ProfileReview(request.app.state.identity, request.app.state.kyc)


@router.get("/profiles", summary="Profiles, by state (submitted ones wait for review)")
async def list_profiles(
    _: Admin,
    request: Request,
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
    total, found = await _review(request).search(state, page, limit)
    response.headers["Total"] = str(total)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)
    return [AdminProfile(**profile) for profile in found]


@router.put("/profiles", summary="Verify or reject a submitted profile")
async def review_profile(admin: Admin, request: Request, body: ProfileDecision) -> AdminProfile:
    reviewed = await _review(request).review(
        body.uid, body.state, body.reason, admin, client_of(request)
    )
    return AdminProfile(**reviewed)


@router.get("/levels", summary="KYC levels: level N needs the labels of levels 1..N")
async def levels(_: Admin) -> list[Level]:
    return [
        Level(id=number, key=level.key, value=level.value, description=level.description)
        for number, level in enumerate(LEVELS, start=1)
    ]
