"""SMS through Twilio's Messages API, against a real HTTP server on 127.0.0.1 that plays
Twilio (it records what it receives and answers what the test tells it to)."""

import base64
import json
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bursa.cli.serve import build_sms
from bursa.identity.sms import FileSmsSender, SmsError, TwilioSmsSender
from bursa.secrets.keystore import LocalKeyStore
from tests.identity.serving import identity_api
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    Inbox,
    free_port,
    inbox,
    sql,
)
from tests.identity.test_kyc import confirmed_member
from tests.test_settings import deployment_settings

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token-5e3c2a"
SENDER = "+15005550006"


@dataclass
class Received:
    path: str
    authorization: str
    content_type: str
    form: dict[str, list[str]]


class FakeTwilio:
    """What the server received, and what it answers next (status, JSON or raw body, delay)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 201
        self.body: Any = {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}
        self.delay = 0.0
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, status: int, body: Any) -> None:
        self.status, self.body = status, body

    def sender(self, timeout_s: float = 5.0) -> TwilioSmsSender:
        return TwilioSmsSender(SID, TOKEN, SENDER, base_url=self.url, timeout_s=timeout_s)

    def codes(self) -> list[str]:
        found = []
        for request in self.received:
            match = re.search(r"\b(\d{6})\b", request.form["Body"][0])
            assert match, request.form
            found.append(match.group(1))
        return found


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with running_twilio() as fake:
        yield fake


@contextmanager
def running_twilio() -> Iterator[FakeTwilio]:
    """A Twilio-compatible HTTP server on a free local port, answering as ``answer`` says."""
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            fake.received.append(
                Received(
                    self.path,
                    self.headers.get("Authorization", ""),
                    self.headers.get("Content-Type", ""),
                    parse_qs(self.rfile.read(length).decode()),
                )
            )
            time.sleep(fake.delay)
            raw = fake.body if isinstance(fake.body, bytes) else json.dumps(fake.body).encode()
            try:
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


async def test_a_message_reaches_twilio_as_twilio_expects_it(twilio: FakeTwilio) -> None:
    await twilio.sender().send("447700900123", "Bursa code: 493817")

    (request,) = twilio.received
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.authorization == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.form == {
        "To": ["+447700900123"],
        "From": [SENDER],
        "Body": ["Bursa code: 493817"],
    }


@pytest.mark.parametrize(
    ("status", "body", "reason", "bad_number"),
    [
        (
            400,
            {"code": 21211, "message": "The 'To' number +447700900123 is not valid", "status": 400},
            "HTTP 400, error 21211",
            True,
        ),
        (
            400,
            {"code": 21614, "message": "'To' number is not a valid mobile number", "status": 400},
            "HTTP 400, error 21614",
            True,
        ),
        (
            401,
            {"code": 20003, "message": "Authenticate", "status": 401},
            "HTTP 401, error 20003",
            False,
        ),
        (503, b"<html>Service Unavailable</html>", "HTTP 503", False),
        (201, {"unexpected": True}, "HTTP 201", False),  # accepted without a message id?
    ],
)
async def test_refusals_become_errors_without_secrets(
    twilio: FakeTwilio, status: int, body: Any, reason: str, bad_number: bool
) -> None:
    twilio.answer(status, body)
    with pytest.raises(SmsError) as refused:
        await twilio.sender().send("447700900123", "Bursa code: 493817")
    assert reason in refused.value.reason
    assert refused.value.bad_number is bad_number
    for secret in (TOKEN, "493817", "7700900123"):
        assert secret not in str(refused.value)


async def test_a_silent_provider_times_out(twilio: FakeTwilio) -> None:
    twilio.delay = 3.0
    started = time.monotonic()
    with pytest.raises(SmsError, match="did not answer in time"):
        await twilio.sender(timeout_s=0.3).send("447700900123", "Bursa code: 493817")
    assert time.monotonic() - started < 2.0


async def test_an_unreachable_provider_is_an_sms_error() -> None:
    sender = TwilioSmsSender(SID, TOKEN, SENDER, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SmsError, match="unreachable"):
        await sender.send("447700900123", "Bursa code: 493817")


@pytest.fixture
async def texting_api(
    fresh_database_url: str,
    inbox: tuple[Inbox, int],
    local_keystore: LocalKeyStore,
    twilio: FakeTwilio,
) -> AsyncIterator[httpx.AsyncClient]:
    async with identity_api(
        fresh_database_url, inbox[1], local_keystore, twilio.sender(timeout_s=2.0)
    ) as client:
        yield client


async def test_phone_verified_with_the_code_twilio_carried(
    texting_api: httpx.AsyncClient,
    inbox: tuple[Inbox, int],
    twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    csrf = await confirmed_member(texting_api, inbox[0], "tess@example.com")
    added = await texting_api.post(
        f"{RESOURCE}/phones", json={"phone_number": "+44 7700 900123"}, headers=csrf
    )
    assert added.status_code == 201, added.text
    (request,) = twilio.received
    assert request.form["To"] == ["+447700900123"]
    (code,) = twilio.codes()
    verified = await texting_api.post(
        f"{RESOURCE}/phones/verify",
        json={"phone_number": "+447700900123", "verification_code": code},
        headers=csrf,
    )
    assert verified.status_code == 201, verified.text
    assert verified.json()["level"] == 2
    assert TOKEN not in caplog.text
    assert code not in caplog.text


async def test_a_failing_provider_leaves_no_phone_and_no_usable_code(
    texting_api: httpx.AsyncClient,
    inbox: tuple[Inbox, int],
    twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    csrf = await confirmed_member(texting_api, inbox[0], "ugo@example.com")
    twilio.answer(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
    failed = await texting_api.post(
        f"{RESOURCE}/phones", json={"phone_number": "+44 7700 900124"}, headers=csrf
    )
    assert failed.status_code == 503
    assert failed.json() == {"errors": ["resource.phone.sms_failed"]}
    assert failed.headers["Retry-After"] == "60"
    assert (await texting_api.get(f"{RESOURCE}/phones")).json() == []
    (code,) = twilio.codes()  # it was asked, it failed
    guessed = await texting_api.post(
        f"{RESOURCE}/phones/verify",
        json={"phone_number": "+447700900124", "verification_code": code},
        headers=csrf,
    )
    assert guessed.json() == {"errors": ["resource.phone.doesnt_exist"]}
    usable = "SELECT 1 FROM one_time_codes WHERE purpose = 'phone' AND used_at IS NULL"
    assert await sql(texting_api, usable) == []
    # The failed attempt still counts: a failing provider is not hammered.
    twilio.answer(201, {"sid": "SM1"})
    again = await texting_api.post(
        f"{RESOURCE}/phones", json={"phone_number": "+44 7700 900124"}, headers=csrf
    )
    assert again.json() == {"errors": ["resource.phone.too_many_codes"]}
    assert len(twilio.received) == 1
    assert "+44********24" in caplog.text  # the operator sees which attempt failed…
    for secret in (TOKEN, code, "447700900124"):  # …but no secret, no full number
        assert secret not in caplog.text


async def test_a_number_twilio_refuses_can_be_corrected_at_once(
    texting_api: httpx.AsyncClient, inbox: tuple[Inbox, int], twilio: FakeTwilio
) -> None:
    csrf = await confirmed_member(texting_api, inbox[0], "val@example.com")
    twilio.answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
    refused = await texting_api.post(
        f"{RESOURCE}/phones", json={"phone_number": "+1 555 010 9999"}, headers=csrf
    )
    assert refused.status_code == 422
    assert refused.json() == {"errors": ["resource.phone.invalid_num"]}
    assert (await texting_api.get(f"{RESOURCE}/phones")).json() == []
    twilio.answer(201, {"sid": "SM2"})
    corrected = await texting_api.post(
        f"{RESOURCE}/phones", json={"phone_number": "+44 7700 900125"}, headers=csrf
    )
    assert corrected.status_code == 201, corrected.text
    assert [p["number"] for p in (await texting_api.get(f"{RESOURCE}/phones")).json()] == [
        "+44********25"
    ]


async def test_without_a_provider_outside_the_embedded_default_phones_answer_503(
    fresh_database_url: str,
    inbox: tuple[Inbox, int],
    local_keystore: LocalKeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = deployment_settings(monkeypatch, database_url=fresh_database_url)
    sms = build_sms(settings)
    assert sms is None
    async with identity_api(fresh_database_url, inbox[1], local_keystore, sms) as client:
        csrf = await confirmed_member(client, inbox[0], "wim@example.com")
        for path in ("phones", "phones/send_code"):
            refused = await client.post(
                f"{RESOURCE}/{path}", json={"phone_number": "+44 7700 900126"}, headers=csrf
            )
            assert refused.status_code == 503
            assert refused.json() == {"errors": ["resource.phone.sms_unavailable"]}
        assert (await client.get(f"{RESOURCE}/phones")).json() == []
        assert await sql(client, "SELECT 1 FROM one_time_codes WHERE purpose = 'phone'") == []


def test_the_file_sender_only_on_the_embedded_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(build_sms(deployment_settings(monkeypatch)), FileSmsSender)
    twilio = build_sms(
        deployment_settings(
            monkeypatch,
            database_url="postgresql://db.internal/bursa",
            sms_provider="twilio",
            twilio_account_sid=SID,
            twilio_auth_token=TOKEN,
            sms_from=SENDER,
        )
    )
    assert isinstance(twilio, TwilioSmsSender)
    assert twilio.url == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
