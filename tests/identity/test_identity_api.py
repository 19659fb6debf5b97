"""Sign-up, email confirmation over a real SMTP server, login, sessions and CSRF, through
the HTTP API on a real PostgreSQL."""

import asyncio
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller

from bursa.api.app import create_app
from bursa.clock import ManualClock
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.identity.limits import STRENGTH_CHECK_PER_IP
from bursa.identity.mail import SmtpMailer
from bursa.identity.service import CODE_RESEND_INTERVAL, LOCK_PERIOD, Identity
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.specs import load_specs

IDENTITY = "/api/v2/barong/identity"
RESOURCE = "/api/v2/barong/resource"
PASSWORD = "Tr4de-Night!Owl"
AGENT = {"User-Agent": "pytest-browser/1.0"}


class Inbox:
    """What the in-process SMTP server received (in the server's own thread and loop)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        for loop, arrived in list(self._waiting):
            loop.call_soon_threadsafe(arrived.set)
        return "250 OK"

    def codes_for(self, address: str, purpose: str = "confirmation") -> list[str]:
        found = []
        for message in self.messages:
            if message["To"] == address:
                match = re.search(rf"Your {purpose} code is (\d{{6}})", message.get_payload())
                if match:
                    found.append(match.group(1))
        return found

    async def wait_for(
        self, address: str, purpose: str = "confirmation", count: int = 1, timeout_s: float = 5
    ) -> list[str]:
        """``codes_for`` as soon as ``count`` codes have come, or all there are after
        ``timeout_s`` (the caller's assertion then says what is missing)."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout(timeout_s):
                while len(self.codes_for(address, purpose)) < count:
                    await waiter[1].wait()
                    waiter[1].clear()
        except TimeoutError:
            pass
        finally:
            self._waiting.remove(waiter)
        return self.codes_for(address, purpose)


class TextInbox:
    """An SMS sender that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, number: str, text: str) -> None:
        self.sent.append((number, text))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
async def api(
    fresh_database_url: str, inbox: tuple[Inbox, int], local_keystore: LocalKeyStore
) -> AsyncIterator[httpx.AsyncClient]:
    _, port = inbox
    engine = create_engine(fresh_database_url)
    identity = Identity(
        engine,
        SmtpMailer(f"smtp://127.0.0.1:{port}", "Bursa <no-reply@bursa.test>"),
        local_keystore,
        session_ttl=timedelta(minutes=30),
        app_name="Bursa",
        # It stands still (no TOTP step ends mid-test) until a test moves it past a step,
        # a lock-out or a resend interval (``clock`` below).
        clock=ManualClock(),
    )
    runner = EngineRunner(fresh_database_url, InProcessBus(), load_specs)
    app = create_app(
        runner, create_session_factory(engine), identity, secure_cookies=False, sms=TextInbox()
    )
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=AGENT
    ) as client:
        client.headers["X-Test-Db"] = fresh_database_url  # for the tests' own SQL
        yield client
    await identity.close()
    await engine.dispose()


def clock_of(api: httpx.AsyncClient) -> ManualClock:
    """The clock of the identity service behind ``api`` (for helpers given only a client)."""
    found = api._transport.app.state.identity.clock  # type: ignore[attr-defined]
    assert isinstance(found, ManualClock)
    return found


@pytest.fixture
def clock(api: httpx.AsyncClient) -> ManualClock:
    """The identity service's clock, for a test to move."""
    return clock_of(api)


async def sign_up(api: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await api.post(f"{IDENTITY}/users", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def sql(api: httpx.AsyncClient, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(api.headers["X-Test-Db"])
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def outbox_events(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every event the identity service wrote to the outbox so far, in order."""
    rows = await sql(api, "SELECT events FROM event_outbox ORDER BY id")
    return [event for row in rows for event in json.loads(row["events"])]


async def test_sign_up_confirm_by_mailed_code_and_become_active(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    response = await api.post(
        f"{IDENTITY}/users", json={"email": "Alice@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["email"] == "alice@example.com"
    assert re.fullmatch(r"ID[0-9A-F]{10}", user["uid"])
    assert (user["role"], user["state"], user["level"]) == ("member", "pending", 0)
    assert re.fullmatch(r"[0-9a-f]{40}", user["csrf_token"])
    cookie = response.headers["set-cookie"]
    assert "_barong_session=" in cookie
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "password" not in response.text.lower()

    codes = await mails.wait_for("alice@example.com")
    assert len(codes) == 1
    wrong = "000000" if codes[0] != "000000" else "111111"
    bad = await api.post(
        f"{IDENTITY}/users/email/confirm_code", json={"email": "alice@example.com", "token": wrong}
    )
    assert bad.status_code == 422
    assert bad.json() == {"errors": ["identity.user.invalid_code"]}

    good = await api.post(
        f"{IDENTITY}/users/email/confirm_code",
        json={"email": "alice@example.com", "token": codes[0]},
    )
    assert good.status_code == 201, good.text
    confirmed = good.json()
    assert (confirmed["state"], confirmed["level"]) == ("active", 1)
    assert {(label["key"], label["value"], label["scope"]) for label in confirmed["labels"]} == {
        ("email", "verified", "private")
    }
    again = await api.post(
        f"{IDENTITY}/users/email/confirm_code",
        json={"email": "alice@example.com", "token": codes[0]},
    )
    assert again.status_code == 422
    assert again.json() == {"errors": ["identity.user.code_expired"]}

    stored = await sql(api, "SELECT password_hash FROM users")
    assert stored[0]["password_hash"].startswith("$argon2id$")
    codes_stored = await sql(api, "SELECT code_digest FROM one_time_codes")
    assert all(codes[0] not in row["code_digest"] for row in codes_stored)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1!", "password.requirements"),
        ("alllowercase1!", "password.requirements"),
        ("NoDigitsHere!!", "password.requirements"),
        ("P@ssw0rd2024!", "password.weak"),
        ("Qwerty123!", "password.weak"),
        ("Carol1975!x", "password.weak"),  # built from the email's local part
        ("Aa1!Aa1!Aa1!", "password.weak"),
        ("Summer2024!", "password.weak"),  # met the old rules; zxcvbn knows season and year
    ],
)
async def test_weak_passwords_are_refused_with_a_reason(
    api: httpx.AsyncClient, password: str, code: str
) -> None:
    response = await api.post(
        f"{IDENTITY}/users", json={"email": "carol@example.com", "password": password}
    )
    assert response.status_code == 422
    assert response.json() == {"errors": [code]}
    assert await sql(api, "SELECT 1 FROM users") == []


async def test_bad_sign_up_input_changes_nothing(api: httpx.AsyncClient) -> None:
    for body in (
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "dave@example.com"},
        {"email": 42, "password": PASSWORD},
        {"email": "dave@example.com", "password": PASSWORD, "refid": "ID0000000000"},
    ):
        response = await api.post(f"{IDENTITY}/users", json=body)
        assert response.status_code == 422, body
        assert list(response.json()) == ["errors"]
    assert await sql(api, "SELECT 1 FROM users") == []
    await sign_up(api, "dave@example.com")
    taken = await api.post(
        f"{IDENTITY}/users", json={"email": "DAVE@example.com", "password": PASSWORD}
    )
    assert taken.json() == {"errors": ["email.taken"]}


async def test_resend_is_limited_and_replaces_the_code(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int], clock: ManualClock
) -> None:
    mails, _ = inbox
    await sign_up(api, "erin@example.com")
    unknown = await api.post(
        f"{IDENTITY}/users/email/generate_code", json={"email": "nobody@example.com"}
    )
    assert unknown.status_code == 201  # no account enumeration
    too_soon = await api.post(
        f"{IDENTITY}/users/email/generate_code", json={"email": "erin@example.com"}
    )
    assert too_soon.status_code == 201
    assert len(await mails.wait_for("erin@example.com")) == 1
    clock.advance(CODE_RESEND_INTERVAL)
    await api.post(f"{IDENTITY}/users/email/generate_code", json={"email": "erin@example.com"})
    first, second = await mails.wait_for("erin@example.com", count=2)
    if first != second:
        stale = await api.post(
            f"{IDENTITY}/users/email/confirm_code",
            json={"email": "erin@example.com", "token": first},
        )
        assert stale.status_code == 422
    fresh = await api.post(
        f"{IDENTITY}/users/email/confirm_code", json={"email": "erin@example.com", "token": second}
    )
    assert fresh.status_code == 201


async def test_login_failures_lock_the_account_and_are_recorded(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    await sign_up(api, "frank@example.com")
    api.cookies.clear()
    for _ in range(5):
        failed = await api.post(
            f"{IDENTITY}/sessions", json={"email": "frank@example.com", "password": "Wrong-pass-1"}
        )
        assert failed.status_code == 401
        assert failed.json() == {"errors": ["identity.session.invalid_params"]}
    locked = await api.post(
        f"{IDENTITY}/sessions", json={"email": "frank@example.com", "password": PASSWORD}
    )
    assert locked.status_code == 401
    assert locked.json() == {"errors": ["identity.session.locked"]}
    unknown = await api.post(
        f"{IDENTITY}/sessions", json={"email": "ghost@example.com", "password": PASSWORD}
    )
    assert unknown.json() == {"errors": ["identity.session.invalid_params"]}
    rows = await sql(api, "SELECT action, result, user_ip, user_agent FROM activities ORDER BY id")
    results = [(r["action"], r["result"]) for r in rows]
    assert results.count(("login", "failed")) == 6
    assert ("login", "denied") in results
    assert {r["user_ip"] for r in rows} == {"203.0.113.7"}
    assert {r["user_agent"] for r in rows} == {AGENT["User-Agent"]}

    clock.advance(LOCK_PERIOD)
    ok = await api.post(
        f"{IDENTITY}/sessions", json={"email": "frank@example.com", "password": PASSWORD}
    )
    assert ok.status_code == 200, ok.text
    activity = await api.get(f"{RESOURCE}/users/activity/session")
    assert activity.status_code == 200
    assert activity.json()[0]["result"] == "succeed"


async def test_session_cookie_csrf_logout_and_rotation(api: httpx.AsyncClient) -> None:
    await sign_up(api, "grace@example.com")
    login = await api.post(
        f"{IDENTITY}/sessions", json={"email": "grace@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    csrf = login.json()["csrf_token"]
    first_cookie = api.cookies["_barong_session"]
    me = await api.get(f"{RESOURCE}/users/me")
    assert me.status_code == 200
    assert me.json()["email"] == "grace@example.com"
    # a tab opened later learns the session's CSRF token from users/me (cookie only)
    assert me.json()["csrf_token"] == csrf
    # Barong's times in the one form Peatio's have: UTC, whole seconds.
    for field in ("created_at", "updated_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", me.json()[field])

    # a second login rotates the session: the old cookie stops working
    relogin = await api.post(
        f"{IDENTITY}/sessions", json={"email": "grace@example.com", "password": PASSWORD}
    )
    csrf = relogin.json()["csrf_token"]
    assert api.cookies["_barong_session"] != first_cookie
    async with httpx.AsyncClient(
        transport=api._transport,
        base_url="http://testserver",
        headers=AGENT,
        cookies={"_barong_session": first_cookie},
    ) as old_browser:
        stale = await old_browser.get(f"{RESOURCE}/users/me")
    assert stale.json() == {"errors": ["authz.invalid_session"]}

    other_agent = await api.get(f"{RESOURCE}/users/me", headers={"User-Agent": "curl/8"})
    assert other_agent.json() == {"errors": ["authz.client_session_mismatch"]}
    relogin = await api.post(
        f"{IDENTITY}/sessions", json={"email": "grace@example.com", "password": PASSWORD}
    )
    csrf = relogin.json()["csrf_token"]

    missing = await api.delete(f"{IDENTITY}/sessions")
    assert missing.status_code == 401
    assert missing.json() == {"errors": ["authz.missing_csrf_token"]}
    forged = await api.delete(f"{IDENTITY}/sessions", headers={"X-CSRF-Token": "0" * 40})
    assert forged.json() == {"errors": ["authz.csrf_token_mismatch"]}
    out = await api.delete(f"{IDENTITY}/sessions", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    gone = await api.get(f"{RESOURCE}/users/me")
    assert gone.json() == {"errors": ["authz.invalid_session"]}
    async with httpx.AsyncClient(transport=api._transport, base_url="http://testserver") as anon:
        assert (await anon.get(f"{RESOURCE}/users/me")).status_code == 401


async def test_banned_user_cannot_log_in(api: httpx.AsyncClient) -> None:
    user = await sign_up(api, "heidi@example.com")
    await sql(
        api,
        "INSERT INTO labels (user_id, key, value, scope) "
        "SELECT id, 'ban', 'fraud', 'private' FROM users WHERE uid = $1",
        user["uid"],
    )
    await sql(api, "UPDATE users SET state = 'banned' WHERE uid = $1", user["uid"])
    response = await api.post(
        f"{IDENTITY}/sessions", json={"email": "heidi@example.com", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json() == {"errors": ["identity.session.banned"]}
    me = await api.get(f"{RESOURCE}/users/me")  # the sign-up session is refused too
    assert me.json() == {"errors": ["authz.user_not_active"]}


async def test_a_code_survives_only_five_wrong_guesses(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    await sign_up(api, "ivan@example.com")
    (code,) = await mails.wait_for("ivan@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        guess = await api.post(
            f"{IDENTITY}/users/email/confirm_code",
            json={"email": "ivan@example.com", "token": wrong},
        )
        assert guess.json() == {"errors": ["identity.user.invalid_code"]}
    right = await api.post(
        f"{IDENTITY}/users/email/confirm_code", json={"email": "ivan@example.com", "token": code}
    )
    assert right.json() == {"errors": ["identity.user.code_expired"]}
    assert (await sql(api, "SELECT state FROM users"))[0]["state"] == "pending"


async def test_password_reset_by_mailed_code_ends_sessions_and_lock_out(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    await sign_up(api, "judy@example.com")
    signup_cookie = api.cookies["_barong_session"]
    for _ in range(5):
        await api.post(
            f"{IDENTITY}/sessions", json={"email": "judy@example.com", "password": "Wrong-pass-1"}
        )
    asked = await api.post(
        f"{IDENTITY}/users/password/generate_code", json={"email": "judy@example.com"}
    )
    assert asked.status_code == 201
    nobody = await api.post(
        f"{IDENTITY}/users/password/generate_code", json={"email": "nobody@example.com"}
    )
    assert nobody.status_code == 201
    (code,) = await mails.wait_for("judy@example.com", "reset")
    new_password = "Fresh-Start!2027x"

    def reset(token: str, password: str, confirm: str) -> dict[str, str]:
        return {
            "email": "judy@example.com",
            "reset_password_token": token,
            "password": password,
            "confirm_password": confirm,
        }

    url = f"{IDENTITY}/users/password/confirm_code"
    mismatch = await api.post(url, json=reset(code, new_password, new_password + "x"))
    assert mismatch.json() == {"errors": ["identity.user.passwords_doesnt_match"]}
    weak = await api.post(url, json=reset(code, "Password123!", "Password123!"))
    assert weak.json() == {"errors": ["password.weak"]}
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    bad = await api.post(url, json=reset(wrong, new_password, new_password))
    assert bad.json() == {"errors": ["identity.user.invalid_code"]}
    done = await api.post(url, json=reset(code, new_password, new_password))
    assert done.status_code == 201, done.text

    async with httpx.AsyncClient(
        transport=api._transport,
        base_url="http://testserver",
        headers=AGENT,
        cookies={"_barong_session": signup_cookie},
    ) as old_browser:
        ended = await old_browser.get(f"{RESOURCE}/users/me")
    assert ended.json() == {"errors": ["authz.invalid_session"]}
    old = await api.post(
        f"{IDENTITY}/sessions", json={"email": "judy@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await api.post(
        f"{IDENTITY}/sessions", json={"email": "judy@example.com", "password": new_password}
    )
    assert new.status_code == 200, new.text  # the lock-out ended with the reset


async def test_change_password_keeps_this_session_and_ends_the_others(
    api: httpx.AsyncClient,
) -> None:
    await sign_up(api, "ken@example.com")
    login = await api.post(
        f"{IDENTITY}/sessions", json={"email": "ken@example.com", "password": PASSWORD}
    )
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    async with httpx.AsyncClient(
        transport=api._transport, base_url="http://testserver", headers=AGENT
    ) as laptop:
        other = await laptop.post(
            f"{IDENTITY}/sessions", json={"email": "ken@example.com", "password": PASSWORD}
        )
        assert other.status_code == 200
        new = "Sturdy-Otter!5150"
        url = f"{RESOURCE}/users/password"

        def body(old: str, new: str, confirm: str) -> dict[str, str]:
            return {"old_password": old, "new_password": new, "confirm_password": confirm}

        no_csrf = await api.put(url, json=body(PASSWORD, new, new))
        assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
        wrong_old = await api.put(url, json=body("Not-It!9999x", new, new), headers=csrf)
        assert wrong_old.json() == {"errors": ["resource.password.prev_pass_not_correct"]}
        same = await api.put(url, json=body(PASSWORD, PASSWORD, PASSWORD), headers=csrf)
        assert same.json() == {"errors": ["resource.password.no_change_provided"]}
        mismatch = await api.put(url, json=body(PASSWORD, new, new + "!"), headers=csrf)
        assert mismatch.json() == {"errors": ["resource.password.doesnt_match"]}
        changed = await api.put(url, json=body(PASSWORD, new, new), headers=csrf)
        assert changed.status_code == 201, changed.text

        assert (await api.get(f"{RESOURCE}/users/me")).status_code == 200
        ended = await laptop.get(f"{RESOURCE}/users/me")
        assert ended.json() == {"errors": ["authz.invalid_session"]}
    password_events = await api.get(f"{RESOURCE}/users/activity/password")
    assert [(a["action"], a["result"]) for a in password_events.json()] == [
        ("change", "succeed"),
        ("change", "failed"),
    ]


async def test_identity_events_are_published_without_codes(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    seen = len(await outbox_events(api))
    await sign_up(api, "lena@example.com")
    (code,) = await mails.wait_for("lena@example.com")
    await api.post(
        f"{IDENTITY}/users/email/confirm_code",
        json={"email": "lena@example.com", "token": code},
    )
    await api.post(f"{IDENTITY}/sessions", json={"email": "lena@example.com", "password": PASSWORD})
    events = (await outbox_events(api))[seen:]
    assert [e["name"] for e in events] == [
        "model.user.created",
        "system.user.email.confirmation.token",
        "system.session.create",
        "model.label.created",
        "model.user.updated",
        "system.user.email.confirmed",
        "system.session.create",
        "system.session.create",
    ]
    updated = events[4]  # the previous values of what changed, as Barong sends them
    assert (updated["record"]["state"], updated["record"]["level"]) == ("active", 1)
    assert updated["changes"] == {"state": "pending", "level": 0}
    assert events[0]["record"]["email"] == "lena@example.com"
    assert events[3]["record"]["key"] == "email"
    assert events[-1]["record"]["user_ip"] == "203.0.113.7"
    text = repr(events)
    assert code not in text
    assert PASSWORD not in text
    assert "password_hash" not in text


async def test_a_session_stays_within_its_login_network(api: httpx.AsyncClient) -> None:
    await sign_up(api, "mike@example.com")
    cookie = api.cookies["_barong_session"]
    app = api._transport.app  # type: ignore[attr-defined]
    for address, expected in (("203.0.200.1", 200), ("198.51.100.9", 401)):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 4000)),
            base_url="http://testserver",
            headers=AGENT,
            cookies={"_barong_session": cookie},
        ) as elsewhere:
            response = await elsewhere.get(f"{RESOURCE}/users/me")
        assert response.status_code == expected, address
    assert response.json() == {"errors": ["authz.client_session_mismatch"]}


async def test_public_identity_helpers(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"{IDENTITY}/ping")).json() == {"ping": "pong"}
    assert abs((await api.get(f"{IDENTITY}/time")).json()["time"] - time.time()) < 5
    configs = (await api.get(f"{IDENTITY}/configs")).json()
    assert configs["session_expire_time"] == 1800
    weak = await api.post(f"{IDENTITY}/password/validate", json={"password": "Password1!"})
    assert weak.json()["result"] == "weak"
    short = await api.post(f"{IDENTITY}/password/validate", json={"password": "abc"})
    assert short.json()["result"] == "requirements"
    strong = await api.post(f"{IDENTITY}/password/validate", json={"password": PASSWORD})
    assert strong.json() == {"entropy": strong.json()["entropy"], "result": "strong"}
    for prefix in (IDENTITY, "/api/v2/barong/public"):  # Barong serves both
        assert (await api.get(f"{prefix}/ping")).json() == {"ping": "pong"}
        assert (await api.get(f"{prefix}/version")).json()["version"] == "0.1.0"
    public = await api.post("/api/v2/barong/public/password/validate", json={"password": "abc"})
    assert public.json()["result"] == "requirements"
    assert (await api.get("/api/v2/peatio/openapi.json")).status_code == 200


async def test_strength_checks_are_limited_per_address(api: httpx.AsyncClient) -> None:
    """zxcvbn costs CPU: the public check answers 429 past its limit, with Retry-After."""
    path = f"{IDENTITY}/password/validate"
    for _ in range(STRENGTH_CHECK_PER_IP.limit):
        assert (await api.post(path, json={"password": "abc"})).status_code == 200
    refused = await api.post(path, json={"password": "abc"})
    assert refused.status_code == 429
    assert refused.json() == {"errors": ["identity.rate_limit.exceeded"]}
    assert int(refused.headers["Retry-After"]) > 0
