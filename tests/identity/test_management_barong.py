"""Barong's Management API as AppLogic uses it: signed envelopes in, Barong's entities out,
refusals in Grape's format changing nothing; ``otp/sign`` co-signs only after a valid 2FA
code."""

import base64
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyotp
import pytest
import typer
from sqlalchemy import text

from bursa.api.app import create_app
from bursa.api.management_auth import ManagementPolicy
from bursa.cli.serve import barong_management_key
from bursa.clock import ManualClock
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.identity import passwords
from bursa.identity.mail import NoMailer
from bursa.identity.service import OTP_KEY, Identity
from bursa.secrets.keystore import LocalKeyStore
from bursa.signing import multisig
from bursa.trading.specs import load_specs
from tests.identity.test_identity_api import AGENT, IDENTITY, PASSWORD, clock_of, sql
from tests.signing.keys import rsa_pem, signer, verifier
from tests.test_settings import deployment_settings

MGMT = "/api/v2/barong/management"
SCOPES = [
    "read_users",
    "write_users",
    "read_labels",
    "write_labels",
    "read_phones",
    "write_phones",
    "write_documents",
    "otp_sign",
    "read_service_accounts",
    "write_service_accounts",
    "write_apikeys",
    "tools",
]
POLICY = {
    "keychain": {
        "applogic": {"algorithm": "RS256", "value": rsa_pem("applogic")[1]},
        "backoffice": {"algorithm": "RS256", "value": rsa_pem("backoffice")[1]},
    },
    "jwt": {"leeway": 5, "max_lifetime": 120},
    "scopes": {
        name: {"permitted_signers": ["applogic"], "mandatory_signers": ["applogic"]}
        for name in SCOPES
    }
    | {
        # the back office may co-sign reads of users, nothing else
        "read_users": {
            "permitted_signers": ["applogic", "backoffice"],
            "mandatory_signers": ["applogic"],
        }
    },
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JSON = {"content-type": "application/json"}


@pytest.fixture
async def mgmt(
    fresh_database_url: str, local_keystore: LocalKeyStore
) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(fresh_database_url)
    identity = Identity(
        engine,
        NoMailer(),  # the Management API sends no mail
        local_keystore,
        session_ttl=timedelta(minutes=30),
        app_name="Bursa",
        clock=ManualClock(),  # stands still: a TOTP step never ends mid-test
    )
    runner = EngineRunner(fresh_database_url, InProcessBus(), load_specs)
    app = create_app(
        runner,
        create_session_factory(engine),
        identity,
        secure_cookies=False,
        management={"barong": ManagementPolicy.from_mapping(POLICY)},
        barong_management_key=signer("barong"),
    )
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=AGENT
    ) as client:
        client.headers["X-Test-Db"] = fresh_database_url
        yield client
    await identity.close()
    await engine.dispose()


def envelope(data: dict[str, Any], *signers: str, lifetime: int = 60) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4()), "data": data}
    return multisig.sign(claims, *(signer(name) for name in signers or ("applogic",)))


async def call(
    client: httpx.AsyncClient, path: str, method: str = "POST", *signers: str, **data: Any
) -> httpx.Response:
    body = orjson.dumps(envelope(data, *signers))
    return await client.request(method, f"{MGMT}/{path}", content=body, headers=JSON)


async def new_user(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    created = await call(client, "users", email=email, password=PASSWORD)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def outbox_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The events written to the outbox so far, in order."""
    engine = client._transport.app.state.identity.engine  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT events FROM event_outbox ORDER BY id"))).all()
    return [event for row in rows for event in row[0]]


async def get_user(client: httpx.AsyncClient, **by: str) -> httpx.Response:
    return await call(client, "users/get", **by)


async def test_create_find_list_and_update_users(mgmt: httpx.AsyncClient) -> None:
    user = await new_user(mgmt, "Ada@Example.com")
    [created] = [e for e in await outbox_events(mgmt) if e["name"] == "model.user.created"]
    assert (created["app"], created["record"]["uid"]) == ("barong", user["uid"])
    assert user["email"] == "ada@example.com"
    assert user["state"] == "pending"
    assert user["uid"].startswith("ID")

    found = await get_user(mgmt, email="ada@example.com")
    assert found.status_code == 201, found.text
    shown = found.json()
    assert shown["uid"] == user["uid"]
    assert {"labels", "phones", "profiles", "documents", "data_storages"} <= set(shown)
    assert "password" not in found.text
    assert "otp_secret" not in found.text
    assert (await get_user(mgmt, uid=user["uid"])).json()["email"] == "ada@example.com"

    await new_user(mgmt, "bob@example.com")
    listed = await call(mgmt, "users/list", limit=1, page=2)
    assert [u["email"] for u in listed.json()] == ["bob@example.com"]
    assert listed.headers["Total"] == "2"
    window: dict[str, Any] = {"from": int(time.time()) + 3600}
    future = await call(mgmt, "users/list", **window)
    assert future.json() == []
    extended = await call(mgmt, "users/list", extended=True)
    assert extended.json()[0]["profiles"] == []

    changed = await call(
        mgmt, "users/update", uid=user["uid"], role="trader", data='{"tier": "gold"}'
    )
    assert changed.status_code == 201, changed.text
    assert (changed.json()["role"], changed.json()["data"]) == ("trader", '{"tier": "gold"}')
    updated = [e for e in await outbox_events(mgmt) if e["name"] == "model.user.updated"]
    assert updated[-1]["changes"]["role"] == "member"

    referred = await call(
        mgmt, "users", email="cid@example.com", password=PASSWORD, referral_uid=user["uid"]
    )
    assert referred.json()["referral_uid"] == user["uid"]


async def test_bad_user_input_changes_nothing(mgmt: httpx.AsyncClient) -> None:
    user = await new_user(mgmt, "dora@example.com")
    cases = [
        ("users", {"email": "eve@example.com", "password": "weakweak"}, 422),
        ("users", {"email": "dora@example.com", "password": PASSWORD}, 422),
        ("users", {"email": "not-an-email", "password": PASSWORD}, 422),
        ("users", {"email": "eve@example.com"}, 422),
        ("users", {"email": "eve@example.com", "password": PASSWORD, "referral_uid": "ID0"}, 422),
        ("users/update", {"uid": user["uid"], "role": "emperor"}, 422),
        ("users/update", {"uid": user["uid"], "data": "[1, 2]"}, 422),
        ("users/update", {"uid": "IDNOBODY", "role": "admin"}, 404),
        ("users/get", {"uid": user["uid"], "email": "dora@example.com"}, 422),
        ("users/list", {"limit": 1000}, 422),
    ]
    for path, data, status in cases:
        answer = await call(mgmt, path, **data)
        assert answer.status_code == status, (path, data, answer.text)
        assert set(answer.json()) == {"error"}
        assert "weakweak" not in answer.text
    missing = await get_user(mgmt, uid="IDNOBODY")
    assert (missing.status_code, missing.json()) == (404, {"error": "Couldn't find record."})
    rows = await sql(mgmt, "SELECT email, role, data FROM users")
    assert [(r["email"], r["role"], r["data"]) for r in rows] == [
        ("dora@example.com", "member", "")
    ]


async def test_import_takes_argon2id_digests_and_refuses_bcrypt(mgmt: httpx.AsyncClient) -> None:
    digest = passwords.hash_password(PASSWORD)
    imported = await call(mgmt, "users/import", email="fay@example.com", password_digest=digest)
    assert imported.status_code == 201, imported.text
    login = await mgmt.post(
        f"{IDENTITY}/sessions", json={"email": "fay@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text

    bcrypt = "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
    refused = await call(mgmt, "users/import", email="gus@example.com", password_digest=bcrypt)
    assert refused.status_code == 422
    assert refused.json() == {"error": "management.user.unsupported_digest"}
    garbage = await call(mgmt, "users/import", email="gus@example.com", password_digest="x")
    assert garbage.status_code == 422
    assert len(await sql(mgmt, "SELECT id FROM users")) == 1


async def test_refusals_of_signer_scope_verb_and_replay(mgmt: httpx.AsyncClient) -> None:
    # the back office alone may neither create users nor read them
    created = await call(mgmt, "users", "POST", "backoffice", email="hal@example.com")
    assert (created.status_code, created.json()) == (
        401,
        {"error": "Not enough signatures for the action."},
    )
    unread = await call(mgmt, "users/get", "POST", "backoffice", email="hal@example.com")
    assert unread.status_code == 401
    both = await call(mgmt, "users/get", "POST", "applogic", "backoffice", email="x@example.com")
    assert both.status_code == 404
    stranger = await call(mgmt, "timestamp", "POST", "stranger")
    assert stranger.status_code == 401
    verb = await call(mgmt, "labels", "DELETE")
    assert (verb.status_code, verb.json()) == (
        405,
        {"error": "Only POST and PUT verbs are allowed."},
    )

    body = orjson.dumps(envelope({"email": "hal@example.com", "password": PASSWORD}))
    first = await mgmt.post(f"{MGMT}/users", content=body, headers=JSON)
    assert first.status_code == 201
    again = await mgmt.post(f"{MGMT}/users", content=body, headers=JSON)
    assert (again.status_code, again.json()) == (401, {"error": "JWT has already been used."})
    assert len(await sql(mgmt, "SELECT id FROM users")) == 1


async def test_private_labels_move_state_and_level(mgmt: httpx.AsyncClient) -> None:
    user = await new_user(mgmt, "ivy@example.com")
    uid = user["uid"]
    created = await call(mgmt, "labels", user_uid=uid, key="email", value="verified")
    assert created.status_code == 201, created.text
    assert created.json()["scope"] == "private"
    shown = (await get_user(mgmt, uid=uid)).json()
    assert (shown["state"], shown["level"]) == ("active", 1)

    twice = await call(mgmt, "labels", user_uid=uid, key="email", value="verified")
    assert twice.status_code == 422
    absent = await call(mgmt, "labels", "PUT", user_uid=uid, key="kyc", value="x1y", replace=False)
    assert (absent.status_code, absent.json()) == (404, {"error": "Couldn't find record."})
    bad = await call(mgmt, "labels", user_uid=uid, key="Bad Key", value="verified")
    assert bad.status_code == 422
    assert "key" in bad.json()["error"]
    for key in ("role", "level", "state", "otp"):  # what the identity keeps itself
        access = await call(mgmt, "labels", "PUT", user_uid=uid, key=key, value="superadmin")
        assert (access.status_code, access.json()) == (
            422,
            {"error": "management.label.reserved_key"},
        ), key

    banned = await call(mgmt, "labels", "PUT", user_uid=uid, key="ban", value="fraud")
    assert banned.status_code == 200, banned.text
    assert (await get_user(mgmt, uid=uid)).json()["state"] == "banned"
    listed = await call(mgmt, "labels/list", user_uid=uid)
    assert {(label["key"], label["value"]) for label in listed.json()} == {
        ("email", "verified"),
        ("ban", "fraud"),
    }
    await new_user(mgmt, "jon@example.com")
    carrying = await call(mgmt, "labels/filter/users", key="ban")
    assert [u["uid"] for u in carrying.json()] == [uid]
    assert (await call(mgmt, "labels/filter/users", key="ban", value="spam")).json() == []

    removed = await call(mgmt, "labels/delete", user_uid=uid, key="ban")
    assert removed.status_code == 204
    assert (await get_user(mgmt, uid=uid)).json()["state"] == "active"
    gone = await call(mgmt, "labels/delete", user_uid=uid, key="ban")
    assert gone.status_code == 404


async def test_phones_verified_by_the_caller(mgmt: httpx.AsyncClient) -> None:
    uid = (await new_user(mgmt, "kim@example.com"))["uid"]
    await call(mgmt, "labels", user_uid=uid, key="email", value="verified")
    added = await call(mgmt, "phones", uid=uid, number="+44 7700 900123")
    assert added.status_code == 201, added.text
    assert added.json()["number"] == "+44********23"
    assert added.json()["validated_at"] is not None
    shown = (await get_user(mgmt, phone_num="447700900123")).json()
    assert (shown["uid"], shown["level"]) == (uid, 2)
    listed = await call(mgmt, "phones/get", uid=uid)
    assert [p["country"] for p in listed.json()] == ["GB"]
    stored = await sql(mgmt, "SELECT number FROM phones")
    assert "7700900123" not in stored[0]["number"]

    for data in ({"uid": uid, "number": "12"}, {"uid": uid, "number": "+447700900123"}):
        refused = await call(mgmt, "phones", **data)
        assert refused.status_code == 422, refused.text
    deleted = await call(mgmt, "phones/delete", uid=uid, number="447700900123")
    assert deleted.status_code == 201
    after = (await get_user(mgmt, uid=uid)).json()
    assert (after["phones"], after["level"]) == ([], 1)
    again = await call(mgmt, "phones/delete", uid=uid, number="447700900123")
    assert again.status_code == 404


async def test_documents_and_profiles(mgmt: httpx.AsyncClient) -> None:
    uid = (await new_user(mgmt, "lou@example.com"))["uid"]
    doc = {
        "uid": uid,
        "doc_type": "passport",
        "doc_number": "X1234567",
        "filename": "passport",
        "file_ext": "png",
    }
    uploaded = await call(mgmt, "documents", **doc, upload=base64.b64encode(PNG).decode())
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["content_type"], uploaded.json()["state"]) == ("image/png", "pending")
    shown = (await get_user(mgmt, uid=uid)).json()
    assert ("document", "pending") in {(x["key"], x["value"]) for x in shown["labels"]}
    assert len(shown["documents"]) == 1
    assert "X1234567" not in str(shown)

    quiet = await call(
        mgmt, "documents", **doc, upload=base64.b64encode(PNG).decode(), update_labels=False
    )
    assert quiet.status_code == 201
    for upload in ("***", base64.b64encode(b"MZ not an image").decode()):
        refused = await call(mgmt, "documents", **doc, upload=upload)
        assert refused.status_code == 422, refused.text
    assert len(await sql(mgmt, "SELECT id FROM documents")) == 2

    profile = await call(
        mgmt,
        "profiles",
        uid=uid,
        first_name="Lou",
        last_name="Reed",
        dob="1990-03-02",
        country="us",
        state="verified",
    )
    assert profile.status_code == 201, profile.text
    assert (profile.json()["first_name"], profile.json()["state"]) == ("Lou", "verified")
    shown = (await get_user(mgmt, uid=uid)).json()
    assert shown["profiles"][0]["country"] == "US"
    assert ("profile", "verified") in {(x["key"], x["value"]) for x in shown["labels"]}
    stored = await sql(mgmt, "SELECT first_name FROM profiles")
    assert stored[0]["first_name"] != "Lou"  # sealed
    bad = await call(mgmt, "profiles", uid=uid, state="approved")
    assert bad.status_code == 422


async def _with_otp(mgmt: httpx.AsyncClient, uid: str) -> str:
    secret = pyotp.random_base32(32)
    keystore = mgmt._transport.app.state.identity.keystore  # type: ignore[attr-defined]
    sealed = await keystore.encrypt(OTP_KEY, secret.encode())
    await sql(mgmt, "UPDATE users SET otp = true, otp_secret = $1 WHERE uid = $2", sealed, uid)
    return secret


async def test_otp_sign_adds_barongs_signature_only_for_a_valid_code(
    mgmt: httpx.AsyncClient,
) -> None:
    uid = (await new_user(mgmt, "max@example.com"))["uid"]
    secret = await _with_otp(mgmt, uid)
    code = pyotp.TOTP(secret).at(clock_of(mgmt).time())
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    request = envelope({"uid": uid, "currency": "btc", "amount": "1.5"}, "applogic")

    refused = await call(mgmt, "otp/sign", user_uid=uid, otp_code=wrong, jwt=request)
    assert refused.status_code == 422
    assert "signatures" not in refused.text
    failures = await sql(mgmt, "SELECT result FROM activities WHERE topic = 'otp'")
    assert [r["result"] for r in failures] == ["failed"]

    signed = await call(mgmt, "otp/sign", user_uid=uid, otp_code=code, jwt=request)
    assert signed.status_code == 201, signed.text
    keychain = {"applogic": verifier("applogic"), "barong": verifier("barong")}
    verified = multisig.verify(signed.json(), keychain, leeway_s=5)
    assert verified.signers == {"applogic", "barong"}
    assert verified.claims["data"]["amount"] == "1.5"

    reused = await call(mgmt, "otp/sign", user_uid=uid, otp_code=code, jwt=request)
    assert reused.status_code == 422
    expired = envelope({"uid": uid}, "applogic", lifetime=-60)
    stale = await call(mgmt, "otp/sign", user_uid=uid, otp_code=code, jwt=expired)
    assert (stale.status_code, stale.json()) == (422, {"error": "jwt: expired"})
    unknown = envelope({"uid": uid}, "stranger")
    forged = await call(mgmt, "otp/sign", user_uid=uid, otp_code=code, jwt=unknown)
    assert (forged.status_code, forged.json()) == (422, {"error": "jwt: no known signer"})
    nobody = await call(mgmt, "otp/sign", user_uid="IDNOBODY", otp_code=code, jwt=request)
    assert nobody.status_code == 404


async def test_otp_sign_refuses_users_without_2fa_and_limits_guessing(
    mgmt: httpx.AsyncClient,
) -> None:
    plain = (await new_user(mgmt, "ned@example.com"))["uid"]
    request = envelope({"uid": plain}, "applogic")
    no_otp = await call(mgmt, "otp/sign", user_uid=plain, otp_code="123456", jwt=request)
    assert (no_otp.status_code, no_otp.json()) == (422, {"error": "management.otp.disabled"})

    uid = (await new_user(mgmt, "ola@example.com"))["uid"]
    secret = await _with_otp(mgmt, uid)
    statuses = []
    for n in range(6):
        code = pyotp.TOTP(secret).at(clock_of(mgmt).time())
        # A code in another script's digits is a wrong code too (once a 500).
        guess = "١٢٣٤٥٦" if n == 0 else f"{(int(code) + 500_000) % 10**6:06d}"
        answer = await call(mgmt, "otp/sign", user_uid=uid, otp_code=guess, jwt=request)
        statuses.append(answer.status_code)
    assert statuses == [422] * 5 + [429]


async def test_service_accounts_timestamp_and_api_keys(mgmt: httpx.AsyncClient) -> None:
    owner = (await new_user(mgmt, "pia@example.com"))["uid"]
    await call(mgmt, "labels", user_uid=owner, key="email", value="verified")
    created = await call(
        mgmt, "service_accounts/create", owner_uid=owner, service_account_role="sa_maker"
    )
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["uid"].startswith("SI")
    assert account["user"]["uid"] == owner
    found = await call(mgmt, "service_accounts/get", email=account["email"])
    assert found.json()["uid"] == account["uid"]
    listed = await call(mgmt, "service_accounts/list", owner_email="pia@example.com")
    assert [a["uid"] for a in listed.json()] == [account["uid"]]
    chosen = await call(
        mgmt,
        "service_accounts/create",
        owner_uid=owner,
        service_account_role="sa_maker",
        service_account_uid="SI0000000001",
    )
    assert chosen.status_code == 422
    deleted = await call(mgmt, "service_accounts/delete", uid=account["uid"])
    assert deleted.json()["state"] == "disabled"
    assert (await call(mgmt, "service_accounts/get", uid="SINOBODY")).status_code == 404

    clock = await call(mgmt, "timestamp")
    assert abs(clock.json()["timestamp"] - time.time()) < 5
    keys = await call(mgmt, "api_keys", uid=owner, algorithm="HS256")
    assert (keys.status_code, keys.json()) == (422, {"error": "disabled_management_endpoint"})


async def test_paths_are_in_the_openapi_schema(mgmt: httpx.AsyncClient) -> None:
    schema = (await mgmt.get("/api/v2/barong/swagger")).json()
    paths = {p: v for p, v in schema["paths"].items() if p.startswith(MGMT)}
    assert {f"{MGMT}/users/get", f"{MGMT}/otp/sign", f"{MGMT}/labels"} <= set(paths)
    assert all(op.get("summary") for ops in paths.values() for op in ops.values())
    body = paths[f"{MGMT}/otp/sign"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["required"] == ["payload", "signatures"]


def test_barongs_signing_key_comes_from_settings_or_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = barong_management_key(deployment_settings(monkeypatch, data_dir=tmp_path))
    path = tmp_path / "keys" / "barong-management-rs256.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    again = barong_management_key(deployment_settings(monkeypatch, data_dir=tmp_path))
    claims = {"iat": 1, "exp": 2, "jti": "j", "data": {}}
    signed = multisig.sign(claims, made)
    assert multisig.verify(signed, {"barong": multisig.public_of(again)}, now=1).signers == {
        "barong"
    }
    given = deployment_settings(
        monkeypatch, data_dir=tmp_path, barong_management_key=rsa_pem("barong")[0]
    )
    assert barong_management_key(given).kid == "barong"
    broken = deployment_settings(monkeypatch, data_dir=tmp_path, barong_management_key="nope")
    with pytest.raises(typer.Exit):
        barong_management_key(broken)
