"""Writing Event API events into the outbox, inside the caller's transaction.

An event is named as Peatio and Barong name them (``model.user.created``,
``system.session.create``, ``market.btcusd.order_created``): the first part is the
category, so ``app`` + category give the RabbitMQ exchange (``barong.events.model``) and
the rest the routing key (``user.created``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bursa.events.tables import event_outbox

Application = Literal["peatio", "barong"]


@dataclass(frozen=True, slots=True)
class DomainEvent:
    app: Application
    name: str  # "<category>.<rest>", e.g. "model.user.created"
    record: Mapping[str, Any]
    changes: Mapping[str, Any] | None = field(default=None)

    @property
    def exchange(self) -> str:
        return f"{self.app}.events.{self.name.split('.', 1)[0]}"

    @property
    def routing_key(self) -> str:
        return self.name.split(".", 1)[1]

    def document(self) -> dict[str, Any]:
        """The outbox form (JSON)."""
        doc: dict[str, Any] = {"app": self.app, "name": self.name, "record": dict(self.record)}
        if self.changes is not None:
            doc["changes"] = dict(self.changes)
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> "DomainEvent":
        return cls(doc["app"], doc["name"], doc["record"], doc.get("changes"))


async def enqueue(conn: AsyncConnection, events: Sequence[DomainEvent]) -> None:
    """Add ``events`` to the outbox in ``conn``'s transaction: they are published if and
    only if that transaction commits."""
    if events:
        await conn.execute(insert(event_outbox).values(events=[e.document() for e in events]))


@dataclass(frozen=True, slots=True)
class Backlog:
    rows: int  # transactions whose events are not published yet
    oldest_age_s: float  # since the oldest of them was written; 0 when none waits


async def backlog(conn: asyncpg.Connection) -> Backlog:
    """What waits in the outbox (the partial index on unpublished rows keeps it cheap)."""
    row = await conn.fetchrow(
        "SELECT count(*) AS rows,"
        " coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) AS age"
        " FROM event_outbox WHERE published_at IS NULL"
    )
    assert row is not None
    return Backlog(int(row["rows"]), max(0.0, float(row["age"])))
