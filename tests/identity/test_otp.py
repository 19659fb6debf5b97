"""Two-factor authentication over HTTP: seed shown once and sealed by the key store, codes
accepted once, required at login and for password changes; wrong codes lock like wrong
passwords and count against the address."""

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest

from bursa.clock import ManualClock
from bursa.identity.limits import LOGIN_FAILURES_PER_IP
from bursa.identity.service import LOGIN_ATTEMPTS
from bursa.identity.totp import STEP_S
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    AGENT,
    IDENTITY,
    PASSWORD,
    RESOURCE,
    api,
    clock,
    clock_of,
    inbox,
    sign_up,
    sql,
)
from tests.identity.test_limits import start_of_window


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).at(step * 30))


async def test_two_factor_life_cycle(api: httpx.AsyncClient, clock: ManualClock) -> None:
    signed_up = await sign_up(api, "olga@example.com")
    csrf = {"X-CSRF-Token": signed_up["csrf_token"]}

    generated = await api.post(f"{RESOURCE}/otp/generate_qrcode", headers=csrf)
    assert generated.status_code == 201, generated.text
    data = generated.json()["data"]
    url = urlsplit(data["url"])
    assert url.scheme == "otpauth"
    assert "olga%40example.com" in url.path or "olga@example.com" in url.path
    secret = parse_qs(url.query)["secret"][0]
    assert parse_qs(url.query)["issuer"] == ["Bursa"]
    assert base64.b64decode(data["barcode"]).startswith(b"\x89PNG")
    stored = (await sql(api, "SELECT otp, otp_secret FROM users"))[0]
    assert stored["otp"] is False
    assert stored["otp_secret"].startswith("local:v1:")
    assert secret not in stored["otp_secret"]

    base = int(clock.time() // STEP_S)  # the clock stands still: every code below stays valid

    wrong = await api.post(f"{RESOURCE}/otp/enable", json={"code": "000000"}, headers=csrf)
    if code_at(secret, base) != "000000":
        assert wrong.json() == {"errors": ["resource.otp.invalid"]}
    enabled = await api.post(
        f"{RESOURCE}/otp/enable", json={"code": code_at(secret, base - 1)}, headers=csrf
    )
    assert enabled.status_code == 201, enabled.text
    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert me["otp"] is True
    assert ("otp", "enabled") in {(label["key"], label["value"]) for label in me["labels"]}
    again = await api.post(f"{RESOURCE}/otp/generate_qrcode", headers=csrf)
    assert again.json() == {"errors": ["resource.otp.already_enabled"]}

    login = {"email": "olga@example.com", "password": PASSWORD}
    missing = await api.post(f"{IDENTITY}/sessions", json=login)
    assert missing.status_code == 401
    assert missing.json() == {"errors": ["identity.session.missing_otp"]}
    reused = await api.post(
        f"{IDENTITY}/sessions", json=login | {"otp_code": code_at(secret, base - 1)}
    )
    assert reused.status_code == 403
    assert reused.json() == {"errors": ["identity.session.invalid_otp"]}
    ok = await api.post(f"{IDENTITY}/sessions", json=login | {"otp_code": code_at(secret, base)})
    assert ok.status_code == 200, ok.text
    csrf = {"X-CSRF-Token": ok.json()["csrf_token"]}
    replay = await api.post(
        f"{IDENTITY}/sessions", json=login | {"otp_code": code_at(secret, base)}
    )
    assert replay.json() == {"errors": ["identity.session.invalid_otp"]}
    relogin = await api.post(
        f"{IDENTITY}/sessions", json=login | {"otp_code": code_at(secret, base + 1)}
    )
    assert relogin.status_code == 200, relogin.text
    csrf = {"X-CSRF-Token": relogin.json()["csrf_token"]}

    change = {
        "old_password": PASSWORD,
        "new_password": "Quiet-Harbor!7731",
        "confirm_password": "Quiet-Harbor!7731",
    }
    no_code = await api.put(f"{RESOURCE}/users/password", json=change, headers=csrf)
    assert no_code.json() == {"errors": ["resource.password.missing_otp"]}
    used_code = await api.put(
        f"{RESOURCE}/users/password",
        json=change | {"otp_code": code_at(secret, base + 1)},
        headers=csrf,
    )
    assert used_code.json() == {"errors": ["resource.password.invalid_otp"]}
    disable_used = await api.post(
        f"{RESOURCE}/otp/disable", json={"code": code_at(secret, base + 1)}, headers=csrf
    )
    assert disable_used.json() == {"errors": ["resource.otp.invalid_otp"]}
    assert (await sql(api, "SELECT otp FROM users"))[0]["otp"] is True

    # the next step's code turns 2FA off (once the clock is within its accepted window)
    clock.advance(STEP_S)
    disabled = await api.post(
        f"{RESOURCE}/otp/disable", json={"code": code_at(secret, base + 2)}, headers=csrf
    )
    assert disabled.status_code == 201, disabled.text
    stored = (await sql(api, "SELECT otp, otp_secret FROM users"))[0]
    assert (stored["otp"], stored["otp_secret"]) == (False, None)
    plain = await api.post(f"{IDENTITY}/sessions", json=login)
    assert plain.status_code == 200


# ---------------------------------------------------------------- wrong codes lock

ARABIC = "١٢٣٤٥٦"  # six digits, but not ASCII ones: never a code
PEATIO = "/api/v2/peatio/account"


def wrong_code(totp: pyotp.TOTP, clock: ManualClock) -> str:
    """A code of no step the server could accept during the test."""
    now = clock.time()
    near = {totp.at(now + 30 * d) for d in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(0, 10**6, 7919)) if c not in near)


async def member_with_2fa(
    api: httpx.AsyncClient, email: str
) -> tuple[httpx.AsyncClient, dict[str, str], pyotp.TOTP]:
    """An active member (a client of their own, signed in) who has turned 2FA on."""
    app: Any = api._transport.app  # type: ignore[attr-defined]
    await app.state.identity.create_user(email, PASSWORD, "member")
    client = httpx.AsyncClient(
        transport=api._transport, base_url="http://testserver", headers=AGENT
    )
    login = await client.post(f"{IDENTITY}/sessions", json={"email": email, "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    generated = await client.post(f"{RESOURCE}/otp/generate_qrcode", headers=csrf)
    totp = pyotp.TOTP(parse_qs(urlsplit(generated.json()["data"]["url"]).query)["secret"][0])
    code = totp.at(clock_of(api).time())
    enabled = await client.post(f"{RESOURCE}/otp/enable", json={"code": code}, headers=csrf)
    assert enabled.status_code == 201, enabled.text
    return client, csrf, totp


async def log_in(api: httpx.AsyncClient, email: str, code: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=api._transport, base_url="http://testserver", headers=AGENT
    ) as browser:
        body = {"email": email, "password": PASSWORD, "otp_code": code}
        return await browser.post(f"{IDENTITY}/sessions", json=body)


# action → (send a code, [status, code] of a wrong one, of an unreadable one, when locked)
LOCKING: dict[str, tuple[str, tuple[int, str], tuple[int, str], tuple[int, str]]] = {
    "login": (
        "login",
        (403, "identity.session.invalid_otp"),
        (422, "identity.session.invalid_otp"),
        (401, "identity.session.locked"),
    ),
    "otp disable": (
        f"{RESOURCE}/otp/disable",
        (422, "resource.otp.invalid_otp"),
        (422, "resource.otp.invalid_otp"),
        (403, "resource.otp.otp_locked"),
    ),
    "api key create": (
        f"{RESOURCE}/api_keys",
        (422, "resource.api_key.invalid_otp"),
        (422, "resource.api_key.invalid_otp"),
        (403, "resource.api_key.otp_locked"),
    ),
    "internal transfer": (
        f"{PEATIO}/internal_transfers",
        (422, "account.internal_transfer.invalid_otp"),
        (422, "account.internal_transfer.non_integer_otp"),
        (403, "account.internal_transfer.otp_locked"),
    ),
}


@pytest.mark.parametrize("action", LOCKING)
async def test_wrong_codes_lock_like_wrong_passwords(
    api: httpx.AsyncClient, clock: ManualClock, action: str
) -> None:
    """Eight wrong codes (one of them in Arabic-Indic digits) after the right password or
    on an action that asks a code: the first five are wrong, then codes are locked, the
    right one too, and so is the login."""
    email = "vera@example.com"
    client, csrf, totp = await member_with_2fa(api, email)
    path, wrong, unreadable, locked = LOCKING[action]
    await sql(
        api,
        "INSERT INTO users (uid, email, password_hash, state) "
        "VALUES ('IDRECEIVER1', 'r@x.io', '-', 'active')",
    )

    async def send(code: str) -> httpx.Response:
        if path == "login":
            return await log_in(api, email, code)
        body = {
            f"{RESOURCE}/otp/disable": {"code": code},
            f"{RESOURCE}/api_keys": {"algorithm": "HS256", "totp_code": code},
            f"{PEATIO}/internal_transfers": {
                "currency": "usdt", "amount": "1", "username_or_uid": "IDRECEIVER1", "otp": code
            },
        }[path]  # fmt: skip
        return await client.post(path, json=body, headers=csrf)

    for n in range(8):
        answer = await send(ARABIC if n == 1 else wrong_code(totp, clock))
        expected = locked if n >= LOGIN_ATTEMPTS else unreadable if n == 1 else wrong
        assert (answer.status_code, answer.json()) == (expected[0], {"errors": [expected[1]]}), n
    await sql(api, "UPDATE users SET otp_last_step = NULL")  # the right code, not used yet
    right = await send(totp.at(clock.time()))
    assert (right.status_code, right.json()) == (locked[0], {"errors": [locked[1]]})
    if path != "login":  # (the login just tried; another would pass the per-email limit)
        login = await log_in(api, email, totp.at(clock.time()))
        assert login.json() == {"errors": ["identity.session.locked"]}
    (user,) = await sql(api, "SELECT otp, otp_locked_until FROM users WHERE email = $1", email)
    assert user["otp"] is True  # nothing the codes guarded happened
    assert user["otp_locked_until"] is not None
    assert await sql(api, "SELECT 1 FROM api_keys") == []
    await client.aclose()


async def test_wrong_codes_count_with_failed_logins_per_address(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    """Failed logins and wrong codes from one address add up to the same block, with the
    same setting (``LOGIN_FAILURES_PER_IP``); a Peatio ``otp`` in other digits is refused
    before anything else and counted."""
    client, csrf, totp = await member_with_2fa(api, "wes@example.com")
    await start_of_window(LOGIN_FAILURES_PER_IP.window_s, margin_s=20)
    guesses = LOGIN_FAILURES_PER_IP.limit - (LOGIN_ATTEMPTS - 1)
    for n in range(guesses):  # failed logins (of addresses that cannot even exist: quick)
        failed = await api.post(
            f"{IDENTITY}/sessions", json={"email": f"nobody-{n}", "password": "Nope-1234!x"}
        )
        assert failed.json() == {"errors": ["identity.session.invalid_params"]}
    await sql(api, "UPDATE users SET level = 3")  # may withdraw
    unreadable = await client.post(
        f"{PEATIO}/withdraws",
        json={"currency": "btc", "amount": "0.1", "beneficiary_id": 1, "otp": ARABIC},
        headers=csrf,
    )
    assert unreadable.json() == {"errors": ["account.withdraw.non_integer_otp"]}
    for _ in range(LOGIN_ATTEMPTS - 2):  # one short of locking the account
        answer = await client.post(
            f"{RESOURCE}/otp/disable", json={"code": wrong_code(totp, clock)}, headers=csrf
        )
        assert answer.json() == {"errors": ["resource.otp.invalid_otp"]}
    await sql(api, "UPDATE users SET otp_last_step = NULL")
    code = totp.at(clock.time())
    blocked = await client.post(f"{RESOURCE}/otp/disable", json={"code": code}, headers=csrf)
    assert blocked.status_code == 429
    assert blocked.json() == {"errors": ["resource.otp.too_many_failures"]}
    assert 1 <= int(blocked.headers["Retry-After"]) <= LOGIN_FAILURES_PER_IP.window_s + 1
    login = await log_in(api, "wes@example.com", code)
    assert login.json() == {"errors": ["identity.session.too_many_failures"]}
    (user,) = await sql(api, "SELECT otp, otp_locked_until FROM users WHERE otp")
    assert user["otp_locked_until"] is None  # the address is blocked, not the account
    await client.aclose()
