"""``/api/v2/barong/resource/users``: the signed-in member's own account — ``me`` (read,
with the session's CSRF token when the cookie alone is the credential, so a web page can
continue a session after a reload; change the free ``data`` field, close the account),
their ``activity`` (filtered and paged as Barong's) and their ``password``. The router
also carries Barong's ``resource/swagger_doc`` (``swagger_doc``), the one other path at the
resource root.

Closing the account takes the password (and the 2FA code) in the JSON body, not in the
query string Barong's swagger shows: a query string ends up in access logs. A password sent
in the query is refused with its own code, so a client written for Barong learns why at
once. Password checks are rate-limited per address and per member.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bursa.api.barong.deps import (
    API_KEY_HEADERS,
    SESSION_COOKIE,
    AccountsDep,
    ActivityLogDep,
    IdentityDep,
    ReaderDep,
    SessionDep,
    current_session,
    rate_limit,
)
from bursa.api.barong.resource import swagger_doc
from bursa.api.barong.schemas import ERRORS, Activity, User, present_user
from bursa.api.bodies import body_of, codes
from bursa.api.deps import client_of
from bursa.api.errors import INVALID_PARAMETER, ApiError, error_code
from bursa.api.peatio.params import paginate
from bursa.identity.activity_log import ActivityFilter
from bursa.identity.limits import PASSWORD_CHECK_PER_IP, PASSWORD_CHECK_PER_USER
from bursa.plain_input import PlainInt

router = APIRouter(prefix="/api/v2/barong/resource", tags=["barong resource"])
TOPICS = ("all", "session", "otp", "password", "account")
Topic = Annotated[
    str,
    Path(
        pattern=f"^({'|'.join(TOPICS)})$", json_schema_extra=error_code("resource.user.wrong_topic")
    ),
]

Stamp = Annotated[PlainInt | None, Query(ge=0, le=10**10, description="Unix seconds")]


class UserData(BaseModel):
    data: str = Field(max_length=4096)  # the service allows 1 KB and says so


class AccountClosure(BaseModel):
    password: str = Field(min_length=1, max_length=200)
    otp_code: str | None = Field(default=None, max_length=6)


class ChangePassword(BaseModel):
    old_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)
    confirm_password: str = Field(
        max_length=200,
        json_schema_extra=codes(INVALID_PARAMETER, mismatch="resource.password.doesnt_match"),
    )
    otp_code: str | None = Field(default=None, max_length=6)

    @field_validator("confirm_password")
    @classmethod
    def _same_password(cls, value: str, info: ValidationInfo) -> str:
        if "new_password" in info.data and value != info.data["new_password"]:
            raise PydanticCustomError("mismatch", "the passwords differ")
        return value


@router.get(
    "/users/me",
    responses=ERRORS,
    summary="The signed-in member",
    description="Called with the session cookie alone, the answer also carries the "
    "session's `csrf_token` (as logging in did), so a browser tab opened later can write.",
)
async def me(
    request: Request, user: ReaderDep, accounts: AccountsDep, identity: IdentityDep
) -> User:
    shown = await accounts.show(user["id"])
    if _cookie_only(request):
        session = await current_session(request, identity)
        return present_user(shown, session.csrf_token)
    return present_user(shown)


def _cookie_only(request: Request) -> bool:
    """Whether the session cookie is the request's only credential (no key, no token)."""
    headers = request.headers
    return (
        SESSION_COOKIE in request.cookies
        and "authorization" not in headers
        and not any(name in headers for name in API_KEY_HEADERS)
    )


@router.put("/users/me", responses=ERRORS, summary="Change the member's data (a JSON object)")
async def put_me(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    body: Annotated[UserData, body_of(UserData)],
) -> User:
    user = await accounts.set_data(session.user["id"], body.data, client_of(request))
    return present_user(user)


@router.delete(
    "/users/me",
    status_code=204,
    responses=ERRORS,
    summary="Close the account (password, and the 2FA code when 2FA is on)",
)
async def delete_me(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    body: Annotated[AccountClosure | None, Body()] = None,
    otp_code: Annotated[str | None, Query(max_length=6)] = None,
    password: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Response:
    """The 2FA code may come in the query string (Barong's clients send it there); the
    password never may: it is declared only to be refused with its own code."""
    if password is not None:
        raise ApiError(422, "resource.user.password_in_query")
    if body is None:
        raise ApiError(422, "resource.user.missing_password")
    if body.otp_code is None and otp_code is not None:
        body = body.model_copy(update={"otp_code": otp_code})
    client = client_of(request)
    await rate_limit(
        request,
        (PASSWORD_CHECK_PER_IP, client.ip),
        (PASSWORD_CHECK_PER_USER, session.user["uid"]),
    )
    await accounts.delete(session, body.password, body.otp_code, client)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(
    "/users/activity/{topic}", responses=ERRORS, summary="The member's own activities, newest first"
)
async def my_activities(
    user: ReaderDep,
    log: ActivityLogDep,
    response: Response,
    topic: Topic,
    time_from: Stamp = None,
    time_to: Stamp = None,
    result: Annotated[str | None, Query(pattern=r"^(succeed|failed|denied)$")] = None,
    page: Annotated[PlainInt, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[PlainInt, Query(ge=1, le=1000)] = 100,
) -> list[Activity]:
    """Filtered and paged in the database (``Total``, ``Page``, ``Per-Page`` headers)."""
    wanted = ActivityFilter(
        user_id=user["id"],
        result=result,
        time_from=time_from,
        time_to=time_to,
        topics=None if topic == "all" else [topic],
    )
    total, found = await log.search(wanted, page, limit)
    paginate(response, total, page, limit)
    return [Activity(**a) for a in found]


@router.put(
    "/users/password",
    status_code=201,
    responses=ERRORS,
    summary="Change the password (other sessions end)",
)
async def change_password(
    request: Request,
    session: SessionDep,
    identity: IdentityDep,
    body: Annotated[ChangePassword, body_of(ChangePassword, query=False)],
) -> dict[str, str]:
    client = client_of(request)
    await rate_limit(
        request,
        (PASSWORD_CHECK_PER_IP, client.ip),
        (PASSWORD_CHECK_PER_USER, session.user["uid"]),
    )
    await identity.change_password(
        session, body.old_password, body.new_password, client, body.otp_code
    )
    return {}


router.include_router(swagger_doc.router)
