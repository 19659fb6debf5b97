"""Coin withdrawals sent on a real anvil node: created as the Management API does (funds
held by the engine), paid from the hot wallet by the sender, settled at their
confirmations; a sender that dies between recording and broadcasting pays once after its
restart; a poor hot wallet skips, a reverted token transfer fails and releases; admins
reject, retry and list over HTTP."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from bursa.custody.addresses import Plugins
from bursa.custody.chain import ChainCurrency
from bursa.custody.chains.ethereum import EthereumPlugin
from bursa.custody.registry import NODE_KEY_NAME
from bursa.custody.sender import Backoff, Sender, email_of
from bursa.custody.service import ScanService
from bursa.custody.setup import NewBlockchain, NewWallet, add_blockchain, add_wallet
from bursa.trading.withdrawals import Ask, Withdrawals
from tests.api.members import (
    ACCOUNT,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)
from tests.custody.anvil import free_port
from tests.custody.test_ethereum import ETH, ONE_ETH, Chain, chain, pay  # noqa: F401

ADMIN = "/api/v2/peatio/admin/withdraws"
USDT_UNIT = 10**6


@dataclass
class Sending:
    exchange: Exchange
    chain: Chain
    usdt: ChainCurrency
    hot: str  # the hot wallet's address
    flow: Withdrawals

    def sender(self) -> Sender:
        """A sender as a (re)started process builds it."""
        plugins = self.exchange.app.state.custody
        plugin, assets = plugins._opened["ethereum"]
        return Sender(
            self.exchange.app.state.session_factory,
            "ethereum",
            plugin,
            assets,
            plugins.keystore,
            self.flow,
            backoff=Backoff(first_s=0, skipped_s=3600),
        )

    async def withdraw(
        self, member: Caller, currency: str, amount: str, *, process: bool = True
    ) -> Any:
        fee = Decimal("0.005") if currency == "eth" else Decimal("5")
        ask = Ask(
            tid=f"TID{uuid.uuid4().hex[:10]}",
            member_id=member.id,
            uid=member.uid,
            currency=currency,
            type="coin",
            precision=18 if currency == "eth" else 8,
            amount=Decimal(amount),
            fee=fee,
            rid=self.chain.plugin.create_address().address,
            note=None,
            transfer_type="crypto",
            blockchain_key="ethereum",
        )
        return await self.flow.create(ask, process=process)

    async def row(self, tid: str) -> Any:
        return (await self.exchange.sql("SELECT * FROM withdraws WHERE tid = $1", tid))[0]


@pytest.fixture
async def sending(exchange: Exchange, chain: Chain) -> AsyncIterator[Sending]:
    await exchange.sql(
        "UPDATE currencies SET blockchain_key = 'ethereum', min_confirmations = 3"
        " WHERE id IN ('eth', 'usdt')"
    )
    await exchange.sql(
        "UPDATE currencies SET options = jsonb_build_object("
        "'erc20_contract_address', $1::text, 'decimals', 6) WHERE id = 'usdt'",
        chain.token.contract,
    )
    sessions = exchange.app.state.session_factory
    plugins = exchange.app.state.custody
    async with sessions() as session, session.begin():
        await add_blockchain(
            session,
            plugins.keystore,
            NewBlockchain("ethereum", "Ethereum", "ethereum", chain.anvil.url, 3),
        )
        hot = await add_wallet(
            session, plugins, NewWallet("eth-hot", "ethereum", "hot", ("eth", "usdt"))
        )
    async with sessions() as session:
        await plugins.get(session, "ethereum")
    flow = Withdrawals(sessions, exchange.runner.submit, email_of)
    usdt = ChainCurrency("usdt", 6, chain.token.contract)
    try:
        yield Sending(exchange, chain, usdt, hot["address"], flow)
    finally:
        await plugins.close()


async def _account(member: Caller, currency: str) -> tuple[Decimal, Decimal]:
    found = (await member.get(f"{ACCOUNT}/balances/{currency}")).json()
    return Decimal(found["balance"]), Decimal(found["locked"])


async def _ledger_ok(exchange: Exchange) -> None:
    await exchange.ledger_ok()


async def _gas_paid(sending: Sending, txid: str) -> int:
    receipt = await sending.chain.anvil.rpc("eth_getTransactionReceipt", txid)
    return int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)


async def _fees(sending: Sending) -> dict[str, tuple[Decimal, Decimal | None, Decimal, str]]:
    """Each transaction's network fee record: estimated, actual, booked, state (ETH)."""
    rows = await sending.exchange.sql(
        "SELECT txid, currency_id, estimated, actual, booked, state FROM network_fees"
    )
    assert {r["currency_id"] for r in rows} <= {"eth"}  # gas is paid in ETH, tokens too
    return {r["txid"]: (r["estimated"], r["actual"], r["booked"], r["state"]) for r in rows}


async def _expensed(sending: Sending) -> Decimal:
    """The ledger's ETH expenses (code 402)."""
    [row] = await sending.exchange.sql(
        "SELECT coalesce(sum(credit - debit), 0) AS total FROM operations"
        " WHERE code = 402 AND currency_id = 'eth'"
    )
    return Decimal(row["total"])


async def _nonce(sending: Sending) -> int:
    return int(await sending.chain.anvil.rpc("eth_getTransactionCount", sending.hot, "latest"), 16)


async def test_eth_and_token_are_paid_exactly_and_settled_at_confirmations(
    sending: Sending,
) -> None:
    exchange, chain = sending.exchange, sending.chain
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "eth", "5")
    await exchange.credit(alice, "usdt", "500")
    await chain.anvil.set_balance(sending.hot, 10 * ONE_ETH)
    await pay(chain, chain.treasury, sending.hot, 1000 * USDT_UNIT, chain.token)
    eth = await sending.withdraw(alice, "eth", "1.25")
    usdt = await sending.withdraw(alice, "usdt", "100")
    assert (eth["state"], usdt["state"]) == ("processing", "processing")
    assert await _account(alice, "eth") == (Decimal("3.745"), Decimal("1.255"))

    report = await sending.sender().step()

    assert (report.signed, report.broadcast) == (2, 2)
    eth_row, usdt_row = await sending.row(eth["tid"]), await sending.row(usdt["tid"])
    assert (eth_row["state"], usdt_row["state"]) == ("confirming", "confirming")
    assert eth_row["txid"].startswith("0x") and eth_row["raw_tx"]
    assert await chain.plugin.balance_of(eth["rid"], ETH) == 5 * ONE_ETH // 4
    assert await chain.plugin.balance_of(usdt["rid"], sending.usdt) == 100 * USDT_UNIT
    gas = await _gas_paid(sending, eth_row["txid"]) + await _gas_paid(sending, usdt_row["txid"])
    assert await chain.plugin.balance_of(sending.hot, ETH) == 10 * ONE_ETH - 5 * ONE_ETH // 4 - gas
    assert await chain.plugin.balance_of(sending.hot, sending.usdt) == 900 * USDT_UNIT
    assert await _account(alice, "eth") == (Decimal("3.745"), Decimal("1.255"))  # not yet

    await chain.anvil.mine(3)
    settled = await sending.sender().step()

    assert (settled.succeeded, settled.signed, settled.broadcast) == (2, 0, 0)
    eth_row, usdt_row = await sending.row(eth["tid"]), await sending.row(usdt["tid"])
    assert (eth_row["state"], usdt_row["state"]) == ("succeed", "succeed")
    assert eth_row["block_number"] is not None and eth_row["completed_at"] is not None
    assert await _account(alice, "eth") == (Decimal("3.745"), Decimal("0"))
    assert await _account(alice, "usdt") == (Decimal("395"), Decimal("0"))
    assert (await sending.sender().step()).succeeded == 0  # once
    await _ledger_ok(exchange)
    # The gas is booked: at signing, then what each receipt says (a token transfer uses
    # less than its gas limit: the difference comes back to the assets).
    eth_gas = Decimal(await _gas_paid(sending, eth_row["txid"])) / ONE_ETH
    usdt_gas = Decimal(await _gas_paid(sending, usdt_row["txid"])) / ONE_ETH
    fees = await _fees(sending)
    assert fees[eth_row["txid"]] == (eth_gas, eth_gas, eth_gas, "settled")
    estimated, actual, booked, state = fees[usdt_row["txid"]]
    assert (actual, booked, state) == (usdt_gas, usdt_gas, "settled") and estimated > usdt_gas
    assert await _expensed(sending) == eth_gas + usdt_gas
    states = [
        (e["record"]["state"], e["record"]["blockchain_confirmations"])
        for e in await exchange.outbox()
        if e.get("name") == "model.withdraw.updated" and e["record"]["tid"] == eth["tid"]
    ]
    latest = await chain.anvil.height()
    deep = latest - eth_row["block_number"] + 1  # the block it is in, and 3 mined on it
    assert states == [("processing", 0), ("confirming", 0), ("succeed", deep)]
    assert deep >= 3  # the currency's min_confirmations


async def test_a_sender_dying_before_broadcast_sends_the_same_transaction_once(
    sending: Sending,
) -> None:
    exchange, chain = sending.exchange, sending.chain
    bob = await exchange.member("bob@example.com")
    await exchange.credit(bob, "eth", "2")
    await chain.anvil.set_balance(sending.hot, 3 * ONE_ETH)
    asked = await sending.withdraw(bob, "eth", "0.5")
    nonce = await _nonce(sending)

    # Signed and recorded, then the process dies before broadcasting.
    recorded = await sending.sender().prepare(await sending.row(asked["tid"]))
    assert recorded is not None and recorded["state"] == "confirming"
    txid, raw = recorded["txid"], bytes(recorded["raw_tx"])
    assert (await chain.plugin.transaction(txid)).status == "unknown"
    assert await chain.plugin.balance_of(asked["rid"], ETH) == 0

    restarted = await sending.sender().step()

    assert (restarted.signed, restarted.broadcast) == (0, 1)
    row = await sending.row(asked["tid"])
    assert (row["txid"], bytes(row["raw_tx"])) == (txid, raw)
    assert (await chain.plugin.transaction(txid)).status == "success"
    assert await chain.plugin.balance_of(asked["rid"], ETH) == ONE_ETH // 2
    assert (await sending.sender().step()).broadcast == 0
    await chain.anvil.mine(3)
    assert (await sending.sender().step()).succeeded == 1
    assert await _nonce(sending) == nonce + 1  # one transaction from the hot wallet
    assert await chain.plugin.balance_of(asked["rid"], ETH) == ONE_ETH // 2
    assert await _account(bob, "eth") == (Decimal("1.495"), Decimal("0"))
    await _ledger_ok(exchange)


async def test_a_poor_hot_wallet_skips_until_funded_and_retried(sending: Sending) -> None:
    exchange, chain = sending.exchange, sending.chain
    carol = await exchange.member("carol@example.com")
    admin = await exchange.member("admin@example.com", role="admin")
    await exchange.credit(carol, "eth", "1")
    asked = await sending.withdraw(carol, "eth", "0.3")

    skipped = await sending.sender().step()

    assert (skipped.skipped, skipped.signed) == (1, 0)
    row = await sending.row(asked["tid"])
    assert row["state"] == "skipped" and row["txid"] is None
    assert "eth-hot holds 0 eth units" in json.loads(row["error"])["message"]
    assert await _account(carol, "eth") == (Decimal("0.695"), Decimal("0.305"))
    assert (await sending.sender().step()).skipped == 0  # waits before trying again

    await chain.anvil.set_balance(sending.hot, ONE_ETH)
    retried = await admin.post(f"{ADMIN}/actions", {"id": row["id"], "action": "retry"})
    assert retried.status_code == 201, retried.text
    assert retried.json()["state"] == "processing"
    sent = await sending.sender().step()
    assert (sent.signed, sent.broadcast) == (1, 1)
    assert await chain.plugin.balance_of(asked["rid"], ETH) == 3 * ONE_ETH // 10
    await chain.anvil.mine(3)
    assert (await sending.sender().step()).succeeded == 1
    assert (await sending.row(asked["tid"]))["state"] == "succeed"
    assert await _account(carol, "eth") == (Decimal("0.695"), Decimal("0"))
    # Retrying a withdrawal already sent is refused: it is never signed twice.
    again = await admin.post(f"{ADMIN}/actions", {"id": row["id"], "action": "retry"})
    assert_error(again, 422, "admin.withdraw.cannot_perform_retry_action")
    await _ledger_ok(exchange)


async def test_a_reverted_token_transfer_fails_and_releases_the_funds(sending: Sending) -> None:
    exchange, chain = sending.exchange, sending.chain
    dave = await exchange.member("dave@example.com")
    await exchange.credit(dave, "usdt", "100")
    await chain.anvil.set_balance(sending.hot, ONE_ETH)
    await pay(chain, chain.treasury, sending.hot, 50 * USDT_UNIT, chain.token)
    asked = await sending.withdraw(dave, "usdt", "40")
    recorded = await sending.sender().prepare(await sending.row(asked["tid"]))
    assert recorded is not None
    # The issuer freezes the hot wallet's tokens after the check: the transfer reverts.
    call = {"to": chain.token.contract, "data": "0x70a08231" + sending.hot[2:].rjust(64, "0")}
    access = await chain.anvil.rpc("eth_createAccessList", call, "latest")
    (slot,) = [k for entry in access["accessList"] for k in entry["storageKeys"]]
    await chain.anvil.rpc("anvil_setStorageAt", chain.token.contract, slot, "0x" + "0" * 64)
    assert await chain.plugin.balance_of(sending.hot, sending.usdt) == 0

    report = await sending.sender().step()

    assert (report.broadcast, report.failed) == (1, 1)
    row = await sending.row(asked["tid"])
    assert (row["state"], row["txid"]) == ("failed", recorded["txid"])
    assert (await chain.plugin.transaction(row["txid"])).status == "failed"
    assert await chain.plugin.balance_of(asked["rid"], sending.usdt) == 0
    assert await _account(dave, "usdt") == (Decimal("100"), Decimal("0"))
    assert (await sending.sender().step()).failed == 0
    await _ledger_ok(exchange)
    # A reverted transaction pays its gas all the same: booked as the receipt says.
    gas = Decimal(await _gas_paid(sending, row["txid"])) / ONE_ETH
    assert (await _fees(sending))[row["txid"]][1:] == (gas, gas, "settled")
    assert await _expensed(sending) == gas


async def test_admins_reject_process_and_list_withdrawals(sending: Sending) -> None:
    exchange = sending.exchange
    erin = await exchange.member("erin@example.com")
    admin = await exchange.member("admin@example.com", role="admin")
    # Accountants read withdrawals but may not act on them (the permission table and
    # Peatio's abilities).
    support = await exchange.member("books@example.com", role="accountant")
    await exchange.credit(erin, "eth", "2")
    first = await sending.withdraw(erin, "eth", "0.5", process=False)
    second = await sending.withdraw(erin, "eth", "0.7", process=False)
    assert await _account(erin, "eth") == (Decimal("0.79"), Decimal("1.21"))
    first_id = (await sending.row(first["tid"]))["id"]
    second_id = (await sending.row(second["tid"]))["id"]

    refused = await support.post(f"{ADMIN}/actions", {"id": first_id, "action": "reject"})
    assert refused.status_code in (401, 403), refused.text
    assert await _account(erin, "eth") == (Decimal("0.79"), Decimal("1.21"))
    rejected = await admin.post(f"{ADMIN}/actions", {"id": first_id, "action": "reject"})
    assert rejected.status_code == 201, rejected.text
    assert rejected.json()["state"] == "rejected"
    assert await _account(erin, "eth") == (Decimal("1.295"), Decimal("0.705"))
    again = await admin.post(f"{ADMIN}/actions", {"id": first_id, "action": "reject"})
    assert again.status_code == 201 and again.json()["state"] == "rejected"
    assert await _account(erin, "eth") == (Decimal("1.295"), Decimal("0.705"))  # once
    late = await admin.post(f"{ADMIN}/actions", {"id": first_id, "action": "process"})
    assert_error(late, 422, "admin.withdraw.cannot_perform_process_action")
    bad = await admin.post(f"{ADMIN}/actions", {"id": "x", "action": "burn"})
    assert_error(bad, 422, "admin.withdraw.non_integer_id", "admin.withdraw.invalid_action")
    missing = await admin.post(f"{ADMIN}/actions", {"id": 999999, "action": "reject"})
    assert missing.status_code == 404
    assert (await erin.get(ADMIN)).status_code in (401, 403)

    processed = await admin.post(f"{ADMIN}/actions", {"id": second_id, "action": "process"})
    assert processed.status_code == 201 and processed.json()["state"] == "processing"

    listed = await support.get(ADMIN, uid=erin.uid, state="rejected")
    assert listed.status_code == 200, listed.text
    assert [(w["id"], w["amount"], w["fee"], w["sum"]) for w in listed.json()] == [
        (first_id, "0.5", "0.005", "0.505")
    ]
    assert listed.headers["total"] == "1"
    everything = await support.get(ADMIN, currency="eth", type="coin", ordering="desc")
    assert [w["id"] for w in everything.json()] == [second_id, first_id]
    one = await support.get(f"{ADMIN}/{second_id}")
    assert one.json()["state"] == "processing" and one.json()["tid"] == second["tid"]
    assert (await support.get(ADMIN, state="lost")).status_code == 422
    audit = await exchange.sql(
        "SELECT action, actor_uid, before->>'state' AS was, after->>'state' AS now"
        " FROM admin_audit WHERE target_type = 'Withdraw' ORDER BY id"
    )
    assert [tuple(r) for r in audit] == [
        ("withdraw.reject", admin.uid, "accepted", "rejected"),
        ("withdraw.reject", admin.uid, "rejected", "rejected"),
        ("withdraw.process", admin.uid, "accepted", "processing"),
    ]
    await _ledger_ok(exchange)


async def test_a_node_error_leaves_the_withdrawal_to_retry(sending: Sending) -> None:
    exchange, chain = sending.exchange, sending.chain
    frank = await exchange.member("frank@example.com")
    await exchange.credit(frank, "eth", "1")
    await chain.anvil.set_balance(sending.hot, ONE_ETH)
    asked = await sending.withdraw(frank, "eth", "0.2")
    working = sending.sender()
    down = EthereumPlugin(f"http://127.0.0.1:{free_port()}", [ETH])
    try:
        broken = Sender(
            working.sessions,
            "ethereum",
            down,
            working.assets,
            working.keystore,
            sending.flow,
            backoff=Backoff(first_s=3600),
        )
        report = await broken.step()
    finally:
        await down.close()

    assert (report.node_errors, report.signed) == (1, 0)
    row = await sending.row(asked["tid"])
    assert (row["state"], row["attempts"], row["txid"]) == ("processing", 1, None)
    assert json.loads(row["error"])["message"]
    assert (await working.step()).signed == 0  # waits for its next attempt
    await exchange.sql("UPDATE withdraws SET next_attempt_at = now()")
    assert (await working.step()).broadcast == 1
    assert await chain.plugin.balance_of(asked["rid"], ETH) == ONE_ETH // 5


async def test_one_sender_per_blockchain_across_processes(sending: Sending) -> None:
    exchange, chain = sending.exchange, sending.chain
    grace = await exchange.member("grace@example.com")
    await exchange.credit(grace, "eth", "1")
    await chain.anvil.set_balance(sending.hot, ONE_ETH)
    nonce = await _nonce(sending)
    sessions = exchange.app.state.session_factory
    database = sessions.kw["bind"]
    services = [
        ScanService(
            database,
            sessions,
            Plugins(exchange.app.state.custody.keystore),
            exchange.runner.submit,
            idle_s=0.05,
        )
        for _ in range(2)
    ]
    try:
        for service in services:
            assert await service.start_senders() == ["ethereum"]
        asked = await sending.withdraw(grace, "eth", "0.1")
        for _ in range(200):
            if (await sending.row(asked["tid"]))["state"] == "confirming":
                break
            await asyncio.sleep(0.05)
        holders = await exchange.sql(
            "SELECT granted FROM pg_locks WHERE locktype = 'advisory' AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid ="
            " (hashtext('bursa.sender.ethereum')::bigint & 4294967295)::text::oid"
        )
        # One sends, the other waits as a standby.
        assert sorted(r["granted"] for r in holders) == [False, True]
        await chain.anvil.mine(3)
        for _ in range(200):
            if (await sending.row(asked["tid"]))["state"] == "succeed":
                break
            await asyncio.sleep(0.05)
    finally:
        for service in services:
            await service.stop()
            await service.plugins.close()
    assert (await sending.row(asked["tid"]))["state"] == "succeed"
    assert await _nonce(sending) == nonce + 1
    assert await chain.plugin.balance_of(asked["rid"], ETH) == ONE_ETH // 10


async def test_an_admin_fails_only_a_transaction_the_chain_does_not_hold(
    sending: Sending,
) -> None:
    """Failing a ``confirming`` withdrawal releases its funds: refused while its
    transaction is mined or pending, allowed once the node knows nothing of it."""
    exchange, chain = sending.exchange, sending.chain
    frank = await exchange.member("frank@example.com")
    admin = await exchange.member("admin@example.com", role="admin")
    await exchange.credit(frank, "eth", "2")
    await chain.anvil.set_balance(sending.hot, 10 * ONE_ETH)
    mined = await sending.withdraw(frank, "eth", "0.5")
    assert (await sending.sender().step()).broadcast == 1
    mined_row = await sending.row(mined["tid"])
    assert (await chain.plugin.transaction(mined_row["txid"])).status == "success"

    refused = await admin.post(f"{ADMIN}/actions", {"id": mined_row["id"], "action": "fail"})

    assert_error(refused, 422, "admin.withdraw.transaction_on_chain")
    assert (await sending.row(mined["tid"]))["state"] == "confirming"
    assert await _account(frank, "eth") == (Decimal("1.495"), Decimal("0.505"))

    # Signed and recorded, never broadcast (the sender died): the node knows nothing.
    lost = await sending.withdraw(frank, "eth", "0.25")
    recorded = await sending.sender().prepare(await sending.row(lost["tid"]))
    assert recorded is not None
    assert (await chain.plugin.transaction(recorded["txid"])).status == "unknown"
    assert await _account(frank, "eth") == (Decimal("1.24"), Decimal("0.76"))

    failed = await admin.post(f"{ADMIN}/actions", {"id": recorded["id"], "action": "fail"})

    assert failed.status_code == 201, failed.text
    assert failed.json()["state"] == "failed"
    assert await _account(frank, "eth") == (Decimal("1.495"), Decimal("0.505"))  # 0.255 back
    await chain.anvil.mine(3)
    report = await sending.sender().step()
    assert (report.broadcast, report.succeeded) == (0, 1)  # the lost one stays unsent
    assert (await chain.plugin.transaction(recorded["txid"])).status == "unknown"
    assert await _account(frank, "eth") == (Decimal("1.495"), Decimal("0"))
    await _ledger_ok(exchange)
    # The lost one never reached a block: its fee, booked when it was recorded, is
    # taken back; the mined one's stays.
    fees = await _fees(sending)
    assert fees[recorded["txid"]][1:] == (Decimal(0), Decimal(0), "settled")
    gas = Decimal(await _gas_paid(sending, mined_row["txid"])) / ONE_ETH
    assert fees[mined_row["txid"]][1:] == (gas, gas, "settled")
    assert await _expensed(sending) == gas

    # The node moves to an address where nothing answers: the API's plugin is opened
    # again on the new settings, and nothing is failed while the node cannot tell.
    stuck = await sending.withdraw(frank, "eth", "0.1")
    recorded = await sending.sender().prepare(await sending.row(stuck["tid"]))
    assert recorded is not None
    keystore = exchange.app.state.custody.keystore
    dead = await keystore.encrypt(NODE_KEY_NAME, f"http://127.0.0.1:{free_port()}".encode())
    await exchange.sql("UPDATE blockchains SET server = $1 WHERE key = 'ethereum'", dead)
    unknown = await admin.post(f"{ADMIN}/actions", {"id": recorded["id"], "action": "fail"})
    assert_error(unknown, 422, "admin.withdraw.chain_unreachable")
    assert (await sending.row(stuck["tid"]))["state"] == "confirming"
