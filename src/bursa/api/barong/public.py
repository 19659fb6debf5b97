"""``/api/v2/barong/public``: what anyone may ask Barong — liveness, the time, the version,
what a front end needs to know (``configs``), and whether a password would be accepted.
Barong serves the same helpers under ``/api/v2/barong/identity`` too; so does Bursa."""

import asyncio
import time
from importlib.metadata import version as _package_version
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bursa.api.barong.deps import IdentityDep, rate_limit
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.identity import passwords
from bursa.identity.limits import STRENGTH_CHECK_PER_IP

BURSA_VERSION = _package_version("bursa")

router = APIRouter(prefix="/api/v2/barong/public", tags=["barong public"])
identity_router = APIRouter(prefix="/api/v2/barong/identity", tags=["barong identity"])


class PasswordToCheck(BaseModel):
    password: str = Field(max_length=200)


async def ping() -> dict[str, str]:
    return {"ping": "pong"}


async def server_time() -> dict[str, int]:
    return {"time": int(time.time())}


async def version() -> dict[str, str]:
    """Barong's build description; Bursa has no git metadata at run time, so the package
    version stands in for the tag."""
    return {"version": BURSA_VERSION, "git_tag": BURSA_VERSION, "git_sha": "", "build_date": ""}


async def configs(identity: IdentityDep) -> dict[str, Any]:
    """Barong's configs. ``password_min_entropy`` is in the unit ``password/validate``
    answers ``entropy`` in: bits of zxcvbn's estimate, floor(log2(guesses)); a password
    also needs ``password_regexp`` (JavaScript reads it as Python does)."""
    return {
        "session_expire_time": int(identity.session_ttl.total_seconds()),
        "captcha_type": identity.captcha.provider.name if identity.captcha.provider else "none",
        "phone_verification_type": "sms",
        "password_min_length": passwords.MIN_LENGTH,
        "password_min_entropy": passwords.MIN_ENTROPY_BITS,
        "password_regexp": passwords.PASSWORD_REGEXP,
    }


async def validate_password(
    request: Request,
    body: Annotated[PasswordToCheck, body_of(PasswordToCheck, query=False)],
) -> dict[str, Any]:
    """Barong's answer, ``entropy`` (front ends draw their strength meter from it against
    ``configs``' ``password_min_entropy``), with Bursa's verdict beside it: ``result``
    (``strong``, ``weak``, ``requirements``) and, unless strong, the ``reason``. Public, so
    limited per address, and zxcvbn's estimate runs off the event loop."""
    await rate_limit(request, (STRENGTH_CHECK_PER_IP, client_of(request).ip))
    verdict, entropy = await asyncio.to_thread(passwords.assess, body.password)
    if verdict.ok:
        return {"entropy": entropy, "result": "strong"}
    return {
        "entropy": entropy,
        "result": "weak" if verdict.code == "password.weak" else "requirements",
        "reason": verdict.message,
    }


for _router in (router, identity_router):
    _router.add_api_route("/ping", ping, methods=["GET"], summary="Liveness")
    _router.add_api_route("/time", server_time, methods=["GET"], summary="Server time, Unix s")
    _router.add_api_route("/version", version, methods=["GET"], summary="Version of Bursa")
    _router.add_api_route(
        "/configs", configs, methods=["GET"], summary="What a front end needs to know"
    )
    _router.add_api_route(
        "/password/validate",
        validate_password,
        methods=["POST"],
        summary="Would this password be accepted?",
    )
