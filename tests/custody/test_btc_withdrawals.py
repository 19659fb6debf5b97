"""A Bitcoin withdrawal paid by the sender on a real bcoin regtest node: the hot wallet (a
key Bursa made and sealed) spends its coins to the destination with change back to itself,
the withdrawal settles at its confirmations, and the ledger verifies."""

import uuid
from decimal import Decimal

import asyncpg

from bursa.custody import registry
from bursa.custody.chain import NewAddress
from bursa.custody.chains.bitcoin import BitcoinPlugin
from bursa.custody.sender import Backoff, Sender, email_of
from bursa.ledger.verify import verify_ledger
from bursa.trading.withdrawals import Ask, Withdrawals
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
from tests.custody.test_bitcoin import BTC, bcoin, miner, pay, plugin  # noqa: F401 - fixtures


async def test_a_btc_withdrawal_is_paid_with_change_and_settled(
    btc_custody: BtcCustody, bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    exchange, hot = btc_custody.exchange, btc_custody.hot
    await exchange.sql("UPDATE currencies SET min_confirmations = 2 WHERE id = 'btc'")
    async with btc_custody.sessions() as session:
        assets = await registry.assets(session, "bitcoin")
    await pay(plugin, miner, hot["address"], 2 * SATOSHI)
    bcoin.mine(1, miner.address)
    assert await balance_once_indexed(plugin, hot["address"], 2 * SATOSHI) == 2 * SATOSHI

    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1")
    flow = Withdrawals(btc_custody.sessions, exchange.runner.submit, email_of)
    destination = plugin.create_address().address
    asked = await flow.create(
        Ask(
            tid=f"TID{uuid.uuid4().hex[:10]}",
            member_id=alice.id,
            uid=alice.uid,
            currency="btc",
            type="coin",
            precision=8,
            amount=Decimal("0.4"),
            fee=Decimal("0.0005"),
            rid=destination,
            note=None,
            transfer_type="crypto",
            blockchain_key="bitcoin",
        ),
        process=True,
    )
    assert asked["state"] == "processing"
    sender = Sender(
        btc_custody.sessions,
        "bitcoin",
        btc_custody.chain,
        assets,
        exchange.app.state.custody.keystore,
        flow,
        backoff=Backoff(first_s=0),
    )
    sent = await sender.step()
    assert (sent.signed, sent.broadcast) == (1, 1)
    (row,) = await exchange.sql("SELECT state, txid FROM withdraws")
    assert row["state"] == "confirming"

    bcoin.mine(2, miner.address)
    assert await balance_once_indexed(plugin, destination, 40_000_000) == 40_000_000
    assert (await sender.step()).succeeded == 1
    (row,) = await exchange.sql("SELECT state FROM withdraws")
    assert row["state"] == "succeed"
    # The change came back to the hot wallet: two coins less what was sent and the fee.
    left = await plugin.balance_of(hot["address"], BTC)
    assert 2 * SATOSHI - 40_000_000 - 10_000 < left < 2 * SATOSHI - 40_000_000
    shown = (await alice.get(f"{ACCOUNT}/balances/btc")).json()
    assert (shown["balance"], shown["locked"]) == ("0.5995", "0")
    conn = await asyncpg.connect(exchange.database_url)
    try:
        report = await verify_ledger(conn)
    finally:
        await conn.close()
    assert report.ok, report.breaks
