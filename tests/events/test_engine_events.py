"""The engine's Event API events: written in the batch's own statement, with Peatio's
market events and Bursa's account updates, amounts as exact strings."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from bursa.events.engine_batch import (
    SERVICE_ACCOUNT_MEMBERS,
    Directory,
    amount,
    documents_of,
    moment,
)
from bursa.events.relay import Relay
from bursa.events.wire import Message
from tests.engine.test_runner import buy, fund, runner_for, sell
from tests.events.test_relay import KEYS, VERIFIER


async def outbox(url: str) -> list[list[Mapping[str, Any]]]:
    """Each outbox row's events, as the relay publishes them."""
    conn = await asyncpg.connect(url)
    directory = Directory()
    try:
        rows = await conn.fetch("SELECT events FROM event_outbox ORDER BY id")
        return [await documents_of(conn, json.loads(r["events"]), directory) for r in rows]
    finally:
        await conn.close()


async def add_users(url: str, *ids: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        for member in ids:
            await conn.execute(
                "INSERT INTO users (id, uid, email, password_hash) VALUES ($1, $2, $3, 'x')",
                member,
                f"ID{member:010d}",
                f"m{member}@example.com",
            )
    finally:
        await conn.close()


async def test_a_trade_gives_order_trade_and_account_events(fresh_database_url: str) -> None:
    await add_users(fresh_database_url, 1, 2)
    runner = runner_for(fresh_database_url)
    await runner.start()
    try:
        for command in fund(1) + fund(2):
            await runner.submit(command)
        before = len(await outbox(fresh_database_url))
        await runner.submit(sell("s1", 1, 500_000, 3_000_000))  # 0.5 BTC @ 30,000
        sold = await outbox(fresh_database_url)
        await runner.submit(buy("b1", 2, 200_000, 3_000_000))  # takes 0.2 BTC
        bought = await outbox(fresh_database_url)
    finally:
        await runner.stop()

    (placed,) = sold[before:]  # one outbox row per batch
    assert [e["name"] for e in placed] == [
        "market.btcusdt.order_created",
        "model.account.updated",
    ]
    created = placed[0]["record"]
    assert created["trader_uid"] == "ID0000000001"
    assert (created["type"], created["state"], created["strategy"]) == ("sell", "open", "limit")
    assert (created["income_unit"], created["outcome_unit"]) == ("usdt", "btc")
    assert created["initial_outcome_amount"] == created["current_outcome_amount"] == "0.5"
    assert created["initial_income_amount"] == "15000"  # 0.5 × 30,000
    assert created["price"] == "30000"
    assert placed[1]["record"] == {
        "uid": "ID0000000001",
        "member_id": 1,
        "currency": "btc",
        "balance": "1.5",
        "locked": "0.5",
    }

    (matched,) = bought[len(sold) :]
    names = [e["name"] for e in matched]
    assert names == [
        "market.btcusdt.order_updated",  # the resting sell, partly filled
        "market.btcusdt.order_created",  # the buy, as placed…
        "market.btcusdt.order_completed",  # …and filled in the same batch
        "market.btcusdt.trade_completed",
        "model.account.updated",
        "model.account.updated",
        "model.account.updated",
        "model.account.updated",
    ]
    maker = matched[0]["record"]
    assert (maker["previous_outcome_amount"], maker["current_outcome_amount"]) == ("0.5", "0.3")
    assert maker["trades_count"] == 1 and "updated_at" in maker
    completed = matched[2]["record"]
    assert completed["state"] == "completed" and "completed_at" in completed
    trade = matched[3]["record"]
    assert (trade["maker_uid"], trade["taker_uid"]) == ("ID0000000001", "ID0000000002")
    assert (trade["amount"], trade["price"], trade["total"]) == ("0.2", "30000", "6000")
    assert (trade["taker_income_unit"], trade["taker_income_amount"]) == ("btc", "0.2")
    assert (trade["maker_income_unit"], trade["maker_income_amount"]) == ("usdt", "6000")
    assert all(not isinstance(v, float) for e in matched for v in e["record"].values())


async def test_amounts_and_times_are_written_as_postgresql_writes_them(
    fresh_database_url: str,
) -> None:
    conn = await asyncpg.connect(fresh_database_url)
    try:
        await conn.execute("SET TIME ZONE 'UTC'")
        for value in ["0", "0e-8", "123e-8", "15000", "500000e-6", "1.50000", "3e+4", "7e-18"]:
            expected = await conn.fetchval("SELECT trim_scale($1::numeric)::text", value)
            assert amount(value) == expected
        for micros in [0, 1, 500_000, 1_799_999_999_123_400, 1_800_000_000_000_000]:
            expected = await conn.fetchval(
                "SELECT to_json(timestamptz 'epoch' + $1 * interval '1 microsecond')#>>'{}'",
                micros,
            )
            assert moment(micros) == expected
    finally:
        await conn.close()


class Collected:
    """A relay sink that keeps what it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def publish(self, messages: Sequence[Message]) -> None:
        self.messages.extend(messages)

    async def close(self) -> None:
        return None


async def test_a_republished_batch_gives_the_same_events_with_the_same_ids(
    fresh_database_url: str,
) -> None:
    machine = SERVICE_ACCOUNT_MEMBERS + 1  # a service account's member trades with a user
    await add_users(fresh_database_url, 1)
    conn = await asyncpg.connect(fresh_database_url)
    try:
        await conn.execute(
            "INSERT INTO service_accounts (id, uid, owner_id, email, role)"
            " VALUES (1, 'SI0000000001', 1, 'bot@example.com', 'service')"
        )
    finally:
        await conn.close()
    runner = runner_for(fresh_database_url)
    await runner.start()
    try:
        for command in fund(1) + fund(machine):
            await runner.submit(command)
        await runner.submit(sell("s1", machine, 500_000, 3_000_000))
        await runner.submit(buy("b1", 1, 500_000, 3_000_000))
    finally:
        await runner.stop()

    sink = Collected()
    relay = Relay(fresh_database_url, sink, KEYS)
    conn = await asyncpg.connect(fresh_database_url)
    try:
        await relay.step(conn)
        first = list(sink.messages)
        await conn.execute("UPDATE event_outbox SET published_at = NULL")  # a lost confirm
        sink.messages.clear()
        await relay.step(conn)
    finally:
        await conn.close()

    assert [(m.id, m.exchange, m.routing_key) for m in sink.messages] == [
        (m.id, m.exchange, m.routing_key) for m in first
    ]
    assert len({m.id for m in first}) == len(first)
    claims = [VERIFIER.open(m.body, m.exchange, m.routing_key)[0] for m in first]
    trade = next(c for c in claims if c["name"] == "market.btcusdt.trade_completed")
    assert (trade["maker_uid"], trade["taker_uid"]) == ("SI0000000001", "ID0000000001")
    completed = [c for c in claims if c["name"] == "market.btcusdt.order_completed"]
    assert [c["id"] for c in completed] == [1, 2]  # the resting sell, then the buy
