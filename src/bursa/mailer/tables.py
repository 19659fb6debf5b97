"""What the mailer has sent, so that a redelivered event is not mailed twice."""

from sqlalchemy import Column, DateTime, Index, String, Table, func

from bursa.db.metadata import metadata

mailer_deliveries = Table(
    "mailer_deliveries",
    metadata,
    Column("event_id", String(255), primary_key=True),  # the envelope's jti
    Column("rule", String(255), primary_key=True),  # which configured mail it was
    Column("sent_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_mailer_deliveries_sent_at", "sent_at"),
)
