"""Members' beneficiaries (Peatio's ``beneficiaries``): the destinations a member may
withdraw to, each confirmed by a code mailed to the member before it can be used.

Neither the destination nor the code is stored in the clear: ``data`` (the address, or a
bank's details) is sealed by the key store, the activation code is kept only as an argon2
hash, so a copy of the database neither names where members send money nor lets anyone
activate a destination.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
)

from bursa.db.metadata import metadata

BENEFICIARY_STATES = ("pending", "active", "archived")

beneficiaries = Table(
    "beneficiaries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("member_id", BigInteger, nullable=False),
    Column("currency_id", String(10), nullable=False),
    Column("blockchain_key", String(32)),
    Column("name", String(64), nullable=False),
    Column("description", String(255), nullable=False, server_default=""),
    Column("data", Text, nullable=False),  # sealed JSON object
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("pin_hash", Text),  # argon2 of the activation code; None once active
    Column("pin_attempts", Integer, nullable=False, server_default="0"),
    Column("sent_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_beneficiaries_member_id_currency_id", "member_id", "currency_id"),
)
