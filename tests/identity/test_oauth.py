"""Bursa as an OAuth 2.0 / OpenID Connect provider, driven over HTTP as a third-party
application and a member's browser would: registration by an admin, consent, code + PKCE,
tokens, ID tokens, scopes enforced on the APIs, refresh rotation, revocation."""

import base64
import hashlib
import re
import secrets
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.identity.test_authz import clients, logged_in  # noqa: F401 - fixtures
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    AGENT,
    PASSWORD,
    api,
    inbox,
    sql,
)

OAUTH = "/api/v2/barong/oauth"
ISSUER = "http://127.0.0.1:8000" + OAUTH
CALLBACK = "https://app.example/callback"
Clients = dict[str, tuple[httpx.AsyncClient, str]]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def register(
    clients: Clients, scopes: list[str], confidential: bool = True
) -> dict[str, Any]:
    admin, csrf = clients["admin"]
    response = await admin.post(
        f"{OAUTH.replace('oauth', 'admin/oauth')}/clients",
        json={
            "name": "Portfolio Tracker",
            "redirect_uris": [CALLBACK],
            "scopes": scopes,
            "confidential": confidential,
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def hidden_fields(page: str) -> dict[str, str]:
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type=hidden name="([^"]*)" value="([^"]*)">', page)
    }


async def consent(
    browser: httpx.AsyncClient, params: dict[str, str], decision: str = "approve"
) -> httpx.Response:
    """Open the consent page and press a button; the answer is the redirect."""
    page = await browser.get(f"{OAUTH}/authorize", params=params)
    assert page.status_code == 200, page.text
    assert "Portfolio Tracker" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    form = hidden_fields(page.text) | {"decision": decision}
    return await browser.post(f"{OAUTH}/authorize", data=form)


def authorize_params(client_id: str, scope: str, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    } | extra


def redirected(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def tokens_for(
    api: httpx.AsyncClient, clients: Clients, app: dict[str, Any], scope: str
) -> dict[str, Any]:
    browser, _ = clients["member"]
    verifier, challenge = pkce()
    answer = redirected(
        await consent(browser, authorize_params(app["client_id"], scope, challenge))
    )
    token = await api.post(
        f"{OAUTH}/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(app["client_id"], app["client_secret"]),
    )
    assert token.status_code == 200, token.text
    return dict(token.json()) | {"code": answer["code"], "verifier": verifier}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_code_flow_with_pkce_issues_tokens_and_id_token(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    app = await register(clients, ["openid", "email", "profile", "kyc", "read"])
    assert app["token_endpoint_auth_method"] == "client_secret_basic"
    browser, _ = clients["member"]
    verifier, challenge = pkce()
    params = authorize_params(app["client_id"], "openid email read", challenge, nonce="n-0S6")
    page = await browser.get(f"{OAUTH}/authorize", params=params)
    assert "See your balances, orders and trades" in page.text
    assert "See your verification level" not in page.text  # kyc was not asked for
    answer = redirected(await consent(browser, params))
    assert answer["state"] == "st4te"

    token = await api.post(
        f"{OAUTH}/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(app["client_id"], app["client_secret"]),
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {"openid", "email", "read"}
    assert body["refresh_token"]

    keys = (await api.get(f"{OAUTH}/jwks")).json()["keys"]
    # The key is found in the JWKS by the token's kid.
    id_token = jwt.decode(body["id_token"], KeySet.import_key_set({"keys": keys}), ["RS256"])
    jwt.JWTClaimsRegistry(
        aud={"essential": True, "value": app["client_id"]},
        iss={"essential": True, "value": ISSUER},
    ).validate(id_token.claims)
    claims = id_token.claims
    me = (await browser.get("/api/v2/barong/resource/users/me")).json()
    assert claims["sub"] == me["uid"]
    assert claims["email"] == "member@example.com"
    assert claims["email_verified"] is True
    assert claims["nonce"] == "n-0S6"
    assert "level" not in claims  # the kyc scope was not granted

    info = await api.get(f"{OAUTH}/userinfo", headers=bearer(body["access_token"]))
    assert info.json() == {
        "sub": me["uid"],
        "email": "member@example.com",
        "email_verified": True,
    }
    # The database holds digests only: neither the code nor the tokens.
    stored = await sql(api, "SELECT access_digest, refresh_digest FROM oauth_tokens")
    assert body["access_token"] not in str(stored)
    assert hashlib.sha256(body["access_token"].encode()).hexdigest() == stored[0]["access_digest"]


async def test_scopes_limit_what_the_token_reaches(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    app = await register(clients, ["openid", "read", "trade"])
    token = (await tokens_for(api, clients, app, "read"))["access_token"]

    me = await api.get("/api/v2/barong/resource/users/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["email"] == "member@example.com"
    phones = await api.get("/api/v2/barong/resource/phones", headers=bearer(token))
    assert phones.status_code == 403
    assert phones.json() == {"errors": ["authz.insufficient_scope"]}
    # The gateway's authorization step: reading balances yes, trading and security no.
    read = await api.get("/api/v2/auth/api/v2/peatio/account/balances", headers=bearer(token))
    assert read.status_code == 200
    assert read.headers["authorization"].startswith("Bearer ")
    # The gateway JWT minted from the token keeps the token's scopes, not the member's.
    minted = read.headers["authorization"].removeprefix("Bearer ")
    by_jwt = await api.get("/api/v2/barong/resource/users/me", headers=bearer(minted))
    assert by_jwt.json()["email"] == "member@example.com"
    phones = await api.get("/api/v2/barong/resource/phones", headers=bearer(minted))
    assert phones.json() == {"errors": ["authz.insufficient_scope"]}
    keys = await api.get("/api/v2/barong/resource/api_keys", headers=bearer(minted))
    assert keys.json() == {"errors": ["authz.invalid_session"]}
    trade = await api.post("/api/v2/auth/api/v2/peatio/market/orders", headers=bearer(minted))
    assert trade.json() == {"errors": ["authz.insufficient_scope"]}
    for method, path in [
        ("POST", "api/v2/peatio/market/orders"),
        ("PUT", "api/v2/barong/resource/users/password"),
        ("POST", "api/v2/peatio/account/withdraws"),
        ("GET", "api/v2/barong/admin/users"),
    ]:
        refused = await api.request(method, f"/api/v2/auth/{path}", headers=bearer(token))
        assert refused.status_code == 403, path
        assert refused.json() == {"errors": ["authz.insufficient_scope"]}
    userinfo = await api.get(f"{OAUTH}/userinfo", headers=bearer(token))
    assert userinfo.json() == {"errors": ["authz.insufficient_scope"]}  # no openid scope
    forged = await api.get("/api/v2/barong/resource/users/me", headers=bearer("x" * 43))
    assert forged.status_code == 401
    assert forged.json() == {"errors": ["authz.invalid_token"]}


async def test_code_is_single_use_and_reuse_revokes_its_tokens(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    app = await register(clients, ["read"])
    first = await tokens_for(api, clients, app, "read")
    again = await api.post(
        f"{OAUTH}/token",
        data={
            "grant_type": "authorization_code",
            "code": first["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": first["verifier"],
        },
        auth=(app["client_id"], app["client_secret"]),
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    me = await api.get("/api/v2/barong/resource/users/me", headers=bearer(first["access_token"]))
    assert me.status_code == 401  # the copy-holder's tokens died with the replay


async def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_grant(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    app = await register(clients, ["read"])
    first = await tokens_for(api, clients, app, "read")
    auth = (app["client_id"], app["client_secret"])
    refreshed = await api.post(
        f"{OAUTH}/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=auth,
    )
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    old = await api.get("/api/v2/barong/resource/users/me", headers=bearer(first["access_token"]))
    assert old.status_code == 401
    new = await api.get("/api/v2/barong/resource/users/me", headers=bearer(second["access_token"]))
    assert new.status_code == 200

    widened = await api.post(
        f"{OAUTH}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": second["refresh_token"],
            "scope": "read trade",
        },
        auth=auth,
    )
    assert widened.json()["error"] == "invalid_scope"

    replay = await api.post(
        f"{OAUTH}/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=auth,
    )
    assert replay.json()["error"] == "invalid_grant"
    after = await api.get(
        "/api/v2/barong/resource/users/me", headers=bearer(second["access_token"])
    )
    assert after.status_code == 401  # the whole grant is revoked

    wrong_secret = await api.post(
        f"{OAUTH}/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=(app["client_id"], "not-the-secret"),
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"


async def test_revocation_endpoint_and_the_members_own_list(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    app = await register(clients, ["read"])
    auth = (app["client_id"], app["client_secret"])
    first = await tokens_for(api, clients, app, "read")
    minted = await api.get(
        "/api/v2/auth/api/v2/peatio/account/balances", headers=bearer(first["access_token"])
    )
    gateway_jwt = minted.headers["authorization"].removeprefix("Bearer ")
    revoked = await api.post(
        f"{OAUTH}/revoke",
        data={"token": first["access_token"], "token_type_hint": "access_token"},
        auth=auth,
    )
    assert revoked.status_code == 200
    gone = await api.get("/api/v2/barong/resource/users/me", headers=bearer(first["access_token"]))
    assert gone.status_code == 401
    # The JWT minted from the token dies with it.
    jwt_gone = await api.get("/api/v2/barong/resource/users/me", headers=bearer(gateway_jwt))
    assert jwt_gone.json() == {"errors": ["authz.invalid_token"]}
    unknown = await api.post(f"{OAUTH}/revoke", data={"token": "nothing-like-it"}, auth=auth)
    assert unknown.status_code == 200  # RFC 7009: no oracle for token existence

    second = await tokens_for(api, clients, app, "read")
    browser, csrf = clients["member"]
    grants = (await browser.get("/api/v2/barong/resource/oauth/grants")).json()
    assert [(g["client_id"], g["scope"]) for g in grants] == [(app["client_id"], ["read"])]
    # An application cannot manage access itself: the list needs the member's session.
    by_token = await api.get(
        "/api/v2/barong/resource/oauth/grants", headers=bearer(second["access_token"])
    )
    assert by_token.status_code == 401
    no_csrf = await browser.delete(f"/api/v2/barong/resource/oauth/grants/{app['client_id']}")
    assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
    taken = await browser.delete(
        f"/api/v2/barong/resource/oauth/grants/{app['client_id']}",
        headers={"X-CSRF-Token": csrf},
    )
    assert taken.status_code == 204
    refresh = await api.post(
        f"{OAUTH}/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=auth,
    )
    assert refresh.json()["error"] == "invalid_grant"
    assert (await browser.get("/api/v2/barong/resource/oauth/grants")).json() == []


async def test_public_client_must_use_pkce_and_the_right_verifier(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    app = await register(clients, ["read"], confidential=False)
    assert app["client_secret"] is None
    assert app["token_endpoint_auth_method"] == "none"
    browser, _ = clients["member"]
    params = authorize_params(app["client_id"], "read", "")
    del params["code_challenge"], params["code_challenge_method"]
    without = await browser.get(f"{OAUTH}/authorize", params=params)
    assert redirected(without)["error"] == "invalid_request"
    plain = authorize_params(app["client_id"], "read", "a" * 43, code_challenge_method="plain")
    assert redirected(await browser.get(f"{OAUTH}/authorize", params=plain))["error"] == (
        "invalid_request"
    )

    verifier, challenge = pkce()
    code = redirected(await consent(browser, authorize_params(app["client_id"], "read", challenge)))
    data = {
        "grant_type": "authorization_code",
        "code": code["code"],
        "redirect_uri": CALLBACK,
        "client_id": app["client_id"],
    }
    wrong = await api.post(f"{OAUTH}/token", data=data | {"code_verifier": pkce()[0]})
    assert wrong.json()["error"] == "invalid_grant"
    code = redirected(await consent(browser, authorize_params(app["client_id"], "read", challenge)))
    data["code"] = code["code"]
    right = await api.post(f"{OAUTH}/token", data=data | {"code_verifier": verifier})
    assert right.status_code == 200, right.text


async def test_consent_refusals_and_bad_requests(api: httpx.AsyncClient, clients: Clients) -> None:
    app = await register(clients, ["openid", "read"])
    browser, _ = clients["member"]
    _, challenge = pkce()
    params = authorize_params(app["client_id"], "read", challenge)

    denied = redirected(await consent(browser, params, decision="deny"))
    assert denied["error"] == "access_denied"
    assert denied["state"] == "st4te"
    assert await sql(api, "SELECT 1 FROM oauth_codes") == []

    # Errors that cannot be trusted to the client's address are shown, never redirected.
    evil = await browser.get(
        f"{OAUTH}/authorize", params=params | {"redirect_uri": "https://evil.example/cb"}
    )
    assert evil.status_code == 400
    assert "location" not in evil.headers
    unknown = await browser.get(f"{OAUTH}/authorize", params=params | {"client_id": "ab" * 12})
    assert unknown.status_code in (400, 401)
    assert "location" not in unknown.headers

    too_wide = await browser.get(f"{OAUTH}/authorize", params=params | {"scope": "read trade"})
    assert redirected(too_wide)["error"] == "invalid_scope"
    unheard = await browser.get(f"{OAUTH}/authorize", params=params | {"scope": "withdraw"})
    assert redirected(unheard)["error"] == "invalid_scope"

    page = await browser.get(f"{OAUTH}/authorize", params=params)
    form = hidden_fields(page.text) | {"decision": "approve"}
    del form["csrf_token"]
    forged = await browser.post(f"{OAUTH}/authorize", data=form)
    assert forged.status_code == 401
    assert forged.json() == {"errors": ["authz.missing_csrf_token"]}
    assert await sql(api, "SELECT 1 FROM oauth_codes") == []


async def test_signing_in_on_the_consent_page(api: httpx.AsyncClient, clients: Clients) -> None:
    app = await register(clients, ["read"])
    _, challenge = pkce()
    params = authorize_params(app["client_id"], "read", challenge)
    async with httpx.AsyncClient(
        transport=api._transport,
        base_url="http://testserver",
        headers=AGENT,
    ) as browser:
        bogus = await browser.get(f"{OAUTH}/authorize", params=params | {"client_id": "ab" * 12})
        assert "Sign in" not in bogus.text  # no login form for an unknown application
        page = await browser.get(f"{OAUTH}/authorize", params=params)
        assert page.status_code == 200
        assert "Sign in to continue" in page.text
        back = hidden_fields(page.text)["return_query"]
        wrong = await browser.post(
            f"{OAUTH}/authorize/session",
            data={"email": "member@example.com", "password": "nope", "return_query": back},
        )
        assert wrong.status_code == 401
        assert "Wrong email, password or 2FA code." in wrong.text
        signed = await browser.post(
            f"{OAUTH}/authorize/session",
            data={"email": "member@example.com", "password": PASSWORD, "return_query": back},
        )
        assert signed.status_code == 303
        location = signed.headers["location"]
        assert location.startswith(f"{OAUTH}/authorize?")
        consent_page = await browser.get(location)
        assert "Portfolio Tracker wants to use your Bursa account" in consent_page.text


async def test_admins_register_and_disable_clients(
    api: httpx.AsyncClient, clients: Clients
) -> None:
    member, member_csrf = clients["member"]
    refused = await member.post(
        "/api/v2/barong/admin/oauth/clients",
        json={"name": "x", "redirect_uris": [CALLBACK], "scopes": ["read"]},
        headers={"X-CSRF-Token": member_csrf},
    )
    assert refused.json() == {"errors": ["authz.invalid_permission"]}
    admin, csrf = clients["admin"]
    for uris, scopes, code in [
        (["http://app.example/cb"], ["read"], "admin.oauth_client.invalid_redirect_uri"),
        (["https://app.example/cb#frag"], ["read"], "admin.oauth_client.invalid_redirect_uri"),
        ([CALLBACK], ["withdraw"], "admin.oauth_client.invalid_scope"),
    ]:
        bad = await admin.post(
            "/api/v2/barong/admin/oauth/clients",
            json={"name": "x", "redirect_uris": uris, "scopes": scopes},
            headers={"X-CSRF-Token": csrf},
        )
        assert bad.status_code == 422
        assert bad.json() == {"errors": [code]}
    assert (await admin.get("/api/v2/barong/admin/oauth/clients")).json() == []
    loopback = await admin.post(
        "/api/v2/barong/admin/oauth/clients",
        json={"name": "CLI", "redirect_uris": ["http://127.0.0.1:5555/cb"], "scopes": ["read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert loopback.status_code == 201  # native apps may use the loopback address

    app = await register(clients, ["read"])
    tokens = await tokens_for(api, clients, app, "read")
    listed = (await admin.get("/api/v2/barong/admin/oauth/clients")).json()
    assert all("client_secret" not in c or c["client_secret"] is None for c in listed)
    stored = await sql(api, "SELECT secret_digest FROM oauth_clients")
    assert app["client_secret"] not in str(stored)
    disabled = await admin.delete(
        f"/api/v2/barong/admin/oauth/clients/{app['client_id']}", headers={"X-CSRF-Token": csrf}
    )
    assert disabled.status_code == 204
    dead = await api.get("/api/v2/barong/resource/users/me", headers=bearer(tokens["access_token"]))
    assert dead.status_code == 401
    missing = await admin.delete(
        "/api/v2/barong/admin/oauth/clients/abcdef", headers={"X-CSRF-Token": csrf}
    )
    assert missing.json() == {"errors": ["admin.oauth_client.doesnt_exist"]}


async def test_discovery_document(api: httpx.AsyncClient) -> None:
    found = (await api.get(f"{OAUTH}/.well-known/openid-configuration")).json()
    assert found["issuer"] == ISSUER
    assert found["authorization_endpoint"] == ISSUER + "/authorize"
    assert found["token_endpoint"] == ISSUER + "/token"
    assert found["jwks_uri"] == ISSUER + "/jwks"
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert "withdraw" not in found["scopes_supported"]


@pytest.mark.parametrize("state", ["banned", "locked"])
async def test_a_member_who_is_no_longer_active_loses_access(
    api: httpx.AsyncClient, clients: Clients, state: str
) -> None:
    app = await register(clients, ["read"])
    tokens = await tokens_for(api, clients, app, "read")
    me = (await clients["member"][0].get("/api/v2/barong/resource/users/me")).json()
    admin, csrf = clients["admin"]
    changed = await admin.put(
        "/api/v2/barong/admin/users",
        json={"uid": me["uid"], "state": state},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200, changed.text
    refused = await api.get(
        "/api/v2/barong/resource/users/me", headers=bearer(tokens["access_token"])
    )
    assert refused.status_code == 401
    refresh = await api.post(
        f"{OAUTH}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(app["client_id"], app["client_secret"]),
    )
    assert refresh.status_code == 400
