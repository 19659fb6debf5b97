"""Bitcoin deposits end to end on a real bcoin regtest node: a member's address over HTTP,
a payment to it, recorded by the scanner and credited at the confirmations asked for."""

from decimal import Decimal

from bursa.custody.chain import NewAddress
from bursa.custody.chains.bitcoin import BitcoinPlugin
from bursa.custody.scanner import Scanner
from bursa.custody.setup import NewBlockchain, NewWallet, add_blockchain, add_wallet
from tests.api.members import (
    ACCOUNT,
    Exchange,
    exchange,  # noqa: F401 - fixture
)
from tests.custody.bcoin import BcoinNode
from tests.custody.test_bitcoin import bcoin, miner, pay, plugin  # noqa: F401 - fixtures

SATOSHI = 10**8


async def test_a_btc_deposit_is_credited_at_its_confirmations(
    exchange: Exchange, bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    await exchange.sql("UPDATE currencies SET min_confirmations = 2 WHERE id = 'btc'")
    sessions = exchange.app.state.session_factory
    plugins = exchange.app.state.custody
    async with sessions() as session, session.begin():
        await add_blockchain(
            session,
            plugins.keystore,
            NewBlockchain("bitcoin", "Bitcoin", "bitcoin", bcoin.server, 2, bcoin.height() + 1),
        )
        await add_wallet(
            session, plugins, NewWallet("btc-deposits", "bitcoin", "deposit", ("btc",))
        )
    try:
        async with sessions() as session:
            chain, assets = await plugins.get(session, "bitcoin")
        scanner = Scanner(sessions, "bitcoin", chain, assets, exchange.runner.submit)
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
    finally:
        await plugins.close()
