"""Network fees in the ledger: what Bursa's wallets pay the network, booked as an expense
(Peatio's 402 for coins) against the asset (102) through the engine's ``Transfer``, so the
ledger's assets are what Bursa's addresses hold on chain.

A fee is paid in the chain's native coin whatever moved (a token sweep's gas is ETH), by
whichever Bursa address sends: a deposit address (collections), the fee wallet (gas
top-ups) or a hot wallet (surplus sends, withdrawal payouts).

Three steps, each exactly once whatever crashes in between:
* ``record``: in the commit that records the transaction's txid and bytes, a
  ``network_fees`` row with the fee as signed (Ethereum: gas limit × gas price, the most
  it can cost; Bitcoin: the exact fee).
* ``FeeBook.book``: the estimate goes through the engine under the key
  ``network_fee:<id>:sent``, then the row says ``booked``.
* ``mined`` (in the commit that marks the transaction landed or failed) sets the actual fee
  (gas used × gas price from the receipt); ``FeeBook.book`` books the difference alone
  under ``network_fee:<id>:mined`` and the row is ``settled``.

Whoever finds a row not yet marked asks the engine's command log whether its key ran
before sending it (the engine itself remembers keys for a window only), so a booking is
never made twice and never lost. Amounts are rounded up to the currency's precision: the
books never claim more than the chain holds.
"""

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import func

from bursa.custody.chain import ChainCurrency
from bursa.custody.network_fee_tables import (
    BOOKED,
    RECORDED,
    REFUSED,
    SETTLED,
    network_fees,
)
from bursa.engine.commands import Command, Transfer
from bursa.engine.specs import ASSET, EXPENSE
from bursa.engine.units import from_units
from bursa.ledger.tables import currencies
from bursa.trading import engine_log

log = logging.getLogger(__name__)
Submit = Callable[[Command], Awaitable[dict[str, Any]]]
MOST_PER_STEP = 500  # rows booked per call; the next call takes the rest


def reference(source: str, source_id: int) -> str:
    """The postings' reference (``rid`` in ``admin/expenses``): what paid the fee."""
    return f"network_fee:{source}:{source_id}"


def sent_key(fee_id: int) -> str:
    return f"network_fee:{fee_id}:sent"


def mined_key(fee_id: int) -> str:
    return f"network_fee:{fee_id}:mined"


async def record(
    session: AsyncSession,
    *,
    blockchain_key: str,
    native: ChainCurrency,
    txid: str,
    source: str,
    source_id: int,
    fee: int,
) -> None:
    """Note the fee of a transaction being recorded, in the caller's transaction (the one
    that commits its txid); once per transaction."""
    await session.execute(
        insert(network_fees)
        .values(
            blockchain_key=blockchain_key,
            currency_id=native.id,
            txid=txid,
            source=source,
            source_id=source_id,
            estimated=native.to_decimal(fee),
            state=RECORDED,
        )
        .on_conflict_do_nothing(constraint="uq_network_fees_txid")
    )


async def mined(
    session: AsyncSession, blockchain_key: str, txid: str, native: ChainCurrency, fee: int | None
) -> None:
    """The transaction is in a block (or declared lost: ``fee`` 0): what it paid, in the
    caller's transaction. ``None`` keeps the fee at signing. Set once, never changed."""
    actual = network_fees.c.estimated if fee is None else native.to_decimal(fee)
    await session.execute(
        update(network_fees)
        .where(
            network_fees.c.blockchain_key == blockchain_key,
            network_fees.c.txid == txid,
            network_fees.c.actual.is_(None),
        )
        .values(actual=actual, updated_at=func.now())
    )


@dataclass(frozen=True, slots=True)
class _Due:
    row: Any
    key: str
    target: int  # what the ledger should hold as this fee's expense, currency units
    booked: int  # what it holds now
    precision: int
    type: str


class FeeBook:
    """Books one chain's recorded fees (of one ``source``: the sweeper books its sweeps',
    the sender its withdrawals', each behind its own advisory lock)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        submit: Submit,
        blockchain_key: str,
        source: str,
    ) -> None:
        self.sessions = sessions
        self.submit = submit
        self.key = blockchain_key
        self.source = source

    async def book(self) -> int:
        """Book every estimate not yet booked and every correction due; how many rows
        moved on. A fee mined before its estimate was booked takes two passes."""
        done = 0
        for _ in range(2):
            due = await self._due()
            if not due:
                break
            async with self.sessions() as session:
                logged = await engine_log.logged_results(session, [d.key for d in due])
            for item in due:
                result = logged.get(item.key)
                if result is None and item.target != item.booked:
                    result = await self.submit(self._command(item))
                await self._mark(item, result)
                done += 1
        return done

    async def _due(self) -> list[_Due]:
        query = (
            select(network_fees, currencies.c.precision, currencies.c.type)
            .join(currencies, currencies.c.id == network_fees.c.currency_id)
            .where(
                network_fees.c.blockchain_key == self.key,
                network_fees.c.source == self.source,
                or_(
                    network_fees.c.state == RECORDED,
                    and_(network_fees.c.state == BOOKED, network_fees.c.actual.is_not(None)),
                ),
            )
            .order_by(network_fees.c.id)
            .limit(MOST_PER_STEP)
        )
        async with self.sessions() as session:
            rows = list((await session.execute(query)).mappings())
        due = []
        for row in rows:
            places = int(row["precision"])
            booked = _units(row["booked"], places)
            if row["state"] == RECORDED:
                key, target = sent_key(row["id"]), _units(row["estimated"], places)
            else:
                key, target = mined_key(row["id"]), _units(row["actual"], places)
            due.append(_Due(row, key, target, booked, places, str(row["type"])))
        return due

    def _command(self, item: _Due) -> Transfer:
        """Asset → expense for a fee (or a fee grown at mining); expense → asset for what
        the estimate booked beyond the actual fee."""
        asset, expense = ASSET[item.type], EXPENSE[item.type]
        change = item.target - item.booked
        src, dst = (asset, expense) if change > 0 else (expense, asset)
        leg = {
            "currency": item.row["currency_id"],
            "amount": abs(change),
            "src": src,
            "src_member": None,
            "dst": dst,
            "dst_member": None,
        }
        ref = reference(item.row["source"], int(item.row["source_id"]))
        return Transfer(key=item.key, reference=ref, legs=[leg])

    async def _mark(self, item: _Due, result: dict[str, Any] | None) -> None:
        """The row after its booking: ``result`` None means nothing had to move."""
        row = item.row
        refused = result is not None and result.get("error") is not None
        values: dict[str, Any] = {"updated_at": func.now()}
        if refused:
            assert result is not None
            values |= {"state": REFUSED, "error": str(result["error"])}
            log.error(
                "the engine refused booking network fee %s (%s %s): %s",
                row["id"],
                row["currency_id"],
                row["txid"],
                result["error"],
            )
        else:
            values["booked"] = from_units(item.target, item.precision)
            values["state"] = BOOKED if row["state"] == RECORDED else SETTLED
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(network_fees)
                .where(network_fees.c.id == row["id"], network_fees.c.state == row["state"])
                .values(values)
            )


def _units(amount: Decimal | None, places: int) -> int:
    """``amount`` in the currency's units, rounded up (a fee finer than the currency's
    precision is booked whole, so the books never claim more than the chain holds)."""
    return 0 if amount is None else math.ceil(Decimal(amount).scaleb(places))
