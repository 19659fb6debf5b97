"""The Event API outbox: events are written here in the transaction of the change they
describe, and a relay publishes them afterwards (so an outage delays them, never loses them)."""

from sqlalchemy import BigInteger, Column, DateTime, Index, Table, func, text
from sqlalchemy.dialects.postgresql import JSONB

from bursa.db.metadata import metadata

event_outbox = Table(
    "event_outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # A list of {"app", "name", "record", "changes"?}: one row per transaction, so an
    # engine batch of thousands of changes costs one insert.
    Column("events", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Index(
        "ix_event_outbox_pending",
        "id",
        postgresql_where=text("published_at IS NULL"),
    ),
)
