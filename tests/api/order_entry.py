"""An exchange for the order-entry limit and ``cancel_all_after`` tests: the members'
exchange (``tests.api.members``) with a chosen limiter, order-entry rule and a running
``cancel_all_after`` watcher, counted in Redis or in process."""

import uuid
from contextlib import AbstractAsyncContextManager
from typing import Any

from bursa.identity.limits import InProcessLimiter, Limiter, RedisLimiter, Rule
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.dead_man import (
    Deadlines,
    InProcessDeadlines,
    RedisDeadlines,
)
from tests.api.members import Caller, Exchange, running_exchange

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


def exchange_with(
    database_url: str,
    keystore: LocalKeyStore,
    *,
    limiter: Any = None,
    rule: Rule | None = None,
    deadlines: Deadlines | None = None,
) -> AbstractAsyncContextManager[Exchange]:
    """The exchange with ``limiter`` counting order entry under ``rule`` (None: no
    limit), and a ``cancel_all_after`` watcher over ``deadlines`` when given."""
    return running_exchange(
        database_url, keystore, deadlines=deadlines, limiter=limiter, order_rate_limit=rule
    )


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
