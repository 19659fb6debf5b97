"""Barong's Management API (``/api/v2/barong/management``), server to server: users
(find, list, create, import, update) and profiles.

Every endpoint takes a jwt-multisig envelope checked against its scope
(``bursa.api.management_auth``); its ``data`` is validated here. Answers and refusals are
Grape's: ``201`` for a POST, ``{"error": message}`` for a refusal (422 invalid input, 404
``Couldn't find record.``).
"""

from collections.abc import Callable, Coroutine, Mapping
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select

from bursa.api.barong.admin.users import Comment
from bursa.api.barong.routes import (
    DataStorage,
    Document,
    Phone,
    Profile,
    ProfileFields,
    client_of,
    get_kyc,
)
from bursa.api.errors import status_of
from bursa.api.management_auth import ENVELOPE_BODY, ManagementRefused, scope
from bursa.errors import Refusal
from bursa.identity.comments import Comments
from bursa.identity.management import ManagedUsers, Page
from bursa.identity.profile_review import ProfileReview
from bursa.identity.service import Identity, IdentityError
from bursa.identity.tables import documents
from bursa.plain_input import PlainInt

NOT_FOUND = "Couldn't find record."
M = TypeVar("M", bound=BaseModel)
# Who the activity log names for a change made through the Management API: trusted like a
# superadmin, attributed to no user.
MANAGEMENT_ACTOR: Mapping[str, Any] = {"id": None, "uid": "", "role": "superadmin"}


class ManagementRoute(APIRoute):
    """Documents the envelope body and turns the identity service's refusals into Grape's
    ``{"error": ...}``."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["openapi_extra"] = {"requestBody": ENVELOPE_BODY} | (
            kwargs.get("openapi_extra") or {}
        )
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except IdentityError as exc:
                message = NOT_FOUND if exc.kind is Refusal.NOT_FOUND else exc.code
                raise ManagementRefused(status_of(exc), message) from None

        return handle


router = APIRouter(
    prefix="/api/v2/barong/management",
    tags=["barong management"],
    route_class=ManagementRoute,
)


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` as ``model``, or 422 naming what is wrong (never the values sent)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'data'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise ManagementRefused(422, "; ".join(problems)) from None


def identity_of(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


def managed(request: Request) -> ManagedUsers:
    return ManagedUsers(identity_of(request))


Data = dict[str, Any]
ReadUsers = Annotated[Data, Depends(scope("barong", "read_users"))]
WriteUsers = Annotated[Data, Depends(scope("barong", "write_users"))]
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
    created_at: datetime
    updated_at: datetime


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
    created_at: datetime
    updated_at: datetime


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


async def with_kyc(identity: Identity, user_id: int) -> UserWithKYC:
    notes = await Comments(identity).of_user(user_id)
    async with identity.engine.connect() as conn:
        user = await identity.load_user(conn, user_id, full=True)
        rows = await conn.execute(
            select(documents).where(documents.c.user_id == user_id).order_by(documents.c.id)
        )
        found = [Document(**dict(r)) for r in rows.mappings()]
    return UserWithKYC(
        **present(user).model_dump(),
        labels=[AdminLabel(**label) for label in user["labels"]],
        phones=[Phone(**p) for p in user["phones"]],
        profiles=[Profile(**p) for p in user["profiles"]],
        documents=found,
        data_storages=[DataStorage(**s) for s in user["data_storages"]],
        comments=[Comment(**note) for note in notes],
    )


async def users_page(
    identity: Identity, ids: list[int], extended: bool
) -> list[ManagedUser] | list[UserWithProfile]:
    async with identity.engine.connect() as conn:
        found = [await identity.load_user(conn, i, full=extended) for i in ids]
    if not extended:
        return [present(u) for u in found]
    return [
        UserWithProfile(**present(u).model_dump(), profiles=[Profile(**p) for p in u["profiles"]])
        for u in found
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
async def get_user(data: ReadUsers, request: Request) -> UserWithKYC:
    params = parse(FindUser, data)
    identity = identity_of(request)
    async with identity.engine.connect() as conn:
        user_id = await managed(request).user_id(
            conn, uid=params.uid, email=params.email, phone=params.phone_num
        )
    return await with_kyc(identity, user_id)


@router.post("/users/list", status_code=201, summary="Users, by creation or update time")
async def list_users(
    data: ReadUsers, request: Request, response: Response
) -> list[UserWithProfile] | list[ManagedUser]:
    params = parse(ListUsers, data)
    window = params.window()
    total, ids = await managed(request).page(window)
    page_headers(response, total, window)
    return await users_page(identity_of(request), ids, params.extended)


@router.post("/users", status_code=201, summary="Create a user (pending, no mail sent)")
async def create_user(data: WriteUsers, request: Request) -> ManagedUser:
    params = parse(NewUser, data)
    return present(
        await managed(request).create(params.email, params.password, params.referral_uid)
    )


@router.post(
    "/users/import", status_code=201, summary="Import a user with an argon2id password digest"
)
async def import_user(data: WriteUsers, request: Request) -> ManagedUser:
    params = parse(ImportedUser, data)
    user = await managed(request).import_user(
        params.email, params.password_digest, params.referral_uid
    )
    return present(user)


@router.post("/users/update", status_code=201, summary="Change a user's role or data")
async def update_user(data: WriteUsers, request: Request) -> ManagedUser:
    params = parse(UserChange, data)
    return present(await managed(request).update(params.uid, params.role, params.data))


# ---------------------------------------------------------------- profiles


class NewProfile(ProfileFields):
    model_config = ConfigDict(extra="ignore")
    uid: Uid
    state: str = Field(default="drafted", pattern=r"^(drafted|submitted|verified|rejected)$")
    dob: date | None = None


@router.post("/profiles", status_code=201, summary="File a user's profile (any review state)")
async def create_profile(data: WriteUsers, request: Request) -> Profile:
    """Saved as the member would save it (sealed; ``submitted`` and beyond set the
    ``profile`` label), then, for ``verified`` or ``rejected``, reviewed as an admin would."""
    params = parse(NewProfile, data)
    identity = identity_of(request)
    kyc = get_kyc(request)
    async with identity.engine.connect() as conn:
        user_id = await managed(request).user_id(conn, uid=params.uid)
        user = await identity.load_user(conn, user_id)
    fields = params.model_dump(exclude={"confirm", "uid", "state"})
    if fields.get("country"):
        fields["country"] = fields["country"].upper()
    client = client_of(request)
    saved = await kyc.save_profile(user, fields, params.state != "drafted", client)
    if params.state in ("verified", "rejected"):
        review = ProfileReview(identity, kyc)
        reason = "rejected through the management API" if params.state == "rejected" else None
        saved = await review.review(
            params.uid, params.state, reason, dict(MANAGEMENT_ACTOR), client
        )
    return Profile(**saved)
