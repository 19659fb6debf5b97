"""A Bitcoin deposit swept to the hot wallet on a real bcoin regtest node: the deposit
address is emptied (the fee taken from the amount) and the deposit ends ``collected``; a
withdrawal is then paid from what was swept. The fee of the sweep and of the payout are
booked as expenses, so what Bursa's addresses hold equals the ledger's assets, exactly."""

import asyncio
import time
import uuid
from decimal import Decimal

from bursa.custody.chain import NewAddress
from bursa.custody.chains.bitcoin import BitcoinPlugin
from bursa.custody.scanner import Scanner
from bursa.custody.sender import Backoff, Sender, email_of
from bursa.custody.sweeper import Sweeper
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

ADMIN = "/api/v2/peatio/admin"


async def _held(btc_custody: BtcCustody, plugin: BitcoinPlugin, expected: int) -> int:
    """What every Bursa address on the chain holds (wallets and members' addresses), once
    the node's index shows ``expected`` (or after 5 s)."""
    rows = await btc_custody.exchange.sql(
        "SELECT address FROM wallets WHERE blockchain_key = 'bitcoin'"
        " UNION SELECT address FROM payment_addresses WHERE blockchain_key = 'bitcoin'"
    )
    deadline = time.monotonic() + 5
    while True:
        held = sum([await plugin.balance_of(r["address"], BTC) for r in rows])
        if held == expected or time.monotonic() > deadline:
            return held
        await asyncio.sleep(0.05)


async def test_a_btc_deposit_is_swept_to_the_hot_wallet(
    btc_custody: BtcCustody, bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    exchange, hot, chain = btc_custody.exchange, btc_custody.hot, btc_custody.chain
    sessions, assets = btc_custody.sessions, btc_custody.assets
    keystore = exchange.app.state.custody.keystore
    submit = exchange.runner.submit
    scanner = Scanner(sessions, "bitcoin", chain, assets, submit)
    sweeper = Sweeper(sessions, "bitcoin", chain, assets, keystore, submit=submit)
    alice = await exchange.member("alice@example.com")
    address = (await alice.get(f"{ACCOUNT}/deposit_address/btc")).json()["address"]
    await pay(plugin, miner, address, SATOSHI // 2)
    bcoin.mine(1, miner.address)
    assert (await scanner.step()).credited == 1
    assert await balance_once_indexed(plugin, address, SATOSHI // 2) == SATOSHI // 2

    assert (await sweeper.step()).signed == 1
    bcoin.mine(1, miner.address)
    assert await balance_once_indexed(plugin, address, 0) == 0
    (sweep,) = await exchange.sql("SELECT id, amount, fee FROM sweeps")
    swept = int(sweep["amount"] * SATOSHI)
    assert swept + int(sweep["fee"] * SATOSHI) == SATOSHI // 2  # the fee came out of it
    assert SATOSHI // 2 - 10_000 < swept < SATOSHI // 2
    assert await balance_once_indexed(plugin, hot["address"], swept) == swept
    assert (await sweeper.step()).collected == 1
    (row,) = await exchange.sql("SELECT state FROM deposits WHERE type = 'coin'")
    assert row["state"] == "collected"
    assert (await sweeper.step()).signed == 0

    # Out: 0.2 BTC paid from the swept coins, the change back to the hot wallet.
    flow = Withdrawals(sessions, submit, email_of)
    destination = plugin.create_address().address
    ask = Ask(
        tid=f"TID{uuid.uuid4().hex[:10]}",
        member_id=alice.id,
        uid=alice.uid,
        currency="btc",
        type="coin",
        precision=8,
        amount=Decimal("0.2"),
        fee=Decimal("0.0005"),
        rid=destination,
        note=None,
        transfer_type="crypto",
        blockchain_key="bitcoin",
    )
    assert (await flow.create(ask, process=True))["state"] == "processing"
    sender = Sender(sessions, "bitcoin", chain, assets, keystore, flow, backoff=Backoff(first_s=0))
    assert (await sender.step()).broadcast == 1
    bcoin.mine(1, miner.address)
    assert await balance_once_indexed(plugin, destination, 20_000_000) == 20_000_000
    assert (await sender.step()).succeeded == 1
    (withdrawn,) = await exchange.sql("SELECT id, state FROM withdraws")
    assert withdrawn["state"] == "succeed"
    change = await plugin.balance_of(hot["address"], BTC)  # the node counts its mempool too
    payout_fee = swept - 20_000_000 - change  # what the hot wallet lost beyond the payment
    assert 0 < payout_fee < 10_000

    # Each fee is an expense; the books hold what the chain does, and verify.
    admin = await exchange.member("root@example.com", role="admin")
    listed = (await admin.get(f"{ADMIN}/expenses", currency="btc")).json()
    assert {p["rid"]: Decimal(p["credit"]) - Decimal(p["debit"]) for p in listed} == {
        f"network_fee:sweep:{sweep['id']}": sweep["fee"],
        f"network_fee:withdraw:{withdrawn['id']}": Decimal(payout_fee) / SATOSHI,
    }
    assert len(listed) == 2  # Bitcoin's fee is known when signing: nothing to correct
    await exchange.ledger_ok()
    ledger = (await admin.get(f"{ADMIN}/ledger/verification")).json()
    assets_btc = Decimal(next(t["assets"] for t in ledger["totals"] if t["currency"] == "btc"))
    assert await _held(btc_custody, plugin, int(assets_btc * SATOSHI)) == assets_btc * SATOSHI
    view = {c["currency"]: c for c in (await admin.get(f"{ADMIN}/wallets/overview")).json()}
    assert (view["btc"]["difference"], view["btc"]["status"]) == ("0", "ok"), view["btc"]
