"""The identity API over a real PostgreSQL with the SMS sender and key store a test
chooses (the ``api`` fixture fixes both)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx

from bursa.api.app import create_app
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.identity.mail import SmtpMailer
from bursa.identity.service import Identity
from bursa.identity.sms import SmsSender
from bursa.secrets.keystore import KeyStore
from bursa.trading.specs import load_specs
from tests.identity.test_identity_api import AGENT


@asynccontextmanager
async def identity_api(
    database_url: str, smtp_port: int, keystore: KeyStore, sms: SmsSender | None
) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(database_url)
    identity = Identity(
        engine,
        SmtpMailer(f"smtp://127.0.0.1:{smtp_port}", "Bursa <no-reply@bursa.test>"),
        keystore,
        session_ttl=timedelta(minutes=30),
        app_name="Bursa",
    )
    runner = EngineRunner(database_url, InProcessBus(), load_specs)
    app = create_app(
        runner, create_session_factory(engine), identity, secure_cookies=False, sms=sms
    )
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 4000))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=AGENT
        ) as client:
            client.headers["X-Test-Db"] = database_url  # for the tests' own SQL
            yield client
    finally:
        await identity.close()
        await engine.dispose()
