"""Custody's figures for the metrics (``bursa.metrics.custody``): what waits in which
state, from the database, and the hot wallets' balances, from the chain.

Only states that are not final are counted: they are the ones an operator watches (a
deposit not collected, a withdrawal not sent), and the indexes on ``state`` keep the
queries to those rows however long the history grows.
"""

import contextlib
import logging
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.custody.chain import ChainError, ChainPlugin
from bursa.custody.registry import ChainAsset
from bursa.custody.tables import wallet_currencies, wallets
from bursa.metrics.custody import (
    HOT_WALLET_BALANCE,
    HOT_WALLET_MAX_BALANCE,
    deposits_by_state,
    oldest_withdrawal_by_state,
    withdrawals_by_state,
)
from bursa.trading.tables import deposits
from bursa.trading.withdrawal_states import State
from bursa.trading.withdrawal_tables import withdraws

log = logging.getLogger(__name__)

# Coin deposits custody still works on: not credited yet, or not collected yet.
PENDING_DEPOSITS = ("submitted", "accepting", "accepted", "processing", "fee_processing", "errored")
PENDING_WITHDRAWALS = tuple(
    str(s)
    for s in (
        State.PREPARED,
        State.ACCEPTED,
        State.PROCESSING,
        State.SKIPPED,
        State.ERRORED,
        State.CONFIRMING,
    )
)


async def show_pending(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Count pending deposits and withdrawals by state, and how long the oldest withdrawal
    of each state has stayed unchanged (a stuck one)."""
    async with sessions() as session:
        deposit_rows = await session.execute(
            select(deposits.c.blockchain_key, deposits.c.state, func.count())
            .where(deposits.c.state.in_(PENDING_DEPOSITS), deposits.c.blockchain_key.is_not(None))
            .group_by(deposits.c.blockchain_key, deposits.c.state)
        )
        by_deposit: dict[tuple[str, ...], float] = {
            (str(key), str(state)): float(n) for key, state, n in deposit_rows
        }
        age = func.extract("epoch", func.now() - func.min(withdraws.c.updated_at))
        withdraw_rows = await session.execute(
            select(withdraws.c.currency_id, withdraws.c.state, func.count(), age)
            .where(withdraws.c.state.in_(PENDING_WITHDRAWALS))
            .group_by(withdraws.c.currency_id, withdraws.c.state)
        )
        by_withdrawal: dict[tuple[str, ...], float] = {}
        oldest: dict[tuple[str, ...], float] = {}
        for currency, state, n, seconds in withdraw_rows:
            by_withdrawal[(str(currency), str(state))] = float(n)
            oldest[(str(state),)] = max(oldest.get((str(state),), 0.0), float(seconds))
    deposits_by_state.show(by_deposit)
    withdrawals_by_state.show(by_withdrawal)
    oldest_withdrawal_by_state.show({(s,): oldest.get((s,), 0.0) for s in PENDING_WITHDRAWALS})


async def show_hot_wallets(
    sessions: async_sessionmaker[AsyncSession],
    blockchain_key: str,
    plugin: ChainPlugin,
    assets: Mapping[str, ChainAsset],
) -> None:
    """Each active hot wallet's balance of each of its currencies, read from the chain,
    beside its ``max_balance`` (shown only when it has one). A node that does not answer
    leaves the last figure (the scanner's metrics tell that the node is away)."""
    async with sessions() as session:
        rows = await session.execute(
            select(
                wallets.c.name,
                wallets.c.address,
                wallets.c.max_balance,
                wallet_currencies.c.currency_id,
            )
            .join(wallet_currencies, wallet_currencies.c.wallet_id == wallets.c.id)
            .where(
                wallets.c.blockchain_key == blockchain_key,
                wallets.c.kind == "hot",
                wallets.c.status == "active",
                wallets.c.address.is_not(None),
            )
        )
        held = rows.all()
    for name, address, most, code in held:
        asset = assets.get(code)
        if asset is None:
            continue
        try:
            units = await plugin.balance_of(address, asset.chain)
        except ChainError as exc:
            log.debug("%s hot wallet %s: balance not read: %s", blockchain_key, name, exc)
            continue
        # A float of whole units: display only, as the metrics' module says.
        HOT_WALLET_BALANCE.labels(name, code).set(float(asset.chain.to_decimal(units)))
        if most is not None and most > 0:
            HOT_WALLET_MAX_BALANCE.labels(name, code).set(float(most))
        else:  # no cap (any more): no series, rather than a cap of 0
            with contextlib.suppress(KeyError):
                HOT_WALLET_MAX_BALANCE.remove(name, code)
