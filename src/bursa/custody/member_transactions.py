"""A member's money in and out (Peatio's ``account/transactions``): their deposits and
withdrawals in one list, each with its own fields, newest first by default.

Peatio builds this list from its two tables and sorts the union by creation time; the
ledger postings behind them are another view (``history.member_operations``). The
confirmations of a coin deposit or withdrawal count to the last block its chain's scanner
read; a fiat one, or one not yet in a block, has 0.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import registry
from bursa.db.pages import page_of
from bursa.trading.tables import deposits
from bursa.trading.withdrawal_tables import withdraws

DEPOSIT, WITHDRAW = "Deposit", "Withdraw"  # Peatio's ``type``: the record's class


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """What Peatio filters on: each state filter narrows only its own kind of record."""

    member_id: int
    currency: str | None = None
    deposit_state: str | None = None
    withdraw_state: str | None = None
    txid: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    ascending: bool = False


@dataclass(frozen=True, slots=True)
class Transaction:
    """A deposit (``address``: where it was paid) or a withdrawal (``address``: its
    destination, ``note``: the member's)."""

    type: str
    currency: str
    address: str | None
    amount: Decimal
    fee: Decimal
    txid: str | None
    state: str
    note: str | None
    confirmations: int
    created_at: datetime
    updated_at: datetime


def confirmations(block_number: int | None, height: int | None) -> int:
    """Blocks from the one holding the transaction to the last one read (0 before it is
    in a block, or when its chain was never read)."""
    if block_number is None or height is None:
        return 0
    return max(0, height - block_number + 1)


def _deposits(found: TransactionFilter) -> Any:
    d = deposits.c
    query = select(
        literal(DEPOSIT).label("type"),
        d.id,
        d.currency_id,
        cast(d.address, String(256)).label("address"),
        d.amount,
        d.fee,
        d.txid,
        d.state,
        cast(null(), String(256)).label("note"),
        d.blockchain_key,
        d.block_number,
        d.created_at,
        d.updated_at,
    ).where(d.member_id == found.member_id)
    exact = [(d.currency_id, found.currency), (d.state, found.deposit_state), (d.txid, found.txid)]
    query = query.where(*(column == value for column, value in exact if value is not None))
    return _between(query, d.created_at, found)


def _withdraws(found: TransactionFilter) -> Any:
    w = withdraws.c
    query = select(
        literal(WITHDRAW).label("type"),
        w.id,
        w.currency_id,
        w.rid.label("address"),
        w.amount,
        w.fee,
        w.txid,
        w.state,
        w.note,
        w.blockchain_key,
        w.block_number,
        w.created_at,
        w.updated_at,
    ).where(w.member_id == found.member_id)
    exact = [(w.currency_id, found.currency), (w.state, found.withdraw_state), (w.txid, found.txid)]
    query = query.where(*(column == value for column, value in exact if value is not None))
    return _between(query, w.created_at, found)


def _between(query: Any, column: Any, found: TransactionFilter) -> Any:
    if found.created_from is not None:
        query = query.where(column >= found.created_from)
    if found.created_to is not None:
        query = query.where(column <= found.created_to)
    return query


def _transaction(row: Mapping[str, Any], heights: Mapping[str, int]) -> Transaction:
    return Transaction(
        type=row["type"],
        currency=row["currency_id"],
        address=row["address"],
        amount=row["amount"],
        fee=row["fee"],
        txid=row["txid"],
        state=row["state"],
        note=row["note"],
        confirmations=confirmations(row["block_number"], heights.get(row["blockchain_key"])),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def member_transactions(
    session: AsyncSession, found: TransactionFilter, *, limit: int, page: int
) -> tuple[list[Transaction], int]:
    """One page of the member's deposits and withdrawals by creation time (ties by type,
    then id, the same way round), and how many there are in all."""
    mine = union_all(_deposits(found), _withdraws(found)).subquery("mine")
    keys = (mine.c.created_at, mine.c.type, mine.c.id)
    ordered = select(mine).order_by(*(k.asc() if found.ascending else k.desc() for k in keys))
    listed = await page_of(session, ordered, limit, page)
    chains = {row["blockchain_key"] for row in listed.rows if row["blockchain_key"]}
    heights = await registry.scanned_heights(session, chains)
    return [_transaction(row, heights) for row in listed.rows], listed.total
