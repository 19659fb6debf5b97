"""A Bitcoin deposit swept to the hot wallet on a real bcoin regtest node: the deposit
address is emptied (the fee taken from the amount) and the deposit ends ``collected``."""

import asyncio
import time

from bursa.custody.chain import NewAddress
from bursa.custody.chains.bitcoin import BitcoinPlugin
from bursa.custody.scanner import Scanner
from bursa.custody.setup import NewBlockchain, NewWallet, add_blockchain, add_wallet
from bursa.custody.sweeper import Sweeper
from tests.api.members import (
    ACCOUNT,
    Exchange,
    exchange,  # noqa: F401 - fixture
)
from tests.custody.bcoin import BcoinNode
from tests.custody.test_bitcoin import BTC, bcoin, miner, pay, plugin  # noqa: F401 - fixtures

SATOSHI = 10**8


async def _balance(plugin: BitcoinPlugin, address: str, expected: int) -> int:
    deadline = time.monotonic() + 5
    while (found := await plugin.balance_of(address, BTC)) != expected:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)  # the node's index follows a block quickly
    return found


async def test_a_btc_deposit_is_swept_to_the_hot_wallet(
    exchange: Exchange, bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
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
        scanner = Scanner(sessions, "bitcoin", chain, assets, exchange.runner.submit)
        sweeper = Sweeper(sessions, "bitcoin", chain, assets, plugins.keystore)
        alice = await exchange.member("alice@example.com")
        address = (await alice.get(f"{ACCOUNT}/deposit_address/btc")).json()["address"]
        await pay(plugin, miner, address, SATOSHI // 2)
        bcoin.mine(1, miner.address)
        assert (await scanner.step()).credited == 1
        assert await _balance(plugin, address, SATOSHI // 2) == SATOSHI // 2

        assert (await sweeper.step()).signed == 1
        bcoin.mine(1, miner.address)
        assert await _balance(plugin, address, 0) == 0
        (sweep,) = await exchange.sql("SELECT amount, fee FROM sweeps")
        swept = int(sweep["amount"] * SATOSHI)
        assert swept + int(sweep["fee"] * SATOSHI) == SATOSHI // 2  # the fee came out of it
        assert SATOSHI // 2 - 10_000 < swept < SATOSHI // 2
        assert await _balance(plugin, hot["address"], swept) == swept
        assert (await sweeper.step()).collected == 1
        (row,) = await exchange.sql("SELECT state FROM deposits WHERE type = 'coin'")
        assert row["state"] == "collected"
        assert (await sweeper.step()).signed == 0
    finally:
        await plugins.close()
