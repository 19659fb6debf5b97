"""``/api/v2/barong/identity/users``: sign up, confirm the email, and reset a forgotten
password. The mail carries a 6-digit code and a link with a signed token: confirming takes
the token alone (Barong's form, what OpenDAX front ends post) or the address and the code
(Bursa's); either spends both. Asking for a mail always answers 201, so nobody learns which
addresses have accounts; sending and checking are rate-limited per address and per email.
Sign-up and the mail requests pass the captcha gate (off unless configured)."""

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bursa.api.barong.deps import IdentityDep, rate_limit, set_session_cookie
from bursa.api.barong.schemas import ERRORS, User, present_user
from bursa.api.bodies import body_of, codes
from bursa.api.deps import client_of
from bursa.api.errors import INVALID_PARAMETER
from bursa.errors import Refusal
from bursa.identity import captcha
from bursa.identity.confirmation_tokens import MAX_TOKEN
from bursa.identity.limits import (
    CODE_CHECK_PER_EMAIL,
    CODE_CHECK_PER_IP,
    CODE_SEND_PER_IP,
    SIGN_UP_PER_IP,
)
from bursa.identity.service import IdentityError

router = APIRouter(prefix="/api/v2/barong/identity/users", tags=["barong identity"])
Email = Annotated[str, Field(max_length=254)]
# The mailed code (with ``email``) or the link's signed token (alone).
CodeOrToken = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN)]
Password = Annotated[str, Field(max_length=200)]
# What the captcha widget gave the browser: a string, or Geetest's fields.
CaptchaText = Annotated[str, Field(max_length=8192)]
CaptchaResponse = CaptchaText | dict[str, Annotated[str, Field(max_length=4096)]]
CaptchaField = Annotated[CaptchaResponse | None, Field(default=None, union_mode="left_to_right")]
MISSING_EMAIL = "identity.user.missing_email"


class SignUp(BaseModel):
    email: Email
    password: Password
    refid: str | None = Field(default=None, max_length=16)
    username: str | None = Field(default=None, max_length=64)  # the service checks 4-12
    data: str | None = Field(default=None, max_length=1024)
    captcha_response: CaptchaField = None


class EmailOnly(BaseModel):
    email: Email
    captcha_response: CaptchaField = None


class ConfirmCode(BaseModel):
    token: CodeOrToken
    email: Email | None = None


class ResetPassword(BaseModel):
    reset_password_token: CodeOrToken
    email: Email | None = None
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


def is_mailed_code(value: str) -> bool:
    """A 6-digit code (Bursa's form) rather than a token (Barong's)."""
    return len(value) == 6 and value.isascii() and value.isdigit()


def code_form_email(email: str | None, code_or_token: str) -> str | None:
    """The address when the request is Bursa's form (address and code); ``None`` for
    Barong's (a token, possibly with its address). A code without an address is 422
    ``identity.user.missing_email``."""
    if not is_mailed_code(code_or_token):
        return None
    if email is None:
        raise IdentityError(Refusal.INVALID, MISSING_EMAIL, "a code needs its email")
    return email


@router.post("", status_code=201, responses=ERRORS, summary="Sign up")
async def sign_up(
    request: Request,
    response: Response,
    identity: IdentityDep,
    body: Annotated[SignUp, body_of(SignUp, query=False)],
) -> User:
    client = client_of(request)
    await rate_limit(request, (SIGN_UP_PER_IP, client.ip))
    await identity.captcha.check(captcha.USER_CREATE, body.captcha_response, client.ip)
    user, session = await identity.sign_up(
        body.email, body.password, body.refid, client, body.username
    )
    set_session_cookie(request, response, session)
    return present_user(user, session.csrf_token)


@router.post(
    "/email/generate_code",
    status_code=201,
    summary="Mail a new confirmation link and code (always 201: accounts are not enumerable)",
)
async def generate_email_code(
    request: Request, identity: IdentityDep, body: Annotated[EmailOnly, body_of(EmailOnly)]
) -> dict[str, str]:
    client = client_of(request)
    await rate_limit(request, (CODE_SEND_PER_IP, client.ip))
    await identity.captcha.check(captcha.EMAIL_CONFIRMATION, body.captcha_response, client.ip)
    await identity.resend_confirmation(body.email)
    return {}


@router.post(
    "/email/confirm_code",
    status_code=201,
    responses=ERRORS,
    summary="Confirm email: the link's token alone, or email and the mailed code",
)
async def confirm_email_code(
    request: Request,
    response: Response,
    identity: IdentityDep,
    body: Annotated[ConfirmCode, body_of(ConfirmCode)],
) -> User:
    client = client_of(request)
    email = code_form_email(body.email, body.token)
    if email is None:
        await rate_limit(request, (CODE_CHECK_PER_IP, client.ip))
        user, session = await identity.confirm_email_token(body.token, client, body.email)
    else:
        await rate_limit(
            request, (CODE_CHECK_PER_IP, client.ip), (CODE_CHECK_PER_EMAIL, email.lower())
        )
        user, session = await identity.confirm_email(email, body.token, client)
    set_session_cookie(request, response, session)
    return present_user(user, session.csrf_token)


@router.post(
    "/password/generate_code",
    status_code=201,
    summary="Mail a password reset link and code (always 201: accounts are not enumerable)",
)
async def generate_password_code(
    request: Request, identity: IdentityDep, body: Annotated[EmailOnly, body_of(EmailOnly)]
) -> dict[str, str]:
    client = client_of(request)
    await rate_limit(request, (CODE_SEND_PER_IP, client.ip))
    await identity.captcha.check(captcha.PASSWORD_RESET, body.captcha_response, client.ip)
    await identity.request_password_reset(body.email, client)
    return {}


@router.post(
    "/password/confirm_code",
    status_code=201,
    responses=ERRORS,
    summary="Set a new password with the link's token, or email and the mailed code (ends"
    " every session)",
)
async def confirm_password_code(
    request: Request,
    identity: IdentityDep,
    body: Annotated[ResetPassword, body_of(ResetPassword, query=False)],
) -> dict[str, str]:
    client = client_of(request)
    email = code_form_email(body.email, body.reset_password_token)
    if email is None:
        await rate_limit(request, (CODE_CHECK_PER_IP, client.ip))
        await identity.reset_password_with_token(
            body.reset_password_token, body.password, client, body.email
        )
    else:
        await rate_limit(
            request, (CODE_CHECK_PER_IP, client.ip), (CODE_CHECK_PER_EMAIL, email.lower())
        )
        await identity.reset_password(email, body.reset_password_token, body.password, client)
    return {}


@router.get(
    "/register_geetest",
    responses=ERRORS,
    summary="The captcha provider's challenge (404 identity.captcha.disabled when off)",
)
async def register_geetest(identity: IdentityDep) -> dict[str, Any]:
    return await identity.captcha.challenge()
