"""Barong's Management API (``/api/v2/barong/management``), server to server: users
(find, list, create, import, update) and profiles. Services:
``bursa.identity.management.ManagedUsers``, ``bursa.identity.management_kyc.ManagedKyc``.

Every route reads its envelope's verified ``data`` as its model (``bursa.api.management``;
a problem answers 422 naming every field that is wrong, never the values sent); answers and
refusals are Grape's: ``201`` for a POST, ``{"error": message}`` for a refusal (404
``Couldn't find record.``).
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bursa.api.barong.resource.profiles import ProfileFields
from bursa.api.barong.schemas import Comment, DataStorage, Document, Phone, Profile
from bursa.api.deps import client_of
from bursa.api.management import every_problem, management_router, payload
from bursa.api.schemas import Moment
from bursa.identity.management import ManagedUsers, Page
from bursa.identity.management_kyc import KycRecord, ManagedKyc
from bursa.plain_input import PlainInt

M = TypeVar("M", bound=BaseModel)
router = management_router("/api/v2/barong/management", "barong management")


def signed(scope: str, model: type[M]) -> Any:
    """The route's dependency: a ``scope`` request's verified ``data`` as ``model``."""
    return payload("barong", scope, model, every_problem)


def get_managed(request: Request) -> ManagedUsers:
    return ManagedUsers(request.app.state.identity)


def get_managed_kyc(request: Request) -> ManagedKyc:
    state = request.app.state
    return ManagedKyc(ManagedUsers(state.identity), state.kyc, state.documents)


Managed = Annotated[ManagedUsers, Depends(get_managed)]
ManagedKycDep = Annotated[ManagedKyc, Depends(get_managed_kyc)]
Uid = Annotated[str, Field(min_length=1, max_length=16)]


class Params(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------- entities


class AdminLabel(BaseModel):
    """Barong's ``AdminLabelView``; Bursa keeps no label description (always null)."""

    key: str
    value: str
    scope: str
    description: str | None = None
    created_at: Moment
    updated_at: Moment


class ManagedUser(BaseModel):
    """Barong's ``User`` entity."""

    email: str
    uid: str
    role: str
    level: int
    otp: bool
    state: str
    referral_uid: str | None
    data: str
    created_at: Moment
    updated_at: Moment


class UserWithProfile(ManagedUser):
    profiles: list[Profile]


class UserWithKYC(ManagedUser):
    """Barong's ``UserWithKYC``: phones masked, documents without their number or file."""

    labels: list[AdminLabel]
    phones: list[Phone]
    profiles: list[Profile]
    documents: list[Document]
    data_storages: list[DataStorage]
    comments: list[Comment]


def present(user: Mapping[str, Any]) -> ManagedUser:
    return ManagedUser(**{name: user[name] for name in ManagedUser.model_fields})


def present_kyc(found: KycRecord) -> UserWithKYC:
    user = found.user
    return UserWithKYC(
        **present(user).model_dump(),
        labels=[AdminLabel(**label) for label in user["labels"]],
        phones=[Phone(**p) for p in user["phones"]],
        profiles=[Profile(**p) for p in user["profiles"]],
        documents=[Document(**d) for d in found.documents],
        data_storages=[DataStorage(**s) for s in user["data_storages"]],
        comments=[Comment(**note) for note in found.comments],
    )


def present_page(
    users: Sequence[Mapping[str, Any]], extended: bool
) -> list[UserWithProfile] | list[ManagedUser]:
    if not extended:
        return [present(u) for u in users]
    return [
        UserWithProfile(**present(u).model_dump(), profiles=[Profile(**p) for p in u["profiles"]])
        for u in users
    ]


def page_headers(response: Response, total: int, window: Page) -> None:
    response.headers["Total"] = str(total)
    response.headers["Page"] = str(window.page)
    response.headers["Per-Page"] = str(window.limit)


# ---------------------------------------------------------------- users


class FindUser(Params):
    uid: Uid | None = None
    email: str | None = Field(default=None, max_length=254)
    phone_num: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _exactly_one(self) -> "FindUser":
        given = [v for v in (self.uid, self.email, self.phone_num) if v is not None]
        if len(given) != 1:
            raise ValueError("exactly one of uid, email, phone_num is required")
        return self


class ListWindow(Params):
    range: str = Field(default="created", pattern=r"^(created|updated)$")
    from_: PlainInt | None = Field(default=None, alias="from", ge=0, le=2**40)
    to: PlainInt | None = Field(default=None, ge=0, le=2**40)
    page: PlainInt = Field(default=1, ge=1, le=1_000_000)
    limit: PlainInt = Field(default=100, ge=1, le=100)

    def window(self) -> Page:
        return Page(self.range, self.from_, self.to, self.page, self.limit)


class ListUsers(ListWindow):
    extended: bool = False


class NewUser(Params):
    email: str = Field(max_length=254)
    password: str = Field(max_length=200)
    referral_uid: Uid | None = None


class ImportedUser(Params):
    email: str = Field(max_length=254)
    password_digest: str = Field(min_length=1, max_length=512)
    referral_uid: Uid | None = None


class UserChange(Params):
    uid: Uid
    role: str | None = Field(default=None, max_length=16)
    data: str | None = Field(default=None, max_length=1024)


@router.post("/users/get", status_code=201, summary="A user with KYC (by uid, email or phone)")
async def get_user(
    body: Annotated[FindUser, signed("read_users", FindUser)], kyc: ManagedKycDep
) -> UserWithKYC:
    found = await kyc.record_of(uid=body.uid, email=body.email, phone=body.phone_num)
    return present_kyc(found)


@router.post("/users/list", status_code=201, summary="Users, by creation or update time")
async def list_users(
    body: Annotated[ListUsers, signed("read_users", ListUsers)],
    managed: Managed,
    response: Response,
) -> list[UserWithProfile] | list[ManagedUser]:
    window = body.window()
    total, found = await managed.listed(window, full=body.extended)
    page_headers(response, total, window)
    return present_page(found, body.extended)


@router.post("/users", status_code=201, summary="Create a user (pending, no mail sent)")
async def create_user(
    body: Annotated[NewUser, signed("write_users", NewUser)], managed: Managed
) -> ManagedUser:
    return present(await managed.create(body.email, body.password, body.referral_uid))


@router.post(
    "/users/import", status_code=201, summary="Import a user with an argon2id password digest"
)
async def import_user(
    body: Annotated[ImportedUser, signed("write_users", ImportedUser)], managed: Managed
) -> ManagedUser:
    user = await managed.import_user(body.email, body.password_digest, body.referral_uid)
    return present(user)


@router.post("/users/update", status_code=201, summary="Change a user's role or data")
async def update_user(
    body: Annotated[UserChange, signed("write_users", UserChange)], managed: Managed
) -> ManagedUser:
    return present(await managed.update(body.uid, body.role, body.data))


# ---------------------------------------------------------------- profiles


class NewProfile(ProfileFields):
    model_config = ConfigDict(extra="ignore")
    uid: Uid
    state: str = Field(default="drafted", pattern=r"^(drafted|submitted|verified|rejected)$")
    dob: date | None = None


@router.post("/profiles", status_code=201, summary="File a user's profile (any review state)")
async def create_profile(
    body: Annotated[NewProfile, signed("write_users", NewProfile)],
    kyc: ManagedKycDep,
    request: Request,
) -> Profile:
    """Saved as the member would save it (sealed; ``submitted`` and beyond set the
    ``profile`` label), then, for ``verified`` or ``rejected``, reviewed as an admin would."""
    fields = body.model_dump(exclude={"confirm", "uid", "state"})
    return Profile(**await kyc.file_profile(body.uid, fields, body.state, client_of(request)))
