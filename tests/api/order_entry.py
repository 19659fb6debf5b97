"""An exchange for the order-entry limit and ``cancel_all_after`` tests: the members'
exchange (``tests.api.members``) with a chosen limiter, order-entry rule and a running
``cancel_all_after`` watcher, counted in Redis or in process."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx

from bursa.api.app import create_app
from bursa.api.ranger.hub import Limits, RangerHub
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.identity.limits import InProcessLimiter, Limiter, RedisLimiter, Rule
from bursa.identity.mail import MaildirMailer
from bursa.identity.service import Identity
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.dead_man import (
    CancelAfterWatcher,
    Deadlines,
    InProcessDeadlines,
    RedisDeadlines,
)
from bursa.trading.market_data import Tickers
from bursa.trading.member_levels import MemberLevels
from bursa.trading.specs import load_specs
from tests.api.members import Caller, Exchange

STORES = ["memory", "redis"]


def limiter_in(store: str, redis_url: str | None) -> Limiter:
    if store == "redis":
        assert redis_url is not None
        return RedisLimiter(redis_url, f"bursa:test:{uuid.uuid4().hex}")
    return InProcessLimiter()


def deadlines_in(store: str, redis_url: str | None) -> Deadlines:
    if store == "redis":
        assert redis_url is not None
        return RedisDeadlines(redis_url, f"bursa:test:{uuid.uuid4().hex}")
    return InProcessDeadlines()


@asynccontextmanager
async def exchange_with(
    database_url: str,
    keystore: LocalKeyStore,
    *,
    limiter: Any = None,
    rule: Rule | None = None,
    deadlines: Deadlines | None = None,
) -> AsyncIterator[Exchange]:
    """The exchange with ``limiter`` counting order entry under ``rule``, and a
    ``cancel_all_after`` watcher over ``deadlines`` (checking every 50 ms) when given."""
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
    hub = RangerHub(runner, bus, Limits(), tickers=(Tickers(), sessions))
    await hub.start()
    watcher = None
    if deadlines is not None:
        watcher = CancelAfterWatcher(deadlines, runner, every_s=0.05)
        await watcher.start()
    app = create_app(
        runner,
        sessions,
        identity,
        limiter=limiter,
        secure_cookies=False,
        member_levels=MemberLevels(deposit=1, withdraw=3, trading=1),
        ranger_hub=hub,
        order_rate_limit=rule,
        cancel_after=watcher,
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
        if isinstance(limiter, RedisLimiter):
            await limiter.close()
        await hub.stop()
        await runner.stop()
        await identity.close()
        await engine.dispose()


ASK = {"market": "btcusdt", "side": "sell", "volume": "0.01", "price": "50000"}


async def seller(exchange: Exchange, email: str = "alice@example.com") -> Caller:
    """A member signed in with a session, holding 1 BTC."""
    member = await exchange.member(email)
    await exchange.credit(member, "btc", "1")
    return member


async def order_state(member: Caller, order_id: int) -> str:
    found = await member.get(f"/api/v2/peatio/market/orders/{order_id}")
    assert found.status_code == 200, found.text
    return str(found.json()["state"])
