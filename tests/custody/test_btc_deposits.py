"""Bitcoin deposits end to end on a real bcoin regtest node: a member's address over HTTP,
a payment to it, recorded by the scanner and credited at the confirmations asked for."""

from decimal import Decimal

from bursa.custody import registry
from bursa.custody.chain import NewAddress
from bursa.custody.chains.bitcoin import BitcoinPlugin
from bursa.custody.scanner import Scanner
from tests.api.members import (
    ACCOUNT,
    exchange,  # noqa: F401 - fixture
)
from tests.custody.bcoin import BcoinNode
from tests.custody.btc_custody import SATOSHI, BtcCustody, btc_custody  # noqa: F401 - fixture
from tests.custody.test_bitcoin import bcoin, miner, pay, plugin  # noqa: F401 - fixtures


async def test_a_btc_deposit_is_credited_at_its_confirmations(
    btc_custody: BtcCustody, bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    exchange = btc_custody.exchange
    await exchange.sql("UPDATE currencies SET min_confirmations = 2 WHERE id = 'btc'")
    async with btc_custody.sessions() as session:
        assets = await registry.assets(session, "bitcoin")
    scanner = Scanner(
        btc_custody.sessions, "bitcoin", btc_custody.chain, assets, exchange.runner.submit
    )
    alice = await exchange.member("alice@example.com")
    answer = await alice.get(f"{ACCOUNT}/deposit_address/btc")
    assert answer.status_code == 200, answer.text
    address = answer.json()["address"]
    assert address.startswith("bcrt1q")

    txid = await pay(plugin, miner, address, SATOSHI // 4)
    bcoin.mine(1, miner.address)
    first = await scanner.step()
    assert (first.deposits, first.credited) == (1, 0)
    listed = (await alice.get(f"{ACCOUNT}/deposits")).json()
    assert [(d["txid"], d["amount"], d["confirmations"]) for d in listed] == [(txid, "0.25", 1)]
    bcoin.mine(1, miner.address)
    assert (await scanner.step()).credited == 1
    balance = (await alice.get(f"{ACCOUNT}/balances/btc")).json()
    assert Decimal(balance["balance"]) == Decimal("0.25")
    assert (await scanner.step()).credited == 0
