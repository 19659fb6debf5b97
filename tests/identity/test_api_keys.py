"""API keys over HTTP: created only with 2FA, secret shown once and sealed at rest,
requests signed as Barong signs them, a nonce never accepted twice, scopes enforced."""

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest

from bursa.clock import Clock, ManualClock
from bursa.identity import api_keys as module
from bursa.identity.limits import Rule
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    api,
    clock,
    clock_of,
    inbox,
    sign_up,
    sql,
)
from tests.identity.test_limits import start_of_window

_last_nonce = [0]


def signed(kid: str, secret: str, clock: Clock, nonce: int | None = None) -> dict[str, str]:
    """Signature headers; without ``nonce``, the server's ``clock`` in milliseconds, made to
    grow by at least one between calls (a clock standing still gives the same millisecond)."""
    if nonce is None:
        nonce = _last_nonce[0] = max(int(clock.time() * 1000), _last_nonce[0] + 1)
    stamp = str(nonce)
    signature = hmac.new(secret.encode(), (stamp + kid).encode(), hashlib.sha256).hexdigest()
    return {"X-Auth-Apikey": kid, "X-Auth-Nonce": stamp, "X-Auth-Signature": signature}


async def member_with_2fa(client: httpx.AsyncClient, email: str) -> tuple[dict[str, str], Any]:
    user = await sign_up(client, email)
    csrf = {"X-CSRF-Token": user["csrf_token"]}
    data = (await client.post(f"{RESOURCE}/otp/generate_qrcode", headers=csrf)).json()["data"]
    totp = pyotp.TOTP(parse_qs(urlsplit(data["url"]).query)["secret"][0])
    step = int(clock_of(client).time() // 30)  # it stands still: the test's codes stay valid
    enabled = await client.post(
        f"{RESOURCE}/otp/enable", json={"code": totp.at((step - 1) * 30)}, headers=csrf
    )
    assert enabled.status_code == 201, enabled.text
    return csrf, (totp, step)


async def test_api_key_life_cycle_and_signed_requests(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    no_2fa = await sign_up(api, "nick@example.com")
    refused = await api.post(
        f"{RESOURCE}/api_keys",
        json={"scope": "read"},
        headers={"X-CSRF-Token": no_2fa["csrf_token"]},
    )
    assert refused.json() == {"errors": ["resource.api_key.2fa_disabled"]}
    api.cookies.clear()

    csrf, (totp, step) = await member_with_2fa(api, "peggy@example.com")
    missing = await api.post(f"{RESOURCE}/api_keys", json={"scope": "read"}, headers=csrf)
    assert missing.json() == {"errors": ["resource.api_key.missing_otp"]}
    bad_scope = await api.post(
        f"{RESOURCE}/api_keys",
        json={"scope": "read,everything", "totp_code": totp.at(step * 30)},
        headers=csrf,
    )
    assert bad_scope.json() == {"errors": ["resource.api_key.invalid_scope"]}
    created = await api.post(
        f"{RESOURCE}/api_keys",
        json={"scope": "read", "totp_code": totp.at(step * 30)},
        headers=csrf,
    )
    assert created.status_code == 201, created.text
    key = created.json()
    kid, secret = key["kid"], key["secret"]
    assert len(kid) == 16
    assert len(secret) == 32
    assert key["scope"] == ["read"]
    listed = (await api.get(f"{RESOURCE}/api_keys")).json()
    assert [k["kid"] for k in listed] == [kid]
    assert listed[0]["secret"] is None
    stored = (await sql(api, "SELECT secret FROM api_keys"))[0]["secret"]
    assert stored.startswith("local:v1:")
    assert secret not in stored

    api.cookies.clear()  # from here on, only the signature identifies the caller
    headers = signed(kid, secret, clock)
    me = await api.get(f"{RESOURCE}/users/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "peggy@example.com"
    replayed = await api.get(f"{RESOURCE}/users/me", headers=headers)
    assert replayed.status_code == 401
    assert replayed.json() == {"errors": ["authz.nonce_reused"]}
    stale = await api.get(
        f"{RESOURCE}/users/me", headers=signed(kid, secret, clock, int(clock.time() * 1000) - 6000)
    )
    assert stale.json() == {"errors": ["authz.nonce_expired"]}
    forged = await api.get(f"{RESOURCE}/users/me", headers=signed(kid, "0" * 32, clock))
    assert forged.json() == {"errors": ["authz.invalid_signature"]}
    unknown = await api.get(f"{RESOURCE}/users/me", headers=signed("f" * 16, secret, clock))
    assert unknown.json() == {"errors": ["authz.unexistent_apikey"]}
    partial = await api.get(f"{RESOURCE}/users/me", headers={"X-Auth-Apikey": kid})
    assert partial.status_code == 422
    assert partial.json() == {"errors": ["authz.invalid_api_key_headers"]}
    # account security is never reachable with a key
    keys_with_key = await api.get(f"{RESOURCE}/api_keys", headers=signed(kid, secret, clock))
    assert keys_with_key.json() == {"errors": ["authz.invalid_session"]}


async def test_scope_state_and_deletion(api: httpx.AsyncClient, clock: ManualClock) -> None:
    csrf, (totp, step) = await member_with_2fa(api, "quinn@example.com")
    created = await api.post(
        f"{RESOURCE}/api_keys",
        json={"scope": "trade", "totp_code": totp.at(step * 30)},
        headers=csrf,
    )
    kid, secret = created.json()["kid"], created.json()["secret"]
    session_cookie = api.cookies["_barong_session"]
    api.cookies.clear()
    narrow = await api.get(f"{RESOURCE}/users/me", headers=signed(kid, secret, clock))
    assert narrow.status_code == 403
    assert narrow.json() == {"errors": ["authz.insufficient_scope"]}

    api.cookies.set("_barong_session", session_cookie)
    disabled = await api.patch(
        f"{RESOURCE}/api_keys/{kid}",
        json={"state": "inactive", "scope": "read,trade", "totp_code": totp.at((step + 1) * 30)},
        headers=csrf,
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["state"] == "inactive"
    api.cookies.clear()
    off = await api.get(f"{RESOURCE}/users/me", headers=signed(kid, secret, clock))
    assert off.json() == {"errors": ["authz.apikey_not_active"]}

    api.cookies.set("_barong_session", session_cookie)
    wrong_code = await api.request(
        "DELETE", f"{RESOURCE}/api_keys/{kid}", json={"totp_code": "123456"}, headers=csrf
    )
    assert wrong_code.status_code == 422
    await sql(api, "UPDATE users SET otp_last_step = NULL")  # let this step's code count again
    deleted = await api.request(
        "DELETE",
        f"{RESOURCE}/api_keys/{kid}",
        json={"totp_code": totp.at(step * 30)},
        headers=csrf,
    )
    assert deleted.status_code == 204, deleted.text
    assert await sql(api, "SELECT 1 FROM api_keys") == []


async def test_signed_requests_are_rate_limited_per_key_and_failures_per_address(
    api: httpx.AsyncClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "API_KEY_PER_KEY", Rule("apikey-kid-test", 3))
    csrf, (totp, step) = await member_with_2fa(api, "rita@example.com")
    key = (
        await api.post(
            f"{RESOURCE}/api_keys",
            json={"scope": "read", "totp_code": totp.at(step * 30)},
            headers=csrf,
        )
    ).json()
    api.cookies.clear()
    await start_of_window(60)
    me = f"{RESOURCE}/users/me"
    answers = [
        (await api.get(me, headers=signed(key["kid"], key["secret"], clock))) for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json() == {"errors": ["authz.rate_limit.exceeded"]}
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 61
    via_gateway = await api.get(
        "/api/v2/auth/api/v2/peatio/account/balances",
        headers=signed(key["kid"], key["secret"], clock),
    )
    assert via_gateway.status_code == 429
    assert "Retry-After" in via_gateway.headers

    # Thirty refused signatures from one address stop it, even with a good signature.
    for _ in range(30):
        forged = await api.get(me, headers=signed("0" * 16, "not-the-secret", clock))
        assert forged.status_code == 401
    stopped = await api.get(me, headers=signed("1" * 16, "x", clock))
    assert stopped.status_code == 429
