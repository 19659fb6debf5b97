"""Barong's member-facing contract over HTTP: API keys and activities in pages, the API key
parameters OpenDAX's front end sends (``state=disabled``, ``DELETE …?totp_code=``), the
password strength answer (``entropy``) and policy (``configs``), ``otp/verify``, the
``swagger_doc`` paths and a KYC provider's signed callback (``public/kyc``)."""

import json
import re
from typing import Any

import httpx

from bursa.clock import ManualClock
from bursa.identity import passwords
from bursa.identity.kyc_providers import Kycaid
from bursa.identity.service import LOGIN_ATTEMPTS
from tests.identity.test_api_keys import member_with_2fa
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
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
from tests.identity.test_otp import wrong_code

PUBLIC = "/api/v2/barong/public"
KEYS = f"{RESOURCE}/api_keys"


async def fresh_code(api: httpx.AsyncClient, totp: Any, step: int) -> str:
    """This step's code, made usable again (each code is taken once)."""
    await sql(api, "UPDATE users SET otp_last_step = NULL")
    return str(totp.at(step * 30))


def errors(response: httpx.Response) -> list[str]:
    return list(response.json()["errors"])


async def test_api_keys_in_pages_disabled_state_and_codes_in_the_query(
    api: httpx.AsyncClient,
) -> None:
    csrf, (totp, step) = await member_with_2fa(api, "pia@example.com")
    kids = []
    for scope in ("read", "trade", "read,trade"):
        body = {"scope": scope, "totp_code": await fresh_code(api, totp, step)}
        created = await api.post(KEYS, json=body, headers=csrf)
        assert created.status_code == 201, created.text
        kids.append(created.json()["kid"])

    first = await api.get(KEYS, params={"limit": 2})
    assert [k["kid"] for k in first.json()] == kids[:2]
    assert (first.headers["Total"], first.headers["Page"], first.headers["Per-Page"]) == (
        "3",
        "1",
        "2",
    )
    second = await api.get(KEYS, params={"limit": 2, "page": 2})
    assert [k["kid"] for k in second.json()] == kids[2:]
    newest = await api.get(KEYS, params={"ordering": "desc", "order_by": "created_at"})
    assert [k["kid"] for k in newest.json()] == kids[::-1]
    for bad, code in (
        ({"limit": 0}, None),
        ({"page": "x"}, None),
        ({"ordering": "sideways"}, "resource.api_key.invalid_ordering"),
        ({"order_by": "secret"}, "resource.api_key.invalid_order_by"),
        ({"sort": "id"}, "server.request.unknown_parameter.sort"),
    ):
        refused = await api.get(KEYS, params=bad)
        assert refused.status_code == 422, bad
        if code is not None:
            assert errors(refused) == [code]

    kid = kids[0]
    disabled = await api.patch(
        f"{KEYS}/{kid}",
        json={"state": "disabled", "totp_code": await fresh_code(api, totp, step)},
        headers=csrf,
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["state"] == "inactive"
    bogus = await api.patch(
        f"{KEYS}/{kid}",
        json={"state": "asleep", "totp_code": await fresh_code(api, totp, step)},
        headers=csrf,
    )
    assert errors(bogus) == ["resource.api_key.invalid_state"]
    # PATCH's parameters from the query string too (Grape reads them there).
    enabled = await api.patch(
        f"{KEYS}/{kid}",
        params={"state": "active", "totp_code": await fresh_code(api, totp, step)},
        headers=csrf,
    )
    assert enabled.json()["state"] == "active", enabled.text

    missing = await api.delete(f"{KEYS}/{kid}", headers=csrf)
    assert errors(missing) == ["resource.api_key.missing_otp"]
    too_long = await api.delete(f"{KEYS}/{kid}", params={"totp_code": "1234567"}, headers=csrf)
    assert too_long.status_code == 422
    wrong = await api.delete(
        f"{KEYS}/{kid}", params={"totp_code": wrong_code(totp, clock_now(api))}, headers=csrf
    )
    assert errors(wrong) == ["resource.api_key.invalid_otp"]
    assert len(await sql(api, "SELECT 1 FROM api_keys")) == 3
    deleted = await api.delete(
        f"{KEYS}/{kid}", params={"totp_code": await fresh_code(api, totp, step)}, headers=csrf
    )
    assert deleted.status_code == 204, deleted.text
    assert [k["kid"] for k in (await api.get(KEYS)).json()] == kids[1:]

    # Closing the account: the 2FA code may come in the query, the password never.
    me = f"{RESOURCE}/users/me"
    in_query = await api.delete(me, params={"password": PASSWORD}, headers=csrf)
    assert errors(in_query) == ["resource.user.password_in_query"]
    closed = await api.request(
        "DELETE",
        me,
        params={"otp_code": await fresh_code(api, totp, step)},
        json={"password": PASSWORD},
        headers=csrf,
    )
    assert closed.status_code == 204, closed.text


def clock_now(api: httpx.AsyncClient) -> ManualClock:
    found = api._transport.app.state.identity.clock  # type: ignore[attr-defined]
    assert isinstance(found, ManualClock)
    return found


async def test_own_activities_filtered_and_paged_in_the_database(api: httpx.AsyncClient) -> None:
    await sign_up(api, "quin@example.com")  # account: signup
    for _ in range(3):  # session: login failed (a wrong password)
        wrong = {"email": "quin@example.com", "password": "Not-the-0ne!"}
        assert (await api.post(f"{IDENTITY}/sessions", json=wrong)).status_code == 401
    activity = f"{RESOURCE}/users/activity"

    every = await api.get(f"{activity}/all", params={"limit": 2})
    assert len(every.json()) == 2
    assert every.headers["Total"] == "4"
    assert (every.headers["Page"], every.headers["Per-Page"]) == ("1", "2")
    rest = await api.get(f"{activity}/all", params={"limit": 2, "page": 2})
    ids = [a["id"] for a in every.json() + rest.json()]
    assert ids == sorted(ids, reverse=True)  # newest first, no row twice
    assert len(set(ids)) == 4
    beyond = await api.get(f"{activity}/all", params={"limit": 2, "page": 3})
    assert (beyond.json(), beyond.headers["Total"]) == ([], "4")

    sessions = await api.get(f"{activity}/session", params={"result": "failed"})
    assert [a["topic"] for a in sessions.json()] == ["session"] * 3
    assert sessions.headers["Total"] == "3"
    accounts = await api.get(f"{activity}/account", params={"result": "failed"})
    assert (accounts.json(), accounts.headers["Total"]) == ([], "0")
    later = await api.get(f"{activity}/all", params={"time_from": 4_000_000_000})
    assert later.json() == []
    earlier = await api.get(f"{activity}/all", params={"time_to": 1})
    assert earlier.json() == []

    for path, params, code in (
        (f"{activity}/everything", {}, "resource.user.wrong_topic"),
        (f"{activity}/all", {"limit": 0}, None),
        (f"{activity}/all", {"limit": 1001}, None),
        (f"{activity}/all", {"page": 0}, None),
        (f"{activity}/all", {"result": "won"}, None),
        (f"{activity}/all", {"time_from": "yesterday"}, None),
        (f"{activity}/all", {"topic": "otp"}, "server.request.unknown_parameter.topic"),
    ):
        refused = await api.get(path, params=params)
        assert refused.status_code == 422, (path, params)
        if code is not None:
            assert errors(refused) == [code]


async def test_password_strength_answers_entropy_and_configs_the_policy(
    api: httpx.AsyncClient,
) -> None:
    for prefix in (IDENTITY, PUBLIC):
        configs = (await api.get(f"{prefix}/configs")).json()
        assert configs["password_min_entropy"] == passwords.MIN_ENTROPY_BITS == 30
        rule = re.compile(configs["password_regexp"])
        assert rule.fullmatch(PASSWORD)
        for refused in (
            "Tr4de-!",  # 7 characters
            "Aa1!" + "x" * 77,  # 81
            "tr4de-night!owl",  # no upper-case letter
            "TR4DE-NIGHT!OWL",  # no lower-case letter
            "Trade-Night!Owl",  # no digit
            "Tr4deNightOwl",  # no symbol
        ):
            assert not rule.fullmatch(refused), refused
            assert passwords.check_strength(refused).code == "password.requirements"

        strong = (await api.post(f"{prefix}/password/validate", json={"password": PASSWORD})).json()
        assert strong["result"] == "strong"
        assert strong["entropy"] >= configs["password_min_entropy"]
        weak = (
            await api.post(f"{prefix}/password/validate", json={"password": "Password1!"})
        ).json()
        assert (weak["result"], weak["entropy"] < 30) == ("weak", True)
        short = (await api.post(f"{prefix}/password/validate", json={"password": "abc"})).json()
        assert short["result"] == "requirements"
        assert isinstance(short["entropy"], int)

        missing = await api.post(f"{prefix}/password/validate", json={})
        assert missing.status_code == 422
        too_long = await api.post(f"{prefix}/password/validate", json={"password": "x" * 201})
        assert too_long.status_code == 422
        in_query = await api.post(f"{prefix}/password/validate", params={"password": PASSWORD})
        assert errors(in_query) == ["server.request.unknown_parameter.password"]


async def test_otp_verify_checks_a_code_and_counts_wrong_ones(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    verify = f"{RESOURCE}/otp/verify"
    plain = await sign_up(api, "ross@example.com")
    no_2fa = await api.post(
        verify, json={"code": "123456"}, headers={"X-CSRF-Token": plain["csrf_token"]}
    )
    assert (no_2fa.status_code, errors(no_2fa)) == (400, ["resource.otp.not_enabled"])
    api.cookies.clear()

    csrf, (totp, step) = await member_with_2fa(api, "sara@example.com")
    assert (await api.post(verify, json={"code": "123456"})).status_code == 401  # no CSRF token
    right = await api.post(verify, json={"code": totp.at(step * 30)}, headers=csrf)
    assert (right.status_code, right.json()) == (201, {})
    reused = await api.post(verify, json={"code": totp.at(step * 30)}, headers=csrf)
    assert errors(reused) == ["resource.otp.invalid_otp"]
    missing = await api.post(verify, json={}, headers=csrf)
    assert missing.status_code == 422
    too_long = await api.post(verify, json={"code": "1234567"}, headers=csrf)
    assert too_long.status_code == 422
    for _ in range(LOGIN_ATTEMPTS - 2):  # with the reused one, LOGIN_ATTEMPTS - 1 wrong
        wrong = await api.post(verify, json={"code": wrong_code(totp, clock)}, headers=csrf)
        assert (wrong.status_code, errors(wrong)) == (422, ["resource.otp.invalid_otp"])
    last_wrong = await api.post(verify, json={"code": wrong_code(totp, clock)}, headers=csrf)
    assert errors(last_wrong) == ["resource.otp.invalid_otp"]
    locked = await api.post(verify, json={"code": totp.at((step + 1) * 30)}, headers=csrf)
    assert (locked.status_code, errors(locked)) == (403, ["resource.otp.otp_locked"])
    actions = await sql(
        api,
        "SELECT result FROM activities WHERE topic = 'otp' AND action = 'verify' ORDER BY id",
    )
    assert [a["result"] for a in actions] == ["succeed"] + ["failed"] * LOGIN_ATTEMPTS + ["denied"]


async def test_swagger_doc_answers_the_openapi_document(api: httpx.AsyncClient) -> None:
    whole = await api.get(f"{RESOURCE}/swagger_doc")
    assert whole.status_code == 200, whole.text
    assert whole.json()["openapi"].startswith("3.")
    assert f"{RESOURCE}/otp/verify" in whole.json()["paths"]
    keys = await api.get(f"{RESOURCE}/swagger_doc/api_keys", params={"locale": "en"})
    assert set(keys.json()["paths"]) == {KEYS, f"{KEYS}/{{kid}}"}
    unknown = await api.get(f"{RESOURCE}/swagger_doc/nothing")
    assert (unknown.status_code, errors(unknown)) == (404, ["resource.swagger_doc.not_found"])
    assert (await api.get(f"{RESOURCE}/swagger_doc/Bad-Name")).status_code == 422
    assert (await api.get(f"{RESOURCE}/swagger_doc", params={"x": 1})).status_code == 422


# KYCAID's published example of its callback signature (docs.kycaid.com, "Callback
# integrity verification"): this body, this API token, this x-data-integrity.
KYCAID_BODY = (
    b'{"request_id":"61a7dbcc012d9042e909cf006e7b412d6ba5","type":"VERIFICATION_STATUS_CHANGED",'
    b'"applicant_id":"4141cc1b18dba048470b2961cb4592f480fe","verification_id":'
    b'"2cf795e713be1040e50b202164ee17bfdfbe","form_id":"58bed87600dd9944f02ba0c9cd8b32d6bd4c",'
    b'"verification_status":"pending"}'
)
KYCAID_TOKEN = "28c6f7cc0345a04eee0b535039b1c5a62547"
KYCAID_SIGNATURE = (
    "f7681b097b77928fc031d614709976796057c306cf77fdd449bb414937bd8767"
    "8d908d7efaa65e9b1dd65b9eeea2121ea75bd9007f44fe8fcd7c9ac6cdeeef0e"
)


def test_kycaid_signs_as_its_documentation_shows() -> None:
    assert Kycaid(KYCAID_TOKEN).signature(KYCAID_BODY) == KYCAID_SIGNATURE


def completed(uid: str, request_id: str, document: bool, profile: bool) -> bytes:
    """A KYCAID ``VERIFICATION_COMPLETED`` callback about member ``uid``."""
    return json.dumps(
        {
            "type": "VERIFICATION_COMPLETED",
            "request_id": request_id,
            "verification_id": "270128a807f3c24bfd1b8da4a4af7d2080c4",
            "applicant_id": "723f46ab04feb64f442946f2952a67eaecf7",
            "status": "completed",
            "verified": document and profile,
            "verifications": {
                "profile": {"verified": profile, "comment": "", "decline_reasons": ["Blurry"]},
                "document": {"verified": document, "comment": "", "decline_reasons": []},
                "facial": {"verified": None, "comment": "", "decline_reasons": []},
            },
            "applicant": {"external_applicant_id": uid, "type": "PERSON"},
        }
    ).encode()


async def test_kyc_callback_signed_forged_and_replayed(api: httpx.AsyncClient) -> None:
    kyc = f"{PUBLIC}/kyc"
    off = await api.post(kyc, content=KYCAID_BODY, headers={"x-data-integrity": "00"})
    assert (off.status_code, errors(off)) == (404, ["public.kyc.provider_not_configured"])
    provider = Kycaid("kycaid-test-token")
    api._transport.app.state.kyc_provider = provider  # type: ignore[attr-defined]

    member = await sign_up(api, "tess@example.com")
    api.cookies.clear()
    uid = member["uid"]
    await sql(
        api,
        "INSERT INTO documents (user_id, doc_type, upload, content_type, size) "
        "SELECT id, 'passport', 'x.png', 'image/png', 1 FROM users WHERE uid = $1",
        uid,
    )

    def signed(body: bytes) -> dict[str, str]:
        return {"x-data-integrity": provider.signature(body), "content-type": "application/json"}

    async def labels() -> dict[str, str]:
        rows = await sql(
            api,
            "SELECT key, value FROM labels l JOIN users u ON u.id = l.user_id "
            "WHERE u.uid = $1 AND l.scope = 'private'",
            uid,
        )
        return {row["key"]: row["value"] for row in rows}

    body = completed(uid, "b730d77f049ae24c9b18f054399b7307eb3b", document=True, profile=False)
    unsigned = await api.post(kyc, content=body)
    assert (unsigned.status_code, errors(unsigned)) == (401, ["public.kyc.missing_signature"])
    forged = await api.post(
        kyc, content=body, headers={"x-data-integrity": Kycaid("guess").signature(body)}
    )
    assert (forged.status_code, errors(forged)) == (401, ["public.kyc.invalid_signature"])
    tampered = body.replace(b'"profile": {"verified": false', b'"profile": {"verified": true')
    assert tampered != body
    altered = await api.post(kyc, content=tampered, headers=signed(body))
    assert errors(altered) == ["public.kyc.invalid_signature"]
    assert await labels() == {}
    assert await sql(api, "SELECT 1 FROM kyc_callbacks") == []

    applied = await api.post(kyc, content=body, headers=signed(body))
    assert (applied.status_code, applied.json()) == (200, {"result": "applied"}), applied.text
    assert await labels() == {"document": "verified", "profile": "rejected"}
    (document,) = await sql(api, "SELECT state FROM documents")
    assert document["state"] == "verified"
    names = [event["name"] for event in await outbox_events(api)]
    assert "system.document.verified" in names

    # A replay (or the provider's re-delivery) changes nothing, even after an admin's change.
    await sql(api, "UPDATE labels SET value = 'rejected' WHERE key = 'document'")
    replayed = await api.post(kyc, content=body, headers=signed(body))
    assert (replayed.status_code, replayed.json()) == (200, {"result": "duplicate"})
    assert (await labels())["document"] == "rejected"

    for bad_body, code in (
        (completed("IDFFFFFFFFFF", "another-request", True, True), "public.kyc.unknown_applicant"),
        (b"not json", "public.kyc.invalid_callback"),
        (b'["a list"]', "public.kyc.invalid_callback"),
        (b'{"type": "VERIFICATION_COMPLETED"}', "public.kyc.invalid_callback"),
        (json.dumps({"type": "VERIFICATION_COMPLETED", "request_id": "r1"}).encode(),
         "public.kyc.unknown_applicant"),
    ):  # fmt: skip
        refused = await api.post(kyc, content=bad_body, headers=signed(bad_body))
        assert (refused.status_code, errors(refused)) == (422, [code]), bad_body
    status_changed = await api.post(kyc, content=KYCAID_BODY, headers=signed(KYCAID_BODY))
    assert status_changed.json() == {"result": "acknowledged"}
    in_query = await api.post(kyc, params={"x": "1"}, content=body, headers=signed(body))
    assert in_query.status_code == 422
    assert len(await sql(api, "SELECT 1 FROM kyc_callbacks")) == 2
