"""Money in and out end to end on a real anvil, through the paths members and operators use:
a member asks for a deposit address over HTTP, ETH is paid to it on chain, the scanner
credits it at its confirmations, the member trades, adds a beneficiary activated with the
mailed code, withdraws with a TOTP code, the sender pays it from the hot wallet, the
engine settles it at its confirmations; the ledger verifies, the gas the hot wallet paid is
booked as an expense, and what the chain holds for Bursa equals what the ledger says
(beyond the operator's own funding of the hot wallet)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
import pytest

from bursa.custody.scanner import Scanner
from bursa.custody.sender import Backoff, Sender, email_of
from bursa.custody.setup import NewBlockchain, NewWallet, add_blockchain, add_wallet
from bursa.identity.mail import SmtpMailer
from bursa.ledger.verify import verify_ledger
from bursa.trading.withdrawals import Withdrawals
from tests.api.members import (
    ACCOUNT,
    MARKET,
    Caller,
    Exchange,
    exchange,  # noqa: F401 - fixture
)
from tests.custody.test_ethereum import ETH, ONE_ETH, Chain, chain, funded, pay  # noqa: F401
from tests.custody.test_withdraw_requests import (
    Inbox,
    active_beneficiary,
    fresh_otp,
    inbox,  # noqa: F401 - fixture
    send,
    withdrawer,
)


@dataclass
class Desk:
    exchange: Exchange
    chain: Chain
    scanner: Scanner
    sender: Sender
    hot: str
    mail: Inbox


@pytest.fixture
async def desk(exchange: Exchange, chain: Chain, inbox: tuple[Inbox, int]) -> AsyncIterator[Desk]:
    exchange.identity.mailer = SmtpMailer(f"smtp://127.0.0.1:{inbox[1]}", "Bursa <b@bursa.test>")
    await exchange.sql(
        "UPDATE currencies SET blockchain_key = 'ethereum', min_confirmations = 3,"
        " min_deposit_amount = 0.001 WHERE id = 'eth'"
    )
    await exchange.sql("UPDATE currencies SET blockchain_key = NULL WHERE id = 'usdt'")
    sessions = exchange.app.state.session_factory
    plugins = exchange.app.state.custody
    start = await chain.anvil.height() + 1
    async with sessions() as session, session.begin():
        await add_blockchain(
            session,
            plugins.keystore,
            NewBlockchain("ethereum", "Ethereum", "ethereum", chain.anvil.url, 3, start),
        )
        await add_wallet(session, plugins, NewWallet("deposits", "ethereum", "deposit", ("eth",)))
        hot = await add_wallet(session, plugins, NewWallet("hot", "ethereum", "hot", ("eth",)))
    async with sessions() as session:
        plugin, assets = await plugins.get(session, "ethereum")
    flow = Withdrawals(sessions, exchange.runner.submit, email_of)
    try:
        yield Desk(
            exchange,
            chain,
            Scanner(sessions, "ethereum", plugin, assets, exchange.runner.submit),
            Sender(
                sessions,
                "ethereum",
                plugin,
                assets,
                plugins.keystore,
                flow,
                backoff=Backoff(first_s=0, skipped_s=3600),
            ),
            str(hot["address"]),
            inbox[0],
        )
    finally:
        await plugins.close()


async def _eth(member: Caller) -> tuple[Decimal, Decimal]:
    shown = (await member.get(f"{ACCOUNT}/balances/eth")).json()
    return Decimal(shown["balance"]), Decimal(shown["locked"])


async def _gas_paid(chain: Chain, txids: list[str]) -> int:
    paid = 0
    for txid in txids:
        receipt = await chain.anvil.rpc("eth_getTransactionReceipt", txid)
        paid += int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    return paid


async def test_a_deposit_traded_and_withdrawn_reconciles_with_the_chain(desk: Desk) -> None:
    exchange, chain = desk.exchange, desk.chain
    alice = await withdrawer(exchange, "alice@example.com")
    address = (await alice.get(f"{ACCOUNT}/deposit_address/eth")).json()["address"]

    # In: 2 ETH paid on chain, credited at 3 confirmations.
    payer = await funded(chain, 100 * ONE_ETH)
    await pay(chain, payer, address, 2 * ONE_ETH, ETH)
    await desk.scanner.step()
    await chain.anvil.mine(2)
    assert (await desk.scanner.step()).credited == 1
    assert await _eth(alice) == (Decimal(2), Decimal(0))

    # Trade: Alice sells 0.5 ETH to Bob.
    bob = await exchange.member("bob@example.com")
    await exchange.credit(bob, "usdt", "5000")
    ask = {"market": "ethusdt", "side": "sell", "volume": "0.5", "price": "2000"}
    bid = {"market": "ethusdt", "side": "buy", "volume": "0.5", "price": "2000"}
    assert (await alice.post(f"{MARKET}/orders", ask)).status_code == 201
    assert (await bob.post(f"{MARKET}/orders", bid)).status_code == 201
    assert await _eth(alice) == (Decimal("1.5"), Decimal(0))

    # Out: to an activated beneficiary, with a TOTP code; the hot wallet pays.
    destination = chain.plugin.create_address().address
    beneficiary = await active_beneficiary(exchange, desk.mail, alice, destination)
    await pay(chain, payer, desk.hot, 3 * ONE_ETH, ETH)  # the operator funds the hot wallet
    asked = await send(
        alice,
        "POST",
        f"{ACCOUNT}/withdraws",
        {
            "currency": "eth",
            "amount": "1",
            "beneficiary_id": beneficiary,
            "otp": await fresh_otp(exchange, alice),
        },
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["state"] == "processing"
    fee = Decimal(asked.json()["fee"])
    assert await _eth(alice) == (Decimal("0.5") - fee, Decimal(1) + fee)

    await desk.sender.step()
    (row,) = await exchange.sql("SELECT state, txid FROM withdraws")
    assert row["state"] == "confirming"
    await chain.anvil.mine(3)
    await desk.sender.step()
    (row,) = await exchange.sql("SELECT state, txid FROM withdraws")
    assert row["state"] == "succeed"
    assert await chain.plugin.balance_of(destination, ETH) == ONE_ETH
    assert await _eth(alice) == (Decimal("0.5") - fee, Decimal(0))
    await desk.scanner.step()  # confirmations count to the last block the scanner read
    mined = (await exchange.sql("SELECT block_number FROM withdraws"))[0]["block_number"]
    deep = await chain.anvil.height() - mined + 1
    shown = (await alice.get(f"{ACCOUNT}/withdraws")).json()
    assert [(w["state"], w["blockchain_txid"], w["confirmations"]) for w in shown] == [
        ("succeed", row["txid"], deep)
    ]
    assert deep >= 3

    # The ledger verifies, the gas is an expense, and the chain holds what the ledger says.
    conn = await asyncpg.connect(exchange.database_url)
    try:
        report = await verify_ledger(conn)
    finally:
        await conn.close()
    assert report.ok, report.breaks
    totals = next(t for t in report.totals if t.currency == "eth")
    gas = Decimal(await _gas_paid(chain, [row["txid"]])) / ONE_ETH
    assert totals.expenses == gas
    assert totals.assets == 1 - gas  # 2 in, 1 out (the fee stayed: it is revenue), the gas
    held = await chain.plugin.balance_of(address, ETH) + await chain.plugin.balance_of(
        desk.hot, ETH
    )
    operator_funding = 3 * ONE_ETH  # the operator's own, not booked
    assert held - operator_funding == totals.assets * ONE_ETH
