"""Ranger in an API process whose engine runs elsewhere: committed batches relayed over a
real RabbitMQ, books read from PostgreSQL and continued by the relayed increments, and a
lost batch turning into a resync."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bursa.api.app import create_app
from bursa.api.ranger.hub import RESYNC, RangerHub
from bursa.api.ranger.markets import StoredMarkets
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.amqp import EngineConsumer
from bursa.events.bus import InProcessBus
from bursa.events.fanout import EventFeed, EventRelay, encode_batch
from bursa.trading.member_levels import MemberLevels
from tests.api.members import Exchange, exchange  # noqa: F401
from tests.api.test_peatio_market import traders
from tests.api.test_ranger import DEPTH, Book, follow, order, receive, served


class Remote:
    """A second API process's pieces: a bus fed only from RabbitMQ, its hub and feed."""

    def __init__(self, url: str, feed: EventFeed, hub: RangerHub) -> None:
        self.url, self.feed, self.hub = url, feed, hub


@pytest.fixture
async def remote(exchange: Exchange, amqp_url: str) -> AsyncIterator[Remote]:
    name = f"test.events.{uuid.uuid4().hex}"
    # The engine's side: commands over RabbitMQ in, committed batches out.
    relay = EventRelay(amqp_url, exchange.runner.bus, exchange.runner.committed_seq, exchange=name)
    await relay.start()
    consumer = EngineConsumer(amqp_url, exchange.runner, queue=f"{name}.commands")
    await consumer.start()
    # The API process's side: nothing of the runner, only RabbitMQ and the database.
    bus = InProcessBus()
    markets = StoredMarkets(exchange.database_url)
    await markets.start()
    feed = EventFeed(amqp_url, bus, exchange=name)
    await feed.start(markets.committed_seq)
    database = create_engine(exchange.database_url, pool_size=2)
    sessions = create_session_factory(database)
    hub = RangerHub(None, bus, markets=markets, sessions=sessions)
    await hub.start()
    app = create_app(
        exchange.runner,  # the REST routes; the websocket reads only the hub
        sessions,
        exchange.identity,
        secure_cookies=False,
        member_levels=MemberLevels(deposit=1, withdraw=3, trading=1),
        ranger_hub=hub,
    )
    try:
        async with served(app) as url:
            yield Remote(url, feed, hub)
    finally:
        await hub.stop()
        await feed.stop()
        await markets.stop()
        await consumer.stop()
        await relay.stop()
        await database.dispose()


async def test_relayed_batches_feed_books_trades_and_private_streams(
    exchange: Exchange, remote: Remote
) -> None:
    alice, bob = await traders(exchange)
    await order(alice, "sell", "0.1", "30000")  # in the book before anyone listens
    await order(alice, "sell", "0.2", "30010")
    private = "order,trade,balance"
    async with (
        connect(f"{remote.url}/public?stream=btcusdt.ob-inc,btcusdt.trades") as ws,
        connect(
            f"{remote.url}/private?stream={private}", additional_headers=bob._headers(False)
        ) as b,
    ):
        book = Book((await receive(ws))["btcusdt.ob-snap"])
        assert book.depth() == {
            "asks": [["30000", "0.1"], ["30010", "0.2"]],
            "bids": [],
        }
        bid = await order(bob, "buy", "0.15", "30010")  # 0.1 at 30000, 0.05 at 30010
        await order(bob, "buy", "0.3", "29000")
        want = (await alice.get(DEPTH)).json()
        want = {"asks": want["asks"], "bids": want["bids"]}
        assert want == {"asks": [["30010", "0.15"]], "bids": [["29000", "0.3"]]}
        trades: list[dict[str, Any]] = []
        while len(trades) < 2:
            message = await receive(ws)
            if "btcusdt.trades" in message:
                trades.extend(message["btcusdt.trades"]["trades"])
            else:
                book.apply(message["btcusdt.ob-inc"])
        assert [(t["price"], t["amount"]) for t in trades] == [("30000", "0.1"), ("30010", "0.05")]
        await asyncio.wait_for(follow(ws, book, want), 5)

        seen: list[Any] = []
        while sum("trade" in m for m in seen) < 2:
            seen.append(await receive(b))
        await b.send("ping")  # the rest of the batch is queued before the pong
        while (message := await receive(b)) != "pong":
            seen.append(message)
        orders = [m["order"] for m in seen if "order" in m and m["order"]["id"] == bid["id"]]
        assert orders[-1]["state"] == "done"
        assert orders[-1]["executed_volume"] == "0.15"
        assert [m["trade"]["order_id"] for m in seen if "trade" in m] == [bid["id"]] * 2
        assert any(m["balance"]["currency"] == "btc" for m in seen if "balance" in m)
        assert remote.feed.resets == 0


async def test_a_lost_batch_makes_the_clients_start_over(
    exchange: Exchange, remote: Remote, amqp_url: str
) -> None:
    alice, bob = await traders(exchange)
    async with connect(f"{remote.url}/public?stream=btcusdt.ob-inc") as ws:
        await receive(ws)  # the snapshot
        for price in ("30000", "30100"):
            await order(alice, "sell", "0.1", price)
            assert "btcusdt.ob-inc" in await receive(ws)
        # A batch naming a previous one the feed never saw: something was lost.
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            exchange_ = await channel.get_exchange(remote.feed.exchange_name)
            assert remote.feed.last_seq is not None
            last = remote.feed.last_seq
            gap = encode_batch(last + 10**6, last, [], 0)
            await exchange_.publish(aio_pika.Message(gap), routing_key="")

        async def drain() -> None:
            while True:
                await receive(ws)

        with pytest.raises(ConnectionClosed) as closed:
            await drain()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == RESYNC
    assert remote.feed.resets == 1
    # Starting over: the book read again from the database, then followed again.
    async with connect(f"{remote.url}/public?stream=btcusdt.ob-inc") as ws:
        book = Book((await receive(ws))["btcusdt.ob-snap"])
        assert book.depth() == {"asks": [["30000", "0.1"], ["30100", "0.1"]], "bids": []}
        await order(bob, "buy", "0.1", "30000")
        want = {"asks": [["30100", "0.1"]], "bids": []}
        await asyncio.wait_for(follow(ws, book, want), 5)
