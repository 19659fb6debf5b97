"""The network fees Bursa's wallets pay: one row per transaction custody sends (a sweep,
a gas top-up, a surplus send, a withdrawal payout), with the fee as signed, the fee as
mined and the engine keys that booked them (``custody.network_fees``).

The row is written in the same commit as the transaction's txid and bytes, so every
transaction that can reach the network has its fee on record before it is broadcast.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata

_NUM = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE)

SWEEP, WITHDRAW = "sweep", "withdraw"  # what paid: a ``sweeps`` row or a ``withdraws`` row
# recorded (the estimate is to book) → booked (booked; the correction waits for the
# transaction to be mined, or is to book once ``actual`` is set) → settled; refused: the
# engine refused a booking (``error``), nothing more is tried.
RECORDED, BOOKED, SETTLED, REFUSED = "recorded", "booked", "settled", "refused"

network_fees = Table(
    "network_fees",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("blockchain_key", String(32), nullable=False),
    Column("currency_id", String(10), nullable=False),  # the chain's native coin: it pays
    Column("txid", String(128), nullable=False),
    Column("source", String(8), nullable=False),  # sweep | withdraw
    Column("source_id", BigInteger, nullable=False),
    Column("estimated", _NUM, nullable=False),  # at signing, exact on-chain units
    Column("actual", _NUM),  # once mined (0: never mined, declared lost)
    Column("booked", _NUM, nullable=False, server_default="0"),  # the ledger's expense now
    Column("state", String(16), nullable=False),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("blockchain_key", "txid", name="uq_network_fees_txid"),
    Index("ix_network_fees_state", "state"),
    Index("ix_network_fees_source", "source", "source_id"),
)
