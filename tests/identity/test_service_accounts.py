"""Service accounts: created and disabled by admins, their keys managed by the owner with 2FA,
and a request signed with such a key authorized as the service account (its role's
permissions, Barong's service account claims) only while it and its owner are active."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

from bursa.clock import ManualClock
from bursa.identity.permissions import DEFAULT_PERMISSIONS
from tests.identity.test_api_keys import signed
from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    Inbox,
    api,
    clock,
    clock_of,
    inbox,
    sign_up,
    sql,
)
from tests.identity.test_kyc import confirmed_member

ADMIN = "/api/v2/barong/admin"
AUTH = "/api/v2/auth"
SA_KEYS = f"{RESOURCE}/service_accounts/api_keys"


class Owner:
    """A confirmed member with 2FA; ``code()`` gives a code the server has not seen yet."""

    def __init__(self, client: httpx.AsyncClient, csrf: dict[str, str], totp: Any) -> None:
        self.client, self.csrf, self.totp = client, csrf, totp

    async def code(self) -> str:
        # Each code works once (per 30 s step); forget the last step so that a test may
        # make more 2FA-guarded calls than one step allows.
        await sql(self.client, "UPDATE users SET otp_last_step = NULL")
        return str(self.totp.at(clock_of(self.client).time()))


async def owner_with_2fa(client: httpx.AsyncClient, mails: Inbox, email: str) -> Owner:
    csrf = await confirmed_member(client, mails, email)
    data = (await client.post(f"{RESOURCE}/otp/generate_qrcode", headers=csrf)).json()["data"]
    totp = pyotp.TOTP(parse_qs(urlsplit(data["url"]).query)["secret"][0])
    code = totp.at(clock_of(client).time())  # the clock stands still: no step ends meanwhile
    enabled = await client.post(f"{RESOURCE}/otp/enable", json={"code": code}, headers=csrf)
    assert enabled.status_code == 201, enabled.text
    return Owner(client, csrf, totp)


async def test_admins_create_list_and_refuse_service_accounts(
    api: httpx.AsyncClient,
    inbox: tuple[Inbox, int],
    clients: dict[str, tuple[httpx.AsyncClient, str]],
) -> None:
    await confirmed_member(api, inbox[0], "otto@example.com")
    owner_uid = (await api.get(f"{RESOURCE}/users/me")).json()["uid"]
    pending_uid = (await sign_up(api, "paul@example.com"))["uid"]
    admin, csrf = clients["admin"]
    headers = {"X-CSRF-Token": csrf}
    url = f"{ADMIN}/service_accounts"
    new = {"owner_uid": owner_uid, "service_account_role": "sa_maker"}

    refusals = [
        (new | {"owner_uid": "ID0000000000"}, "admin.user.doesnt_exist"),
        (new | {"owner_uid": pending_uid}, "admin.service_account.owner_not_active"),
        (new | {"service_account_role": "superadmin"}, "admin.service_account.invalid_role"),
        (new | {"service_account_role": "sa_taker"}, "admin.service_account.role_doesnt_exist"),
        (new | {"service_account_email": "otto@example.com"}, "admin.service_account.email_taken"),
        (new | {"service_account_email": "not-an-address"}, "admin.service_account.invalid_email"),
    ]
    for body, code in refusals:
        refused = await admin.post(url, json=body, headers=headers)
        assert refused.json() == {"errors": [code]}, body
    assert (await admin.post(url, json=new)).json() == {"errors": ["authz.missing_csrf_token"]}
    technical, technical_csrf = clients["technical"]
    read_only = await technical.post(url, json=new, headers={"X-CSRF-Token": technical_csrf})
    assert read_only.json() == {"errors": ["authz.invalid_permission"]}
    member, member_csrf = clients["member"]
    denied = await member.post(url, json=new, headers={"X-CSRF-Token": member_csrf})
    assert denied.json() == {"errors": ["authz.invalid_permission"]}
    assert await sql(api, "SELECT 1 FROM service_accounts") == []

    created = await admin.post(url, json=new, headers=headers)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["uid"].startswith("SI") and len(account["uid"]) == 12
    assert account["email"] == f"otto+{account['uid'].lower()}@example.com"
    assert (account["role"], account["state"], account["level"]) == ("sa_maker", "active", 1)
    assert account["user"]["uid"] == owner_uid
    named = await admin.post(
        url, json=new | {"service_account_email": "Bot@Example.com"}, headers=headers
    )
    assert named.json()["email"] == "bot@example.com"
    taken = await admin.post(
        url, json=new | {"service_account_email": "bot@example.com"}, headers=headers
    )
    assert taken.json() == {"errors": ["admin.service_account.email_taken"]}

    listed = await technical.get(url, params={"owner_uid": owner_uid})
    assert [a["uid"] for a in listed.json()] == [account["uid"], named.json()["uid"]]
    assert listed.headers["Total"] == "2"
    assert (await technical.get(url, params={"owner_uid": pending_uid})).json() == []
    bad_state = await technical.get(url, params={"state": "sleeping"})
    assert bad_state.json() == {"errors": ["admin.service_account.invalid_state"]}
    mine = await api.get(f"{RESOURCE}/service_accounts")  # api's cookie: paul, not otto
    assert mine.json() == []

    gone = await admin.delete(f"{url}/SI0000000000", headers=headers)
    assert gone.status_code == 404
    assert gone.json() == {"errors": ["admin.service_account.doesnt_exist"]}
    disabled = await admin.delete(f"{url}/{account['uid']}", headers=headers)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["state"] == "disabled"
    active = await technical.get(url, params={"state": "active"})
    assert [a["uid"] for a in active.json()] == [named.json()["uid"]]


async def test_service_account_keys_authorize_as_the_service_account(
    api: httpx.AsyncClient,
    inbox: tuple[Inbox, int],
    clients: dict[str, tuple[httpx.AsyncClient, str]],
    clock: ManualClock,
) -> None:
    owner = await owner_with_2fa(api, inbox[0], "olga@example.com")
    owner_uid = (await api.get(f"{RESOURCE}/users/me")).json()["uid"]
    admin, admin_csrf = clients["admin"]
    admin_headers = {"X-CSRF-Token": admin_csrf}
    account = (
        await admin.post(
            f"{ADMIN}/service_accounts",
            json={"owner_uid": owner_uid, "service_account_role": "sa_maker"},
            headers=admin_headers,
        )
    ).json()
    sa_uid = account["uid"]
    assert [a["uid"] for a in (await api.get(f"{RESOURCE}/service_accounts")).json()] == [sa_uid]

    body = {"service_account_uid": sa_uid, "scope": "trade"}
    missing = await api.post(SA_KEYS, json=body, headers=owner.csrf)
    assert missing.json() == {"errors": ["resource.api_key.missing_otp"]}
    unknown = await api.post(
        SA_KEYS, json=body | {"service_account_uid": "SI0000000000"}, headers=owner.csrf
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"errors": ["resource.service_account.doesnt_exist"]}
    bad_scope = await api.post(
        SA_KEYS, json=body | {"scope": "all", "totp_code": await owner.code()}, headers=owner.csrf
    )
    assert bad_scope.json() == {"errors": ["resource.api_key.invalid_scope"]}
    no_csrf = await api.post(SA_KEYS, json=body | {"totp_code": await owner.code()})
    assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
    assert await sql(api, "SELECT 1 FROM api_keys") == []
    created = await api.post(
        SA_KEYS, json=body | {"totp_code": await owner.code()}, headers=owner.csrf
    )
    assert created.status_code == 201, created.text
    kid, secret = created.json()["kid"], created.json()["secret"]
    listed = await api.get(SA_KEYS, params={"service_account_uid": sa_uid})
    assert [(k["kid"], k["scope"], k["secret"]) for k in listed.json()] == [(kid, ["trade"], None)]
    assert (await api.get(f"{RESOURCE}/api_keys")).json() == []  # not among the owner's own
    as_own = await api.patch(
        f"{RESOURCE}/api_keys/{kid}",
        json={"state": "inactive", "totp_code": await owner.code()},
        headers=owner.csrf,
    )
    assert as_own.json() == {"errors": ["resource.api_key.doesnt_exist"]}

    session_cookie = api.cookies["_barong_session"]
    api.cookies.clear()  # from here on, only the signature identifies the caller
    with_key = await api.get(
        SA_KEYS, params={"service_account_uid": sa_uid}, headers=signed(kid, secret, clock)
    )
    assert with_key.json() == {"errors": ["authz.invalid_session"]}  # the owner's session only
    headers = signed(kid, secret, clock)
    order = await api.post(f"{AUTH}/api/v2/peatio/market/orders", headers=headers)
    assert order.status_code == 200, order.text
    signer = api._transport.app.state.authorizer.signer  # type: ignore[attr-defined]
    claims = signer.verify(order.headers["Authorization"].removeprefix("Bearer "))
    assert {k: claims[k] for k in ("uid", "email", "role", "level", "state")} == {
        "uid": sa_uid,
        "email": account["email"],
        "role": "sa_maker",
        "level": 1,
        "state": "active",
    }
    assert "username" not in claims and "referral_id" not in claims
    # That JWT, as a gateway forwards it, acts as the service account, never as a member.
    sa_jwt = {"Authorization": order.headers["Authorization"]}
    by_jwt = await api.post(f"{AUTH}/api/v2/peatio/market/orders", headers=sa_jwt)
    assert by_jwt.status_code == 200, by_jwt.text
    jwt_me = await api.get(f"{RESOURCE}/users/me", headers=sa_jwt)
    assert jwt_me.json() == {"errors": ["authz.invalid_permission"]}
    replayed = await api.post(f"{AUTH}/api/v2/peatio/market/orders", headers=headers)
    assert replayed.json() == {"errors": ["authz.nonce_reused"]}
    principal = await api._transport.app.state.api_keys.verify(  # type: ignore[attr-defined]
        *signed(kid, secret, clock).values()
    )
    assert (principal.service_account, principal.scopes) == (True, frozenset({"trade"}))
    for path in (
        "api/v2/peatio/account/withdraws",
        "api/v2/barong/resource/api_keys",
        "api/v2/barong/resource/service_accounts/api_keys",
        "api/v2/barong/admin/users",
    ):
        dropped = await api.post(f"{AUTH}/{path}", headers=signed(kid, secret, clock))
        assert dropped.json() == {"errors": ["authz.invalid_permission"]}, path
    denials = await sql(
        api,
        "SELECT u.uid, a.data FROM activities a JOIN users u ON u.id = a.user_id "
        "WHERE a.topic = 'permission' ORDER BY a.id",
    )
    assert {(r["uid"], r["data"]) for r in denials} == {(owner_uid, sa_uid)}
    assert len(denials) == 4
    me = await api.get(f"{RESOURCE}/users/me", headers=signed(kid, secret, clock))
    assert me.json() == {"errors": ["authz.invalid_permission"]}  # member endpoints: no

    # The owner's state decides at once: banned, then back, then locked.
    async def authorized() -> httpx.Response:
        return await api.post(
            f"{AUTH}/api/v2/peatio/market/orders", headers=signed(kid, secret, clock)
        )

    # The key's scope is ``trade``: reading needs ``read``, once the role allows the path.
    reading = await api.get(
        f"{AUTH}/api/v2/peatio/account/balances", headers=signed(kid, secret, clock)
    )
    assert reading.status_code == 403
    assert reading.json() == {"errors": ["authz.insufficient_scope"]}

    uid_body = {"uid": owner_uid}
    banned = await admin.post(
        f"{ADMIN}/users/labels",
        json=uid_body | {"key": "ban", "value": "fraud"},
        headers=admin_headers,
    )
    assert banned.json()["state"] == "banned"
    assert (await authorized()).json() == {"errors": ["authz.invalid_session"]}
    jwt_banned = await api.post(f"{AUTH}/api/v2/peatio/market/orders", headers=sa_jwt)
    assert jwt_banned.json() == {"errors": ["authz.invalid_session"]}
    await admin.put(f"{ADMIN}/users", json=uid_body | {"state": "active"}, headers=admin_headers)
    assert (await authorized()).status_code == 200
    await admin.put(f"{ADMIN}/users", json=uid_body | {"state": "locked"}, headers=admin_headers)
    assert (await authorized()).json() == {"errors": ["authz.invalid_session"]}
    await admin.put(f"{ADMIN}/users", json=uid_body | {"state": "active"}, headers=admin_headers)
    assert (await authorized()).status_code == 200

    # Disabling the service account switches its keys off; a key switched back on by hand
    # still does not work while the service account is disabled.
    disabled = await admin.delete(f"{ADMIN}/service_accounts/{sa_uid}", headers=admin_headers)
    assert disabled.json()["state"] == "disabled"
    assert (await authorized()).json() == {"errors": ["authz.apikey_not_active"]}
    jwt_off = await api.post(f"{AUTH}/api/v2/peatio/market/orders", headers=sa_jwt)
    assert jwt_off.json() == {"errors": ["authz.apikey_not_active"]}
    await sql(api, "UPDATE api_keys SET state = 'active'")
    assert (await authorized()).json() == {"errors": ["authz.invalid_session"]}
    await sql(api, "UPDATE api_keys SET state = 'inactive'")

    api.cookies.set("_barong_session", session_cookie)
    refused = await api.post(
        SA_KEYS, json=body | {"totp_code": await owner.code()}, headers=owner.csrf
    )
    assert refused.json() == {"errors": ["resource.service_account.disabled"]}
    reactivate = await api.patch(
        f"{SA_KEYS}/{kid}",
        json={"service_account_uid": sa_uid, "state": "active", "totp_code": await owner.code()},
        headers=owner.csrf,
    )
    assert reactivate.json() == {"errors": ["resource.service_account.disabled"]}
    assert [
        k["state"] for k in (await api.get(SA_KEYS, params={"service_account_uid": sa_uid})).json()
    ] == ["inactive"]


async def test_owner_changes_and_deletes_service_account_keys(
    api: httpx.AsyncClient,
    inbox: tuple[Inbox, int],
    clients: dict[str, tuple[httpx.AsyncClient, str]],
) -> None:
    owner = await owner_with_2fa(api, inbox[0], "ines@example.com")
    owner_uid = (await api.get(f"{RESOURCE}/users/me")).json()["uid"]
    admin, admin_csrf = clients["admin"]
    sa_uid = (
        await admin.post(
            f"{ADMIN}/service_accounts",
            json={"owner_uid": owner_uid, "service_account_role": "sa_maker"},
            headers={"X-CSRF-Token": admin_csrf},
        )
    ).json()["uid"]
    body = {"service_account_uid": sa_uid}
    kid = (
        await api.post(SA_KEYS, json=body | {"totp_code": await owner.code()}, headers=owner.csrf)
    ).json()["kid"]

    changed = await api.put(
        f"{SA_KEYS}/{kid}",
        json=body | {"scope": "read", "state": "inactive", "totp_code": await owner.code()},
        headers=owner.csrf,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["scope"], changed.json()["state"]) == (["read"], "inactive")
    bad_state = await api.patch(
        f"{SA_KEYS}/{kid}",
        json=body | {"state": "paused", "totp_code": await owner.code()},
        headers=owner.csrf,
    )
    assert bad_state.json() == {"errors": ["resource.api_key.invalid_state"]}

    # Another member cannot see or touch them, even with their own 2FA.
    api.cookies.clear()
    stranger = await owner_with_2fa(api, inbox[0], "jack@example.com")
    assert (await api.get(f"{RESOURCE}/service_accounts")).json() == []
    peek = await api.get(SA_KEYS, params={"service_account_uid": sa_uid})
    assert peek.json() == {"errors": ["resource.service_account.doesnt_exist"]}
    steal = await api.request(
        "DELETE",
        f"{SA_KEYS}/{kid}",
        json=body | {"totp_code": await stranger.code()},
        headers=stranger.csrf,
    )
    assert steal.status_code == 404
    assert len(await sql(api, "SELECT 1 FROM api_keys")) == 1

    api.cookies.clear()  # the owner signs in again
    login = await api.post(
        "/api/v2/barong/identity/sessions",
        json={
            "email": "ines@example.com",
            "password": "Tr4de-Night!Owl",
            "otp_code": await owner.code(),
        },
    )
    assert login.status_code == 200, login.text
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    no_code = await api.request("DELETE", f"{SA_KEYS}/{kid}", json=body, headers=csrf)
    assert no_code.json() == {"errors": ["resource.api_key.missing_otp"]}
    deleted = await api.request(
        "DELETE", f"{SA_KEYS}/{kid}", json=body | {"totp_code": await owner.code()}, headers=csrf
    )
    assert deleted.status_code == 204
    assert await sql(api, "SELECT 1 FROM api_keys") == []


async def test_sa_maker_permissions_are_seeded(api: httpx.AsyncClient) -> None:
    rows = await sql(api, "SELECT verb, path, action FROM permissions WHERE role = 'sa_maker'")
    seeded = {(r["verb"], r["path"], r["action"]) for r in rows}
    expected = {(v, p, a) for role, v, p, a in DEFAULT_PERMISSIONS if role == "sa_maker"}
    assert seeded == expected
    assert ("ALL", "api/v2/peatio/account/withdraws", "DROP") in seeded
