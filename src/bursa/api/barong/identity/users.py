"""``/api/v2/barong/identity/users``: sign up, confirm the email with the mailed code, and
reset a forgotten password with another. Asking for a code always answers 201, so nobody
learns which addresses have accounts; sending and checking codes are rate-limited per
address and per email."""

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bursa.api.barong.deps import IdentityDep, rate_limit, set_session_cookie
from bursa.api.barong.schemas import ERRORS, User, present_user
from bursa.api.bodies import body_of, codes
from bursa.api.deps import client_of
from bursa.api.errors import INVALID_PARAMETER
from bursa.identity.limits import (
    CODE_CHECK_PER_EMAIL,
    CODE_CHECK_PER_IP,
    CODE_SEND_PER_IP,
    SIGN_UP_PER_IP,
)

router = APIRouter(prefix="/api/v2/barong/identity/users", tags=["barong identity"])
Email = Annotated[str, Field(max_length=254)]
MailedCode = Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]
Password = Annotated[str, Field(max_length=200)]


class SignUp(BaseModel):
    email: Email
    password: Password
    refid: str | None = Field(default=None, max_length=16)
    username: str | None = Field(default=None, max_length=64)  # the service checks 4-12
    data: str | None = Field(default=None, max_length=1024)


class EmailOnly(BaseModel):
    email: Email


class ConfirmCode(BaseModel):
    email: Email
    token: MailedCode


class ResetPassword(BaseModel):
    email: Email
    reset_password_token: MailedCode
    password: Password
    confirm_password: str = Field(
        max_length=200,
        json_schema_extra=codes(INVALID_PARAMETER, mismatch="identity.user.passwords_doesnt_match"),
    )

    @field_validator("confirm_password")
    @classmethod
    def _same_password(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise PydanticCustomError("mismatch", "the passwords differ")
        return value


@router.post("", status_code=201, responses=ERRORS, summary="Sign up")
async def sign_up(
    request: Request,
    response: Response,
    identity: IdentityDep,
    body: Annotated[SignUp, body_of(SignUp, query=False)],
) -> User:
    client = client_of(request)
    await rate_limit(request, (SIGN_UP_PER_IP, client.ip))
    user, session = await identity.sign_up(
        body.email, body.password, body.refid, client, body.username
    )
    set_session_cookie(request, response, session)
    return present_user(user, session.csrf_token)


@router.post(
    "/email/generate_code",
    status_code=201,
    summary="Send a new confirmation code (always 201: accounts are not enumerable)",
)
async def generate_email_code(
    request: Request, identity: IdentityDep, body: Annotated[EmailOnly, body_of(EmailOnly)]
) -> dict[str, str]:
    await rate_limit(request, (CODE_SEND_PER_IP, client_of(request).ip))
    await identity.resend_confirmation(body.email)
    return {}


@router.post("/email/confirm_code", status_code=201, responses=ERRORS, summary="Confirm email")
async def confirm_email_code(
    request: Request,
    response: Response,
    identity: IdentityDep,
    body: Annotated[ConfirmCode, body_of(ConfirmCode)],
) -> User:
    client = client_of(request)
    await rate_limit(
        request, (CODE_CHECK_PER_IP, client.ip), (CODE_CHECK_PER_EMAIL, body.email.lower())
    )
    user, session = await identity.confirm_email(body.email, body.token, client)
    set_session_cookie(request, response, session)
    return present_user(user, session.csrf_token)


@router.post(
    "/password/generate_code",
    status_code=201,
    summary="Mail a password reset code (always 201: accounts are not enumerable)",
)
async def generate_password_code(
    request: Request, identity: IdentityDep, body: Annotated[EmailOnly, body_of(EmailOnly)]
) -> dict[str, str]:
    client = client_of(request)
    await rate_limit(request, (CODE_SEND_PER_IP, client.ip))
    await identity.request_password_reset(body.email, client)
    return {}


@router.post(
    "/password/confirm_code",
    status_code=201,
    responses=ERRORS,
    summary="Set a new password with the mailed code (ends every session)",
)
async def confirm_password_code(
    request: Request,
    identity: IdentityDep,
    body: Annotated[ResetPassword, body_of(ResetPassword, query=False)],
) -> dict[str, str]:
    client = client_of(request)
    await rate_limit(
        request, (CODE_CHECK_PER_IP, client.ip), (CODE_CHECK_PER_EMAIL, body.email.lower())
    )
    await identity.reset_password(body.email, body.reset_password_token, body.password, client)
    return {}
