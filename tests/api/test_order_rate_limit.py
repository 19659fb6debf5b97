"""Order entry's rate limit per API key (per member without one), counted in Redis or in
process, shown on every order-entry answer and refused with 429 once spent."""

import httpx
import pytest

from bursa.api.peatio.market.rate_limit import order_entry_quota
from bursa.bench.local_exchange import UnlimitedLimiter
from bursa.identity.limits import Rule
from bursa.secrets.keystore import LocalKeyStore
from tests.api.members import MARKET, Caller, assert_error
from tests.api.order_entry import ASK, STORES, exchange_with, limiter_in, seller

RULE = Rule("order-entry", 5, window_s=60)  # a window long enough for a test's burst
HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def window(response: httpx.Response) -> tuple[int, int, int]:
    limit, remaining, reset = (int(response.headers[name]) for name in HEADERS)
    return limit, remaining, reset


async def open_orders(member: Caller) -> int:
    found = await member.get(f"{MARKET}/orders", state="wait")
    assert found.status_code == 200, found.text
    return len(found.json())


@pytest.mark.parametrize("store", STORES)
async def test_headers_count_down_then_429_changes_nothing(
    store: str,
    fresh_database_url: str,
    local_keystore: LocalKeyStore,
    request: pytest.FixtureRequest,
) -> None:
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    async with exchange_with(
        fresh_database_url, local_keystore, limiter=limiter_in(store, redis_url), rule=RULE
    ) as exchange:
        alice = await seller(exchange)

        placed = await alice.post(f"{MARKET}/orders", ASK)
        assert placed.status_code == 201, placed.text
        limit, remaining, reset = window(placed)
        assert (limit, remaining) == (5, 4)
        assert 1 <= reset <= 60
        assert "Retry-After" not in placed.headers

        # An engine refusal is counted and shows the window too.
        poor = await alice.post(f"{MARKET}/orders", ASK | {"volume": "2"})
        assert_error(poor, 422, "market.account.insufficient_balance")
        assert window(poor)[:2] == (5, 3)

        # Cancel one, cancel all: order entry as well.
        cancelled = await alice.post(f"{MARKET}/orders/{placed.json()['id']}/cancel")
        assert cancelled.status_code == 201, cancelled.text
        assert window(cancelled)[:2] == (5, 2)
        await alice.post(f"{MARKET}/orders", ASK)
        nothing = await alice.post(f"{MARKET}/orders/cancel", {"market": "btcusdt"})
        assert nothing.status_code == 201, nothing.text
        assert window(nothing)[:2] == (5, 0)

        # Spent: refused before the engine, with when to come back; nothing changed.
        before = await open_orders(alice)
        for path, body in (
            (f"{MARKET}/orders", ASK),
            (f"{MARKET}/orders/cancel", {}),
            (f"{MARKET}/orders/{placed.json()['id']}/cancel", None),
        ):
            over = await alice.post(path, body)
            assert_error(over, 429, "market.order.rate_limit_exceeded")
            limit, remaining, reset = window(over)
            assert (limit, remaining) == (5, 0)
            assert int(over.headers["Retry-After"]) == reset
            assert 1 <= reset <= 60
        assert await open_orders(alice) == before == 0

        # Other members and reads are not affected.
        bob = await seller(exchange, "bob@example.com")
        assert (await bob.post(f"{MARKET}/orders", ASK)).status_code == 201
        listed = await alice.get(f"{MARKET}/orders")
        assert listed.status_code == 200
        assert "X-RateLimit-Limit" not in listed.headers


@pytest.mark.parametrize("store", STORES)
async def test_each_api_key_has_its_own_budget(
    store: str,
    fresh_database_url: str,
    local_keystore: LocalKeyStore,
    request: pytest.FixtureRequest,
) -> None:
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    async with exchange_with(
        fresh_database_url, local_keystore, limiter=limiter_in(store, redis_url), rule=RULE
    ) as exchange:
        session = await seller(exchange)
        first = await exchange.with_key(session, "read,trade")
        second = await exchange.with_key(session, "read,trade")
        for left in (4, 3, 2, 1, 0):
            answer = await first.post(f"{MARKET}/orders", ASK)
            assert answer.status_code == 201, answer.text
            assert window(answer)[1] == left
        assert_error(
            await first.post(f"{MARKET}/orders", ASK), 429, "market.order.rate_limit_exceeded"
        )
        # The member's other key, and the member's browser session, are counted apart.
        other = await second.post(f"{MARKET}/orders", ASK)
        assert other.status_code == 201, other.text
        assert window(other)[1] == 4
        browser = await session.post(f"{MARKET}/orders", ASK)
        assert browser.status_code == 201, browser.text
        assert window(browser)[1] == 4
        assert await open_orders(session) == 7


@pytest.mark.parametrize("store", STORES)
async def test_a_bulk_costs_its_items_in_the_same_budget(
    store: str,
    fresh_database_url: str,
    local_keystore: LocalKeyStore,
    request: pytest.FixtureRequest,
) -> None:
    """What bulk and the websocket's order entry count (``order_entry_quota``), in the
    budget REST spends; a cost that does not fit is refused and spends nothing."""
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    async with exchange_with(
        fresh_database_url, local_keystore, limiter=limiter_in(store, redis_url), rule=RULE
    ) as exchange:
        alice = await seller(exchange)
        assert (await alice.post(f"{MARKET}/orders", ASK)).status_code == 201
        bulk = await order_entry_quota(exchange.app, alice.id, None, cost=3)
        assert bulk is not None
        assert (bulk.allowed, bulk.limit, bulk.remaining) == (True, 5, 1)
        too_big = await order_entry_quota(exchange.app, alice.id, None, cost=2)
        assert too_big is not None
        assert (too_big.allowed, too_big.remaining) == (False, 1)
        last = await alice.post(f"{MARKET}/orders", ASK)  # the one left is still there
        assert window(last)[1] == 0
        # A key's budget is its own: a bulk larger than the limit costs the whole window.
        fresh = await order_entry_quota(exchange.app, alice.id, "kid-1", cost=150)
        assert fresh is not None
        assert (fresh.allowed, fresh.remaining) == (True, 0)


async def test_an_unlimited_limiter_lifts_the_limit(
    fresh_database_url: str, local_keystore: LocalKeyStore
) -> None:
    """The bench's limiter: nothing counted, no header."""
    async with exchange_with(
        fresh_database_url, local_keystore, limiter=UnlimitedLimiter(), rule=RULE
    ) as exchange:
        alice = await seller(exchange)
        for _ in range(RULE.limit + 2):
            placed = await alice.post(f"{MARKET}/orders", ASK)
            assert placed.status_code == 201, placed.text
            assert "X-RateLimit-Limit" not in placed.headers
        assert await order_entry_quota(exchange.app, alice.id, None) is None
