"""Listeners: a sign-up through the HTTP API reaches one with Barong's exchange, routing
key and record; a handler that keeps failing is dead-lettered after bounded retries;
installed listeners and the public keys are found by the ``bursa`` command."""

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import orjson

from bursa.events.bus import InProcessBus
from bursa.events.listener import (
    DEAD_LETTER_EXCHANGE,
    AmqpListener,
    BusListener,
    EventListener,
    Meta,
    installed,
)
from bursa.events.relay import BusSink, Relay, declare_exchanges
from bursa.signing import multisig
from tests.events.test_relay import KEYS, VERIFIER, Received
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    api,
    inbox,
    sign_up,
)
from tests.test_cli import bursa


async def test_sign_up_through_the_api_reaches_a_listener(api: httpx.AsyncClient) -> None:
    bus = InProcessBus()
    received = Received()
    listener = BusListener(
        bus,
        EventListener(
            "signups",
            (("barong.events.model", "user.created"), ("barong.events.system", "session.create")),
            received,
        ),
        VERIFIER,
    )
    await listener.start()
    relay = Relay(api.headers["X-Test-Db"], BusSink(bus), KEYS, poll_s=0.02)
    await relay.start()
    try:
        user = await sign_up(api, "ivy@example.com")
        await received.until(2)
    finally:
        await relay.stop()
        await listener.stop()
    (created, created_meta), (session, session_meta) = received.events
    assert (created_meta.exchange, created_meta.routing_key) == (
        "barong.events.model",
        "user.created",
    )
    assert created["name"] == "model.user.created"
    record = created["record"]
    assert (record["uid"], record["email"], record["state"]) == (
        user["uid"],
        "ivy@example.com",
        "pending",
    )
    assert set(record) == {
        "uid",
        "email",
        "username",
        "role",
        "level",
        "otp",
        "state",
        "referral_uid",
        "created_at",
        "updated_at",
    }
    assert (session_meta.exchange, session["name"]) == (
        "barong.events.system",
        "system.session.create",
    )
    assert session["record"]["user"]["uid"] == user["uid"]
    assert created_meta.signers == {"barong"}


async def test_a_failing_handler_is_dead_lettered_after_bounded_retries(amqp_url: str) -> None:
    attempts: list[str] = []

    async def failing(event: dict[str, Any], meta: Meta) -> None:
        attempts.append(meta.id)
        raise RuntimeError("cannot handle this one")

    queue = f"bursa.test.dead.{os.getpid()}"
    listener = AmqpListener(
        amqp_url,
        EventListener("failing", (("barong.events.model", "label.created"),), failing),
        VERIFIER,
        retries=3,
        retry_delay_s=0.01,
        queue=queue,
    )
    await listener.start()
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        exchanges = await declare_exchanges(channel)
        claims = {"iss": "barong", "jti": "dead-1", "iat": 0, "exp": 2**40, "event": {"name": "x"}}
        body = orjson.dumps(multisig.sign(claims, KEYS.signers["barong"]))
        await exchanges["barong.events.model"].publish(
            aio_pika.Message(body, message_id="dead-1"), routing_key="label.created"
        )
        dead = await channel.declare_queue(f"{queue}.dead", durable=True)
        async with asyncio.timeout(10), dead.iterator() as messages:
            message = await anext(messages)
        assert message.message_id == "dead-1"
        await message.ack()
    finally:
        await listener.stop()
        await channel.queue_delete(queue)
        await channel.queue_delete(f"{queue}.dead")
        await connection.close()
    assert attempts == ["dead-1"] * 3
    assert DEAD_LETTER_EXCHANGE == "bursa.events.dead"


async def test_per_process_listeners_each_get_every_event(amqp_url: str) -> None:
    """Two API processes serving websocket streams: each hears every event (a shared
    queue would hand each event to one of them), and no queue stays behind."""
    binding = (("barong.events.model", "label.updated"),)
    heard = [Received(), Received()]
    listeners = [
        AmqpListener(amqp_url, EventListener("streams", binding, r), VERIFIER, per_process=True)
        for r in heard
    ]
    for listener in listeners:
        await listener.start()
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        exchanges = await declare_exchanges(channel)
        for n in range(3):
            claims = {
                "iss": "barong",
                "jti": f"pp-{n}",
                "iat": 0,
                "exp": 2**40,
                "event": {"name": "x"},
            }
            body = orjson.dumps(multisig.sign(claims, KEYS.signers["barong"]))
            await exchanges["barong.events.model"].publish(
                aio_pika.Message(body, message_id=f"pp-{n}"), routing_key="label.updated"
            )
        for received in heard:
            await received.until(3)
            assert [meta.id for _, meta in received.events] == ["pp-0", "pp-1", "pp-2"]
    finally:
        for listener in listeners:
            await listener.stop()
        await connection.close()


def test_the_example_listener_is_installed() -> None:
    (example,) = installed("log_new_users")
    assert example.bindings == (("barong.events.model", "user.created"),)


def test_events_keys_prints_two_distinct_public_keys(tmp_path: Path) -> None:
    done = bursa("events", "keys", env={"BURSA_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("BEGIN PUBLIC KEY") == 2
    assert "PRIVATE" not in done.stdout
    keys = sorted((tmp_path / "keys").iterdir())
    assert [k.name for k in keys] == ["event-barong-rs256.pem", "event-peatio-rs256.pem"]
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
    again = bursa("events", "keys", env={"BURSA_DATA_DIR": str(tmp_path)})
    assert again.stdout == done.stdout  # the same files, not new keys
