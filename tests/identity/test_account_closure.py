"""A member closes their account: the password (and the 2FA code) are checked, then the
state is ``deleted``, every session ends, every API key is off, an event goes out; a
wrong password changes nothing and is rate-limited."""

from typing import Any

import httpx

from bursa.clock import ManualClock
from tests.identity.test_api_keys import member_with_2fa, signed
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    AGENT,
    IDENTITY,
    PASSWORD,
    RESOURCE,
    api,
    clock,
    inbox,
    outbox_events,
    sign_up,
    sql,
)
from tests.identity.test_limits import start_of_window

ME = f"{RESOURCE}/users/me"


async def close(client: httpx.AsyncClient, headers: dict[str, str], **body: str) -> httpx.Response:
    return await client.request("DELETE", ME, json=body or None, headers=headers)


async def state_of(api: httpx.AsyncClient, email: str) -> str:
    rows = await sql(api, "SELECT state FROM users WHERE email = $1", email)
    return str(rows[0]["state"])


async def test_closing_an_account_with_2fa(api: httpx.AsyncClient, clock: ManualClock) -> None:
    email = "quinn@example.com"
    csrf, (totp, step) = await member_with_2fa(api, email)
    created = await api.post(
        f"{RESOURCE}/api_keys",
        json={"scope": "read", "totp_code": totp.at(step * 30)},
        headers=csrf,
    )
    assert created.status_code == 201, created.text
    kid, secret = created.json()["kid"], created.json()["secret"]
    before = await state_of(api, email)

    no_body = await close(api, csrf)
    assert no_body.json() == {"errors": ["resource.user.missing_password"]}
    in_query = await api.delete(ME, params={"password": PASSWORD}, headers=csrf)
    assert in_query.json() == {"errors": ["resource.user.password_in_query"]}
    wrong = await close(api, csrf, password="Not-Mine!2024x", otp_code=totp.at((step + 1) * 30))
    assert wrong.status_code == 422
    assert wrong.json() == {"errors": ["resource.user.invalid_password"]}
    no_otp = await close(api, csrf, password=PASSWORD)
    assert no_otp.json() == {"errors": ["resource.user.missing_otp"]}
    bad_otp = await close(api, csrf, password=PASSWORD, otp_code=totp.at((step - 10) * 30))
    assert bad_otp.json() == {"errors": ["resource.user.invalid_otp"]}
    # nothing changed: same state, no delete label, the key and the session still work
    assert await state_of(api, email) == before
    assert await sql(api, "SELECT 1 FROM labels WHERE key = 'delete'") == []
    assert (await api.get(ME)).status_code == 200

    seen = len(await outbox_events(api))
    closed = await close(api, csrf, password=PASSWORD, otp_code=totp.at((step + 1) * 30))
    assert closed.status_code == 204, closed.text
    events = (await outbox_events(api))[seen:]
    assert [e["name"] for e in events] == [
        "model.label.created",
        "model.user.updated",
        "system.user.account.deleted",
    ]
    assert events[1]["changes"] == {"state": before}  # previous values, as Barong's
    assert events[1]["record"]["state"] == "deleted"
    record: dict[str, Any] = events[2]["record"]
    assert (record["user"]["email"], record["user"]["state"]) == (email, "deleted")
    assert PASSWORD not in repr(events)
    assert totp.at((step + 1) * 30) not in repr(events)

    assert await state_of(api, email) == "deleted"
    labels = await sql(api, "SELECT key, value, scope FROM labels WHERE key = 'delete'")
    assert [tuple(r) for r in labels] == [("delete", "by_user", "private")]
    assert await sql(api, "SELECT 1 FROM user_sessions") == []
    assert [r["state"] for r in await sql(api, "SELECT state FROM api_keys")] == ["inactive"]
    assert (await api.get(ME)).json() == {"errors": ["authz.invalid_session"]}
    api.cookies.clear()
    with_key = await api.get(ME, headers=signed(kid, secret, clock))
    assert with_key.status_code == 401
    login = await api.post(
        f"{IDENTITY}/sessions",
        json={"email": email, "password": PASSWORD, "otp_code": totp.at((step + 1) * 30)},
    )
    assert login.json() == {"errors": ["identity.session.deleted"]}
    actions = await sql(
        api, "SELECT action, result FROM activities WHERE topic = 'account' AND action = 'delete'"
    )
    assert [tuple(r) for r in actions] == [("delete", "failed"), ("delete", "succeed")]


async def test_closing_ends_every_session_and_wrong_passwords_are_limited(
    api: httpx.AsyncClient,
) -> None:
    email = "rosa@example.com"
    csrf = {"X-CSRF-Token": (await sign_up(api, email))["csrf_token"]}
    async with httpx.AsyncClient(
        transport=api._transport, base_url="http://testserver", headers=AGENT
    ) as laptop:
        logged = await laptop.post(
            f"{IDENTITY}/sessions", json={"email": email, "password": PASSWORD}
        )
        assert logged.status_code == 200
        no_csrf = await close(api, {}, password=PASSWORD)
        assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
        closed = await close(api, csrf, password=PASSWORD)
        assert closed.status_code == 204, closed.text
        assert "_barong_session" not in api.cookies
        assert (await laptop.get(ME)).json() == {"errors": ["authz.invalid_session"]}
    assert await state_of(api, email) == "deleted"

    other = "sam@example.com"
    api.cookies.clear()
    csrf = {"X-CSRF-Token": (await sign_up(api, other))["csrf_token"]}
    await start_of_window(60)
    for _ in range(5):
        wrong = await close(api, csrf, password="Not-Mine!2024x")
        assert wrong.json() == {"errors": ["resource.user.invalid_password"]}
    limited = await close(api, csrf, password=PASSWORD)
    assert limited.status_code == 429
    assert limited.json() == {"errors": ["identity.rate_limit.exceeded"]}
    assert int(limited.headers["Retry-After"]) > 0
    assert await state_of(api, other) == "pending"


async def test_member_sets_their_data_field(api: httpx.AsyncClient) -> None:
    csrf = {"X-CSRF-Token": (await sign_up(api, "dora@example.com"))["csrf_token"]}
    changed = await api.put(ME, json={"data": '{"language": "de"}'}, headers=csrf)
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"] == '{"language": "de"}'
    assert (await api.get(ME)).json()["data"] == '{"language": "de"}'
    for data, code in [
        ("not json", "resource.user.invalid_data"),
        ('["a list"]', "resource.user.invalid_data"),
        ('{"x": "' + "y" * 1100 + '"}', "resource.user.data_too_long"),
    ]:
        refused = await api.put(ME, json={"data": data}, headers=csrf)
        assert refused.status_code == 422
        assert refused.json() == {"errors": [code]}
    no_csrf = await api.put(ME, json={"data": "{}"})
    assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
    assert (await api.get(ME)).json()["data"] == '{"language": "de"}'
