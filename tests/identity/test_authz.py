"""The authorization step (``/api/v2/auth/*``) from the seeded permission table:
restrictions, block and pass rules, cookie and CSRF, role × verb × path, audit, and the
RS256 JWT with Barong's claims."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    AGENT,
    PASSWORD,
    api,
    inbox,
    sql,
)

AUTH = "/api/v2/auth"


async def logged_in(
    api: httpx.AsyncClient,
    role: str,
    email: str,
) -> tuple[httpx.AsyncClient, str]:
    app: Any = api._transport.app  # type: ignore[attr-defined]
    await app.state.identity.create_user(email, PASSWORD, role)
    client = httpx.AsyncClient(
        transport=api._transport, base_url="http://testserver", headers=AGENT
    )
    login = await client.post(
        "/api/v2/barong/identity/sessions", json={"email": email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return client, login.json()["csrf_token"]


@pytest.fixture
async def clients(
    api: httpx.AsyncClient,
) -> AsyncIterator[dict[str, tuple[httpx.AsyncClient, str]]]:
    made = {
        role: await logged_in(api, role, f"{role}@example.com")
        for role in ("member", "admin", "superadmin", "technical")
    }
    yield made
    for client, _ in made.values():
        await client.aclose()


DECISIONS = [
    # role, verb, path, expected status (from the seeded permission table)
    ("member", "GET", "api/v2/peatio/account/balances", 200),
    ("member", "POST", "api/v2/peatio/market/orders", 200),
    ("member", "GET", "api/v2/ranger/private", 200),
    ("member", "POST", "api/v2/ranger/private", 401),
    ("member", "GET", "api/v2/peatio/admin/orders", 401),
    ("member", "GET", "api/v2/barong/admin/users", 401),
    ("technical", "GET", "api/v2/peatio/admin/orders", 200),
    ("technical", "GET", "api/v2/peatio/admin/deposits", 401),
    ("technical", "POST", "api/v2/peatio/admin/orders", 200),  # cancels (migration 0017)
    ("technical", "POST", "api/v2/peatio/admin/markets/update", 200),
    ("technical", "POST", "api/v2/peatio/admin/adjustments/new", 401),
    ("admin", "GET", "api/v2/peatio/admin/orders", 200),
    ("admin", "POST", "api/v2/peatio/admin/markets/new", 200),
    ("admin", "POST", "api/v2/barong/admin/permissions", 401),
    ("admin", "POST", "api/v2/barong/admin/users/role", 401),
    ("superadmin", "POST", "api/v2/barong/admin/permissions", 200),
    ("superadmin", "DELETE", "api/v2/barong/admin/users/role", 200),
]


async def test_decision_table(
    api: httpx.AsyncClient,
    clients: dict[str, tuple[httpx.AsyncClient, str]],
) -> None:
    signer = api._transport.app.state.authorizer.signer  # type: ignore[attr-defined]
    for role, verb, path, expected in DECISIONS:
        client, csrf = clients[role]
        response = await client.request(verb, f"{AUTH}/{path}", headers={"X-CSRF-Token": csrf})
        assert response.status_code == expected, (role, verb, path, response.text)
        if expected == 200:
            claims = signer.verify(response.headers["Authorization"].removeprefix("Bearer "))
            assert claims["role"] == role
            assert claims["email"] == f"{role}@example.com"
            assert claims["iss"] == "barong"
            assert claims["aud"] == ["peatio", "barong"]
            assert claims["sub"] == "session"
            assert {"uid", "level", "state", "jti", "exp", "iat"} <= claims.keys()
        else:
            assert response.json() == {"errors": ["authz.invalid_permission"]}
    audited = await sql(api, "SELECT data FROM activities WHERE topic = 'audit' ORDER BY id")
    assert [r["data"] for r in audited] == [
        "POST /api/v2/peatio/admin/orders",
        "POST /api/v2/peatio/admin/markets/update",
        "POST /api/v2/peatio/admin/markets/new",
        "POST /api/v2/barong/admin/permissions",
        "DELETE /api/v2/barong/admin/users/role",
    ]
    denied = await sql(api, "SELECT count(*) AS n FROM activities WHERE result = 'denied'")
    assert denied[0]["n"] == sum(1 for *_, status in DECISIONS if status != 200)


async def test_pass_block_session_and_csrf(
    api: httpx.AsyncClient,
    clients: dict[str, tuple[httpx.AsyncClient, str]],
) -> None:
    async with httpx.AsyncClient(
        transport=api._transport, base_url="http://testserver", headers=AGENT
    ) as anonymous:
        public = await anonymous.get(f"{AUTH}/api/v2/peatio/public/markets")
        assert public.status_code == 200
        assert "authorization" not in public.headers
        private = await anonymous.get(f"{AUTH}/api/v2/peatio/account/balances")
        assert private.json() == {"errors": ["authz.invalid_session"]}
    member, _ = clients["member"]
    blocked = await member.get(f"{AUTH}/api/v2/peatio/management/deposits")
    assert blocked.status_code == 401
    assert blocked.json() == {"errors": ["authz.permission_denied"]}
    no_csrf = await member.post(f"{AUTH}/api/v2/peatio/market/orders")
    assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
    forged_jwt_path = await member.get(
        f"{AUTH}/api/v2/peatio/account/balances", headers={"Authorization": "Bearer forged"}
    )
    # An incoming Authorization header is never taken as a JWT: it must be an OAuth access
    # token of this provider, so a forged one is refused even beside a good session cookie.
    assert forged_jwt_path.status_code == 401
    assert forged_jwt_path.json() == {"errors": ["authz.invalid_token"]}


@pytest.mark.parametrize(
    ("scope", "value", "category", "code", "expected"),
    [
        ("ip", "203.0.113.7", "blacklist", 401, "authz.restrict.blacklist"),
        ("ip_subnet", "203.0.113.0/24", "blacklist", 403, "authz.restrict.blacklist"),
        ("all", "all", "maintenance", 471, "authz.restrict.maintenance"),
        ("ip", "198.51.100.1", "blacklist", 401, None),  # someone else's address
    ],
)
async def test_restrictions(
    api: httpx.AsyncClient,
    clients: dict[str, tuple[httpx.AsyncClient, str]],
    scope: str,
    value: str,
    category: str,
    code: int,
    expected: str | None,
) -> None:
    await sql(
        api,
        "INSERT INTO restrictions (scope, value, category, code) VALUES ($1, $2, $3, $4)",
        scope,
        value,
        category,
        code,
    )
    api._transport.app.state.authorizer.forget_cache()  # type: ignore[attr-defined]
    member, _ = clients["member"]
    response = await member.get(f"{AUTH}/api/v2/peatio/account/balances")
    if expected is None:
        assert response.status_code == 200
        return
    assert response.status_code == code
    assert response.json() == {"errors": [expected]}
    await sql(
        api,
        "INSERT INTO restrictions (scope, value, category, code) "
        "VALUES ('ip', '203.0.113.7', 'whitelist', 200)",
    )
    api._transport.app.state.authorizer.forget_cache()  # type: ignore[attr-defined]
    allowed = await member.get(f"{AUTH}/api/v2/peatio/account/balances")
    assert allowed.status_code == 200
