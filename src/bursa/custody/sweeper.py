"""Collecting credited coin deposits from members' deposit addresses to the chain's hot
wallet (Peatio's deposit collection), and proposing the hot wallet's surplus for the warm
or cold wallet.

Deposit states, as Peatio's: ``accepted`` → ``processing`` (the sweep is signed) →
``collected`` (it is in a block). A token needs gas on the deposit address first: the fee
wallet sends what ``fee_estimate`` says is missing, the deposits wait ``fee_processing``
until that lands, then the tokens go. A deposit whose address holds less than the
currency's ``min_collection_amount`` (``currencies.options``) is ``skipped``: it stays
credited and on the address. A sweep that fails on chain leaves its deposits ``errored``
for an admin.

Never twice: each transaction is recorded with its signed bytes (``sweeps``) before it is
broadcast, and a recorded one is broadcast again, never signed anew. One transaction at a
time per address (a deposit address with a sweep in flight waits), so nonces never clash;
all deposits of a currency on one address go in one sweep (the address is swept).

Network fees: every transaction here pays one in the chain's coin (a token sweep's gas is
ETH), from a deposit address, the fee wallet or the hot wallet. It is recorded with the
transaction (``custody.network_fees``), booked through the engine as an expense at the end
of the step, and corrected to what the transaction paid in the commit that marks it
landed, so the ledger's assets stay what Bursa's addresses hold.

Surplus: a hot wallet holding more of a currency than its ``max_balance`` (0: no cap) gets
a ``proposed`` sweep of the excess to the active warm wallet, else the cold one (Bursa only
knows their addresses). It is sent only when the currency's option ``send_surplus`` is
true; otherwise admins see it (``GET /api/v2/peatio/admin/wallets/sweeps``), move it by
hand and dismiss it (``POST .../wallets/sweeps/action``).
"""

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import func

from bursa.custody import crediting, network_fees
from bursa.custody.chain import FAILED as TX_FAILED
from bursa.custody.chain import SUCCESS, ChainCurrency, ChainError, ChainPlugin, Signed
from bursa.custody.locks import hot_wallet_spending
from bursa.custody.network_fee_tables import SWEEP
from bursa.custody.registry import WALLET_KEY_NAME, ChainAsset
from bursa.custody.sweep_tables import (
    BROADCAST,
    COLLECT,
    CONFIRMED,
    FAILED,
    GAS,
    IN_FLIGHT,
    PROPOSED,
    SIGNED,
    SURPLUS,
    sweeps,
)
from bursa.custody.tables import payment_addresses, wallet_currencies, wallets
from bursa.ledger.tables import currencies
from bursa.metrics.custody import SWEEP_FAILURES
from bursa.secrets.keystore import KeyStore
from bursa.trading import deposits
from bursa.trading.tables import deposits as deposit_rows

log = logging.getLogger(__name__)

PROCESSING, FEE_PROCESSING, COLLECTED = "processing", "fee_processing", "collected"
SKIPPED, ERRORED = "skipped", "errored"
WAITING = (deposits.ACCEPTED, FEE_PROCESSING)  # deposits the sweeper still has to move
MIN_COLLECTION = "min_collection_amount"  # currencies.options: below it, not swept
SEND_SURPLUS = "send_surplus"  # currencies.options: true sends the hot surplus itself


@dataclass(slots=True)
class SweepReport:
    signed: int = 0  # transactions signed (and broadcast) in this step
    rebroadcast: int = 0  # recorded ones sent again
    confirmed: int = 0
    failed: int = 0
    collected: int = 0  # deposits
    skipped: int = 0  # deposits
    proposed: int = 0  # surplus proposals
    fees_booked: int = 0  # network fee bookings (estimates and corrections)


def _option_amount(options: Mapping[str, Any], name: str) -> Decimal:
    try:
        return Decimal(str(options.get(name) or 0))
    except InvalidOperation:
        log.error("currencies.options.%s is not a number: treated as 0", name)
        return Decimal(0)


class Sweeper:
    """Moves one blockchain's money between Bursa's own addresses (one sweeper per chain:
    ``SweepService`` keeps a second one waiting on an advisory lock)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key: str,
        plugin: ChainPlugin,
        assets: Mapping[str, ChainAsset],
        keystore: KeyStore,
        *,
        submit: network_fees.Submit,
        confirmations: int = 1,
    ) -> None:
        """``submit``: the engine, for the network fees; ``confirmations``: how deep a
        sweep's transaction must be before its deposits count as collected and its funds
        as arrived (the services pass the blockchain's ``min_confirmations``)."""
        self.sessions = sessions
        self.key = key
        self.plugin = plugin
        self.assets = dict(assets)
        self.keystore = keystore
        self.confirmations = confirmations
        native = [a.chain for a in self.assets.values() if a.chain.contract is None]
        self.native: ChainCurrency | None = native[0] if native else None
        self.fees = network_fees.FeeBook(sessions, submit, key, SWEEP)

    async def step(self) -> SweepReport:
        """Advance what is in flight, collect what waits, propose surplus; book the
        network fees (first any a crash left unbooked)."""
        report = SweepReport()
        report.fees_booked += await self.fees.book()
        await self._advance(report)
        await self._collect(report)
        await self._surplus(report)
        report.fees_booked += await self.fees.book()
        return report

    # ------------------------------------------------------------ in flight

    async def _advance(self, report: SweepReport) -> None:
        async with self.sessions() as session:
            query = (
                select(sweeps)
                .where(sweeps.c.blockchain_key == self.key, sweeps.c.state.in_(IN_FLIGHT))
                .order_by(sweeps.c.id)
            )
            rows = list((await session.execute(query)).mappings())
        for row in rows:
            try:
                if row["state"] == SIGNED:
                    await self._send(row)
                    report.rebroadcast += 1
                    continue
                status = await self.plugin.transaction(row["txid"])
            except ChainError as exc:
                SWEEP_FAILURES.labels(self.key).inc()
                log.warning("sweep %s (%s) waits: %s", row["id"], row["txid"], exc)
                continue
            if status.status == SUCCESS and status.confirmations < self.confirmations:
                continue  # mined, not yet deep enough to count on
            if status.status == SUCCESS:
                report.confirmed += 1
                report.collected += await self._finish(row, CONFIRMED, status.fee)
            elif status.status == TX_FAILED:
                report.failed += 1
                await self._finish(row, FAILED, status.fee)

    async def _send(self, row: Any) -> None:
        """Broadcast the recorded bytes (the same transaction however often)."""
        signed = Signed(row["txid"], bytes(row["raw"]), 0, 0)  # only the bytes are sent
        await self.plugin.broadcast(signed)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(sweeps)
                .where(sweeps.c.id == row["id"], sweeps.c.state == SIGNED)
                .values(state=BROADCAST, updated_at=func.now())
            )

    async def _finish(self, row: Any, state: str, fee: int | None) -> int:
        """Mark the sweep landed (or failed: a reverted transaction pays its gas too) and
        its deposits with it, with the fee it paid; deposits collected."""
        collected = 0
        async with self.sessions() as session, session.begin():
            if self.native is not None:
                await network_fees.mined(session, self.key, row["txid"], self.native, fee)
            values: dict[str, Any] = {"state": state, "updated_at": func.now()}
            if state == FAILED:
                values["error"] = f"transaction {row['txid']} failed on chain"
            await session.execute(update(sweeps).where(sweeps.c.id == row["id"]).values(values))
            if row["kind"] == COLLECT:
                target = COLLECTED if state == CONFIRMED else ERRORED
                collected = await _move(session, row["deposit_ids"], PROCESSING, target)
            elif row["kind"] == GAS and state == FAILED:
                await _move(session, row["deposit_ids"], FEE_PROCESSING, ERRORED)
        if state == FAILED:
            SWEEP_FAILURES.labels(self.key).inc()
            log.error("sweep %s (%s) failed on chain: an admin must look", row["id"], row["txid"])
        return collected if state == CONFIRMED else 0

    # ------------------------------------------------------------ collecting

    async def _collect(self, report: SweepReport) -> None:
        async with self.sessions() as session:
            query = (
                select(
                    deposit_rows.c.id,
                    deposit_rows.c.address,
                    deposit_rows.c.currency_id,
                )
                .where(
                    deposit_rows.c.blockchain_key == self.key,
                    deposit_rows.c.type == "coin",
                    deposit_rows.c.state.in_(WAITING),
                )
                .order_by(deposit_rows.c.id)
            )
            waiting: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
            for row in (await session.execute(query)).all():
                waiting[row.address][row.currency_id].append(int(row.id))
            busy = await self._busy_addresses(session)
            options = await self._options(session)
        for address, by_currency in waiting.items():
            if address in busy:
                continue
            # Tokens first: the native coin goes last, once no token needs gas here.
            codes = sorted(by_currency, key=lambda c: self._is_native(c))
            for code in codes:
                if self._is_native(code) and len(by_currency) > 1:
                    break
                asset = self.assets.get(code)
                if asset is None:
                    continue
                try:
                    moved = await self._collect_one(
                        address, asset, by_currency[code], options.get(code, {}), report
                    )
                except ChainError as exc:
                    SWEEP_FAILURES.labels(self.key).inc()
                    log.warning("collecting %s from %s waits: %s", code, address, exc)
                    break
                if moved:
                    break  # one transaction per address at a time

    def _is_native(self, code: str) -> bool:
        asset = self.assets.get(code)
        return asset is not None and asset.chain.contract is None

    async def _collect_one(
        self,
        address: str,
        asset: ChainAsset,
        ids: list[int],
        options: Mapping[str, Any],
        report: SweepReport,
    ) -> bool:
        """Sweep (or top up gas for) one currency on one address; whether a transaction
        was sent."""
        currency = asset.chain
        balance = await self.plugin.balance_of(address, currency)
        minimum = _option_amount(options, MIN_COLLECTION)
        fee = await self.plugin.fee_estimate(currency)
        too_small = balance == 0 or currency.to_decimal(balance) < minimum
        if currency.contract is None:
            too_small = too_small or balance <= fee
        if too_small:
            async with self.sessions() as session, session.begin():
                report.skipped += await _move(session, ids, None, SKIPPED)
            log.info("%s on %s below the minimum collection: skipped", currency.id, address)
            return False
        hot = await self._wallet("hot", currency.id)
        if hot is None:
            log.error("no active hot wallet for %s on %s: add one", currency.id, self.key)
            return False
        if currency.contract is not None:
            assert self.native is not None, "a token chain has a native coin for gas"
            gas = await self.plugin.balance_of(address, self.native)
            if gas < fee:
                return await self._top_up(address, fee - gas, ids, report)
        secret = await self._address_key(address)
        signed = await self.plugin.sign(
            secret,
            address,
            hot["address"],
            balance,
            currency,
            subtract_fee=currency.contract is None,
        )
        await self._record_and_send(COLLECT, currency, address, hot, signed, ids, PROCESSING)
        report.signed += 1
        return True

    async def _top_up(self, address: str, wei: int, ids: list[int], report: SweepReport) -> bool:
        assert self.native is not None
        fee_wallet = await self._wallet("fee", None)
        if fee_wallet is None or fee_wallet["secret"] is None:
            log.error("no active fee wallet on %s: token deposits wait for gas", self.key)
            return False
        secret = await self.keystore.decrypt(WALLET_KEY_NAME, fee_wallet["secret"])
        signed = await self.plugin.sign(secret, fee_wallet["address"], address, wei, self.native)
        await self._record_and_send(
            GAS, self.native, fee_wallet["address"], None, signed, ids, FEE_PROCESSING, address
        )
        report.signed += 1
        return True

    async def _record_and_send(
        self,
        kind: str,
        currency: ChainCurrency,
        source: str,
        wallet: Any | None,
        signed: Signed,
        ids: list[int],
        deposit_state: str,
        to_address: str | None = None,
    ) -> None:
        """Record the signed transaction (and move its deposits) in one commit, then
        broadcast it; a crash in between leaves it ``signed`` for the next step to send."""
        native = self.native or currency
        destination = to_address if wallet is None else str(wallet["address"])
        assert destination is not None, "a gas top-up names its address"
        async with self.sessions() as session, session.begin():
            inserted = await session.execute(
                sweeps.insert()
                .values(
                    blockchain_key=self.key,
                    kind=kind,
                    currency_id=currency.id,
                    from_address=source,
                    to_address=destination,
                    to_wallet_id=None if wallet is None else wallet["id"],
                    amount=currency.to_decimal(signed.amount),
                    fee=native.to_decimal(signed.fee),
                    txid=signed.txid,
                    raw=signed.raw,
                    deposit_ids=ids,
                    state=SIGNED,
                )
                .returning(sweeps)
            )
            row = inserted.mappings().one()
            await self._record_fee(session, row, signed)
            await _move(session, ids, None, deposit_state)
        await self._send(row)

    async def _record_fee(self, session: AsyncSession, row: Any, signed: Signed) -> None:
        if self.native is None:
            log.error(
                "%s has no native coin in Bursa: the fee of %s is not booked", self.key, row["txid"]
            )
            return
        await network_fees.record(
            session,
            blockchain_key=self.key,
            native=self.native,
            txid=signed.txid,
            source=SWEEP,
            source_id=int(row["id"]),
            fee=signed.fee,
        )

    # ------------------------------------------------------------ surplus

    async def _surplus(self, report: SweepReport) -> None:
        async with self.sessions() as session:
            query = (
                select(wallets.c.id, wallets.c.address, wallets.c.max_balance, wallets.c.secret)
                .where(
                    wallets.c.blockchain_key == self.key,
                    wallets.c.kind == "hot",
                    wallets.c.status == "active",
                    wallets.c.max_balance > 0,
                )
                .order_by(wallets.c.id)
            )
            hot_wallets = list((await session.execute(query)).mappings())
            options = await self._options(session)
            held = await _wallet_currencies(session, [w["id"] for w in hot_wallets])
            open_query = select(sweeps).where(
                sweeps.c.blockchain_key == self.key,
                sweeps.c.kind == SURPLUS,
                sweeps.c.state.in_((PROPOSED, *IN_FLIGHT)),
            )
            open_rows = list((await session.execute(open_query)).mappings())
        for hot in hot_wallets:
            for code in held.get(hot["id"], []):
                asset = self.assets.get(code)
                if asset is None:
                    continue
                if any(
                    r["from_address"] == hot["address"] and r["currency_id"] == code
                    for r in open_rows
                ):
                    continue  # one open proposal per wallet and currency
                try:
                    report.proposed += await self._propose(hot, asset.chain)
                except ChainError as exc:
                    log.warning("%s surplus of the hot wallet waits: %s", code, exc)
        # Proposals are sent by Bursa only where the currency's options say so.
        async with self.sessions() as session:
            fresh = select(sweeps).where(
                sweeps.c.blockchain_key == self.key,
                sweeps.c.kind == SURPLUS,
                sweeps.c.state == PROPOSED,
            )
            proposals = list((await session.execute(fresh)).mappings())
        for row in proposals:
            if options.get(row["currency_id"], {}).get(SEND_SURPLUS) is not True:
                continue
            source = next((w for w in hot_wallets if w["address"] == row["from_address"]), None)
            asset = self.assets.get(row["currency_id"])
            if source is not None and asset is not None:
                try:
                    await self._send_surplus(source, asset.chain, row, report)
                except ChainError as exc:
                    SWEEP_FAILURES.labels(self.key).inc()
                    log.warning("sending the %s surplus waits: %s", row["currency_id"], exc)

    async def _propose(self, hot: Any, currency: ChainCurrency) -> int:
        balance = currency.to_decimal(await self.plugin.balance_of(hot["address"], currency))
        surplus = balance - hot["max_balance"]
        if surplus <= 0:
            return 0
        target = await self._wallet("warm", currency.id) or await self._wallet("cold", currency.id)
        if target is None:
            log.error(
                "the %s hot wallet holds %s above its cap, and there is no warm or cold wallet",
                currency.id,
                surplus,
            )
            return 0
        async with self.sessions() as session, session.begin():
            await session.execute(
                sweeps.insert().values(
                    blockchain_key=self.key,
                    kind=SURPLUS,
                    currency_id=currency.id,
                    from_address=hot["address"],
                    to_address=target["address"],
                    to_wallet_id=target["id"],
                    amount=surplus,
                    state=PROPOSED,
                )
            )
        log.info(
            "proposed moving %s %s from the hot wallet to %s",
            surplus,
            currency.id,
            target["address"],
        )
        return 1

    async def _send_surplus(
        self, hot: Any, currency: ChainCurrency, row: Any, report: SweepReport
    ) -> None:
        # The withdrawal sender spends from the same wallet: sign and broadcast under the
        # shared lock, so both never take one nonce (``custody.locks``).
        async with hot_wallet_spending(self.sessions, self.key):
            await self._sign_and_send_surplus(hot, currency, row, report)

    async def _sign_and_send_surplus(
        self, hot: Any, currency: ChainCurrency, row: Any, report: SweepReport
    ) -> None:
        secret = await self.keystore.decrypt(WALLET_KEY_NAME, hot["secret"])
        signed = await self.plugin.sign(
            secret, hot["address"], row["to_address"], currency.to_units(row["amount"]), currency
        )
        native = self.native or currency
        async with self.sessions() as session, session.begin():
            changed = await session.execute(
                update(sweeps)
                .where(sweeps.c.id == row["id"], sweeps.c.state == PROPOSED)
                .values(
                    state=SIGNED,
                    txid=signed.txid,
                    raw=signed.raw,
                    fee=native.to_decimal(signed.fee),
                    updated_at=func.now(),
                )
                .returning(sweeps)
            )
            recorded = changed.mappings().first()
            if recorded is not None:
                await self._record_fee(session, recorded, signed)
        if recorded is not None:
            await self._send(recorded)
            report.signed += 1

    # ------------------------------------------------------------ lookups

    async def _busy_addresses(self, session: AsyncSession) -> set[str]:
        query = select(sweeps.c.from_address, sweeps.c.to_address, sweeps.c.kind).where(
            sweeps.c.blockchain_key == self.key, sweeps.c.state.in_(IN_FLIGHT)
        )
        busy = set()
        for row in (await session.execute(query)).all():
            busy.add(row.to_address if row.kind == GAS else row.from_address)
        return busy

    async def _options(self, session: AsyncSession) -> dict[str, dict[str, Any]]:
        query = select(currencies.c.id, currencies.c.options).where(
            currencies.c.blockchain_key == self.key
        )
        return {row.id: dict(row.options or {}) for row in (await session.execute(query)).all()}

    async def _wallet(self, kind: str, currency: str | None) -> Any | None:
        """The chain's first active wallet of ``kind`` (holding ``currency`` if given)."""
        query = select(wallets).where(
            wallets.c.blockchain_key == self.key,
            wallets.c.kind == kind,
            wallets.c.status == "active",
            wallets.c.address.is_not(None),
        )
        if currency is not None:
            query = query.where(
                wallets.c.id.in_(
                    select(wallet_currencies.c.wallet_id).where(
                        wallet_currencies.c.currency_id == currency
                    )
                )
            )
        async with self.sessions() as session:
            return (await session.execute(query.order_by(wallets.c.id).limit(1))).mappings().first()

    async def _address_key(self, address: str) -> bytes:
        async with self.sessions() as session:
            query = select(payment_addresses.c.secret).where(
                payment_addresses.c.blockchain_key == self.key,
                payment_addresses.c.address == address,
            )
            sealed = (await session.execute(query)).scalar_one()
        return await self.keystore.decrypt(WALLET_KEY_NAME, sealed)


async def _wallet_currencies(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    if not ids:
        return {}
    query = select(wallet_currencies).where(wallet_currencies.c.wallet_id.in_(ids))
    held: dict[int, list[str]] = defaultdict(list)
    for row in (await session.execute(query.order_by(wallet_currencies.c.currency_id))).all():
        held[int(row.wallet_id)].append(row.currency_id)
    return held


async def _move(session: AsyncSession, ids: Sequence[int], from_state: str | None, to: str) -> int:
    """Move deposits (in ``from_state``, or any waiting one) to ``to``, with their
    ``model.deposit.updated`` events; how many moved."""
    if not ids:
        return 0
    states = WAITING if from_state is None else (from_state,)
    query = (
        select(deposit_rows)
        .where(deposit_rows.c.id.in_(list(ids)), deposit_rows.c.state.in_(states))
        .order_by(deposit_rows.c.id)
        .with_for_update()
    )
    moved = 0
    for before in list((await session.execute(query)).mappings()):
        if before["state"] == to:
            continue  # a second gas top-up: the deposits wait already
        after = await deposits.change(session, before["id"], state=to)
        await crediting.updated(session, before, after)
        moved += 1
    return moved
