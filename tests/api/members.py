"""Members for the account and market API tests: a real engine runner, a real demo-seeded
PostgreSQL, members made with ``Identity.create_user`` and signed in over HTTP (session
cookie + CSRF), or calling with a signed API key."""

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pyotp
import pytest

from bursa.api.app import create_app
from bursa.api.ranger.hub import Limits, RangerHub
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.commands import Credit
from bursa.engine.runner import EngineRunner
from bursa.engine.units import to_units
from bursa.events.bus import InProcessBus
from bursa.events.engine_batch import Directory, documents_of
from bursa.identity.limits import RedisLimiter
from bursa.identity.mail import MaildirMailer
from bursa.identity.service import Identity
from bursa.ledger.verify import verify_ledger
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.dead_man import CancelAfterWatcher, Deadlines
from bursa.trading.market_data import Tickers
from bursa.trading.member_levels import MemberLevels
from bursa.trading.specs import load_specs

ACCOUNT = "/api/v2/peatio/account"
MARKET = "/api/v2/peatio/market"
RESOURCE = "/api/v2/barong/resource"
PASSWORD = "Tr4de-Night!Owl"
AGENT = {"User-Agent": "pytest-trader/1.0"}
PRECISION = {"btc": 8, "eth": 18, "usdt": 8, "usd": 2}


@dataclass
class Caller:
    """A member as a client sees them: a session (``csrf``) or an API key (``key``)."""

    client: httpx.AsyncClient
    uid: str
    id: int
    csrf: str = ""
    key: tuple[str, str] | None = None
    totp: Any = None

    def _headers(self, write: bool) -> dict[str, str]:
        if self.key is not None:
            kid, secret = self.key
            nonce = str(time.time_ns() // 1_000_000)
            signature = hmac.new(secret.encode(), (nonce + kid).encode(), hashlib.sha256)
            return {
                "X-Auth-Apikey": kid,
                "X-Auth-Nonce": nonce,
                "X-Auth-Signature": signature.hexdigest(),
            }
        return {"X-CSRF-Token": self.csrf} if write else {}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        if self.key is not None:
            await asyncio.sleep(0.002)  # nonces are milliseconds, each accepted once
        return await self.client.get(path, params=params, headers=self._headers(False))

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        if self.key is not None:
            await asyncio.sleep(0.002)
        sent = self._headers(True) | (headers or {})
        return await self.client.post(path, json=body, headers=sent)


@dataclass
class Exchange:
    transport: httpx.ASGITransport
    runner: EngineRunner
    identity: Identity
    database_url: str
    hub: RangerHub
    app: Any
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def member(self, email: str, role: str = "member") -> Caller:
        """A confirmed, active member (level 1), signed in with a session cookie."""
        user = await self.identity.create_user(email, PASSWORD, role)
        client = httpx.AsyncClient(
            transport=self.transport, base_url="http://bursa.test", headers=AGENT
        )
        self.clients.append(client)
        login = await client.post(
            "/api/v2/barong/identity/sessions", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        return Caller(client, user["uid"], user["id"], csrf=login.json()["csrf_token"])

    async def with_key(self, member: Caller, scope: str) -> Caller:
        """The same member calling with a new API key of ``scope`` (2FA on, cookies off)."""
        csrf = {"X-CSRF-Token": member.csrf}
        if member.totp is None:
            data = await member.client.post(f"{RESOURCE}/otp/generate_qrcode", headers=csrf)
            url = data.json()["data"]["url"]
            member.totp = pyotp.TOTP(parse_qs(urlsplit(url).query)["secret"][0])
            await self.sql("UPDATE users SET otp_last_step = NULL")
            enabled = await member.client.post(
                f"{RESOURCE}/otp/enable", json={"code": member.totp.now()}, headers=csrf
            )
            assert enabled.status_code == 201, enabled.text
        await self.sql("UPDATE users SET otp_last_step = NULL")
        created = await member.client.post(
            f"{RESOURCE}/api_keys",
            json={"scope": scope, "totp_code": member.totp.now()},
            headers=csrf,
        )
        assert created.status_code == 201, created.text
        bare = httpx.AsyncClient(
            transport=self.transport, base_url="http://bursa.test", headers=AGENT
        )
        self.clients.append(bare)
        key = (created.json()["kid"], created.json()["secret"])
        return Caller(bare, member.uid, member.id, key=key)

    async def credit(self, member: Caller, currency: str, amount: str, fee: str = "0") -> None:
        places = PRECISION[currency]
        result = await self.runner.submit(
            Credit(
                key=f"test:{uuid.uuid4().hex}",
                member_id=member.id,
                currency=currency,
                amount=to_units(Decimal(amount), places),
                deposit_id=f"dep-{uuid.uuid4().hex[:8]}",
                fee=to_units(Decimal(fee), places),
            )
        )
        assert result["error"] is None, result

    async def sql(self, query: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    async def ledger_ok(self) -> None:
        """The ledger verifies (``bursa ledger verify``)."""
        conn = await asyncpg.connect(self.database_url)
        try:
            report = await verify_ledger(conn)
        finally:
            await conn.close()
        assert report.ok, report.breaks

    async def outbox(self) -> list[Mapping[str, Any]]:
        """Every event in the outbox, in order, as the relay publishes them (an engine
        batch's row expanded)."""
        conn = await asyncpg.connect(self.database_url)
        directory = Directory()
        try:
            rows = await conn.fetch("SELECT events FROM event_outbox ORDER BY id")
            return [
                event
                for row in rows
                for event in await documents_of(conn, json.loads(row["events"]), directory)
            ]
        finally:
            await conn.close()


@asynccontextmanager
async def running_exchange(
    database_url: str,
    keystore: LocalKeyStore,
    *,
    deadlines: Deadlines | None = None,
    **app_options: Any,
) -> AsyncIterator[Exchange]:
    """A real engine runner, identity service and Ranger hub behind the app on
    ``database_url``; ``app_options`` go to ``create_app`` (a limiter, an order-entry
    rule…), and ``deadlines`` get a running ``cancel_all_after`` watcher (every 50 ms)."""
    bus = InProcessBus()
    runner = EngineRunner(database_url, bus, load_specs)
    await runner.start()
    engine = create_engine(database_url, pool_size=3)
    sessions = create_session_factory(engine)
    identity = Identity(
        engine,
        MaildirMailer(keystore.key_file.parent / "mail"),
        keystore,
        session_ttl=timedelta(minutes=30),
        app_name="Bursa",
    )
    hub = RangerHub(runner, bus, Limits(tickers_every_s=0.2), tickers=(Tickers(), sessions))
    await hub.start()
    watcher = None
    if deadlines is not None:
        watcher = CancelAfterWatcher(deadlines, runner, every_s=0.05)
        await watcher.start()
    app = create_app(
        runner,
        sessions,
        identity,
        secure_cookies=False,
        member_levels=MemberLevels(deposit=1, withdraw=3, trading=1),
        ranger_hub=hub,
        cancel_after=watcher,
        **app_options,
    )
    found = Exchange(
        httpx.ASGITransport(app=app, client=("203.0.113.9", 4000)),
        runner,
        identity,
        database_url,
        hub,
        app,
    )
    try:
        yield found
    finally:
        for client in found.clients:
            await client.aclose()
        if watcher is not None:
            await watcher.stop()
            await watcher.deadlines.close()
        limiter = app_options.get("limiter")
        if isinstance(limiter, RedisLimiter):
            await limiter.close()
        await hub.stop()
        await runner.stop()
        await identity.close()
        await engine.dispose()


@pytest.fixture
async def exchange(
    fresh_database_url: str, local_keystore: LocalKeyStore
) -> AsyncIterator[Exchange]:
    async with running_exchange(fresh_database_url, local_keystore) as found:
        yield found


def assert_error(response: httpx.Response, status: int, *codes: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"errors": list(codes)}
