"""The bots' OpenDAX driver against a real Bursa in this process (engine, Ranger hub, the
API in uvicorn on a loopback port, a scratch database): REST with API-key signing, paged
open orders, the API's error codes, books rebuilt from Ranger that match ``depth`` (also
after a lost frame), the private stream, and reconnecting after the server closes."""

import asyncio
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from bursa.api.ranger.hub import RESYNC
from bursa.bots.drivers.opendax import ApiKey, ExchangeError, OpenDaxClient, Retry
from bursa.bots.drivers.ranger_client import (
    Backoff,
    BookSynced,
    Connected,
    FeedEvent,
    LocalBook,
    OrderUpdate,
    OwnTrade,
    PublicTrade,
    RangerFeed,
)
from bursa.engine import errors as engine_errors
from tests.bots.exchange import MARKET, Bursa

FAST = Backoff(first_s=0.05, most_s=0.2)
E = TypeVar("E")


async def event_of(
    feed: RangerFeed, kind: type[E], match: Callable[[E], bool] = lambda _: True
) -> E:
    """The next event of ``kind`` that ``match``es (others are passed over)."""
    deadline = time.monotonic() + 5
    while True:
        event: FeedEvent = await feed.next_event(max(0.01, deadline - time.monotonic()))
        if isinstance(event, kind) and match(event):
            return event


async def book_matches_depth(client: OpenDaxClient, book: LocalBook) -> None:
    """The local book converges to ``depth`` (the feed may be a frame or two behind)."""
    deadline = time.monotonic() + 5
    while True:
        depth = await client.depth(MARKET)
        if book.synced and book.ask_levels() == depth.asks and book.bid_levels() == depth.bids:
            return
        assert time.monotonic() < deadline, (book.ask_levels(), depth.asks)
        await asyncio.sleep(0.05)


D = Decimal


async def test_place_cancel_balances_and_errors(bursa: Bursa) -> None:
    async with OpenDaxClient(bursa.host, bursa.alice) as client:
        markets = {m.id: m for m in await client.markets()}
        assert markets[MARKET].price_precision == 2
        before = (await client.balances())["usdt"]
        order = await client.place(MARKET, "buy", D("0.5"), D("1000.25"))
        assert (order.state, order.price, order.origin_volume) == ("wait", D("1000.25"), D("0.5"))
        assert isinstance(order.remaining_volume, Decimal)
        after = (await client.balances())["usdt"]
        assert after.locked - before.locked == D("500.125")
        assert [o.id for o in await client.open_orders(MARKET)] == [order.id]
        cancelled = await client.cancel(order.id)
        assert (cancelled.id, cancelled.state) == (order.id, "cancel")
        assert await client.open_orders(MARKET) == []

        with pytest.raises(ExchangeError) as refused:
            await client.place("nosuchmarket", "buy", D("1"), D("1"))
        assert refused.value.status == 422
        assert refused.value.codes == [engine_errors.MARKET_NOT_AVAILABLE]
        with pytest.raises(ExchangeError) as precise:
            await client.place(MARKET, "buy", D("1"), D("1000.001"))
        assert precise.value.codes == [engine_errors.INVALID_VOLUME_OR_PRICE]
    async with OpenDaxClient(bursa.host, ApiKey(bursa.alice.kid, "wrong")) as forged:
        with pytest.raises(ExchangeError) as unsigned:
            await forged.balances()
        assert (unsigned.value.status, unsigned.value.codes) == (401, ["authz.invalid_signature"])
    assert "wrong" not in repr(ApiKey(bursa.alice.kid, "wrong"))


async def test_open_orders_every_page_and_cancel_all(bursa: Bursa) -> None:
    async with OpenDaxClient(bursa.host, bursa.alice, delay=0.01) as client:
        placed = [await client.place(MARKET, "buy", D("0.01"), D(900 + n)) for n in range(5)]
        found = await client.open_orders(MARKET, page_size=2)
        assert sorted(o.id for o in found) == sorted(o.id for o in placed)
        cancelled = await client.cancel_all(MARKET)
        assert sorted(o.id for o in cancelled) == sorted(o.id for o in placed)
        assert await client.open_orders(MARKET) == []


async def test_requests_are_spaced_by_delay(bursa: Bursa) -> None:
    async with OpenDaxClient(bursa.host, bursa.alice, delay=0.1) as client:
        started = time.monotonic()
        for _ in range(3):
            await client.balances()
        assert time.monotonic() - started >= 0.2


async def test_5xx_and_network_errors_are_retried_4xx_not() -> None:
    answers = [httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[])]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if not answers:
            return httpx.Response(422, json={"errors": ["market.order.invalid_side"]})
        return answers.pop(0)

    key = ApiKey("kid", "secret")
    fast = Retry(attempts=4, first_s=0.001, most_s=0.01)
    async with OpenDaxClient(
        "http://x", key, retry=fast, transport=httpx.MockTransport(handler)
    ) as client:
        assert await client.balances() == {}
        assert len(seen) == 3
        nonces = [int(r.headers["X-Auth-Nonce"]) for r in seen]
        assert nonces == sorted(set(nonces))  # a fresh, larger nonce on every attempt
        with pytest.raises(ExchangeError) as refused:
            await client.place(MARKET, "sell", D("1"), D("2"))
        assert len(seen) == 4 and refused.value.codes == ["market.order.invalid_side"]
        assert seen[-1].content == (
            b'{"market": "btcusdt", "side": "sell", "volume": "1", "ord_type": "limit", '
            b'"price": "2"}'
        )

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with OpenDaxClient("http://x", key, retry=fast, transport=httpx.MockTransport(down)) as c:
        with pytest.raises(ExchangeError) as unreachable:
            await c.markets()
        assert unreachable.value.status is None


async def test_book_follows_depth_and_resyncs_after_a_lost_frame(bursa: Bursa) -> None:
    lose_next = asyncio.Event()

    def tap(frame: Mapping[str, Any]) -> bool:
        if f"{MARKET}.ob-inc" in frame and lose_next.is_set():
            lose_next.clear()
            return False
        return True

    async with (
        OpenDaxClient(bursa.host, bursa.bob) as client,
        OpenDaxClient(bursa.host, bursa.alice) as taker,
        RangerFeed(bursa.ws, [MARKET], backoff=FAST, tap=tap) as feed,
    ):
        await event_of(feed, BookSynced)
        for n in range(3):
            await client.place(MARKET, "sell", D("0.1"), D(31000 + n))
            await client.place(MARKET, "buy", D("0.2"), D(29000 - n))
        await book_matches_depth(client, feed.books[MARKET])
        assert feed.books[MARKET].best_ask() == (D(31000), D("0.1"))
        assert feed.books[MARKET].best_bid() == (D(29000), D("0.2"))

        lose_next.set()
        await client.place(MARKET, "sell", D("0.3"), D(30500))  # its increment is lost
        await client.place(MARKET, "sell", D("0.3"), D(30600))  # the gap shows here
        synced = await event_of(feed, BookSynced, lambda e: e.resync)
        assert synced.market == MARKET and feed.resyncs == 1
        await book_matches_depth(client, feed.books[MARKET])
        assert feed.books[MARKET].best_ask() == (D(30500), D("0.3"))

        # A trade (another member takes: no self-trade): the stream tells it, the level goes.
        await taker.place(MARKET, "buy", D("0.3"), D(30500))
        trade = await event_of(feed, PublicTrade)
        assert (trade.price, trade.amount, trade.taker_type) == (D(30500), D("0.3"), "buy")
        await book_matches_depth(client, feed.books[MARKET])
        await client.cancel_all(MARKET)
        await book_matches_depth(client, feed.books[MARKET])


def losing(lose: dict[str, int]) -> Callable[[Mapping[str, Any]], bool]:
    """A tap that loses the next ``lose[kind]`` frames of each kind (``ob-inc``,
    ``ob-snap``) of the market."""

    def tap(frame: Mapping[str, Any]) -> bool:
        for kind, count in lose.items():
            if f"{MARKET}.{kind}" in frame and count > 0:
                lose[kind] = count - 1
                return False
        return True

    return tap


async def test_a_resubscription_left_unanswered_is_sent_again(bursa: Bursa) -> None:
    lose = {"ob-inc": 0, "ob-snap": 0}
    async with (
        OpenDaxClient(bursa.host, bursa.bob) as client,
        RangerFeed(
            bursa.ws, [MARKET], trades=False, backoff=FAST, tap=losing(lose), resync_timeout_s=0.2
        ) as feed,
    ):
        await event_of(feed, BookSynced)
        lose.update({"ob-inc": 1, "ob-snap": 1})  # an increment, then the answer, lost
        await client.place(MARKET, "sell", D("0.1"), D(31000))
        await client.place(MARKET, "sell", D("0.1"), D(31100))  # the gap shows here
        await event_of(feed, BookSynced, lambda e: e.resync)
        assert (feed.resyncs, feed.connections) == (2, 1)  # asked again, on the same socket
        await book_matches_depth(client, feed.books[MARKET])
        assert feed.books[MARKET].best_ask() == (D(31000), D("0.1"))
        await client.cancel_all(MARKET)


async def test_resubscriptions_left_unanswered_end_in_a_reconnect(bursa: Bursa) -> None:
    lose = {"ob-inc": 0, "ob-snap": 0}
    async with (
        OpenDaxClient(bursa.host, bursa.bob) as client,
        RangerFeed(
            bursa.ws,
            [MARKET],
            trades=False,
            backoff=FAST,
            tap=losing(lose),
            resync_timeout_s=0.1,
            resync_tries=2,
        ) as feed,
    ):
        await event_of(feed, BookSynced)
        lose.update({"ob-inc": 1, "ob-snap": 2})  # both resubscriptions go unanswered
        await client.place(MARKET, "buy", D("0.1"), D(28000))
        await client.place(MARKET, "buy", D("0.1"), D(27900))
        assert await event_of(feed, Connected) == Connected(reconnect=True)
        await event_of(feed, BookSynced)
        assert (feed.resyncs, feed.connections) == (2, 2)
        await book_matches_depth(client, feed.books[MARKET])
        assert feed.books[MARKET].best_bid() == (D(28000), D("0.1"))
        await client.cancel_all(MARKET)


async def test_a_feed_nobody_reads_keeps_exact_books_and_a_bounded_queue(
    bursa: Bursa, caplog: pytest.LogCaptureFixture
) -> None:
    trades_seen = 0

    def count(frame: Mapping[str, Any]) -> bool:
        nonlocal trades_seen
        trades_seen += len(frame.get(f"{MARKET}.trades", {}).get("trades", []))
        return True

    async with (
        OpenDaxClient(bursa.host, bursa.bob) as client,
        OpenDaxClient(bursa.host, bursa.alice) as taker,
        RangerFeed(bursa.ws, [MARKET], backoff=FAST, tap=count, max_events=5) as feed,
    ):
        await client.cancel_all(MARKET)
        await taker.cancel_all(MARKET)
        await book_matches_depth(client, feed.books[MARKET])  # Connected, BookSynced queued
        prices = [D(32000 + n) for n in range(8)]
        for price in prices:
            await client.place(MARKET, "sell", D("0.01"), price)
        await book_matches_depth(client, feed.books[MARKET])
        assert feed.books[MARKET].ask_levels()[:8] == [(p, D("0.01")) for p in prices]
        await taker.place(MARKET, "buy", D("0.08"), prices[-1])  # 8 trades: 8 events
        deadline = time.monotonic() + 5
        while trades_seen < 8:
            assert time.monotonic() < deadline, trades_seen
            await asyncio.sleep(0.02)
        await book_matches_depth(client, feed.books[MARKET])

        assert (feed.events.qsize(), feed.dropped) == (5, 2 + 8 - 5)
        kept = [feed.events.get_nowait() for _ in range(5)]
        assert [e.price for e in kept if isinstance(e, PublicTrade)] == prices[3:]  # the newest
        warned = [r for r in caplog.records if "dropping the oldest" in r.getMessage()]
        assert len(warned) == 1  # once for the burst
        await client.cancel_all(MARKET)


async def test_private_stream_sees_orders_fills_and_reconnects(bursa: Bursa) -> None:
    async with (
        OpenDaxClient(bursa.host, bursa.alice) as alice,
        OpenDaxClient(bursa.host, bursa.bob) as bob,
        RangerFeed(bursa.ws, [MARKET], key=bursa.alice, trades=False, backoff=FAST) as feed,
    ):
        assert await event_of(feed, Connected) == Connected(reconnect=False)
        await event_of(feed, BookSynced)
        resting = await alice.place(MARKET, "sell", D("0.25"), D("35000.5"))
        seen = await event_of(feed, OrderUpdate, lambda e: e.order.id == resting.id)
        assert (seen.order.state, seen.order.price) == ("wait", D("35000.5"))

        await bob.place(MARKET, "buy", D("0.25"), D("35000.5"))
        fills: list[OwnTrade] = []
        done: list[OrderUpdate] = []
        while not (fills and done):  # the order's news and the trade's, in either order
            event = await feed.next_event()
            if isinstance(event, OwnTrade):
                fills.append(event)
            elif isinstance(event, OrderUpdate) and event.order.state == "done":
                done.append(event)
        fill = fills[0]
        assert (fill.order_id, fill.side, fill.amount) == (resting.id, "sell", D("0.25"))
        assert fill.total == D("8750.125")
        assert (done[0].order.id, done[0].order.executed_volume) == (resting.id, D("0.25"))

        # The server closes the connection (as the hub does on a resync): the feed comes
        # back, says so, and the book starts from a new snapshot.
        for conn in bursa.hub._members[bursa.ids["alice"]]:
            conn.kick(RESYNC, "resync")
        assert await event_of(feed, Connected) == Connected(reconnect=True)
        assert (await event_of(feed, BookSynced)).resync
        again = await alice.place(MARKET, "sell", D("0.1"), D("36000"))
        await event_of(feed, OrderUpdate, lambda e: e.order.id == again.id)
        assert feed.connections == 2
        await alice.cancel_all(MARKET)


async def test_private_stream_refuses_a_bad_key(bursa: Bursa) -> None:
    forged = ApiKey(bursa.alice.kid, "not-the-secret")
    async with RangerFeed(bursa.ws, [MARKET], key=forged, backoff=FAST) as feed:
        with pytest.raises(ExchangeError) as refused:
            await feed.next_event(2)
    assert (refused.value.status, refused.value.codes) == (401, ["authz.invalid_signature"])
