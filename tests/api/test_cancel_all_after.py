"""``cancel_all_after``: a heartbeat whose deadline, once passed, cancels all the member's
open orders through the engine — over HTTP with the watcher running, the deadlines in
Redis or in process; and two watchers on one Redis fire an expiry once."""

import asyncio
import time
import uuid
from datetime import datetime
from typing import Any

import pytest

from bursa.engine.commands import CancelAll, Command
from bursa.engine.core import Engine
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.dead_man import CancelAfterWatcher, RedisDeadlines, command_key
from tests.api.members import (
    MARKET,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)
from tests.api.order_entry import ASK, STORES, deadlines_in, exchange_with, order_state, seller

AFTER = f"{MARKET}/orders/cancel_all_after"


async def place(member: Caller) -> int:
    placed = await member.post(f"{MARKET}/orders", ASK)
    assert placed.status_code == 201, placed.text
    return int(placed.json()["id"])


async def heartbeat(member: Caller, seconds: Any) -> dict[str, Any]:
    answer = await member.post(AFTER, {"timeout": seconds})
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def cancelled_within(member: Caller, order_id: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if await order_state(member, order_id) == "cancel":
            return True
        await asyncio.sleep(0.05)
    return False


def watching(store: str, request: pytest.FixtureRequest) -> Any:
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    return deadlines_in(store, redis_url)


@pytest.mark.parametrize("store", STORES)
async def test_orders_stay_until_the_deadline_then_are_cancelled(
    store: str,
    fresh_database_url: str,
    local_keystore: LocalKeyStore,
    request: pytest.FixtureRequest,
) -> None:
    async with exchange_with(
        fresh_database_url, local_keystore, deadlines=watching(store, request)
    ) as exchange:
        alice = await seller(exchange)
        bob = await seller(exchange, "bob@example.com")
        first, second, bobs = await place(alice), await place(alice), await place(bob)

        armed = await heartbeat(alice, 2)
        now = datetime.fromisoformat(armed["current_time"])
        assert (datetime.fromisoformat(armed["trigger_time"]) - now).total_seconds() == 2
        await asyncio.sleep(1)
        assert await order_state(alice, first) == "wait"  # not before the deadline
        assert await cancelled_within(alice, first, 3)
        assert await order_state(alice, second) == "cancel"
        assert await order_state(bob, bobs) == "wait"  # another member's are not touched
        # Fired once: an order placed afterwards stays (the deadline is gone).
        later = await place(alice)
        await asyncio.sleep(0.5)
        assert await order_state(alice, later) == "wait"
        await exchange.ledger_ok()


@pytest.mark.parametrize("store", STORES)
async def test_a_refreshed_heartbeat_keeps_the_orders_and_zero_disarms(
    store: str,
    fresh_database_url: str,
    local_keystore: LocalKeyStore,
    request: pytest.FixtureRequest,
) -> None:
    async with exchange_with(
        fresh_database_url, local_keystore, deadlines=watching(store, request)
    ) as exchange:
        alice = await seller(exchange)
        order = await place(alice)
        await heartbeat(alice, 2)
        for _ in range(3):  # well past the first deadline, called again each second
            await asyncio.sleep(1)
            await heartbeat(alice, 2)
        assert await order_state(alice, order) == "wait"

        disarmed = await heartbeat(alice, 0)
        assert disarmed["trigger_time"] is None
        assert datetime.fromisoformat(disarmed["current_time"]).tzinfo is not None
        await asyncio.sleep(2.5)  # past the last deadline
        assert await order_state(alice, order) == "wait"

        # Silent at last: cancelled.
        await heartbeat(alice, 1)
        assert await cancelled_within(alice, order, 3)


async def test_bad_timeouts_are_refused(exchange: Exchange) -> None:
    """The default app runs no watcher: refused rather than promised (503); the input is
    checked first."""
    alice = await seller(exchange)
    for bad in (-1, 86_401, "soon", 1.5, 60.0, "1e3", True, None):
        assert_error(await alice.post(AFTER, {"timeout": bad}), 422, "market.order.invalid_timeout")
    assert_error(await alice.post(AFTER, {}), 422, "market.order.missing_timeout")
    assert_error(
        await alice.post(AFTER, {"timeout": 60}), 503, "server.cancel_all_after_unavailable"
    )


async def test_bad_timeouts_are_refused_with_a_watcher(
    fresh_database_url: str, local_keystore: LocalKeyStore
) -> None:
    async with exchange_with(
        fresh_database_url, local_keystore, deadlines=deadlines_in("memory", None)
    ) as exchange:
        alice = await seller(exchange)
        assert_error(await alice.post(AFTER, {"timeout": -5}), 422, "market.order.invalid_timeout")
        top = await heartbeat(alice, "86400")  # the largest, as text (a form's) too
        span = datetime.fromisoformat(top["trigger_time"]) - datetime.fromisoformat(
            top["current_time"]
        )
        assert span.total_seconds() == 86_400


class CountingPort:
    """The engine runner, its submissions counted (what the watchers sent)."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.keys: list[str] = []

    @property
    def engine(self) -> Engine:
        engine: Engine = self.runner.engine
        return engine

    async def submit(self, command: Command, *, facts: bool = False) -> dict[str, Any]:
        self.keys.append(command.key)
        result: dict[str, Any] = await self.runner.submit(command, facts=facts)
        return result


async def test_two_watchers_on_one_redis_cancel_once(
    fresh_database_url: str, local_keystore: LocalKeyStore, redis_url: str
) -> None:
    prefix = f"bursa:test:{uuid.uuid4().hex}"
    replicas = [RedisDeadlines(redis_url, prefix), RedisDeadlines(redis_url, prefix)]
    async with exchange_with(fresh_database_url, local_keystore) as exchange:
        port = CountingPort(exchange.runner)
        watchers = [CancelAfterWatcher(d, port, lease_s=0.3) for d in replicas]
        try:
            alice = await seller(exchange)
            bob = await seller(exchange, "bob@example.com")
            orders = [await place(alice), await place(alice), await place(bob)]
            armed = await replicas[0].arm(alice.id, 300)  # armed through one replica
            bobs = await replicas[1].arm(bob.id, 300)  # and one through the other
            assert armed.deadline_ms is not None and bobs.deadline_ms is not None
            await asyncio.sleep(0.4)
            fired = await asyncio.gather(*(w.fire_due() for w in watchers for _ in range(3)))
            assert sorted(m for found in fired for m in found) == sorted([alice.id, bob.id])
            assert sorted(port.keys) == sorted(
                [command_key(alice.id, armed.deadline_ms), command_key(bob.id, bobs.deadline_ms)]
            )
            for member, order in ((alice, orders[0]), (alice, orders[1]), (bob, orders[2])):
                assert await order_state(member, order) == "cancel"

            # A watcher that claims and dies: after its lease another fires the same
            # expiry, with the same command key, so the engine cancels once.
            order = await place(alice)
            armed = await replicas[0].arm(alice.id, 100)
            assert armed.deadline_ms is not None
            await asyncio.sleep(0.2)
            assert await replicas[0].claim(300, 10) == [(alice.id, armed.deadline_ms)]
            assert await watchers[1].fire_due() == []  # leased: not yet
            await asyncio.sleep(0.4)
            assert await watchers[1].fire_due() == [alice.id]
            assert await order_state(alice, order) == "cancel"
            again = await port.submit(
                CancelAll(key=command_key(alice.id, armed.deadline_ms), member_id=alice.id)
            )
            assert [o["id"] for o in again["orders"]] == [order]  # the first answer, again
            assert await watchers[0].fire_due() == []
        finally:
            for deadlines in replicas:
                await deadlines.close()
