"""Placements and cancellations are answered from the engine's committed result, not read
back from the tables: every answer must be exactly what the read-back shows (field by
field), whichever way it was made (facts of the batch, the average known before a cancel,
or the read-back itself for a repeated idempotency key)."""

import asyncio
import dataclasses
from typing import Any

import httpx

from bursa.api.peatio import present
from bursa.engine.commands import CancelOrder, PlaceOrder
from bursa.engine.order_uuids import order_uuid
from bursa.trading import committed, history
from tests.api.members import (
    MARKET,
    Caller,
    Exchange,
    exchange,  # noqa: F401 - fixture
)


async def read_back(member: Caller, order_id: int) -> dict[str, Any]:
    shown = await member.get(f"{MARKET}/orders/{order_id}")
    assert shown.status_code == 200, shown.text
    found: dict[str, Any] = shown.json()
    del found["trades"]
    return found


async def answered_as_read(member: Caller, answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 201, answer.text
    order: dict[str, Any] = answer.json()
    assert order == await read_back(member, order["id"])
    return order


async def place(member: Caller, **body: str) -> httpx.Response:
    return await member.post(f"{MARKET}/orders", {"market": "btcusdt"} | body)


async def test_answers_equal_the_read_back(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    bob = await exchange.with_key(await exchange.member("bob@example.com"), "read,trade")
    await exchange.credit(alice, "btc", "2")
    await exchange.credit(bob, "usdt", "200000")

    # Resting; then two more asks, so that one buy fills at two prices (an average with
    # a repeating decimal: 18000.106 / 0.6 = 30000.17666…, shown rounded down).
    first = await answered_as_read(
        alice, await place(alice, side="sell", volume="0.5", price="30000.5")
    )
    assert first["uuid"] == order_uuid(first["id"])  # derived from the id, by PostgreSQL too
    (stored,) = await exchange.sql("SELECT uuid::text FROM orders WHERE id = $1", first["id"])
    assert stored["uuid"] == first["uuid"]
    for price in ("30000.01", "30000.02"):
        await answered_as_read(alice, await place(alice, side="sell", volume="0.2", price=price))
    bid = await answered_as_read(bob, await place(bob, side="buy", volume="0.6", price="30001"))
    assert (bid["state"], bid["trades_count"], bid["avg_price"]) == ("done", 3, "30000.17")

    # A market order (no price) and a partly filled one, cancelled later: its trades are
    # in earlier batches, so its average comes from the row read before the cancel.
    market = await answered_as_read(
        bob, await place(bob, side="buy", volume="0.1", ord_type="market")
    )
    assert market["price"] is None
    partly = await answered_as_read(
        bob, await place(bob, side="buy", volume="0.5", price="30000.5")
    )
    assert partly["state"] == "wait" and partly["trades_count"] == 1
    cancelled = await answered_as_read(
        bob, await bob.post(f"{MARKET}/orders/{partly['uuid']}/cancel")
    )
    assert (cancelled["state"], cancelled["avg_price"]) == ("cancel", "30000.5")

    # A repeated idempotency key answers the stored snapshot: read back, the same order.
    retry = {"Idempotency-Key": "answer-1"}
    body = {"market": "btcusdt", "side": "sell", "volume": "0.01", "price": "35000"}
    once = await answered_as_read(alice, await alice.post(f"{MARKET}/orders", body, headers=retry))
    twice = await answered_as_read(alice, await alice.post(f"{MARKET}/orders", body, headers=retry))
    assert once == twice


async def test_an_order_traded_later_in_its_own_batch(exchange: Exchange) -> None:
    """Two commands in one batch: the resting order's answer already shows the trade the
    second one made with it (the answer is the state at the batch's commit)."""
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.credit(alice, "btc", "1")
    await exchange.credit(bob, "usdt", "100000")

    def order(member: Caller, side: str, key: str) -> PlaceOrder:
        return PlaceOrder(
            key=key, member_id=member.id, market="btcusdt", side=side, volume=100_000,
            price=3_000_000, ord_type="limit", time_in_force="", post_only=False,
            client_id=None, stp="cancel_taker",
        )  # fmt: skip

    runner = exchange.runner
    batches = runner.batches
    ask, bid = await asyncio.gather(
        runner.submit(order(alice, "sell", "same-batch-ask"), facts=True),
        runner.submit(order(bob, "buy", "same-batch-bid"), facts=True),
    )
    assert runner.batches == batches + 1  # one batch
    reads = exchange.identity.reads
    for member, answer in ((alice, ask), (bob, bid)):
        assert answer["order"]["trades_count"] == 1
        row = committed.row(answer["order"], order_uuid(answer["order"]["id"]))
        assert row is not None
        table = await history.committed_order(reads, member.id, id=answer["order"]["id"])
        assert table is not None
        assert present.order(row) == present.order(table)

    # Cancelled in a later batch: its trade is not in that batch, so the answer needs the
    # average read before the cancel; a repeated key's answer (the stored snapshot) has
    # no facts at all.
    rest = await runner.submit(order(alice, "sell", "rests"), facts=True)
    await runner.submit(dataclasses.replace(order(bob, "buy", "takes-half"), volume=50_000))
    known = await history.committed_order(reads, alice.id, id=rest["order"]["id"])
    assert known is not None
    gone = await runner.submit(
        CancelOrder(key="cancel-rest", member_id=alice.id, order_id=rest["order"]["id"]), facts=True
    )
    assert committed.row(gone["order"], str(known["uuid"])) is None
    row = committed.row(gone["order"], str(known["uuid"]), known["avg_price"])
    assert row is not None
    table = await history.committed_order(reads, alice.id, id=rest["order"]["id"])
    assert table is not None
    assert present.order(row) == present.order(table)
    repeated = await runner.submit(order(alice, "sell", "rests"), facts=True)
    assert committed.row(repeated["order"], str(known["uuid"])) is None
    plain = await runner.submit(order(alice, "sell", "plain"))
    assert "created_at" not in plain["order"]  # without facts: the snapshot the log keeps
