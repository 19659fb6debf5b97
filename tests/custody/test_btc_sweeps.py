"""A Bitcoin deposit swept to the hot wallet on a real bcoin regtest node: the deposit
address is emptied (the fee taken from the amount) and the deposit ends ``collected``."""

from bursa.custody.chain import NewAddress
from bursa.custody.chains.bitcoin import BitcoinPlugin
from bursa.custody.scanner import Scanner
from bursa.custody.sweeper import Sweeper
from tests.api.members import (
    ACCOUNT,
    exchange,  # noqa: F401 - fixture
)
from tests.custody.bcoin import BcoinNode
from tests.custody.btc_custody import (  # noqa: F401 - fixture
    SATOSHI,
    BtcCustody,
    balance_once_indexed,
    btc_custody,
)
from tests.custody.test_bitcoin import bcoin, miner, pay, plugin  # noqa: F401 - fixtures


async def test_a_btc_deposit_is_swept_to_the_hot_wallet(
    btc_custody: BtcCustody, bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    exchange, hot, chain = btc_custody.exchange, btc_custody.hot, btc_custody.chain
    sessions, assets = btc_custody.sessions, btc_custody.assets
    scanner = Scanner(sessions, "bitcoin", chain, assets, exchange.runner.submit)
    sweeper = Sweeper(sessions, "bitcoin", chain, assets, exchange.app.state.custody.keystore)
    alice = await exchange.member("alice@example.com")
    address = (await alice.get(f"{ACCOUNT}/deposit_address/btc")).json()["address"]
    await pay(plugin, miner, address, SATOSHI // 2)
    bcoin.mine(1, miner.address)
    assert (await scanner.step()).credited == 1
    assert await balance_once_indexed(plugin, address, SATOSHI // 2) == SATOSHI // 2

    assert (await sweeper.step()).signed == 1
    bcoin.mine(1, miner.address)
    assert await balance_once_indexed(plugin, address, 0) == 0
    (sweep,) = await exchange.sql("SELECT amount, fee FROM sweeps")
    swept = int(sweep["amount"] * SATOSHI)
    assert swept + int(sweep["fee"] * SATOSHI) == SATOSHI // 2  # the fee came out of it
    assert SATOSHI // 2 - 10_000 < swept < SATOSHI // 2
    assert await balance_once_indexed(plugin, hot["address"], swept) == swept
    assert (await sweeper.step()).collected == 1
    (row,) = await exchange.sql("SELECT state FROM deposits WHERE type = 'coin'")
    assert row["state"] == "collected"
    assert (await sweeper.step()).signed == 0
