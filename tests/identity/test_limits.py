"""Rate limits: counted in Redis (shared by replicas) or in process, and enforced on the
identity endpoints with 429 and Retry-After."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bursa.api.app import create_app
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.identity.limits import InProcessLimiter, Limiter, RedisLimiter, Rule
from bursa.identity.mail import MaildirMailer
from bursa.identity.service import Identity
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.specs import load_specs

RULE = Rule("test", 3)


async def start_of_window(window_s: int, margin_s: float = 10) -> None:
    """Wait for a fresh fixed window when the current one is about to end, so that a burst
    is counted in one window."""
    left = window_s - time.time() % window_s
    if left < margin_s:
        await asyncio.sleep(left + 0.2)


async def exhaust(limiter: Limiter) -> None:
    await start_of_window(RULE.window_s)
    for _ in range(RULE.limit):
        assert await limiter.allow(RULE, "198.51.100.1") == 0
    wait = await limiter.allow(RULE, "198.51.100.1")
    assert 0 < wait <= RULE.window_s + 1
    assert await limiter.allow(RULE, "198.51.100.2") == 0  # another subject is unaffected


async def test_in_process_limiter() -> None:
    await exhaust(InProcessLimiter())


async def test_redis_limiter_is_shared_between_replicas(redis_url: str) -> None:
    prefix = f"bursa:test:{uuid.uuid4().hex}"
    first, second = RedisLimiter(redis_url, prefix), RedisLimiter(redis_url, prefix)
    await start_of_window(RULE.window_s)
    try:
        for _ in range(RULE.limit):
            assert await first.allow(RULE, "198.51.100.9") == 0
        assert await second.allow(RULE, "198.51.100.9") > 0  # the other replica sees it
    finally:
        await first.close()
        await second.close()


@pytest.fixture
async def api_with_redis(
    fresh_database_url: str, redis_url: str, local_keystore: LocalKeyStore
) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(fresh_database_url)
    limiter = RedisLimiter(redis_url, f"bursa:test:{uuid.uuid4().hex}")
    identity = Identity(
        engine,
        MaildirMailer(local_keystore.key_file.parent / "mail"),
        local_keystore,
        session_ttl=timedelta(minutes=30),
        app_name="Bursa",
    )
    runner = EngineRunner(fresh_database_url, InProcessBus(), load_specs)
    app = create_app(
        runner, create_session_factory(engine), identity, limiter=limiter, secure_cookies=False
    )
    transport = httpx.ASGITransport(app=app, client=("192.0.2.50", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await limiter.close()
    await identity.close()
    await engine.dispose()


async def test_flooding_login_gets_429_with_retry_after(
    api_with_redis: httpx.AsyncClient,
) -> None:
    await start_of_window(60)
    statuses = []
    for _ in range(12):
        response = await api_with_redis.post(
            "/api/v2/barong/identity/sessions",
            json={"email": "victim@example.com", "password": "Guess-1234!x"},
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert response.json() == {"errors": ["identity.rate_limit.exceeded"]}
    assert 1 <= int(response.headers["Retry-After"]) <= 61


async def test_flooding_code_checks_gets_429(api_with_redis: httpx.AsyncClient) -> None:
    await start_of_window(60)
    statuses = [
        (
            await api_with_redis.post(
                "/api/v2/barong/identity/users/email/confirm_code",
                json={"email": "victim@example.com", "token": f"{n:06d}"},
            )
        ).status_code
        for n in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


async def test_many_failed_logins_from_one_address_block_it(
    api_with_redis: httpx.AsyncClient,
) -> None:
    url = "/api/v2/barong/identity/sessions"
    await start_of_window(900, margin_s=20)
    for n in range(20):  # spread over accounts, under the per-account and per-email limits
        failed = await api_with_redis.post(
            url, json={"email": f"user{n % 4}@example.com", "password": "Guess-1234!x"}
        )
        assert failed.status_code == 401
    blocked = await api_with_redis.post(
        url, json={"email": "someone@example.com", "password": "Guess-1234!x"}
    )
    assert blocked.status_code == 429
    assert blocked.json() == {"errors": ["identity.session.too_many_failures"]}
    assert 1 <= int(blocked.headers["Retry-After"]) <= 901
