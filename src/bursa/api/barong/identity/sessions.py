"""``/api/v2/barong/identity/sessions``: log in (``POST``: the session cookie, and the CSRF
token in the answer) and log out (``DELETE``). Logins are limited per address and per email,
and failed ones block their address for a while (``bursa.identity.login``)."""

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import (
    SESSION_COOKIE,
    IdentityDep,
    SessionDep,
    set_session_cookie,
)
from bursa.api.barong.identity.users import CaptchaField
from bursa.api.barong.schemas import ERRORS, User, present_user
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.identity import login
from bursa.identity.service import Identity, OpenSession

router = APIRouter(prefix="/api/v2/barong/identity/sessions", tags=["barong identity"])


class LogIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=200)
    otp_code: str | None = Field(default=None, max_length=6)
    captcha_response: CaptchaField = None


async def open_session(
    request: Request, response: Response, identity: Identity, body: LogIn
) -> tuple[dict[str, Any], OpenSession]:
    """Log in under the login limits and set the session cookie on ``response`` (the
    session it replaces, if any, ends). Used by the JSON API and the OAuth sign-in form."""
    user, session = await login.log_in(
        identity,
        request.app.state.limiter,
        body.email,
        body.password,
        client_of(request),
        request.cookies.get(SESSION_COOKIE),
        body.otp_code,
    )
    set_session_cookie(request, response, session)
    return user, session


@router.post("", responses=ERRORS, summary="Log in")
async def log_in(
    request: Request,
    response: Response,
    identity: IdentityDep,
    body: Annotated[LogIn, body_of(LogIn, query=False)],
) -> User:
    user, session = await open_session(request, response, identity, body)
    return present_user(user, session.csrf_token)


@router.delete("", responses=ERRORS, summary="Log out")
async def log_out(
    request: Request, response: Response, session: SessionDep, identity: IdentityDep
) -> dict[str, str]:
    await identity.log_out(session.session_digest, session.user["id"], client_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {}
