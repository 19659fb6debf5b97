"""Custody on the bcoin regtest node for the Bitcoin end-to-end tests: the blockchain, a
deposit wallet and a hot wallet (keys made and sealed by Bursa), as an operator adds them."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bursa.custody.chain import ChainPlugin
from bursa.custody.chains.bitcoin import BitcoinPlugin
from bursa.custody.registry import ChainAsset
from bursa.custody.setup import NewBlockchain, NewWallet, add_blockchain, add_wallet
from tests.api.members import Exchange
from tests.custody.bcoin import BcoinNode
from tests.custody.test_bitcoin import BTC

SATOSHI = 10**8


@dataclass
class BtcCustody:
    exchange: Exchange
    chain: ChainPlugin  # the plugin Bursa opened from the blockchain row
    assets: dict[str, ChainAsset]
    hot: dict[str, Any]  # the hot wallet's row (its address)

    @property
    def sessions(self) -> Any:
        return self.exchange.app.state.session_factory


@pytest.fixture
async def btc_custody(exchange: Exchange, bcoin: BcoinNode) -> AsyncIterator[BtcCustody]:
    """Bitcoin from the next block on, 1 confirmation for deposits and sweeps."""
    await exchange.sql("UPDATE currencies SET min_confirmations = 1 WHERE id = 'btc'")
    sessions = exchange.app.state.session_factory
    plugins = exchange.app.state.custody
    async with sessions() as session, session.begin():
        await add_blockchain(
            session,
            plugins.keystore,
            NewBlockchain("bitcoin", "Bitcoin", "bitcoin", bcoin.server, 1, bcoin.height() + 1),
        )
        await add_wallet(
            session, plugins, NewWallet("btc-deposits", "bitcoin", "deposit", ("btc",))
        )
        hot = await add_wallet(session, plugins, NewWallet("btc-hot", "bitcoin", "hot", ("btc",)))
    try:
        async with sessions() as session:
            chain, assets = await plugins.get(session, "bitcoin")
        yield BtcCustody(exchange, chain, assets, dict(hot))
    finally:
        await plugins.close()


async def balance_once_indexed(plugin: BitcoinPlugin, address: str, expected: int) -> int:
    """The address's balance, once the node's index shows ``expected`` (or after 5 s)."""
    deadline = time.monotonic() + 5
    while (found := await plugin.balance_of(address, BTC)) != expected:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)  # the node's index follows a block quickly
    return found
