"""Fuzz the whole HTTP API from its own OpenAPI document with Schemathesis, against a real
`bursa up` (real PostgreSQL, real SMTP server in process): no request may get a 500, and
every documented answer must match its schema.

Generation is derandomized, so CI sees the same requests as a developer's machine.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bursa.api.app import create_app
from tests.conftest import _admin, database_url
from tests.identity.test_identity_api import PASSWORD, Inbox, free_port
from tests.identity.test_sms import SENDER, SID, TOKEN, running_twilio

EXAMPLES = int(os.environ.get("BURSA_FUZZ_EXAMPLES", "8"))
ROOT = "root@fuzz.example"
# Sent without the superadmin's session: they would end it (log out, close the account) or
# lock every later request out (a restriction on all, a permission row removed).
ANONYMOUS = {
    ("DELETE", "/api/v2/barong/identity/sessions"),
    ("DELETE", "/api/v2/barong/resource/users/me"),
    ("POST", "/api/v2/barong/admin/permissions"),
    ("DELETE", "/api/v2/barong/admin/permissions/{permission_id}"),
    ("POST", "/api/v2/barong/admin/restrictions"),
    ("DELETE", "/api/v2/barong/admin/restrictions/{restriction_id}"),
}
AGENT = "bursa-fuzz"


def _wait_until_up(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/v2/peatio/public/health/alive").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"bursa up did not start: {log.read_text()}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def served(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`bursa up` on a clone of the demo database, with mail going to an SMTP server here
    and SMS to a Twilio-compatible server here; a superadmin made by `bursa user create`."""
    name = f"bursa_test_fuzz_{uuid.uuid4().hex[:10]}"
    data = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
        stack.callback(
            lambda: asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        )
        mail = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
        mail.start()
        stack.callback(mail.stop)
        twilio = stack.enter_context(running_twilio())
        env = os.environ | {
            "BURSA_DATABASE_URL": database_url(name),
            "BURSA_SMTP_URL": f"smtp://127.0.0.1:{mail.port}",
            "BURSA_DATA_DIR": str(data),
            "BURSA_COOKIE_SECURE": "false",
            "BURSA_SMS_PROVIDER": "twilio",
            "BURSA_TWILIO_URL": twilio.url,
            "BURSA_TWILIO_ACCOUNT_SID": SID,
            "BURSA_TWILIO_AUTH_TOKEN": TOKEN,
            "BURSA_SMS_FROM": SENDER,
            "BURSA_LOG_LEVEL": os.environ.get("BURSA_FUZZ_LOG_LEVEL", "warning"),
        }
        log = stack.enter_context((data / "server.log").open("w"))
        server = subprocess.Popen(
            [sys.executable, "-m", "bursa", "up", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(server.wait, timeout=30)
        stack.callback(server.terminate)
        _wait_until_up(server, base, data / "server.log")
        created = subprocess.run(
            [sys.executable, "-m", "bursa", "user", "create", "--email", ROOT,
             "--password", PASSWORD, "--role", "superadmin"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        yield base


def _document() -> dict[str, Any]:
    """The OpenAPI document the server publishes: routes only, so no services are needed."""
    return create_app(None, None, None).openapi()  # type: ignore[arg-type]


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture(scope="module")
def signed_in(served: str) -> tuple[dict[str, str], dict[str, str]]:
    """A superadmin's session cookie and CSRF header: the fuzzer reaches every route as
    far as validation, not just the authentication step."""
    login = httpx.post(
        f"{served}/api/v2/barong/identity/sessions",
        json={"email": ROOT, "password": PASSWORD},
        headers={"User-Agent": AGENT},
    )
    assert login.status_code == 200, login.text
    headers = {"X-CSRF-Token": login.json()["csrf_token"], "User-Agent": AGENT}
    return headers, dict(login.cookies)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_breaks_the_api(
    case: schemathesis.Case[Any], served: str, signed_in: tuple[dict[str, str], dict[str, str]]
) -> None:
    headers, cookies = signed_in
    if (case.method.upper(), case.path) in ANONYMOUS:
        headers, cookies = {"User-Agent": AGENT}, {}
    case.call_and_validate(
        base_url=served,
        headers=headers,
        cookies=cookies,
        checks=[not_a_server_error, response_schema_conformance],
        timeout=30,
    )


# Numbers from outside (``bursa.plain_input``): the generated requests above hold valid
# numbers; these hold the strange ones Python would misread or crash on, in every numeric
# parameter of every documented route and in every field the undocumented bodies (Peatio's
# JSON or form parameters) read as a number.
PARAM = " 1_0 "  # pydantic's bare int reads it as 10; PlainInt refuses it
STRANGE = ("²", "١", " 1_0 ")  # "²" crashed int() after str.isdigit(); "١" Decimal() reads
BODY_NUMBERS = (
    "id", "amount", "volume", "price", "beneficiary_id", "pin", "otp", "position", "maker",
    "taker", "limit_24_hour", "limit_1_month", "kyc_level", "max_balance", "precision",
    "min_confirmations", "deposit_fee", "withdraw_fee", "min_price", "min_amount",
    "asset_account_code", "receiving_account_code", "wallet_id", "height",
)  # fmt: skip
EXPONENT = "{" + ", ".join(f'"{name}": 1e1' for name in BODY_NUMBERS) + "}"


def _numeric(schema: Any) -> bool:
    text = json.dumps(schema)
    return '"integer"' in text or '"number"' in text


def _filled(path: str, params: list[dict[str, Any]], name: str, value: str) -> str:
    """``path`` with ``name`` set to ``value`` and every other path parameter plausible."""
    for param in params:
        if param["in"] != "path":
            continue
        given = value if param["name"] == name else "1" if _numeric(param["schema"]) else "x"
        given = {"market": "btcusdt", "topic": "all"}.get(param["name"], given)
        path = path.replace("{" + param["name"] + "}", quote(given, safe=""))
    return path


def _strange_requests() -> list[tuple[str, str, str, dict[str, str], Any]]:
    """(method, path template, path, query, JSON body or raw text): each one refused."""
    found: list[tuple[str, str, str, dict[str, str], Any]] = []
    for path, item in _document()["paths"].items():
        for method, operation in item.items():
            params = operation.get("parameters", [])
            for param in params:
                if param["in"] not in ("path", "query") or not _numeric(param["schema"]):
                    continue
                query = {param["name"]: PARAM} if param["in"] == "query" else {}
                where = _filled(path, params, param["name"], PARAM)
                found.append((method, path, where, query, None))
            # Peatio's own bodies (JSON or form, read by ``peatio_params.read_body``); not
            # deletions or cancels, which would act on the records "1" names.
            if (
                not path.startswith("/api/v2/peatio/")
                or method in ("get", "delete")
                or "requestBody" in operation
                or path.endswith("cancel")
            ):
                continue
            where = _filled(path, params, "", "1")
            for text in STRANGE:
                found.append((method, path, where, {}, dict.fromkeys(BODY_NUMBERS, text)))
            found.append((method, path, where, {}, EXPONENT))
    return found


def test_strange_numbers_are_refused_everywhere(
    served: str, signed_in: tuple[dict[str, str], dict[str, str]]
) -> None:
    """A strange number in a numeric parameter is a 4xx (never read, never a 500); in a
    body field, never a 500. An API-key nonce ending in "²" is a 422 too."""
    headers, cookies = signed_in
    member = httpx.Client(base_url=served, headers=headers, cookies=cookies, timeout=30)
    nobody = httpx.Client(base_url=served, headers={"User-Agent": AGENT}, timeout=30)
    wrong: list[str] = []
    with member, nobody:
        for method, template, path, query, body in _strange_requests():
            client = nobody if (method.upper(), template) in ANONYMOUS else member
            raw = isinstance(body, str)
            try:
                status = client.request(
                    method,
                    path,
                    params=query,
                    headers={"Content-Type": "application/json"} if raw else None,
                    content=body if raw else None,
                    json=None if raw else body,
                ).status_code
            except httpx.TransportError:  # after a 500 the server drops the connection
                status = 599
            if status >= 500 or (body is None and status < 400):
                wrong.append(f"{method.upper()} {path} {query} {body!r}: {status}")
        key = {b"X-Auth-Apikey": b"0123456789abcdef", b"X-Auth-Signature": b"00"}
        for path in ("/api/v2/barong/resource/users/me", "/api/v2/auth/api/v2/peatio/"):
            for nonce in (b"1700000000000\xb2", b"\xb2"):  # "²" in Latin-1, as headers are read
                answer = nobody.get(path, headers=key | {b"X-Auth-Nonce": nonce})
                if answer.status_code != 422:
                    wrong.append(f"nonce on {path}: {answer.status_code} {answer.text}")
    assert not wrong, "\n".join(wrong)
