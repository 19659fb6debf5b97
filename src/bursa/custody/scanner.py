"""A blockchain scanner: follows blocks from the last one read, records deposits to
members' addresses, and credits each through the engine once it has enough confirmations.

Exactly once, whatever happens:
* Each block is recorded in one transaction with its deposits and the next height, so a
  scanner that dies mid-block reads that block again; a deposit is keyed by (currency,
  txid, txout), so reading a block twice records nothing twice.
* Crediting goes through ``crediting.accept_many``, whose engine keys are applied once.

Reorganisations: every block read is kept (``chain_blocks``) with its hash; a block whose
parent is not the kept hash below it means the chain changed. The scanner walks down to
the last height where kept and chain hashes agree, and takes back what lay above it: a
deposit not yet credited is ``canceled`` (and comes back if its transaction is mined
again), a credited one is flagged for admins (``error.reorganised``), since its money may
be gone. Then it reads the new blocks.

Confirmations count the deposit's block itself: ``latest - block_number + 1``. A deposit
below the currency's minimum is recorded ``skipped`` and never credited.
"""

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import func

from bursa.custody import crediting
from bursa.custody.chain import SUCCESS, Block, ChainError, ChainPlugin
from bursa.custody.registry import ChainAsset
from bursa.custody.sweep_tables import sweeps
from bursa.custody.tables import blockchains, chain_blocks, payment_addresses
from bursa.events.outbox import DomainEvent, enqueue
from bursa.identity import directory
from bursa.metrics.custody import BLOCKS_BEHIND, SCANNED_HEIGHT
from bursa.trading import deposits
from bursa.trading.tables import deposits as deposit_rows

log = logging.getLogger(__name__)

SKIPPED = "skipped"
KEEP_BLOCKS = 1000  # hashes kept per chain: the deepest reorganisation Bursa can follow
CREDITING_AT_ONCE = 500  # deposits credited together (shared transactions, one engine batch)
REORGANISED = "reorganised"


class DeepReorganisation(RuntimeError):
    """The chain changed below every block kept: an operator must look."""


class Reorganised(RuntimeError):
    """A block asked for again is no longer the one the scan read: the scan's own
    reorganisation handling must run first."""


@dataclass(slots=True)
class ScanReport:
    blocks: int = 0
    deposits: int = 0
    credited: int = 0
    reorganised_from: int | None = None


class Scanner:
    """Follows one blockchain's deposits (one scanner per chain: a PostgreSQL advisory
    lock keeps a second one waiting)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key: str,
        plugin: ChainPlugin,
        assets: Mapping[str, ChainAsset],
        submit: crediting.Submit,
        *,
        batch: int = 100,
    ) -> None:
        self.sessions = sessions
        self.key = key
        self.plugin = plugin
        self.assets = dict(assets)
        self.submit = submit
        self.batch = batch

    # ------------------------------------------------------------------ one step

    async def step(self) -> ScanReport:
        """Read the blocks not read yet (at most ``batch``), then credit what is due."""
        report = ScanReport()
        latest = await self.plugin.latest_height()
        async with self.sessions() as session:
            height = await self._height(session)
            watched = await self._watched(session)
        # The chain may have changed under the last block read without growing past it
        # (or even shrunk): compare the highest block read that the chain still has.
        probe = min(height - 1, latest)
        if probe >= 0:
            tip = await self.plugin.block(probe, frozenset())
            async with self.sessions() as session, session.begin():
                kept = await self._kept_hash(session, probe)
                if kept is not None and kept != tip.hash:
                    report.reorganised_from = height = await self._rewind(session, probe)
        stop = min(latest, height + self.batch - 1)
        while height <= stop:
            block = await self.plugin.block(height, frozenset(watched))
            async with self.sessions() as session, session.begin():
                kept = await self._kept_hash(session, height - 1)
                if kept is not None and kept != block.parent_hash:
                    report.reorganised_from = await self._rewind(session, height - 1)
                    height = report.reorganised_from
                    continue
                report.deposits += await self._record(session, block, watched)
                await self._keep(session, block)
            report.blocks += 1
            height += 1
        BLOCKS_BEHIND.labels(self.key).set(max(0, latest + 1 - height))
        SCANNED_HEIGHT.labels(self.key).set(height - 1)
        report.credited = await self.credit_due(latest)
        return report

    async def rescan(self, height: int) -> ScanReport:
        """Read the block at ``height`` again (an admin's ``process_block``: a payment to an
        address or of a currency added after the scan passed it), record what it pays to
        members exactly as a scan does (a deposit recorded before is not recorded again),
        then credit what is due. The scan's height and kept blocks do not move. A block
        whose kept hash the chain no longer has raises ``Reorganised``: the scan takes
        that back first."""
        latest = await self.plugin.latest_height()
        async with self.sessions() as session:
            watched = await self._watched(session)
        block = await self.plugin.block(height, frozenset(watched))
        report = ScanReport(blocks=1)
        async with self.sessions() as session, session.begin():
            kept = await self._kept_hash(session, height)
            if kept is not None and kept != block.hash:
                raise Reorganised(f"{self.key}: block {height} changed since it was read")
            report.deposits = await self._record(session, block, watched)
        report.credited = await self.credit_due(latest)
        return report

    async def run(self, *, idle_s: float = 5.0) -> None:
        """Scan for ever; a node that is down is retried with backoff (nothing is lost:
        the height only moves once a block is recorded)."""
        delay = idle_s
        while True:
            try:
                report = await self.step()
                delay = idle_s
                if report.blocks or report.credited:
                    log.info(
                        "%s: %d blocks, %d deposits, %d credited",
                        self.key,
                        report.blocks,
                        report.deposits,
                        report.credited,
                    )
                if report.blocks >= self.batch:
                    continue  # behind: go on at once
            except ChainError as exc:
                log.warning("%s: node unavailable (%s); retrying in %.0f s", self.key, exc, delay)
                delay = min(delay * 2, 60.0)
            await asyncio.sleep(delay)

    # ------------------------------------------------------------------ reading

    async def _height(self, session: AsyncSession) -> int:
        query = select(blockchains.c.height).where(blockchains.c.key == self.key)
        height = (await session.execute(query)).scalar_one()
        return int(height)

    async def _watched(self, session: AsyncSession) -> dict[str, int]:
        """Members' deposit addresses on this chain: address → member id."""
        query = select(payment_addresses.c.address, payment_addresses.c.member_id).where(
            payment_addresses.c.blockchain_key == self.key
        )
        rows = (await session.execute(query)).all()
        return {self._address(r.address): r.member_id for r in rows}

    def _address(self, address: str) -> str:
        return address if self.plugin.case_sensitive else address.lower()

    async def _kept_hash(self, session: AsyncSession, height: int) -> str | None:
        query = select(chain_blocks.c.hash).where(
            chain_blocks.c.blockchain_key == self.key, chain_blocks.c.height == height
        )
        found = (await session.execute(query)).scalar_one_or_none()
        return None if found is None else str(found)

    async def _kept_count(self, session: AsyncSession) -> int:
        query = select(func.count()).where(chain_blocks.c.blockchain_key == self.key)
        return int((await session.execute(query)).scalar_one())

    async def _keep(self, session: AsyncSession, block: Block) -> None:
        await session.execute(
            insert(chain_blocks)
            .values(
                blockchain_key=self.key,
                height=block.height,
                hash=block.hash,
                parent_hash=block.parent_hash,
            )
            .on_conflict_do_update(
                index_elements=[chain_blocks.c.blockchain_key, chain_blocks.c.height],
                set_={"hash": block.hash, "parent_hash": block.parent_hash},
            )
        )
        await session.execute(
            delete(chain_blocks).where(
                chain_blocks.c.blockchain_key == self.key,
                chain_blocks.c.height <= block.height - KEEP_BLOCKS,
            )
        )
        await session.execute(
            update(blockchains)
            .where(blockchains.c.key == self.key)
            .values(height=block.height + 1, updated_at=func.now())
        )

    # ------------------------------------------------------------------ deposits

    async def _own_transactions(self, session: AsyncSession, block: Block) -> set[str]:
        """The block's transactions custody made itself (recorded before they were sent)."""
        txids = {t.txid for t in block.transfers}
        if not txids:
            return set()
        query = select(sweeps.c.txid).where(
            sweeps.c.blockchain_key == self.key, sweeps.c.txid.in_(txids)
        )
        return {str(t) for t in (await session.execute(query)).scalars()}

    async def _record(self, session: AsyncSession, block: Block, watched: dict[str, int]) -> int:
        """Record the block's successful transfers to members' addresses; how many new."""
        count = 0
        events: list[DomainEvent] = []
        own = await self._own_transactions(session, block)
        ours = [
            t
            for t in block.transfers
            if self._address(t.to_address) in watched
            and t.currency in self.assets
            and t.status == SUCCESS
            and t.txid not in own  # Bursa's own gas top-up for a sweep: not a deposit
        ]
        people = await directory.people(
            session, {watched[self._address(t.to_address)] for t in ours}
        )
        for transfer in ours:
            address = self._address(transfer.to_address)
            member_id = watched[address]
            asset = self.assets[transfer.currency]
            amount = asset.credited(transfer.amount)
            if amount <= 0:
                continue  # dust below Bursa's precision
            person = people.get(member_id)
            if person is None:
                log.error("%s: address %s belongs to no member", self.key, address)
                continue
            fee = min(asset.deposit_fee, amount)
            values: dict[str, Any] = {
                "tid": deposits.new_tid(),
                "member_id": member_id,
                "uid": person.uid,
                "currency_id": transfer.currency,
                "type": "coin",
                "amount": amount - fee,
                "fee": fee,
                "transfer_type": "crypto",
                "txid": transfer.txid,
                "txout": transfer.txout,
                "address": address,
                "from_addresses": list(transfer.from_addresses),
                "blockchain_key": self.key,
                "block_number": block.height,
                "block_hash": block.hash,
                "state": SKIPPED if amount < asset.min_deposit_amount else deposits.SUBMITTED,
            }
            inserted = await session.execute(
                insert(deposit_rows)
                .values(**values)
                .on_conflict_do_nothing(
                    index_elements=["currency_id", "txid", "txout"],
                    index_where=deposit_rows.c.txout.is_not(None),
                )
                .returning(deposit_rows)
            )
            row = inserted.mappings().first()
            if row is not None:
                events.append(crediting.created_event(row, person.email))
                count += 1
            else:
                await self._seen_again(
                    session, transfer.currency, transfer.txid, transfer.txout, block
                )
        await enqueue(await session.connection(), events)
        return count

    async def _seen_again(
        self, session: AsyncSession, currency: str, txid: str, txout: int, block: Block
    ) -> None:
        """A deposit already recorded, read again: mined anew after a reorganisation."""
        row = (
            (
                await session.execute(
                    select(deposit_rows).where(
                        deposit_rows.c.currency_id == currency,
                        deposit_rows.c.txid == txid,
                        deposit_rows.c.txout == txout,
                    )
                )
            )
            .mappings()
            .one()
        )
        if row["block_hash"] == block.hash:
            return
        values: dict[str, Any] = {
            "block_number": block.height,
            "block_hash": block.hash,
            "error": None,
        }
        if row["state"] == deposits.CANCELED and (row["error"] or {}).get(REORGANISED):
            values["state"] = deposits.SUBMITTED
            values["completed_at"] = None
        after = await deposits.change(session, row["id"], **values)
        if after["state"] != row["state"]:
            await crediting.updated(session, row, after)
        log.info("%s: deposit %s mined again in block %d", self.key, row["tid"], block.height)

    async def _rewind(self, session: AsyncSession, below: int) -> int:
        """The chain changed at or below ``below``: find where it agrees with what was
        kept, take back the deposits above it, and return the height to read next."""
        height = below
        while height >= 0:
            kept = await self._kept_hash(session, height)
            if kept is None:
                if await self._kept_count(session) >= KEEP_BLOCKS:
                    raise DeepReorganisation(
                        f"{self.key}: the chain changed below the {KEEP_BLOCKS} blocks kept"
                        f" (at height {height}); stop the scanner and check the node"
                    )
                break  # below the first block this scanner read: nothing of Bursa's there
            if (await self.plugin.block(height, frozenset())).hash == kept:
                break
            height -= 1
        fork = height + 1
        taken = (
            (
                await session.execute(
                    select(deposit_rows)
                    .where(
                        deposit_rows.c.blockchain_key == self.key,
                        deposit_rows.c.block_number >= fork,
                        deposit_rows.c.txout.is_not(None),
                    )
                    .with_for_update()
                )
            )
            .mappings()
            .all()
        )
        for row in taken:
            mark = {
                REORGANISED: {"block_number": row["block_number"], "block_hash": row["block_hash"]}
            }
            if row["state"] in (deposits.REJECTED, deposits.CANCELED):
                continue  # never credited, and staying so
            if row["state"] in (deposits.SUBMITTED, SKIPPED):
                after = await deposits.change(
                    session, row["id"], state=deposits.CANCELED, error=mark, completed_at=func.now()
                )
                await crediting.updated(session, row, after)
            else:
                await deposits.change(session, row["id"], error=mark)
                log.error(
                    "%s: credited deposit %s was in block %d, which the chain dropped;"
                    " check it (admin deposits, error.reorganised)",
                    self.key,
                    row["tid"],
                    row["block_number"],
                )
        await session.execute(
            delete(chain_blocks).where(
                chain_blocks.c.blockchain_key == self.key, chain_blocks.c.height >= fork
            )
        )
        await session.execute(
            update(blockchains).where(blockchains.c.key == self.key).values(height=fork)
        )
        log.warning("%s: reorganisation from height %d", self.key, fork)
        return fork

    # ------------------------------------------------------------------ crediting

    async def credit_due(self, latest: int) -> int:
        """Credit every deposit with enough confirmations (and finish any left
        ``accepting`` by a crash); how many were credited."""
        due: list[tuple[str, int, str]] = []
        async with self.sessions() as session:
            for code, asset in self.assets.items():
                deepest = latest - asset.min_confirmations + 1
                query = select(
                    deposit_rows.c.tid, deposit_rows.c.block_number, deposit_rows.c.block_hash
                ).where(
                    deposit_rows.c.blockchain_key == self.key,
                    deposit_rows.c.currency_id == code,
                    deposit_rows.c.txout.is_not(None),
                    deposit_rows.c.state.in_((deposits.SUBMITTED, deposits.ACCEPTING)),
                    and_(
                        deposit_rows.c.block_number.is_not(None),
                        deposit_rows.c.block_number <= deepest,
                    ),
                )
                rows = (await session.execute(query.order_by(deposit_rows.c.id))).all()
                due.extend((r.tid, r.block_number, r.block_hash) for r in rows)
        # A block the chain has since replaced is not credited from: the scan that meets
        # the change takes its deposits back first.
        current = {
            height: (await self.plugin.block(height, frozenset())).hash
            for height in {height for _, height, _ in due}
        }
        ready = []
        for tid, height, block_hash in due:
            if current[height] != block_hash:
                log.warning("%s: deposit %s waits: block %d changed", self.key, tid, height)
            else:
                ready.append(tid)
        # Many at once: shared transactions, and the engine takes them in shared batches.
        credited = 0
        for first in range(0, len(ready), CREDITING_AT_ONCE):
            async with self.sessions() as session:
                chunk = ready[first : first + CREDITING_AT_ONCE]
                outcomes = await crediting.accept_many(session, self.submit, chunk)
            for tid, outcome in outcomes.items():
                if isinstance(outcome, crediting.DepositRefused):
                    log.error("%s: deposit %s not credited: %s", self.key, tid, outcome.message)
                elif outcome["state"] == deposits.ACCEPTED:
                    credited += 1
        return credited
