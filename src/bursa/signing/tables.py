"""Token ids already accepted, kept until the token expires: a replayed Management API
request is refused however many API processes there are."""

from sqlalchemy import Column, DateTime, Index, String, Table

from bursa.db.metadata import metadata

used_jtis = Table(
    "used_jtis",
    metadata,
    Column("jti", String(255), primary_key=True),
    Column("signer", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_used_jtis_expires_at", "expires_at"),
)
