"""Ledger tables: currencies, member accounts and double-entry operations.

Amounts are NUMERIC in the currency's unit (e.g. BTC, not satoshi); the engine converts
to and from its integer subunits at the persistence edge.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from bursa.db.metadata import AMOUNT_PRECISION, AMOUNT_SCALE, metadata


def _amount(name: str, **kwargs: object) -> Column[object]:
    return Column(name, Numeric(AMOUNT_PRECISION, AMOUNT_SCALE), **kwargs)  # type: ignore[arg-type]


currencies = Table(
    "currencies",
    metadata,
    Column("id", String(10), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("type", String(8), nullable=False),  # coin | fiat
    Column("precision", SmallInteger, nullable=False),
    Column("blockchain_key", String(32)),
    _amount("deposit_fee", nullable=False, server_default="0"),
    _amount("min_deposit_amount", nullable=False, server_default="0"),
    _amount("withdraw_fee", nullable=False, server_default="0"),
    _amount("min_withdraw_amount", nullable=False, server_default="0"),
    _amount("withdraw_limit_24h", nullable=False, server_default="0"),
    _amount("withdraw_limit_72h", nullable=False, server_default="0"),
    Column("deposit_enabled", Boolean, nullable=False, server_default="true"),
    Column("withdrawal_enabled", Boolean, nullable=False, server_default="true"),
    # An override of the blockchain's ``min_confirmations`` (``bursa.trading.confirmations``);
    # NULL, the default, follows the chain.
    Column("min_confirmations", Integer),
    # Chain details: a token's ``erc20_contract_address`` and on-chain ``decimals``.
    Column("options", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("position", Integer, nullable=False, server_default="1"),
    Column("state", String(16), nullable=False, server_default="enabled"),
    Column("description", Text, nullable=False, server_default=""),
    Column("homepage", Text, nullable=False, server_default=""),
    Column("icon_url", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "min_confirmations IS NULL OR min_confirmations >= 1",
        name="ck_currencies_min_confirmations_positive",
    ),
)

accounts = Table(
    "accounts",
    metadata,
    Column("member_id", BigInteger, nullable=False),
    Column("currency_id", String(10), nullable=False),
    _amount("balance", nullable=False),
    _amount("locked", nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("member_id", "currency_id"),
)

# One table for all four kinds of account (Peatio kept one table per kind); `code` is
# Peatio's chart-of-accounts code (101/102 assets, 201/202 and 211/212 liabilities,
# 301/302 revenues, 401/402 expenses). Balance of any account = sum(credit) - sum(debit).
operations = Table(
    "operations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),  # engine command that made it
    Column("code", SmallInteger, nullable=False),
    Column("currency_id", String(10), nullable=False),
    Column("member_id", BigInteger),  # null for platform accounts
    Column("reference_type", String(16), nullable=False),
    Column("reference_id", Text, nullable=False),
    _amount("debit", nullable=False),
    _amount("credit", nullable=False),
    # No timestamp of its own: ``seq`` leads to the command (and its time) that made it.
    Index("ix_operations_member_id_id", "member_id", "id"),  # a member's history
)

# Each ``bursa ledger verify`` (or other check of the invariants) and what it found: every
# process with a database exports the last one (``bursa.ledger.verifications``), whichever
# process ran it.
ledger_verifications = Table(
    "ledger_verifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("verified_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("ok", Boolean, nullable=False),
    Column("breaks", Integer, nullable=False),
    Column("accounts_checked", Integer, nullable=False),
    Column("source", String(32), nullable=False),  # what ran it, e.g. "cli"
)
