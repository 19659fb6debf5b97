"""Custody's metrics as an operator reads them, on a real PostgreSQL and a scripted chain
(the chain plugins have their own tests against real nodes): how far the scanner is
behind its node, pending deposits and withdrawals by state with the age of the oldest
(a stuck withdrawal), a hot wallet's balance beside its cap, and a sweep's node error."""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.custody.chain import Block, ChainCurrency, ChainError, TxStatus
from bursa.custody.gauges import show_hot_wallets, show_pending
from bursa.custody.registry import ChainAsset
from bursa.custody.scanner import Scanner
from bursa.custody.sweeper import Sweeper
from bursa.db.session import create_engine, create_session_factory
from bursa.secrets.keystore import LocalKeyStore

CHAIN = "metricchain"
ETH = ChainAsset(ChainCurrency("eth", 18), 8, Decimal(0), Decimal(0), 1, True)


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


class Chain:
    """Empty blocks up to ``latest``; a hot wallet's balance; a node that cannot say
    anything about a transaction."""

    case_sensitive = False

    def __init__(self, latest: int) -> None:
        self.latest = latest
        self.balances: dict[str, int] = {}

    async def latest_height(self) -> int:
        return self.latest

    async def block(self, height: int, watched: frozenset[str] | None = None) -> Block:
        return Block(height, f"0x{height:064x}", f"0x{height - 1:064x}")

    async def balance_of(self, address: str, currency: ChainCurrency) -> int:
        return self.balances.get(address, 0)

    async def transaction(self, txid: str) -> TxStatus:
        raise ChainError("connection refused")


class Rig:
    def __init__(self, url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.url, self.sessions = url, sessions

    async def sql(self, query: str, *args: Any) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(query, *args)
        finally:
            await conn.close()


@pytest.fixture
async def rig(fresh_database_url: str) -> AsyncIterator[Rig]:
    database = create_engine(fresh_database_url, pool_size=2)
    found = Rig(fresh_database_url, create_session_factory(database))
    await found.sql(
        "INSERT INTO blockchains (key, name, client, height, min_confirmations)"
        f" VALUES ('{CHAIN}', 'Metrics', 'ethereum', 1, 1)"
    )
    try:
        yield found
    finally:
        await database.dispose()


async def never(command: Any) -> dict[str, Any]:
    raise AssertionError(f"nothing here goes to the engine: {command}")


async def test_blocks_behind_fall_as_the_scanner_catches_up(rig: Rig) -> None:
    chain = Chain(latest=5)
    scanner = Scanner(rig.sessions, CHAIN, chain, {}, never, batch=2)  # type: ignore[arg-type]
    await scanner.step()  # blocks 1 and 2 of 5
    assert sample("bursa_chain_blocks_behind", blockchain=CHAIN) == 3
    assert sample("bursa_chain_scanned_height", blockchain=CHAIN) == 2
    await scanner.step()
    await scanner.step()
    assert sample("bursa_chain_blocks_behind", blockchain=CHAIN) == 0
    assert sample("bursa_chain_scanned_height", blockchain=CHAIN) == 5
    chain.latest = 9  # the node moves on
    await scanner.step()
    assert sample("bursa_chain_blocks_behind", blockchain=CHAIN) == 2


async def withdrawal(rig: Rig, tid: str, state: str, changed_ago: str) -> None:
    await rig.sql(
        "INSERT INTO withdraws (tid, member_id, uid, currency_id, amount, fee, sum, type, rid,"
        " blockchain_key, state, updated_at)"
        f" VALUES ($1, 1, 'ID0000000001', 'eth', 1, 0, 1, 'coin', '0xabc', '{CHAIN}', $2,"
        " now() - $3::text::interval)",
        tid,
        state,
        changed_ago,
    )


async def test_pending_deposits_and_withdrawals_by_state_with_the_oldest_age(rig: Rig) -> None:
    await withdrawal(rig, "w1", "confirming", "2 hours")
    await withdrawal(rig, "w2", "confirming", "1 minute")
    await withdrawal(rig, "w3", "processing", "10 seconds")
    await withdrawal(rig, "w4", "succeed", "3 days")  # final: not counted
    await rig.sql(
        "INSERT INTO deposits (tid, member_id, uid, currency_id, type, amount, transfer_type,"
        f" txid, txout, blockchain_key, state) VALUES ('d1', 1, 'ID0000000001', 'eth', 'coin',"
        f" 1, 'crypto', '0xd1', 0, '{CHAIN}', 'submitted')"
    )
    await show_pending(rig.sessions)
    assert sample("bursa_withdrawals", currency="eth", state="confirming") == 2
    assert sample("bursa_withdrawals", currency="eth", state="processing") == 1
    assert sample("bursa_withdrawals", currency="eth", state="succeed") is None
    stuck = sample("bursa_withdrawal_oldest_age_seconds", state="confirming")
    assert stuck is not None and 7190 < stuck < 7300
    assert sample("bursa_withdrawal_oldest_age_seconds", state="errored") == 0
    assert sample("bursa_deposits", blockchain=CHAIN, state="submitted") == 1

    # The stuck one is settled: the state empties, its figures fall to 0.
    await rig.sql(
        "UPDATE withdraws SET state = 'succeed', updated_at = now() WHERE tid IN ('w1', 'w2')"
    )
    await show_pending(rig.sessions)
    assert sample("bursa_withdrawals", currency="eth", state="confirming") == 0
    assert sample("bursa_withdrawal_oldest_age_seconds", state="confirming") == 0


async def test_hot_wallet_balance_beside_its_cap_and_a_sweep_waiting_on_the_node(
    rig: Rig, local_keystore: LocalKeyStore
) -> None:
    for name, address, most in (("hot-capped", "0xh1", "2"), ("hot-open", "0xh2", "0")):
        await rig.sql(
            "WITH w AS (INSERT INTO wallets (name, blockchain_key, kind, address, max_balance)"
            f" VALUES ($1, '{CHAIN}', 'hot', $2, $3::numeric) RETURNING id)"
            " INSERT INTO wallet_currencies (wallet_id, currency_id) SELECT id, 'eth' FROM w",
            name,
            address,
            most,
        )
    chain = Chain(latest=1)
    chain.balances = {"0xh1": 35 * 10**17, "0xh2": 10**18}
    await show_hot_wallets(rig.sessions, CHAIN, chain, {"eth": ETH})  # type: ignore[arg-type]
    assert sample("bursa_hot_wallet_balance", wallet="hot-capped", currency="eth") == 3.5
    assert sample("bursa_hot_wallet_max_balance", wallet="hot-capped", currency="eth") == 2
    assert sample("bursa_hot_wallet_balance", wallet="hot-open", currency="eth") == 1
    assert sample("bursa_hot_wallet_max_balance", wallet="hot-open", currency="eth") is None

    await rig.sql(
        "INSERT INTO sweeps (blockchain_key, kind, currency_id, from_address, to_address,"
        f" amount, txid, state) VALUES ('{CHAIN}', 'collect', 'eth', '0xd', '0xh1', 1,"
        " '0xfeed', 'broadcast')"
    )
    failures = sample("bursa_sweep_failures_total", blockchain=CHAIN) or 0
    sweeper = Sweeper(
        rig.sessions,
        CHAIN,
        chain,  # type: ignore[arg-type]
        {"eth": ETH},
        local_keystore,
        submit=never,
    )
    await sweeper.step()
    assert sample("bursa_sweep_failures_total", blockchain=CHAIN) == failures + 1
