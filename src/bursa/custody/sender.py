"""The withdrawal sender: pays coin withdrawals in ``processing`` from the blockchain's hot
wallet, follows their transactions, and settles (or releases) the held funds.

Never twice, whatever happens:
* A withdrawal is signed once. The signed transaction and its id are committed on the row
  (``confirming``) before anything is broadcast; a sender that dies after that finds the
  row ``confirming`` and broadcasts the same bytes again (same id: the network sees one
  payment). Only ``processing`` and ``skipped`` rows are ever signed.
* Settling and releasing go through ``Withdrawals.settle`` / ``release``, whose engine
  keys are applied once and whose hold state repairs a row left behind by a crash.
* Withdrawals are signed and broadcast one after the other, and none is signed while an
  earlier one could not be handed to the node: on account chains the next transaction's
  nonce depends on the earlier one being known.

Network fees: the fee of each payout is recorded in the commit that records its
transaction (``custody.network_fees``) and booked as an expense at the end of the step;
once the withdrawal is finished (``succeed``, or ``failed`` by the chain or an admin) the
fee it actually paid is asked from the chain (0 for a transaction the node never had) and
the difference booked.

Peatio's states: too little in the hot wallet → ``skipped`` (tried again later, or by an
admin's ``retry``); something no retry can fix (an address the chain refuses, more
decimals than the chain has, no hot wallet) → ``errored``; a node error leaves the row
where it is, retried with a growing delay (``attempts``, ``next_attempt_at``).
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import func

from bursa.custody import network_fees
from bursa.custody.addresses import Plugins
from bursa.custody.chain import FAILED, PENDING, SUCCESS, ChainCurrency, ChainError, ChainPlugin
from bursa.custody.chain import Signed as SignedTx
from bursa.custody.locks import hot_wallet_spending
from bursa.custody.network_fee_tables import BOOKED, RECORDED, WITHDRAW
from bursa.custody.network_fee_tables import network_fees as fees
from bursa.custody.registry import WALLET_KEY_NAME, ChainAsset
from bursa.custody.tables import wallet_currencies, wallets
from bursa.identity import directory
from bursa.metrics.custody import SEND_FAILURES
from bursa.secrets.keystore import KeyStore
from bursa.trading import withdrawals as flow
from bursa.trading.withdrawal_states import Step
from bursa.trading.withdrawal_tables import withdraws

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SendReport:
    signed: int = 0
    broadcast: int = 0
    skipped: int = 0
    errored: int = 0
    succeeded: int = 0
    failed: int = 0
    node_errors: int = 0
    fees_booked: int = 0  # network fee bookings (estimates and corrections)


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a row waits: after a node error (doubling up to ``most_s``), and after
    being skipped for want of funds."""

    first_s: float = 5.0
    most_s: float = 600.0
    skipped_s: float = 300.0

    def after(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.first_s * 2 ** max(attempts - 1, 0), self.most_s))


async def email_of(session: AsyncSession, member_id: int) -> str:
    """The member's email for the Event API record."""
    person = (await directory.people(session, [member_id])).get(member_id)
    return "" if person is None else person.email


async def sent_status(
    session: AsyncSession, plugins: Plugins | None, row: Mapping[str, Any]
) -> str:
    """What the chain says of a sent withdrawal's transaction (``success``, ``failed``,
    ``pending`` or ``unknown``), before an admin declares it lost: releasing the funds of
    one that is mined, or about to be, would pay the member twice. ``ChainError`` when
    the node cannot tell."""
    if plugins is None:
        raise ChainError("this process has no blockchain plugins")
    if row["txid"] is None:
        return "unknown"
    plugin, _ = await plugins.get(session, row["blockchain_key"])
    return (await plugin.transaction(row["txid"])).status


class Refused(Exception):
    """The withdrawal cannot be sent as asked (it becomes ``errored``)."""


class Short(Exception):
    """No hot wallet holds enough yet (it becomes ``skipped``)."""


class Sender:
    """Sends one blockchain's withdrawals (one sender per chain: a PostgreSQL advisory lock
    in ``bursa.custody.service`` sees to it)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        blockchain_key: str,
        plugin: ChainPlugin,
        assets: Mapping[str, ChainAsset],
        keystore: KeyStore,
        withdrawals: flow.Withdrawals,
        *,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.sessions = sessions
        self.key = blockchain_key
        self.plugin = plugin
        self.assets = dict(assets)
        self.keystore = keystore
        self.withdrawals = withdrawals
        self.backoff = backoff
        native = next((a.chain for a in self.assets.values() if a.chain.contract is None), None)
        self.native = native or ChainCurrency(f"{blockchain_key}-native", 0)
        # Fees are booked in the chain's coin: without it among Bursa's currencies, none is.
        self.books_fees = native is not None
        self.fees = network_fees.FeeBook(sessions, withdrawals.submit, blockchain_key, WITHDRAW)

    async def run(self, *, idle_s: float = 5.0) -> None:
        """Send for ever. Node errors are handled per withdrawal; anything else (the
        database or the engine away) is logged and the next step waits longer."""
        delay = idle_s
        while True:
            try:
                report = await self.step()
                delay = idle_s
                if report.signed or report.succeeded or report.failed or report.errored:
                    log.info("%s withdrawals: %s", self.key, report)
            except (ChainError, flow.WithdrawalRefused, OSError, SQLAlchemyError) as exc:
                SEND_FAILURES.labels(self.key).inc()
                log.warning("%s sender: %s; trying again in %.0f s", self.key, exc, delay)
                delay = min(delay * 2, 60.0)
            await asyncio.sleep(delay)

    async def step(self) -> SendReport:
        """Follow the transactions sent, then send what is due; book their fees (first
        any a crash left unbooked)."""
        report = SendReport()
        report.fees_booked += await self.fees.book()
        await self._payouts(report)
        await self._fees_paid()
        report.fees_booked += await self.fees.book()
        return report

    async def _payouts(self, report: SendReport) -> None:
        in_flight: dict[tuple[int, str], int] = defaultdict(int)
        stalled = False
        for row in await self._rows((flow.CONFIRMING,)):
            if not await self._follow(row, report, in_flight):
                stalled = True
        if stalled:  # a transaction the node does not hold yet: no later nonce now
            return
        for row in await self._rows((flow.PROCESSING, flow.SKIPPED), due_only=True):
            # Signed and broadcast under the hot wallets' lock: no other spender takes
            # the same nonce in between (``custody.locks``).
            async with hot_wallet_spending(self.sessions, self.key):
                signed = await self.prepare(row, report, in_flight)
                if signed is None:
                    continue
                sent = await self._broadcast(signed, report)
            if not sent:
                break
            self._count_in_flight(signed, in_flight)

    # ------------------------------------------------------------------ signing

    async def prepare(
        self,
        row: Mapping[str, Any],
        report: SendReport | None = None,
        in_flight: Mapping[tuple[int, str], int] | None = None,
    ) -> Any | None:
        """Sign ``row``'s payment and commit it on the row (``confirming``) — not yet
        broadcast; the row as recorded, or None when it was skipped, errored or must
        wait."""
        report = report if report is not None else SendReport()
        in_flight = in_flight or {}
        try:
            asset = self.assets.get(row["currency_id"])
            if asset is None:
                raise Refused(f"{row['currency_id']} is not a currency of {self.key}")
            try:
                units = asset.chain.to_units(row["amount"])
            except ValueError as exc:
                raise Refused(str(exc)) from None
            wallet = await self._paying_wallet(asset, units, in_flight)
            secret = await self.keystore.decrypt(WALLET_KEY_NAME, wallet["secret"])
            try:
                signed = await self.plugin.sign(
                    secret, wallet["address"], row["rid"], units, asset.chain
                )
            except ValueError as exc:
                raise Refused(f"the chain refuses the payment: {exc}") from None
        except Short as exc:
            await self.withdrawals.move(
                row["tid"],
                Step.SKIP,
                values={
                    "error": _error(str(exc)),
                    "next_attempt_at": datetime.now(UTC)
                    + timedelta(seconds=self.backoff.skipped_s),
                },
            )
            report.skipped += 1
            return None
        except Refused as exc:
            SEND_FAILURES.labels(self.key).inc()
            log.warning("withdrawal %s errored: %s", row["id"], exc)
            await self.withdrawals.move(
                row["tid"],
                Step.ERROR,
                values={"error": _error(str(exc)), "next_attempt_at": None},
            )
            report.errored += 1
            return None
        except ChainError as exc:
            await self._node_error(row, exc, report)
            return None

        async def record_fee(session: AsyncSession, changed: Any) -> None:
            if self.books_fees:
                await network_fees.record(
                    session,
                    blockchain_key=self.key,
                    native=self.native,
                    txid=signed.txid,
                    source=WITHDRAW,
                    source_id=int(changed["id"]),
                    fee=signed.fee,
                )

        recorded = await self.withdrawals.move(
            row["tid"],
            Step.SIGN,
            values={
                "txid": signed.txid,
                "raw_tx": signed.raw,
                "wallet_id": wallet["id"],
                "error": None,
                "next_attempt_at": None,
            },
            also=record_fee,
        )
        report.signed += 1
        return recorded

    async def _paying_wallet(
        self, asset: ChainAsset, units: int, in_flight: Mapping[tuple[int, str], int]
    ) -> Any:
        """The first active hot wallet holding ``asset`` with ``units`` (and the fee)
        left after what it has sent and not yet seen mined."""
        query = (
            select(wallets.c.id, wallets.c.address, wallets.c.secret, wallets.c.name)
            .join(wallet_currencies, wallet_currencies.c.wallet_id == wallets.c.id)
            .where(
                wallets.c.blockchain_key == self.key,
                wallets.c.kind == "hot",
                wallets.c.status == "active",
                wallets.c.secret.is_not(None),
                wallet_currencies.c.currency_id == asset.chain.id,
            )
            .order_by(wallets.c.id)
        )
        async with self.sessions() as session:
            found = list((await session.execute(query)).mappings())
        if not found:
            raise Refused(
                f"no active hot wallet holds {asset.chain.id} on {self.key}:"
                " add one with `bursa custody wallet add --kind hot`"
            )
        fee = await self.plugin.fee_estimate(asset.chain)
        shortfalls: list[str] = []
        for wallet in found:
            native = await self.plugin.balance_of(wallet["address"], self.native)
            native -= in_flight.get((wallet["id"], self.native.id), 0)
            if asset.chain.contract is None:
                needed = {self.native.id: (native, units + fee)}
            else:
                held = await self.plugin.balance_of(wallet["address"], asset.chain)
                held -= in_flight.get((wallet["id"], asset.chain.id), 0)
                needed = {asset.chain.id: (held, units), self.native.id: (native, fee)}
            short = {code: pair for code, pair in needed.items() if pair[0] < pair[1]}
            if not short:
                return wallet
            shortfalls.extend(
                f"{wallet['name']} holds {has} {code} units, needs {wants}"
                for code, (has, wants) in short.items()
            )
        raise Short("; ".join(shortfalls))

    # ------------------------------------------------------------------ broadcasting

    async def _broadcast(self, row: Mapping[str, Any], report: SendReport) -> bool:
        """Hand the recorded transaction to the node (again); False on a node error."""
        asset = self.assets.get(row["currency_id"])
        units = asset.chain.to_units(row["amount"]) if asset is not None else 0
        signed = SignedTx(row["txid"], bytes(row["raw_tx"]), units, 0)
        try:
            await self.plugin.broadcast(signed)
        except ChainError as exc:
            await self._node_error(row, exc, report)
            return False
        report.broadcast += 1
        return True

    # ------------------------------------------------------------------ following

    async def _follow(
        self, row: Mapping[str, Any], report: SendReport, in_flight: dict[tuple[int, str], int]
    ) -> bool:
        """Settle or release ``row`` once its transaction is decided; broadcast it again
        while the node does not know it. False when the node could not be asked."""
        try:
            status = await self.plugin.transaction(row["txid"])
            if status.status not in (SUCCESS, FAILED, PENDING):  # lost, or never sent
                if not await self._broadcast(row, report):
                    return False
                status = await self.plugin.transaction(row["txid"])
        except ChainError as exc:
            await self._node_error(row, exc, report)
            return False
        if status.status == FAILED:
            SEND_FAILURES.labels(self.key).inc()
            log.warning("withdrawal %s: transaction %s failed", row["id"], row["txid"])
            await self.withdrawals.release(row["tid"], Step.FAIL)
            report.failed += 1
            return True
        if status.status != SUCCESS:
            self._count_in_flight(row, in_flight)
            return True
        if status.block_number != row["block_number"]:
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(withdraws)
                    .where(withdraws.c.id == row["id"])
                    .values(block_number=status.block_number)
                )
        asset = self.assets.get(row["currency_id"])
        needed = asset.min_confirmations if asset is not None else 1
        if status.confirmations >= needed:
            await self.withdrawals.settle(row["tid"], confirmations=status.confirmations)
            report.succeeded += 1
        return True

    async def _fees_paid(self) -> None:
        """Set the fee each finished withdrawal's transaction actually paid: the chain's
        once mined (success, or failed: reverted transactions pay gas too), 0 for one an
        admin failed that the node never had. Settling and recording the fee cannot be
        one commit (the engine settles in between), so it is found here, once."""
        finished = (flow.SUCCEED, flow.FAILED)
        query = (
            select(fees.c.txid, withdraws.c.state.label("withdraw_state"))
            .join(withdraws, withdraws.c.id == fees.c.source_id)
            .where(
                fees.c.blockchain_key == self.key,
                fees.c.source == WITHDRAW,
                fees.c.state.in_((RECORDED, BOOKED)),
                fees.c.actual.is_(None),
                withdraws.c.state.in_(finished),
            )
            .order_by(fees.c.id)
            .limit(network_fees.MOST_PER_STEP)
        )
        async with self.sessions() as session:
            rows = list((await session.execute(query)).mappings())
        for row in rows:
            try:
                status = await self.plugin.transaction(row["txid"])
            except ChainError as exc:
                log.warning("the fee of %s waits: %s", row["txid"], exc)
                return
            if status.status in (SUCCESS, FAILED):
                fee = status.fee
            elif status.status != PENDING and row["withdraw_state"] == flow.FAILED:
                fee = 0  # declared lost: it never reached a block, it paid nothing
            else:
                continue
            async with self.sessions() as session, session.begin():
                await network_fees.mined(session, self.key, row["txid"], self.native, fee)

    def _count_in_flight(
        self, row: Mapping[str, Any], in_flight: dict[tuple[int, str], int]
    ) -> None:
        """What a sent, not yet mined transaction will still take from its wallet."""
        asset = self.assets.get(row["currency_id"])
        if asset is None or row["wallet_id"] is None:
            return
        in_flight[(row["wallet_id"], asset.chain.id)] += asset.chain.to_units(row["amount"])

    # ------------------------------------------------------------------ rows

    async def _rows(self, states: tuple[str, ...], *, due_only: bool = False) -> list[Any]:
        query = select(withdraws).where(
            withdraws.c.blockchain_key == self.key,
            withdraws.c.type == "coin",
            withdraws.c.state.in_(states),
        )
        if due_only:
            query = query.where(
                or_(
                    withdraws.c.next_attempt_at.is_(None), withdraws.c.next_attempt_at <= func.now()
                )
            )
        async with self.sessions() as session:
            return list((await session.execute(query.order_by(withdraws.c.id))).mappings())

    async def _node_error(
        self, row: Mapping[str, Any], exc: ChainError, report: SendReport
    ) -> None:
        """The row stays where it is and is tried again after a growing delay."""
        SEND_FAILURES.labels(self.key).inc()
        attempts = int(row["attempts"]) + 1
        wait = self.backoff.after(attempts)
        log.warning(
            "withdrawal %s: node error (attempt %d, next in %ds): %s",
            row["id"],
            attempts,
            wait.total_seconds(),
            exc,
        )
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(withdraws)
                .where(withdraws.c.id == row["id"], withdraws.c.state == row["state"])
                .values(
                    attempts=attempts,
                    error=_error(str(exc)),
                    next_attempt_at=datetime.now(UTC) + wait,
                )
            )
        report.node_errors += 1


def _error(message: str) -> dict[str, str]:
    return {"message": message, "at": datetime.now(UTC).isoformat()}
