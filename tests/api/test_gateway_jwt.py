"""The JWT ``/api/v2/auth`` signs, presented as ``Authorization: Bearer`` with no cookie and
no key, as a gateway (Envoy's ext_authz) forwards it: accepted on the Peatio, Barong
resource and admin routes and the Ranger private upgrade, standing for the credential it was
minted from (a session's reaches account security, a key's keeps its key's scopes), stopped
at once by a ban or a logout; every forged variant refused, never falling back to the
cookie beside it."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import RSAKey
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bursa.identity.authz import JwtSigner
from tests.api.members import (
    ACCOUNT,
    AGENT,
    MARKET,
    RESOURCE,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)
from tests.api.test_ranger import receive, served

AUTH = "/api/v2/auth"
REFUSED = "jwt.decode_and_verify"
BALANCES = f"{ACCOUNT}/balances"
ME = f"{RESOURCE}/users/me"
ADMIN_USERS = "/api/v2/barong/admin/users"
PEATIO_ADMIN_ORDERS = "/api/v2/peatio/admin/orders"
BUY = {"market": "btcusdt", "side": "buy", "volume": "0.01", "price": "100"}


async def jwt_of(caller: Caller, path: str = BALANCES) -> str:
    """The JWT the authorization step mints for ``caller`` asking for ``path``."""
    answer = await caller.get(AUTH + path)
    assert answer.status_code == 200, answer.text
    return str(answer.headers["authorization"].removeprefix("Bearer "))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bare(exchange: Exchange) -> httpx.AsyncClient:
    """A client with no cookie and no key: only what a gateway forwards."""
    client = httpx.AsyncClient(
        transport=exchange.transport, base_url="http://bursa.test", headers=AGENT
    )
    exchange.clients.append(client)
    return client


def signer_of(exchange: Exchange) -> JwtSigner:
    signer: JwtSigner = exchange.app.state.authorizer.signer
    return signer


async def test_the_jwt_stands_for_the_session_or_key_it_was_minted_from(
    exchange: Exchange,
) -> None:
    client = bare(exchange)
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "usdt", "1000")
    session_jwt = await jwt_of(alice)
    claims = signer_of(exchange).verify(session_jwt)
    assert claims["auth"] == "session"
    assert jws.extract_compact(session_jwt.encode()).headers()["alg"] == "RS256"

    balances = await client.get(BALANCES, headers=bearer(session_jwt))
    assert balances.status_code == 200, balances.text
    assert {"currency": "usdt", "balance": "1000", "locked": "0"}.items() <= next(
        b for b in balances.json() if b["currency"] == "usdt"
    ).items()
    me = await client.get(ME, headers=bearer(session_jwt))
    assert me.json()["uid"] == alice.uid
    # A write needs no CSRF token: no browser adds an Authorization header by itself.
    placed = await client.post(f"{MARKET}/orders", json=BUY, headers=bearer(session_jwt))
    assert placed.status_code == 201, placed.text
    # A session's JWT reaches account security, as the session does.
    keys = await client.get(f"{RESOURCE}/api_keys", headers=bearer(session_jwt))
    assert keys.status_code == 200, keys.text
    # Minting again from a JWT never extends it.
    again = await client.get(AUTH + BALANCES, headers=bearer(session_jwt))
    assert again.status_code == 200
    renewed = signer_of(exchange).verify(again.headers["authorization"].split()[1])
    assert renewed["exp"] == claims["exp"]
    assert renewed["auth"] == "session"

    # An API key's JWT keeps the key's scopes and never reaches account security.
    key = await exchange.with_key(alice, "read")
    assert key.key is not None
    key_jwt = await jwt_of(key)
    recorded = {"auth": "api_key", "api_kid": key.key[0], "scope": "read"}
    assert recorded.items() <= signer_of(exchange).verify(key_jwt).items()
    assert (await client.get(BALANCES, headers=bearer(key_jwt))).status_code == 200
    assert (await client.get(ME, headers=bearer(key_jwt))).json()["uid"] == alice.uid
    refused = await client.post(f"{MARKET}/orders", json=BUY, headers=bearer(key_jwt))
    assert_error(refused, 403, "authz.insufficient_scope")
    for method, path in [
        ("GET", f"{RESOURCE}/api_keys"),
        ("POST", f"{RESOURCE}/api_keys"),
        ("POST", f"{RESOURCE}/otp/disable"),
        ("PUT", f"{RESOURCE}/users/password"),
    ]:
        answer = await client.request(method, path, headers=bearer(key_jwt), json={})
        assert_error(answer, 401, "authz.invalid_session")

    # Admin routes, Barong's and Peatio's, through the permission table.
    admin = await exchange.member("admin@example.com", role="admin")
    admin_jwt = await jwt_of(admin, ADMIN_USERS)
    listed = await client.get(ADMIN_USERS, headers=bearer(admin_jwt))
    assert listed.status_code == 200, listed.text
    orders = await client.get(PEATIO_ADMIN_ORDERS, headers=bearer(admin_jwt))
    assert orders.status_code == 200, orders.text
    assert_error(
        await client.get(ADMIN_USERS, headers=bearer(session_jwt)), 401, "authz.invalid_permission"
    )

    # A ban stops every JWT of the member at once, as it stops the session and the key.
    banned = await client.put(
        ADMIN_USERS, json={"uid": alice.uid, "state": "banned"}, headers=bearer(admin_jwt)
    )
    assert banned.status_code == 200, banned.text
    assert_error(
        await client.get(BALANCES, headers=bearer(session_jwt)), 401, "authz.user_not_active"
    )
    assert_error(await client.get(BALANCES, headers=bearer(key_jwt)), 401, "authz.invalid_session")
    assert_error(
        await client.get(AUTH + BALANCES, headers=bearer(session_jwt)),
        401,
        "authz.user_not_active",
    )

    # Logging out with the JWT ends its session, and with it the JWT.
    bob = await exchange.member("bob@example.com")
    bob_jwt = await jwt_of(bob)
    out = await client.delete("/api/v2/barong/identity/sessions", headers=bearer(bob_jwt))
    assert out.status_code == 200, out.text
    assert_error(await client.get(ME, headers=bearer(bob_jwt)), 401, "authz.invalid_session")
    assert_error(await bob.get(BALANCES), 401, "authz.invalid_session")  # the cookie too


async def test_the_private_stream_takes_the_jwt(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "usdt", "1000")
    token = await jwt_of(alice, "/api/v2/ranger/private")
    async with served(exchange.app) as ranger:
        url = f"{ranger}/private?stream=order"
        async with connect(url, additional_headers=AGENT | bearer(token)) as ws:
            placed = await bare(exchange).post(f"{MARKET}/orders", json=BUY, headers=bearer(token))
            assert placed.status_code == 201, placed.text
            frame = await receive(ws)
            assert frame["order"]["id"] == placed.json()["id"]
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=AGENT | bearer(forged)):
                pass
        assert refused.value.response.status_code == 401
        assert json.loads(refused.value.response.body) == {"errors": [REFUSED]}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _signed(
    claims: dict[str, Any], key: bytes | RSAKey, algorithm: str = "RS256", **header: Any
) -> str:
    private = key if isinstance(key, RSAKey) else RSAKey.import_key(key)
    return jwt.encode({"alg": algorithm} | header, claims, private, algorithms=[algorithm])


def _ours(signer: JwtSigner, claims: dict[str, Any], **header: Any) -> str:
    """Signed with Bursa's own private key (so only the claims or the header are wrong)."""
    return _signed(claims, signer.private_pem, **({"kid": signer.key_id} | header))


def _tampered(signer: JwtSigner, claims: dict[str, Any], good: str) -> str:
    head, _, signature = good.split(".")
    body = _b64(json.dumps(claims | {"role": "superadmin"}).encode())
    return f"{head}.{body}.{signature}"


def _other_key(signer: JwtSigner, claims: dict[str, Any], good: str) -> str:
    return _signed(claims, RSAKey.generate_key(2048), kid=signer.key_id)


def _hs256_with_public_key(signer: JwtSigner, claims: dict[str, Any], good: str) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": signer.key_id}
    return _compact(
        header, claims, lambda data: hmac.new(signer.public_pem, data, hashlib.sha256).digest()
    )


def _alg_none(signer: JwtSigner, claims: dict[str, Any], good: str) -> str:
    return _compact({"alg": "none", "typ": "JWT", "kid": signer.key_id}, claims, lambda _: b"")


NOW = int(time.time())
FORGERIES: dict[str, Callable[[JwtSigner, dict[str, Any], str], str]] = {
    "alg none": _alg_none,
    "HS256 keyed with the public key": _hs256_with_public_key,
    "RS512": lambda s, c, g: _signed(c, s.private_pem, "RS512", kid=s.key_id),
    "another key": _other_key,
    "unknown kid": lambda s, c, g: _ours(s, c, kid="0ther"),
    "no kid": lambda s, c, g: _signed(c, s.private_pem),
    "tampered payload": _tampered,
    "expired": lambda s, c, g: _ours(s, c | {"iat": NOW - 900, "exp": NOW - 600}),
    "no expiry": lambda s, c, g: _ours(s, {k: v for k, v in c.items() if k != "exp"}),
    "wrong audience": lambda s, c, g: _ours(s, c | {"aud": ["applogic"]}),
    "peatio's audience only": lambda s, c, g: _ours(s, c | {"aud": "peatio"}),
    "wrong issuer": lambda s, c, g: _ours(s, c | {"iss": "applogic"}),
    "wrong subject": lambda s, c, g: _ours(s, c | {"sub": "confirmation"}),
    "no credential": lambda s, c, g: _ours(s, {k: v for k, v in c.items() if k != "auth"}),
}


async def test_forged_jwts_are_refused_everywhere(exchange: Exchange) -> None:
    admin = await exchange.member("admin@example.com", role="admin")
    good = await jwt_of(admin, ADMIN_USERS)
    signer = signer_of(exchange)
    claims = signer.verify(good)
    forged = {name: forge(signer, claims, good) for name, forge in FORGERIES.items()}
    wrong = []
    # The admin's own session cookie rides along: a bad JWT never falls back to it.
    for path in (BALANCES, ME, ADMIN_USERS, PEATIO_ADMIN_ORDERS, AUTH + BALANCES):
        control = await admin.client.get(path, headers=bearer(good))
        assert control.status_code == 200, (path, control.text)
        for name, token in forged.items():
            answer = await admin.client.get(path, headers=bearer(token))
            if answer.status_code != 401 or answer.json() != {"errors": [REFUSED]}:
                wrong.append((name, path, answer.status_code, answer.text))
    assert wrong == []
