"""``bursa bench scan``: how fast a chain plugin reads blocks from a node.

A deposit scanner's throughput is bounded by ``ChainPlugin.block``: one block's
transactions, receipts and token logs. This reads ``count`` consecutive blocks with up to
``concurrency`` reads in flight (a scanner catching up reads ahead the same way) and
reports blocks and transfers per second and the time one block takes (p50, p99).

``run_deposit_bench`` measures the whole scanner instead: a local anvil is filled with busy
blocks paying many members' deposit addresses, and the real ``Scanner`` reads them,
records every deposit and credits each through an in-process engine on a scratch
database.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from eth_account import Account
from sqlalchemy import text
from web3 import Web3

from bursa.bench.anvil import CHAIN_ID, Anvil, running_anvil
from bursa.custody import registry
from bursa.custody.chain import ChainCurrency, ChainError, ChainPlugin, plugin_factory
from bursa.custody.scanner import Scanner, ScanReport
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.trading.specs import load_specs

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ScanFigures:
    first_height: int
    blocks: int
    transfers: int
    seconds: float
    concurrency: int
    block_ms: tuple[float, ...]  # one per block, sorted

    @property
    def blocks_per_s(self) -> float:
        return self.blocks / self.seconds if self.seconds else 0.0

    @property
    def transfers_per_s(self) -> float:
        return self.transfers / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.block_ms:
            return 0.0
        return self.block_ms[min(len(self.block_ms) - 1, int(fraction * len(self.block_ms)))]

    def as_json(self) -> dict[str, float | int]:
        return {
            "first_height": self.first_height,
            "blocks": self.blocks,
            "transfers": self.transfers,
            "seconds": round(self.seconds, 3),
            "concurrency": self.concurrency,
            "blocks_per_s": round(self.blocks_per_s, 1),
            "transfers_per_s": round(self.transfers_per_s, 1),
            "block_p50_ms": round(self.percentile_ms(0.5), 2),
            "block_p99_ms": round(self.percentile_ms(0.99), 2),
        }


async def run_scan_bench(
    plugin: ChainPlugin,
    first_height: int,
    count: int,
    *,
    concurrency: int = 4,
    watched: frozenset[str] | None = None,
    progress: Progress | None = None,
) -> ScanFigures:
    """Read blocks ``first_height`` … ``first_height + count - 1`` with ``plugin``."""
    heights = iter(range(first_height, first_height + count))
    durations: list[float] = []
    transfers = 0

    async def reader() -> None:
        nonlocal transfers
        for height in heights:  # shared iterator: each height is read once
            started = time.perf_counter()
            block = await plugin.block(height, watched)
            durations.append((time.perf_counter() - started) * 1000)
            transfers += len(block.transfers)
            if progress is not None:
                progress(len(durations), count)

    started = time.perf_counter()
    try:
        async with asyncio.TaskGroup() as readers:
            for _ in range(min(concurrency, count)):
                readers.create_task(reader())
    except* ChainError as failures:
        raise failures.exceptions[0] from None  # the node's first complaint says enough
    seconds = time.perf_counter() - started
    return ScanFigures(
        first_height, count, transfers, seconds, concurrency, tuple(sorted(durations))
    )


# ---------------------------------------------------------------------- the whole scanner


@dataclass(frozen=True)
class DepositFigures:
    blocks: int
    deposits: int
    credited: int
    seconds: float  # reading, recording and crediting everything
    prepare_seconds: float  # building the chain (not measured)

    def as_json(self) -> dict[str, float | int]:
        return {
            "blocks": self.blocks,
            "deposits": self.deposits,
            "credited": self.credited,
            "seconds": round(self.seconds, 3),
            "blocks_per_s": round(self.blocks / self.seconds, 1) if self.seconds else 0.0,
            "deposits_per_s": round(self.deposits / self.seconds, 1) if self.seconds else 0.0,
            "prepare_seconds": round(self.prepare_seconds, 1),
        }


async def _busy_chain(
    node: Anvil, plugin: ChainPlugin, addresses: list[str], blocks: int, per_block: int
) -> int:
    """``blocks`` blocks of ``per_block`` ETH payments each to ``addresses`` (round robin),
    signed here with local nonces and sent in JSON-RPC batches; the first block's height."""
    senders = [plugin.create_address() for _ in range(8)]
    for sender in senders:
        await node.set_balance(sender.address, 10**24)
    gas_price = int(await node.rpc("eth_gasPrice"), 16)
    await node.automine(False)
    first = await node.height() + 1
    nonces = dict.fromkeys((s.address for s in senders), 0)
    paid = 0
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(blocks):
            batch = []
            for index in range(per_block):
                sender = senders[index % len(senders)]
                signed = Account.sign_transaction(
                    {
                        "nonce": nonces[sender.address],
                        "gas": 21_000,
                        "gasPrice": gas_price,
                        "chainId": CHAIN_ID,
                        "to": Web3.to_checksum_address(addresses[paid % len(addresses)]),
                        "value": 10**15 + paid,
                    },
                    sender.secret,
                )
                nonces[sender.address] += 1
                paid += 1
                raw = "0x" + signed.raw_transaction.hex()
                batch.append(
                    {"jsonrpc": "2.0", "id": index, "method": "eth_sendRawTransaction",
                     "params": [raw]}
                )  # fmt: skip
            answers = (await client.post(node.url, json=batch)).json()
            refused = [a["error"] for a in answers if "error" in a]
            if refused:
                raise ChainError(f"anvil refused a payment: {refused[0]}")
            await node.mine(1)
    await node.automine(True)
    return first


async def run_deposit_bench(
    database_url: str, *, blocks: int, per_block: int, members: int, progress: Progress | None
) -> DepositFigures:
    """A local anvil with ``blocks`` busy blocks paying ``members`` deposit addresses, and
    the real scanner (engine in process, ``database_url`` migrated and seeded) reading,
    recording and crediting all of it (one confirmation asked for)."""
    prepared = time.perf_counter()
    engine = create_engine(database_url, pool_size=4)
    sessions = create_session_factory(engine)
    bus = InProcessBus()
    runner = EngineRunner(database_url, bus, load_specs)
    await runner.start()
    try:
        with running_anvil() as node:
            plugin = plugin_factory("ethereum")(node.url, [ChainCurrency("eth", 18)])
            try:
                made = [plugin.create_address() for _ in range(members)]
                first = await _busy_chain(
                    node, plugin, [m.address for m in made], blocks, per_block
                )
                async with sessions() as session, session.begin():
                    await _members_with_addresses(session, [m.address for m in made], first)
                async with sessions() as session:
                    assets = await registry.assets(session, "ethereum")
                scanner = Scanner(sessions, "ethereum", plugin, assets, runner.submit, batch=10)
                prepare_seconds = time.perf_counter() - prepared
                started = time.perf_counter()
                report = ScanReport()
                latest = await plugin.latest_height()
                while report.blocks < latest - first + 1:
                    step = await scanner.step()
                    report.blocks += step.blocks
                    report.deposits += step.deposits
                    report.credited += step.credited
                    if progress is not None:
                        progress(report.blocks, latest - first + 1)
                seconds = time.perf_counter() - started
            finally:
                await plugin.close()
    finally:
        await runner.stop()
        await engine.dispose()
    return DepositFigures(report.blocks, report.deposits, report.credited, seconds, prepare_seconds)


async def _members_with_addresses(session: Any, addresses: list[str], first: int) -> None:
    """One bench member per address, a blockchain starting at ``first``, and the demo eth
    currency on it with one confirmation."""
    await session.execute(
        text(
            "INSERT INTO blockchains (key, name, client, height, min_confirmations)"
            " VALUES ('ethereum', 'Ethereum', 'ethereum', :first, 1)"
        ),
        {"first": first},
    )
    await session.execute(
        text(
            "UPDATE currencies SET blockchain_key = 'ethereum', min_confirmations = 1,"
            " min_deposit_amount = 0 WHERE id = 'eth'"
        )
    )
    wallet = await session.execute(
        text(
            "INSERT INTO wallets (name, blockchain_key, kind) VALUES"
            " ('bench-deposits', 'ethereum', 'deposit') RETURNING id"
        )
    )
    wallet_id = wallet.scalar_one()
    for index, address in enumerate(addresses):
        user = await session.execute(
            text(
                "INSERT INTO users (uid, email, password_hash, state, level)"
                " VALUES (:uid, :email, 'bench', 'active', 1) RETURNING id"
            ),
            {"uid": f"IDBENCH{index:06d}", "email": f"bench{index}@bench.invalid"},
        )
        await session.execute(
            text(
                "INSERT INTO payment_addresses (member_id, wallet_id, blockchain_key, address,"
                " secret) VALUES (:member, :wallet, 'ethereum', :address, 'none')"
            ),
            {"member": user.scalar_one(), "wallet": wallet_id, "address": address},
        )
