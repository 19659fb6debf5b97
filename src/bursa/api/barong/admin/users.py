"""Barong's admin API (``/api/v2/barong/admin``): users (search, show with activities,
role, state, labels), permissions and restrictions.

Every request passes the same authorization step as ``/api/v2/auth`` (restrictions, session
or API key, CSRF, the permission table, audit of writes): the permission table decides who
may call what, so an operator changes access by editing permissions, not code. What no
table can grant: changing the state, role, 2FA or labels of a user who ranks at or above
the caller (``rules.RANKS``, 403 ``admin.user.rank_too_low``), and changing a role at all
unless the caller is a superadmin (403 ``admin.user.superadmin_only``).
"""

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, insert, select, update

from bursa.api.barong.resource.addresses import get_addresses
from bursa.api.barong.routes import Activity, Document, User, client_of, get_documents, present_user
from bursa.api.errors import ApiError
from bursa.errors import Refusal
from bursa.identity.authz import Authorizer
from bursa.identity.comments import Comments
from bursa.identity.public_labels import RESERVED_KEYS
from bursa.identity.rules import (
    ACCESS_NAMES,
    ROLE_SETTER,
    ROLES,
    SERVICE_ACCOUNT_ROLE,
    STATE_TRIGGERS,
)
from bursa.identity.service import Identity, IdentityError
from bursa.identity.tables import activities, permissions, restrictions, users
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/admin", tags=["barong admin"])
ADMIN_STATES = ("active", "banned", "locked")
STATE_LABELS = {"banned": "ban", "locked": "lock"}  # the label an admin's state change sets


async def authorized(request: Request) -> dict[str, Any]:
    """The caller, once the permission table lets them make this request."""
    authorizer: Authorizer = request.app.state.authorizer
    decision = await authorizer.decide(
        request.method,
        request.url.path,
        request.headers,
        request.cookies,
        client_of(request),
        mint=False,  # used here, not forwarded: no JWT to sign
    )
    if decision.status != 200 or decision.user is None:
        retry = {"Retry-After": str(decision.retry_after)} if decision.retry_after else None
        raise ApiError(
            decision.status, *(decision.errors or ["authz.invalid_permission"]), headers=retry
        )
    return decision.user


Admin = Annotated[dict[str, Any], Depends(authorized)]


def _identity(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


def _authorizer(request: Request) -> Authorizer:
    authorizer: Authorizer = request.app.state.authorizer
    return authorizer


class Comment(BaseModel):
    id: int
    author_uid: str
    title: str
    data: str
    created_at: datetime
    updated_at: datetime


class UserWithActivities(User):
    """Barong's ``UserWithKYC``, with the user's latest activities."""

    activities: list[Activity]
    comments: list[Comment]


class RoleChange(BaseModel):
    uid: str = Field(max_length=16)
    role: str = Field(max_length=16)


class StateChange(BaseModel):
    uid: str = Field(max_length=16)
    state: str = Field(max_length=16)


class LabelChange(BaseModel):
    uid: str = Field(max_length=16)
    key: str = Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")
    value: str = Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")
    scope: str = Field(default="private", pattern=r"^(public|private)$")


class Permission(BaseModel):
    id: int
    role: str
    verb: str
    path: str
    action: str
    topic: str | None
    created_at: datetime
    updated_at: datetime


class NewPermission(BaseModel):
    role: str = Field(max_length=16)
    verb: str = Field(pattern=r"^(GET|POST|PUT|PATCH|DELETE|ALL)$")
    path: str = Field(min_length=1, max_length=255, pattern=r"^[\w/.\-]+$")
    action: str = Field(pattern=r"^(ACCEPT|DROP|AUDIT)$")
    topic: str | None = Field(default=None, max_length=32)


class Restriction(BaseModel):
    id: int
    scope: str
    value: str
    category: str
    code: int
    state: str
    created_at: datetime
    updated_at: datetime


class NewRestriction(BaseModel):
    scope: str = Field(pattern=r"^(all|ip|ip_subnet|country)$")
    value: str = Field(min_length=1, max_length=64)
    category: str = Field(pattern=r"^(whitelist|maintenance|blacklist|blocklogin)$")
    code: PlainInt | None = Field(default=None, ge=200, le=599)


DEFAULT_CODES = {"all": 401, "ip": 401, "ip_subnet": 403, "country": 423}


async def _user_id(identity: Identity, uid: str) -> int:
    async with identity.engine.connect() as conn:
        found = await conn.scalar(select(users.c.id).where(users.c.uid == uid))
    if found is None:
        raise ApiError(404, "admin.user.doesnt_exist")
    return int(found)


@router.get("/users", summary="Search users")
async def list_users(
    _: Admin,
    request: Request,
    response: Response,
    email: Annotated[str | None, Query(max_length=254)] = None,
    role: Annotated[str | None, Query(max_length=16)] = None,
    state: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[PlainInt, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[PlainInt, Query(ge=1, le=1000)] = 100,
) -> list[User]:
    identity = _identity(request)
    query = select(users.c.id)
    if email:
        query = query.where(users.c.email.contains(email.lower(), autoescape=True))
    if role:
        query = query.where(users.c.role == role)
    if state:
        query = query.where(users.c.state == state)
    async with identity.engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(query.subquery()))
        ids = await conn.scalars(query.order_by(users.c.id).limit(limit).offset((page - 1) * limit))
        found = [await identity.load_user(conn, user_id) for user_id in ids]
    response.headers["Total"] = str(total or 0)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)
    return [present_user(user) for user in found]


@router.get("/users/{uid}", summary="One user with their activities and admins' comments")
async def show_user(_: Admin, request: Request, uid: str) -> UserWithActivities:
    return await user_with_kyc(request, await _user_id(_identity(request), uid))


async def user_with_kyc(request: Request, user_id: int) -> UserWithActivities:
    identity = _identity(request)
    notes = await Comments(identity).of_user(user_id)
    async with identity.engine.connect() as conn:
        user = await identity.load_user(conn, user_id, full=True)
        rows = await conn.execute(
            select(activities)
            .where(activities.c.user_id == user_id)
            .order_by(activities.c.id.desc())
            .limit(100)
        )
        found = [Activity(**dict(r)) for r in rows.mappings()]
    return UserWithActivities(
        **present_user(user).model_dump(),
        activities=found,
        comments=[Comment(**note) for note in notes],
    )


@router.post("/users/role", status_code=201, summary="Change a user's role (superadmins only)")
async def change_role(admin: Admin, request: Request, body: RoleChange) -> User:
    """Only a superadmin changes roles, whatever the permission table lets through, and
    never another superadmin's (nor their own): ``rules.RANKS``."""
    if admin["role"] != ROLE_SETTER:
        raise ApiError(403, "admin.user.superadmin_only")
    if body.role not in ROLES:
        raise ApiError(422, "admin.user.invalid_role")
    identity = _identity(request)
    async with identity.transaction() as conn:
        user_id = await identity.subordinate(conn, admin, body.uid)
        before = await identity.load_user(conn, user_id)
        await conn.execute(update(users).where(users.c.id == user_id).values(role=body.role))
        user = await identity.load_user(conn, user_id)
        if before["role"] != body.role:
            changes = {"role": before["role"]}
            await identity.emit(conn, "model.user.updated", user, changes=changes)
    return present_user(user)


@router.put("/users", summary="Change a user's state (through the labels that drive it)")
async def change_state(admin: Admin, request: Request, body: StateChange) -> User:
    """State follows private labels (``rules.py``), so a state set directly would be undone
    by the next label change: banning and locking set the ``ban``/``lock`` label, and
    activating removes every label that forces a state (the user must still meet the
    activation requirements, e.g. a confirmed email). Only for a user ranked below the
    admin."""
    if body.state not in ADMIN_STATES:
        raise ApiError(422, "admin.user.invalid_state")
    identity = _identity(request)
    async with identity.transaction() as conn:
        user_id = await identity.subordinate(conn, admin, body.uid)
        if body.state in STATE_LABELS:
            await identity.set_label(conn, user_id, STATE_LABELS[body.state], "admin", "private")
        else:
            for keys in STATE_TRIGGERS.values():
                for key in keys:
                    await identity.remove_label(conn, user_id, key, "private")
        user = await identity.load_user(conn, user_id)
        if user["state"] != body.state:
            raise IdentityError(Refusal.INVALID, "admin.user.activation_requirements")
        await identity.record(
            conn,
            admin["id"],
            client_of(request),
            "admin",
            f"state {body.state}",
            "succeed",
            body.uid,
        )
    return present_user(user)


def _refuse_reserved(key: str, scope: str) -> None:
    """A label must not pass for access: never one named after what the identity keeps
    itself (role, level, state, 2FA), nor a public one named like a KYC or state label."""
    if key in ACCESS_NAMES or (scope == "public" and key in RESERVED_KEYS):
        raise ApiError(422, "admin.label.reserved_key")


@router.post("/users/labels", status_code=201, summary="Set a label (private ones move state)")
async def set_label(admin: Admin, request: Request, body: LabelChange) -> User:
    _refuse_reserved(body.key, body.scope)
    identity = _identity(request)
    async with identity.transaction() as conn:
        user_id = await identity.subordinate(conn, admin, body.uid)
        await identity.set_label(conn, user_id, body.key, body.value, body.scope)
        user = await identity.load_user(conn, user_id)
    return present_user(user)


@router.delete("/users/labels", status_code=204, summary="Remove a label (private ones move state)")
async def remove_label(
    admin: Admin,
    request: Request,
    uid: Annotated[str, Query(max_length=16)],
    key: Annotated[str, Query(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+$")],
    scope: Annotated[str, Query(pattern=r"^(public|private)$")] = "private",
) -> Response:
    identity = _identity(request)
    async with identity.transaction() as conn:
        user_id = await identity.subordinate(conn, admin, uid)
        if not await identity.remove_label(conn, user_id, key, scope):
            raise ApiError(404, "admin.label.doesnt_exist")
        await identity.record(
            conn,
            admin["id"],
            client_of(request),
            "admin",
            "label removed",
            "succeed",
            f"{uid} {scope} {key}",
        )
    return Response(status_code=204)


@router.get("/permissions", summary="The permission table")
async def list_permissions(_: Admin, request: Request) -> list[Permission]:
    async with _identity(request).engine.connect() as conn:
        rows = await conn.execute(select(permissions).order_by(permissions.c.id))
        return [Permission(**dict(r)) for r in rows.mappings()]


@router.post("/permissions", status_code=201, summary="Add a permission")
async def add_permission(_: Admin, request: Request, body: NewPermission) -> Permission:
    if body.role not in ROLES and not re.fullmatch(SERVICE_ACCOUNT_ROLE, body.role):
        raise ApiError(422, "admin.permission.invalid_role")
    async with _identity(request).engine.begin() as conn:
        row = (
            (
                await conn.execute(
                    insert(permissions).values(**body.model_dump()).returning(permissions)
                )
            )
            .mappings()
            .one()
        )
    _authorizer(request).forget_cache()
    return Permission(**dict(row))


@router.delete("/permissions/{permission_id}", status_code=204, summary="Remove a permission")
async def remove_permission(_: Admin, request: Request, permission_id: PlainInt) -> Response:
    async with _identity(request).engine.begin() as conn:
        gone = await conn.execute(
            delete(permissions).where(permissions.c.id == permission_id).returning(permissions.c.id)
        )
        if gone.first() is None:
            raise ApiError(404, "admin.permission.doesnt_exist")
    _authorizer(request).forget_cache()
    return Response(status_code=204)


@router.get("/restrictions", summary="Restrictions by IP, IP range, country or all")
async def list_restrictions(_: Admin, request: Request) -> list[Restriction]:
    async with _identity(request).engine.connect() as conn:
        rows = await conn.execute(select(restrictions).order_by(restrictions.c.id))
        return [Restriction(**dict(r)) for r in rows.mappings()]


@router.post("/restrictions", status_code=201, summary="Add a restriction")
async def add_restriction(_: Admin, request: Request, body: NewRestriction) -> Restriction:
    values = body.model_dump() | {"code": body.code or DEFAULT_CODES[body.scope]}
    if body.category == "maintenance" and body.code is None:
        values["code"] = 471
    async with _identity(request).engine.begin() as conn:
        row = (
            (await conn.execute(insert(restrictions).values(**values).returning(restrictions)))
            .mappings()
            .one()
        )
    _authorizer(request).forget_cache()
    return Restriction(**dict(row))


@router.delete("/restrictions/{restriction_id}", status_code=204, summary="Remove a restriction")
async def remove_restriction(_: Admin, request: Request, restriction_id: PlainInt) -> Response:
    async with _identity(request).engine.begin() as conn:
        gone = await conn.execute(
            delete(restrictions)
            .where(restrictions.c.id == restriction_id)
            .returning(restrictions.c.id)
        )
        if gone.first() is None:
            raise ApiError(404, "admin.restriction.doesnt_exist")
    _authorizer(request).forget_cache()
    return Response(status_code=204)


class Review(BaseModel):
    id: PlainInt
    state: str = Field(pattern=r"^(verified|rejected)$")
    reason: str | None = Field(default=None, max_length=1024)


class PendingDocument(Document):
    """A document or an address proof (``doc_type`` ``address``, with its address)."""

    user_id: int
    country: str | None = None
    address: str | None = None
    city: str | None = None
    postcode: str | None = None


@router.get("/users/documents/pending", summary="Documents and address proofs to review")
async def pending_documents(_: Admin, request: Request) -> list[PendingDocument]:
    found = await get_addresses(request).reveal(await get_documents(request).pending())
    return [PendingDocument(**d) for d in found]


@router.post(
    "/users/documents/review",
    status_code=201,
    summary="Verify or reject a document or address proof",
)
async def review_document(admin: Admin, request: Request, body: Review) -> Document:
    """Only a document of a user ranked below the admin (never their own)."""
    reviewed = await get_documents(request).review(body.id, body.state, body.reason, admin)
    return Document(**reviewed)
