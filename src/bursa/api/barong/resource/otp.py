"""``/api/v2/barong/resource/otp``: two-factor authentication (TOTP) of the signed-in
member — a new seed (``generate_qrcode``, shown once), then ``enable`` or ``disable`` with a
current code; ``verify`` checks a code (the member's 2FA check, counted as every other).
Session only: an API key or OAuth token never changes its own second factor."""

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bursa.api.barong.deps import IdentityDep, SessionDep
from bursa.api.barong.schemas import ERRORS
from bursa.api.bodies import NoParameters, body_of
from bursa.api.deps import client_of
from bursa.api.schemas import Errors
from bursa.identity import otp_check

router = APIRouter(prefix="/api/v2/barong/resource/otp", tags=["barong resource"])


class OtpCode(BaseModel):
    code: str = Field(max_length=6)


class OtpSecret(BaseModel):
    barcode: str  # base64 PNG of the QR code
    url: str  # otpauth:// URL


class OtpAnswer(BaseModel):
    """Barong answered with the Vault secret whose ``data`` holds barcode and url."""

    data: OtpSecret


@router.post(
    "/generate_qrcode",
    status_code=201,
    responses={400: {"model": Errors}},
    summary="A new TOTP seed as otpauth URL and QR code (shown once)",
)
async def generate_qrcode(
    session: SessionDep,
    identity: IdentityDep,
    _: Annotated[NoParameters, body_of(NoParameters)],
) -> OtpAnswer:
    url, barcode = await identity.generate_otp(session)
    return OtpAnswer(data=OtpSecret(barcode=barcode, url=url))


@router.post("/enable", status_code=201, responses=ERRORS, summary="Enable 2FA")
async def enable_otp(
    request: Request,
    session: SessionDep,
    identity: IdentityDep,
    body: Annotated[OtpCode, body_of(OtpCode)],
) -> dict[str, str]:
    await identity.enable_otp(session, body.code, client_of(request))
    return {}


@router.post("/disable", status_code=201, responses=ERRORS, summary="Disable 2FA")
async def disable_otp(
    request: Request,
    session: SessionDep,
    identity: IdentityDep,
    body: Annotated[OtpCode, body_of(OtpCode)],
) -> dict[str, str]:
    await identity.disable_otp(session, body.code, client_of(request))
    return {}


@router.post(
    "/verify",
    status_code=201,
    responses={400: {"model": Errors}, **ERRORS},
    summary="Check a 2FA code (wrong codes count toward the lock-out)",
)
async def verify_otp(
    request: Request,
    session: SessionDep,
    identity: IdentityDep,
    body: Annotated[OtpCode, body_of(OtpCode)],
) -> dict[str, str]:
    await otp_check.verify_code(identity, session.user, body.code, client_of(request))
    return {}
