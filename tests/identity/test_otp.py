"""Two-factor authentication over HTTP: seed shown once and sealed by the key store, codes
accepted once, required at login and for password changes."""

import asyncio
import base64
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    PASSWORD,
    RESOURCE,
    api,
    inbox,
    sign_up,
    sql,
)


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).at(step * 30))


async def test_two_factor_life_cycle(api: httpx.AsyncClient) -> None:
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

    # keep the whole exchange inside one window of three 30-second steps
    if time.time() % 30 > 20:
        await asyncio.sleep(30 - time.time() % 30 + 0.5)
    base = int(time.time() // 30)

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

    # the next step's code turns 2FA off (wait until it is within the accepted window)
    await asyncio.sleep(max(0.0, (base + 1) * 30 - time.time()) + 0.2)
    disabled = await api.post(
        f"{RESOURCE}/otp/disable", json={"code": code_at(secret, base + 2)}, headers=csrf
    )
    assert disabled.status_code == 201, disabled.text
    stored = (await sql(api, "SELECT otp, otp_secret FROM users"))[0]
    assert (stored["otp"], stored["otp_secret"]) == (False, None)
    plain = await api.post(f"{IDENTITY}/sessions", json=login)
    assert plain.status_code == 200
