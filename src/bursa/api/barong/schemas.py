"""Barong's answer entities, shared by its identity, resource, admin and management
endpoints: a user as ``UserWithFullInfo`` (``present_user``), with labels, phones, profiles
and data storages; activities, API keys, documents and admins' comments."""

from datetime import date
from typing import Any

from pydantic import BaseModel

from bursa.api.schemas import Errors, Moment

# The refusals every Barong endpoint may answer (documented in the OpenAPI).
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Errors},
    403: {"model": Errors},
    422: {"model": Errors},
}


class Label(BaseModel):
    key: str
    value: str
    scope: str
    created_at: Moment
    updated_at: Moment


class Phone(BaseModel):
    country: str | None  # ISO 3166 alpha-2, from the calling code
    number: str  # masked
    validated_at: Moment | None


class Profile(BaseModel):
    first_name: str | None
    last_name: str | None
    dob: date | None
    address: str | None
    postcode: str | None
    city: str | None
    country: str | None
    metadata: str | None
    state: str
    reason: str | None = None  # why an admin rejected it
    created_at: Moment
    updated_at: Moment


class DataStorage(BaseModel):
    title: str
    data: str  # a JSON object as text
    created_at: Moment
    updated_at: Moment


class User(BaseModel):
    """Barong's ``UserWithFullInfo``: phones, profiles and data storages are filled where a
    whole user is shown (``users/me``, login, an admin's view of one user)."""

    email: str
    uid: str
    role: str
    level: int
    otp: bool
    state: str
    referral_uid: str | None
    data: str
    username: str | None
    labels: list[Label]
    phones: list[Phone]
    profiles: list[Profile]
    data_storages: list[DataStorage]
    created_at: Moment
    updated_at: Moment
    csrf_token: str | None = None


class Activity(BaseModel):
    id: int
    user_ip: str
    user_agent: str
    topic: str
    action: str
    result: str
    data: str | None
    created_at: Moment


class ApiKey(BaseModel):
    kid: str
    algorithm: str
    scope: list[str]
    state: str
    created_at: Moment
    updated_at: Moment
    secret: str | None = None  # only in the answer that creates the key


class Document(BaseModel):
    id: int
    doc_type: str
    doc_expire: date | None
    content_type: str
    size: int
    state: str
    reason: str | None
    created_at: Moment
    updated_at: Moment


class Comment(BaseModel):
    id: int
    author_uid: str
    title: str
    data: str
    created_at: Moment
    updated_at: Moment


class Owner(BaseModel):
    uid: str
    email: str
    role: str
    level: int
    otp: bool
    state: str


class ServiceAccount(BaseModel):
    """Barong's ``ServiceAccounts`` entity; ``user`` is the owner."""

    uid: str
    email: str
    role: str
    level: int
    state: str
    user: Owner
    created_at: Moment
    updated_at: Moment


class UserWithActivities(User):
    """Barong's ``UserWithKYC``, with the user's latest activities and staff's comments."""

    activities: list[Activity]
    comments: list[Comment]


def present_user(user: dict[str, Any], csrf_token: str | None = None) -> User:
    """A user row with its labels (public ones first) and, when loaded ``full``, phones,
    profiles and data storages."""
    return User(
        email=user["email"],
        uid=user["uid"],
        role=user["role"],
        level=user["level"],
        otp=bool(user["otp"]),
        state=user["state"],
        referral_uid=user["referral_uid"],
        data=user["data"],
        username=user["username"],
        labels=[Label(**label) for label in user["labels"] if label["scope"] == "public"]
        + [Label(**label) for label in user["labels"] if label["scope"] == "private"],
        phones=[Phone(**phone) for phone in user.get("phones", [])],
        profiles=[Profile(**profile) for profile in user.get("profiles", [])],
        data_storages=[DataStorage(**stored) for stored in user.get("data_storages", [])],
        created_at=user["created_at"],
        updated_at=user["updated_at"],
        csrf_token=csrf_token,
    )


def present_history(user: dict[str, Any]) -> UserWithActivities:
    """``UserAdmin.with_history``'s user: the whole user, activities and comments."""
    return UserWithActivities(
        **present_user(user).model_dump(),
        activities=[Activity(**activity) for activity in user["activities"]],
        comments=[Comment(**note) for note in user["comments"]],
    )
