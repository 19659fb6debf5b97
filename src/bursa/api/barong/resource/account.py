"""``/api/v2/barong/resource/users/me``: the member changes their free ``data`` field
(``PUT``) or closes their account (``DELETE``).

The password (and 2FA code) travel in the JSON body, not in the query string Barong's
swagger shows: a query string ends up in access logs. A password sent in the query is
refused with its own code, so a client written for Barong learns why at once.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.routes import (
    _ERRORS,
    SESSION_COOKIE,
    IdentityDep,
    SessionDep,
    User,
    _limit,
    client_of,
    present_user,
)
from bursa.api.errors import ApiError
from bursa.identity.account import Accounts
from bursa.identity.limits import PASSWORD_CHECK_PER_IP, PASSWORD_CHECK_PER_USER

router = APIRouter(prefix="/api/v2/barong/resource", tags=["barong resource"])


class AccountClosure(BaseModel):
    password: str = Field(min_length=1, max_length=200)
    otp_code: str | None = Field(default=None, max_length=6)


class UserData(BaseModel):
    data: str = Field(max_length=4096)  # the service allows 1 KB and says so


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


@router.delete(
    "/users/me",
    status_code=204,
    responses=_ERRORS,
    summary="Close the account (password, and the 2FA code when 2FA is on)",
)
async def delete_me(
    request: Request,
    session: SessionDep,
    accounts: Annotated[Accounts, Depends(get_accounts)],
    body: Annotated[AccountClosure | None, Body()] = None,
) -> Response:
    if "password" in request.query_params:
        raise ApiError(422, "resource.user.password_in_query")
    if body is None:
        raise ApiError(422, "resource.user.missing_password")
    await _limit(
        request,
        (PASSWORD_CHECK_PER_IP, client_of(request).ip),
        (PASSWORD_CHECK_PER_USER, session.user["uid"]),
    )
    await accounts.delete(session, body.password, body.otp_code, client_of(request))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.put("/users/me", responses=_ERRORS, summary="Change the member's data (a JSON object)")
async def put_me(
    body: UserData,
    request: Request,
    session: SessionDep,
    identity: IdentityDep,
    accounts: Annotated[Accounts, Depends(get_accounts)],
) -> User:
    user_id = session.user["id"]
    await accounts.set_data(user_id, body.data, client_of(request))
    async with identity.engine.connect() as conn:
        return present_user(await identity.load_user(conn, user_id, full=True))
