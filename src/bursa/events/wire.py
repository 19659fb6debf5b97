"""The Event API wire format: event ids, envelopes, exchanges (Peatio's and Barong's).

Every event is published to the direct, durable exchange ``<app>.events.<category>``
with routing key ``<rest of the name>``; the body is a jwt-multisig envelope signed by
the app's key (kid = app) over ``{"iss", "jti", "iat", "exp", "event"}``, and the AMQP
``message_id`` is the event id (= ``jti``).
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from bursa.events.keys import EventKeys
from bursa.events.outbox import DomainEvent
from bursa.signing import multisig

EXCHANGES = (
    "peatio.events.model",
    "peatio.events.market",
    "barong.events.model",
    "barong.events.system",
)
EVENT_API_TOPIC = "event_api"  # in-process bus topic when RabbitMQ is not configured
_NAMESPACE = uuid.UUID("6b1d2a52-2f0e-4c59-9d3b-6b5f0a8e0e51")


def event_id(row_id: int, created_at: datetime, index: int) -> str:
    """The same outbox entry always gets the same id (a re-publish after a lost confirm is
    recognisable), and another database's row with the same number another one."""
    return str(uuid.uuid5(_NAMESPACE, f"{row_id}:{created_at.isoformat()}:{index}"))


def event_object(event: DomainEvent) -> dict[str, Any]:
    """``event`` claim: market events carry their fields at the top level (Peatio)."""
    if event.name.startswith("market."):
        return {"name": event.name, **event.record}
    body: dict[str, Any] = {"name": event.name, "record": dict(event.record)}
    if event.changes is not None:
        body["changes"] = dict(event.changes)
    return body


@dataclass(frozen=True, slots=True)
class Message:
    """One signed event, ready for RabbitMQ or the in-process bus."""

    row_id: int
    id: str
    exchange: str
    routing_key: str
    body: bytes


def sign_event(
    event: DomainEvent, eid: str, keys: EventKeys, ttl_s: int, now: int, row_id: int
) -> Message:
    claims = {
        "iss": event.app,
        "jti": eid,
        "iat": now,
        "exp": now + ttl_s,
        "event": event_object(event),
    }
    envelope = multisig.sign(claims, keys.signers[event.app])
    return Message(row_id, eid, event.exchange, event.routing_key, orjson.dumps(envelope))


def messages_of(
    row_id: int,
    created_at: datetime,
    documents: list[Mapping[str, Any]],
    keys: EventKeys,
    ttl_s: int,
    now: int,
) -> list[Message]:
    return [
        sign_event(
            DomainEvent.from_document(doc),
            event_id(row_id, created_at, index),
            keys,
            ttl_s,
            now,
            row_id,
        )
        for index, doc in enumerate(documents)
    ]
