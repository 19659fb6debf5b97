"""The links in confirmation and reset mails: the token alone confirms an email or resets
a password (Barong's form), the mailed code with the address still does (Bursa's); either
spends both; forged, expired, reused or replaced tokens are refused. And the captcha hook:
off by default, refusing loudly when misconfigured."""

import base64
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from joserfc.util import urlsafe_b64encode
from pydantic import ValidationError

from bursa.clock import ManualClock
from bursa.config.settings import Settings
from bursa.identity import captcha
from bursa.identity.code_mail import MailLinks
from bursa.identity.service import CODE_RESEND_INTERVAL, CODE_TTL, Identity
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    PASSWORD,
    Inbox,
    api,
    clock,
    inbox,
    sign_up,
    sql,
)

CONFIRM = f"{IDENTITY}/users/email/confirm_code"
RESET = f"{IDENTITY}/users/password/confirm_code"
NEW_PASSWORD = "Fresh-Start!2027x"
LINK = re.compile(r"(https?://\S+)")


def identity_of(api: httpx.AsyncClient) -> Identity:
    found = api._transport.app.state.identity  # type: ignore[attr-defined]
    assert isinstance(found, Identity)
    return found


def mails_to(inbox: Inbox, address: str) -> list[tuple[str, str]]:
    """Each mail to ``address``: (link, code), read from the decoded text as a person would."""
    found = []
    for message in inbox.messages:
        if message["To"] != address:
            continue
        text = message.get_payload(decode=True).decode()
        link = LINK.search(text)
        code = re.search(r"code is (\d{6})", text)
        assert link is not None and code is not None, text
        found.append((link.group(1), code.group(1)))
    return found


async def mailed(
    inbox: Inbox, address: str, purpose: str = "confirmation", count: int = 1
) -> tuple[str, str]:
    """The newest mail's (link, code) once ``count`` mails of ``purpose`` have come."""
    await inbox.wait_for(address, purpose, count)
    found = mails_to(inbox, address)
    assert len(found) >= count
    return found[-1]


def token_in(link: str, parameter: str) -> str:
    return unquote(link.split(f"{parameter}=", 1)[1])


async def state_of(api: httpx.AsyncClient, email: str) -> str:
    rows = await api.post(f"{IDENTITY}/sessions", json={"email": email, "password": PASSWORD})
    assert rows.status_code == 200, rows.text
    return str(rows.json()["state"])


async def test_the_link_alone_confirms_and_spends_the_mailed_code(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    identity_of(api).mail_links = MailLinks(
        public_url="https://exchange.example/", confirmation_path="/confirm?confirmation_token="
    )
    await sign_up(api, "alice@example.com")
    link, code = await mailed(mails, "alice@example.com")
    assert link.startswith("https://exchange.example/confirm?confirmation_token=ey")
    token = token_in(link, "confirmation_token")

    confirmed = await api.post(CONFIRM, json={"token": token})
    assert confirmed.status_code == 201, confirmed.text
    user = confirmed.json()
    assert (user["email"], user["state"], user["level"]) == ("alice@example.com", "active", 1)
    assert "_barong_session=" in confirmed.headers["set-cookie"]
    assert re.fullmatch(r"[0-9a-f]{40}", user["csrf_token"])

    reused = await api.post(CONFIRM, json={"token": token})
    assert (reused.status_code, reused.json()) == (
        422,
        {"errors": ["identity.user.utilized_token"]},
    )
    spent = await api.post(CONFIRM, json={"email": "alice@example.com", "token": code})
    assert spent.json() == {"errors": ["identity.user.code_expired"]}


async def test_the_code_with_the_email_still_confirms_and_spends_the_link(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    await sign_up(api, "bob@example.com")
    link, code = await mailed(mails, "bob@example.com")
    assert link.startswith("http://127.0.0.1:8000/accounts/confirmation?confirmation_token=")

    alone = await api.post(CONFIRM, json={"token": code})  # a code needs its address
    assert (alone.status_code, alone.json()) == (422, {"errors": ["identity.user.missing_email"]})
    confirmed = await api.post(CONFIRM, json={"email": "Bob@Example.com", "token": code})
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["state"] == "active"

    used = await api.post(CONFIRM, json={"token": token_in(link, "confirmation_token")})
    assert (used.status_code, used.json()) == (422, {"errors": ["identity.user.utilized_token"]})


def resigned(token: str, key: OctKey | None) -> str:
    """``token``'s claims signed by ``key``, or unsigned (``alg: none``)."""
    claims = _claims(token.split(".")[1])
    if key is None:
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    return jwt.encode({"alg": "HS256"}, claims, key)


def _b64(document: dict[str, Any]) -> str:
    return urlsafe_b64encode(json.dumps(document).encode()).decode()


def _claims(payload: str) -> dict[str, Any]:
    padded = payload + "=" * (-len(payload) % 4)
    return dict(json.loads(base64.urlsafe_b64decode(padded)))


async def test_forged_replaced_and_expired_tokens_change_nothing(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int], clock: ManualClock
) -> None:
    mails, _ = inbox
    await sign_up(api, "carol@example.com")
    link, _ = await mailed(mails, "carol@example.com")
    token = token_in(link, "confirmation_token")
    claims = _claims(token.split(".")[1])
    assert {"sub", "uid", "email", "jti", "exp", "iat"} <= set(claims)
    assert (claims["sub"], claims["email"]) == ("confirmation", "carol@example.com")

    head, body, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    forged = [
        f"{head}.{body}.{flipped}",  # the signature altered
        resigned(token, None),  # alg: none
        resigned(token, OctKey.generate_key(256)),  # another key
        f"{head}.{_b64({**claims, 'email': 'mallory@example.com'})}.{signature}",
        "not-a-token",
        "a.b.c",
    ]
    for fake in forged:
        refused = await api.post(CONFIRM, json={"token": fake})
        assert (refused.status_code, refused.json()) == (
            422,
            {"errors": ["identity.user.invalid_token"]},
        ), fake
    other = await api.post(CONFIRM, json={"token": token, "email": "dave@example.com"})
    assert other.json() == {"errors": ["identity.user.invalid_token"]}

    # A reset token is no confirmation token (and the reverse).
    asked = await api.post(
        f"{IDENTITY}/users/password/generate_code", json={"email": "carol@example.com"}
    )
    assert asked.status_code == 201
    reset_link, _ = await mailed(mails, "carol@example.com", "reset")
    reset_token = token_in(reset_link, "reset_token")
    crossed = await api.post(CONFIRM, json={"token": reset_token})
    assert crossed.json() == {"errors": ["identity.user.invalid_token"]}
    crossed_back = await api.post(RESET, json=reset_body(token))
    assert crossed_back.json() == {"errors": ["identity.user.invalid_token"]}

    # A newer mail replaces the older link; the newer one expires with its code.
    clock.advance(CODE_RESEND_INTERVAL + timedelta(seconds=1))
    resent = await api.post(
        f"{IDENTITY}/users/email/generate_code", json={"email": "carol@example.com"}
    )
    assert resent.status_code == 201
    newer_link, _ = await mailed(mails, "carol@example.com", count=2)
    newer = token_in(newer_link, "confirmation_token")
    assert newer != token
    replaced = await api.post(CONFIRM, json={"token": token})
    assert replaced.json() == {"errors": ["identity.user.utilized_token"]}
    clock.advance(CODE_TTL)
    expired = await api.post(CONFIRM, json={"token": newer})
    assert expired.json() == {"errors": ["identity.user.invalid_token"]}

    assert await state_of(api, "carol@example.com") == "pending"


def reset_body(token: str, password: str = NEW_PASSWORD, **more: str) -> dict[str, str]:
    return {
        "reset_password_token": token,
        "password": password,
        "confirm_password": password,
        **more,
    }


async def test_password_reset_by_the_link_alone_and_by_the_code(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int], clock: ManualClock
) -> None:
    mails, _ = inbox
    await sign_up(api, "erin@example.com")
    asked = await api.post(
        f"{IDENTITY}/users/password/generate_code", json={"email": "erin@example.com"}
    )
    assert asked.status_code == 201
    link, code = await mailed(mails, "erin@example.com", "reset")
    assert link.startswith("http://127.0.0.1:8000/accounts/password_reset?reset_token=")
    token = token_in(link, "reset_token")

    mismatch = await api.post(RESET, json={**reset_body(token), "confirm_password": "Other-1!x"})
    assert mismatch.json() == {"errors": ["identity.user.passwords_doesnt_match"]}
    weak = await api.post(RESET, json=reset_body(token, "Password123!"))
    assert weak.json() == {"errors": ["password.weak"]}  # and the token is not spent
    done = await api.post(RESET, json=reset_body(token))
    assert done.status_code == 201, done.text
    again = await api.post(RESET, json=reset_body(token, "Another-Start!2028y"))
    assert (again.status_code, again.json()) == (
        422,
        {"errors": ["identity.user.utilized_token"]},
    )
    by_code = await api.post(RESET, json=reset_body(code, email="erin@example.com"))
    assert by_code.json() == {"errors": ["identity.user.code_expired"]}  # spent by the link
    logged_in = await api.post(
        f"{IDENTITY}/sessions", json={"email": "erin@example.com", "password": NEW_PASSWORD}
    )
    assert logged_in.status_code == 200, logged_in.text

    # Bursa's form still works, and spends the link mailed with the code.
    clock.advance(CODE_RESEND_INTERVAL + timedelta(seconds=1))
    await api.post(f"{IDENTITY}/users/password/generate_code", json={"email": "erin@example.com"})
    second_link, second_code = await mailed(mails, "erin@example.com", "reset", count=2)
    final = "Quiet-Harbor!7731"
    no_email = await api.post(RESET, json=reset_body(second_code, final))
    assert no_email.json() == {"errors": ["identity.user.missing_email"]}
    by_code = await api.post(RESET, json=reset_body(second_code, final, email="erin@example.com"))
    assert by_code.status_code == 201, by_code.text
    link_after = await api.post(RESET, json=reset_body(token_in(second_link, "reset_token")))
    assert link_after.json() == {"errors": ["identity.user.utilized_token"]}
    logged_in = await api.post(
        f"{IDENTITY}/sessions", json={"email": "erin@example.com", "password": final}
    )
    assert logged_in.status_code == 200, logged_in.text


async def test_tokens_never_reach_events_or_activities(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    await sign_up(api, "frank@example.com")
    link, _ = await mailed(mails, "frank@example.com")
    token = token_in(link, "confirmation_token")
    assert (await api.post(CONFIRM, json={"token": token})).status_code == 201
    signature = token.rsplit(".", 1)[1]
    rows = await sql(api, "SELECT events::text AS t FROM event_outbox")
    rows += await sql(api, "SELECT coalesce(data, '') || action AS t FROM activities")
    rows += await sql(api, "SELECT sealed AS t FROM token_keys")
    assert rows and all(signature not in row["t"] for row in rows)


class ExactAnswer:
    """A provider for the gate's own tests: it knows one solved response (as a real
    provider's servers would know theirs) and refuses every other; ``"down"`` is its
    servers failing."""

    name = "exact-answer"

    async def verify(self, response: captcha.CaptchaResponse, client_ip: str) -> bool:
        if response == "down":
            raise ConnectionError("provider unreachable")
        return response == "solved-42" and client_ip == "203.0.113.7"

    async def challenge(self) -> dict[str, Any]:
        return {"gt": "exact-answer", "challenge": "c-42", "success": 1}


class NotAProvider:
    name = "half"


async def test_register_geetest_refuses_while_the_captcha_is_off(api: httpx.AsyncClient) -> None:
    off = await api.get(f"{IDENTITY}/users/register_geetest")
    assert (off.status_code, off.json()) == (404, {"errors": ["identity.captcha.disabled"]})
    # Off by default: sign-up needs no captcha_response, and one given is ignored.
    plain = await api.post(
        f"{IDENTITY}/users",
        json={"email": "gina@example.com", "password": PASSWORD, "captcha_response": "x"},
    )
    assert plain.status_code == 201, plain.text


async def test_a_configured_provider_guards_sign_up_and_the_mails(api: httpx.AsyncClient) -> None:
    identity_of(api).captcha = captcha.gate_for(f"{__name__}:ExactAnswer")
    url = f"{IDENTITY}/users"

    def body(**more: Any) -> dict[str, Any]:
        return {"email": "hank@example.com", "password": PASSWORD, **more}

    missing = await api.post(url, json=body())
    assert (missing.status_code, missing.json()) == (
        400,
        {"errors": ["identity.captcha.required"]},
    )
    for wrong in ("solved-41", "down", {"geetest_challenge": "c-42"}):
        refused = await api.post(url, json=body(captcha_response=wrong))
        assert (refused.status_code, refused.json()) == (
            422,
            {"errors": ["identity.captcha.verification_failed"]},
        ), wrong
    signed_up = await api.post(url, json=body(captcha_response="solved-42"))
    assert signed_up.status_code == 201, signed_up.text
    for mail_request in ("email/generate_code", "password/generate_code"):
        unsolved = await api.post(
            f"{IDENTITY}/users/{mail_request}", json={"email": "hank@example.com"}
        )
        assert unsolved.json() == {"errors": ["identity.captcha.required"]}
    challenge = await api.get(f"{IDENTITY}/users/register_geetest")
    assert challenge.json() == {"gt": "exact-answer", "challenge": "c-42", "success": 1}


def test_switching_the_captcha_on_without_a_provider_stops_the_start() -> None:
    for reference in ("no_such_module:factory", "json", f"{__name__}:missing"):
        with pytest.raises(captcha.CaptchaConfigError):
            captcha.gate_for(reference)
        with pytest.raises(ValidationError):
            Settings(captcha_provider=reference)
    with pytest.raises(captcha.CaptchaConfigError, match="not a captcha provider"):
        captcha.gate_for(f"{__name__}:NotAProvider")
    assert not captcha.gate_for(None).on
    assert Settings().captcha_provider is None
    with pytest.raises(ValidationError):
        Settings(confirmation_path="https://elsewhere.example/x?t=")
