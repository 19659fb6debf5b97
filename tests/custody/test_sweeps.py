"""Deposit collection on a real anvil node: ETH and token deposits credited by the scanner
are swept to the hot wallet (ETH paying its own fee, the token after a gas top-up from the
fee wallet) and withdrawals paid from it, every network fee booked as an expense so the
ledger's assets equal what Bursa's addresses hold, exactly; a crash between signing and
broadcasting sends the same transaction again and books its fee once; the hot wallet's
surplus is proposed to the warm wallet, and the solvency view matches the chain and the
ledger."""

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from bursa.custody.chain import SUCCESS, Signed
from bursa.custody.chains.ethereum import EthereumPlugin
from bursa.custody.locks import hot_wallet_spending
from bursa.custody.sender import Backoff, Sender, email_of
from bursa.custody.service import SweepService
from bursa.custody.sweeper import Sweeper
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.commands import Command
from bursa.ledger.verify import verify_ledger
from bursa.trading.withdrawals import Ask, Withdrawals
from tests.api.management import Management, management  # noqa: F401 - fixture
from tests.api.members import ACCOUNT, Caller, Exchange, assert_error, exchange  # noqa: F401
from tests.custody.anvil import free_port
from tests.custody.test_eth_deposits import USDT_UNIT, Custody, custody  # noqa: F401
from tests.custody.test_ethereum import ETH, ONE_ETH, chain, funded, pay  # noqa: F401

ADMIN = "/api/v2/peatio/admin"


@dataclass
class Sweeping:
    custody: Custody
    sweeper: Sweeper
    admin: Caller
    hot: dict[str, Any]
    fee: dict[str, Any]
    warm: dict[str, Any]

    @property
    def exchange(self) -> Exchange:
        return self.custody.exchange


@pytest.fixture
async def sweeping(custody: Custody) -> Sweeping:
    """Hot, fee and warm wallets made over the admin API, the fee wallet holding gas."""
    exchange, chain = custody.exchange, custody.chain
    admin = await exchange.member("root@example.com", role="admin")
    made = {}
    warm_address = chain.plugin.create_address().address
    for name, kind, held, extra in (
        ("eth-hot", "hot", ["eth", "usdt"], {}),
        ("eth-fee", "fee", ["eth"], {}),
        ("eth-warm", "warm", ["eth", "usdt"], {"address": warm_address}),
    ):
        body = {"name": name, "blockchain_key": "ethereum", "kind": kind, "currencies": held}
        answer = await admin.post(f"{ADMIN}/wallets/new", body | extra)
        assert answer.status_code == 201, answer.text
        made[kind] = answer.json()
    await chain.anvil.set_balance(made["fee"]["address"], ONE_ETH)
    scanner = custody.scanner
    sweeper = Sweeper(
        exchange.app.state.session_factory,
        "ethereum",
        scanner.plugin,
        scanner.assets,
        exchange.app.state.custody.keystore,
        submit=exchange.runner.submit,
    )
    return Sweeping(custody, sweeper, admin, made["hot"], made["fee"], made["warm"])


async def _credited(sweeping: Sweeping, email: str, amount: int, token: bool) -> str:
    """A member's deposit, paid on chain, scanned and credited; its address."""
    custody = sweeping.custody
    chain = custody.chain
    member = await sweeping.exchange.member(email)
    address = str((await member.get(f"{ACCOUNT}/deposit_address/eth")).json()["address"])
    if token:
        await pay(chain, chain.treasury, address, amount, chain.token)
    else:
        await pay(chain, await funded(chain, amount + ONE_ETH), address, amount, ETH)
    await custody.scanner.step()
    await chain.anvil.mine(3)
    assert (await custody.scanner.step()).credited >= 1
    return address


async def _states(exchange: Exchange) -> dict[str, str]:
    rows = await exchange.sql("SELECT address, currency_id, state FROM deposits")
    return {f"{r['currency_id']}@{r['address']}": r["state"] for r in rows}


async def _gas_paid(sweeping: Sweeping, txids: list[str]) -> int:
    """What the transactions paid the network, from their receipts (wei)."""
    paid = 0
    for txid in txids:
        receipt = await sweeping.custody.chain.anvil.rpc("eth_getTransactionReceipt", txid)
        paid += int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    return paid


async def _expenses(sweeping: Sweeping) -> dict[str, list[Decimal]]:
    """The ETH expense postings ``admin/expenses`` lists, by reference (rid)."""
    answer = await sweeping.admin.get(f"{ADMIN}/expenses", currency="eth", limit=1000)
    assert answer.status_code == 200, answer.text
    found: dict[str, list[Decimal]] = {}
    for posting in sorted(answer.json(), key=lambda p: p["id"]):
        assert posting["code"] == 402 and posting["uid"] is None
        amount = Decimal(posting["credit"]) - Decimal(posting["debit"])
        found.setdefault(posting["rid"], []).append(amount)
    return found


async def _book_outside_funding(management: Management, key: str) -> None:
    """The operator put 1 ETH into the fee wallet from outside: booked as README says, a
    Management API transfer from expenses to assets."""
    funding = {
        "key": key,
        "category": "purchases",
        "description": "ETH for the fee wallet's gas",
        "operations": [
            {
                "currency": "eth",
                "amount": "1",
                "account_src": {"code": 402},
                "account_dst": {"code": 102},
            }
        ],
    }
    booked = await management.call("transfers/new", funding)
    assert booked.status_code == 200, booked.text


async def _on_chain(sweeping: Sweeping, currency: Any) -> int:
    """What every address Bursa has on the chain holds: its wallets (of every kind) and
    members' deposit addresses."""
    rows = await sweeping.exchange.sql(
        "SELECT address FROM wallets WHERE blockchain_key = 'ethereum'"
        " UNION SELECT address FROM payment_addresses WHERE blockchain_key = 'ethereum'"
    )
    plugin = sweeping.custody.chain.plugin
    return sum([await plugin.balance_of(r["address"], currency) for r in rows])


async def _withdrawal(
    sweeping: Sweeping, flow: Withdrawals, address: str, currency: str, amount: str, fee: str
) -> Any:
    """A withdrawal by the member owning ``address``, as the Management API makes it."""
    [owner] = await sweeping.exchange.sql(
        "SELECT member_id, uid FROM deposits WHERE address = $1 LIMIT 1", address
    )
    ask = Ask(
        tid=f"TID{uuid.uuid4().hex[:10]}",
        member_id=owner["member_id"],
        uid=owner["uid"],
        currency=currency,
        type="coin",
        precision=18 if currency == "eth" else 8,
        amount=Decimal(amount),
        fee=Decimal(fee),
        rid=sweeping.custody.chain.plugin.create_address().address,
        note=None,
        transfer_type="crypto",
        blockchain_key="ethereum",
    )
    return await flow.create(ask, process=True)


async def test_eth_and_token_deposits_are_collected_to_the_hot_wallet(
    sweeping: Sweeping, management: Management
) -> None:
    exchange, chain = sweeping.exchange, sweeping.custody.chain
    plugin = chain.plugin
    usdt = sweeping.sweeper.assets["usdt"].chain
    hot = sweeping.hot["address"]
    alice = await _credited(sweeping, "alice@example.com", 3 * ONE_ETH // 2, token=False)
    bob = await _credited(sweeping, "bob@example.com", 250 * USDT_UNIT, token=True)
    fee_before = await plugin.balance_of(sweeping.fee["address"], ETH)

    first = await sweeping.sweeper.step()
    assert first.signed == 2  # alice's ETH sweep, and gas for bob's tokens
    assert await _states(exchange) == {
        f"eth@{alice}": "processing",
        f"usdt@{bob}": "fee_processing",
    }
    [gas] = await exchange.sql("SELECT amount, fee FROM sweeps WHERE kind = 'gas'")
    # The top-up is what the token transfer costs at the gas price of the moment.
    assert Decimal(await plugin.balance_of(bob, ETH)) / ONE_ETH == gas["amount"] > 0
    assert Decimal(await plugin.balance_of(sweeping.fee["address"], ETH)) / ONE_ETH == (
        Decimal(fee_before) / ONE_ETH - gas["amount"] - gas["fee"]
    )

    second = await sweeping.sweeper.step()
    assert (second.confirmed, second.collected, second.signed) == (2, 1, 1)
    assert (await _states(exchange))[f"usdt@{bob}"] == "processing"
    third = await sweeping.sweeper.step()
    assert (third.confirmed, third.collected) == (1, 1)
    assert set((await _states(exchange)).values()) == {"collected"}
    assert (await sweeping.sweeper.step()).signed == 0  # nothing is sent twice
    # The scanner reads the sweeps' blocks: the gas sent to Bob's address is no deposit.
    await chain.anvil.mine(3)
    rescanned = await sweeping.custody.scanner.step()
    assert (rescanned.deposits, len(await _states(exchange))) == (0, 2)

    rows = await exchange.sql(
        "SELECT kind, currency_id, amount, fee, txid, state FROM sweeps ORDER BY id"
    )
    assert [(r["kind"], r["currency_id"], r["state"]) for r in rows] == [
        ("collect", "eth", "confirmed"),
        ("gas", "eth", "confirmed"),
        ("collect", "usdt", "confirmed"),
    ]
    swept_eth = rows[0]
    assert swept_eth["amount"] + swept_eth["fee"] == Decimal("1.5")  # the fee came out of it
    assert await plugin.balance_of(alice, ETH) == 0  # the address is swept
    assert Decimal(await plugin.balance_of(hot, ETH)) / ONE_ETH == swept_eth["amount"]
    assert await plugin.balance_of(bob, usdt) == 0
    assert await plugin.balance_of(hot, usdt) == 250 * USDT_UNIT
    assert rows[2]["amount"] == Decimal(250)
    for row in rows:
        assert (await plugin.transaction(row["txid"])).status == SUCCESS

    shown = await sweeping.admin.get(f"{ADMIN}/wallets/sweeps", kind="collect")
    assert [s["currency"] for s in shown.json()] == ["eth", "usdt"]
    events = [e for e in await exchange.outbox() if e.get("name") == "model.deposit.updated"]
    assert any(e["record"]["state"] == "collected" for e in events), events[-1]

    # Out: the hot wallet pays ETH and tokens (the tokens' gas in ETH).
    flow = Withdrawals(sweeping.sweeper.sessions, exchange.runner.submit, email_of)
    sender = Sender(
        sweeping.sweeper.sessions,
        "ethereum",
        plugin,
        sweeping.sweeper.assets,
        sweeping.sweeper.keystore,
        flow,
        backoff=Backoff(first_s=0, skipped_s=3600),
    )
    # (The token first: the sender counts a payment as in flight until its next step.)
    paid_usdt = await _withdrawal(sweeping, flow, bob, "usdt", "100", "5")
    paid_eth = await _withdrawal(sweeping, flow, alice, "eth", "1", "0.005")
    sent = await sender.step()
    assert (sent.signed, sent.broadcast, sent.fees_booked) == (2, 2, 2)
    await chain.anvil.mine(3)
    assert (await sender.step()).succeeded == 2
    withdrawn = await exchange.sql("SELECT id, txid, state FROM withdraws ORDER BY id")
    assert [w["state"] for w in withdrawn] == ["succeed", "succeed"]
    assert await plugin.balance_of(paid_eth["rid"], ETH) == ONE_ETH
    assert await plugin.balance_of(paid_usdt["rid"], usdt) == 100 * USDT_UNIT

    # The operator funded the fee wallet from outside (1 ETH): booked as such, with a
    # Management API transfer from expenses to assets.
    await _book_outside_funding(management, "fee-wallet-funding-1")

    # Every fee is an expense: what each transaction paid, by its receipt.
    fees = {
        f"network_fee:sweep:{r['id']}": r["txid"]
        for r in await exchange.sql("SELECT id, txid FROM sweeps")
    } | {f"network_fee:withdraw:{w['id']}": w["txid"] for w in withdrawn}
    expenses = await _expenses(sweeping)
    for rid, txid in fees.items():
        paid = Decimal(await _gas_paid(sweeping, [txid])) / ONE_ETH
        assert sum(expenses[rid]) == paid, rid
    token_moves = [rid for rid, txid in fees.items() if len(expenses[rid]) == 2]
    assert len(token_moves) == 2  # the token sweep and payout: booked, then corrected down
    records = (await sweeping.admin.get(f"{ADMIN}/wallets/fees", ordering="asc")).json()
    assert {r["reference"] for r in records} == set(fees)
    for record in records:
        assert record["state"] == "settled" and record["currency"] == "eth"
        assert record["booked"] == record["actual"]
        assert Decimal(record["actual"]) <= Decimal(record["estimated"])
        assert record["sent_key"] == f"network_fee:{record['id']}:sent"

    # The books hold what the chain does, exactly, and verify.
    conn = await asyncpg.connect(exchange.database_url)
    try:
        report = await verify_ledger(conn)
    finally:
        await conn.close()
    assert report.ok, report.breaks
    assets = {t.currency: t.assets for t in report.totals}
    assert await _on_chain(sweeping, ETH) == assets["eth"] * ONE_ETH
    assert await _on_chain(sweeping, usdt) == assets["usdt"] * USDT_UNIT
    expensed = next(t.expenses for t in report.totals if t.currency == "eth")
    assert expensed == Decimal(await _gas_paid(sweeping, list(fees.values()))) / ONE_ETH - 1
    view = {
        c["currency"]: c for c in (await sweeping.admin.get(f"{ADMIN}/wallets/overview")).json()
    }
    for code in ("eth", "usdt"):
        assert (view[code]["difference"], view[code]["status"]) == ("0", "ok"), view[code]
        assert Decimal(view[code]["assets"]) == assets[code]


class Crashed(BaseException):
    """The process dies: nothing in the sweeper handles it."""


class DiesBeforeBroadcast(EthereumPlugin):
    async def broadcast(self, signed: Signed) -> str:
        raise Crashed(signed.txid)


async def test_a_crash_between_signing_and_broadcasting_sends_the_same_transaction(
    sweeping: Sweeping,
) -> None:
    """The same transaction is sent after a crash, and its fee booked once: the process
    dies after recording it, then again after the engine booked the fee but before the
    fee's row said so."""
    exchange, chain = sweeping.exchange, sweeping.custody.chain
    carol = await _credited(sweeping, "carol@example.com", 2 * ONE_ETH, token=False)
    sweeper = sweeping.sweeper
    dying = DiesBeforeBroadcast(chain.anvil.url, [a.chain for a in sweeper.assets.values()])
    crashed = Sweeper(
        sweeper.sessions,
        "ethereum",
        dying,
        sweeper.assets,
        sweeper.keystore,
        submit=exchange.runner.submit,
    )
    try:
        with pytest.raises(Crashed):
            await crashed.step()
    finally:
        await dying.close()
    [recorded] = await exchange.sql("SELECT id, txid, raw, state, fee FROM sweeps")
    assert recorded["state"] == "signed"
    assert (await chain.plugin.transaction(recorded["txid"])).status == "unknown"
    assert (await _states(exchange))[f"eth@{carol}"] == "processing"
    [fee] = await exchange.sql("SELECT txid, estimated, state FROM network_fees")
    assert (fee["txid"], fee["estimated"], fee["state"]) == (
        recorded["txid"],
        recorded["fee"],
        "recorded",
    )
    assert await _expenses(sweeping) == {}

    async def commits_then_dies(command: Command) -> dict[str, Any]:
        await exchange.runner.submit(command)
        raise Crashed(command.key)

    dies_after_engine = Sweeper(
        sweeper.sessions,
        "ethereum",
        sweeper.plugin,
        sweeper.assets,
        sweeper.keystore,
        submit=commits_then_dies,
    )
    with pytest.raises(Crashed):
        await dies_after_engine.step()
    assert [r["state"] for r in await exchange.sql("SELECT state FROM network_fees")] == [
        "recorded"
    ]

    restarted = await sweeper.step()
    assert (restarted.rebroadcast, restarted.signed) == (1, 0)
    landed = await chain.plugin.transaction(recorded["txid"])
    assert landed.status == SUCCESS
    await sweeper.step()
    [after] = await exchange.sql("SELECT txid, raw, state FROM sweeps")
    assert (after["txid"], after["raw"], after["state"]) == (
        recorded["txid"],
        recorded["raw"],
        "confirmed",
    )
    assert (await _states(exchange))[f"eth@{carol}"] == "collected"
    assert await chain.plugin.balance_of(carol, ETH) == 0
    # One booking, of what the transaction paid (a plain transfer: exactly its estimate).
    paid = Decimal(await _gas_paid(sweeping, [recorded["txid"]])) / ONE_ETH
    rid = f"network_fee:sweep:{recorded['id']}"
    assert await _expenses(sweeping) == {rid: [paid]}
    [fee] = await exchange.sql("SELECT actual, booked, state FROM network_fees")
    assert (fee["actual"], fee["booked"], fee["state"]) == (paid, paid, "settled")
    await exchange.ledger_ok()


async def test_small_deposits_are_skipped_below_the_minimum_collection(
    sweeping: Sweeping,
) -> None:
    exchange = sweeping.exchange
    await exchange.sql(
        'UPDATE currencies SET options = options || \'{"min_collection_amount": "5"}\''
        " WHERE id = 'eth'"
    )
    dave = await _credited(sweeping, "dave@example.com", ONE_ETH, token=False)
    report = await sweeping.sweeper.step()
    assert (report.skipped, report.signed) == (1, 0)
    assert (await _states(exchange))[f"eth@{dave}"] == "skipped"
    assert await sweeping.custody.chain.plugin.balance_of(dave, ETH) == ONE_ETH


async def test_the_hot_surplus_is_proposed_to_the_warm_wallet_and_sent_when_allowed(
    sweeping: Sweeping,
) -> None:
    exchange, chain, admin = sweeping.exchange, sweeping.custody.chain, sweeping.admin
    hot, warm = sweeping.hot, sweeping.warm
    capped = await admin.post(f"{ADMIN}/wallets/update", {"id": hot["id"], "max_balance": "1"})
    assert capped.status_code == 201, capped.text
    assert capped.json()["max_balance"] == "1"
    await chain.anvil.set_balance(hot["address"], 3 * ONE_ETH)

    report = await sweeping.sweeper.step()
    assert report.proposed == 1  # ETH only: the hot wallet holds no token
    shown = (await admin.get(f"{ADMIN}/wallets/sweeps", kind="surplus")).json()
    assert [(s["currency"], s["amount"], s["state"], s["to_address"]) for s in shown] == [
        ("eth", "2", "proposed", warm["address"])
    ]
    assert shown[0]["to_wallet_id"] == warm["id"] and shown[0]["txid"] is None
    assert (await sweeping.sweeper.step()).proposed == 0  # one open proposal
    assert await chain.plugin.balance_of(warm["address"], ETH) == 0  # not sent: no option

    # An admin dismisses it (moved by hand, say): the sweeper proposes anew while above.
    dismissed = await admin.post(
        f"{ADMIN}/wallets/sweeps/action", {"id": shown[0]["id"], "action": "dismiss"}
    )
    assert dismissed.status_code == 201, dismissed.text
    assert dismissed.json()["state"] == "dismissed"
    assert_error(
        await admin.post(
            f"{ADMIN}/wallets/sweeps/action", {"id": shown[0]["id"], "action": "dismiss"}
        ),
        422,
        "admin.wallet.cannot_perform_dismiss_action",
    )
    assert (await sweeping.sweeper.step()).proposed == 1

    await exchange.sql(
        "UPDATE currencies SET options = options || '{\"send_surplus\": true}' WHERE id = 'eth'"
    )
    sent = await sweeping.sweeper.step()
    assert sent.signed == 1
    assert await chain.plugin.balance_of(warm["address"], ETH) == 2 * ONE_ETH
    await sweeping.sweeper.step()
    row = (await admin.get(f"{ADMIN}/wallets/sweeps", kind="surplus", state="confirmed")).json()[0]
    assert row["txid"].startswith("0x") and row["amount"] == "2"
    assert (await sweeping.sweeper.step()).proposed == 0  # below the cap now


async def test_the_solvency_view_matches_the_chain_and_the_ledger(
    sweeping: Sweeping, management: Management
) -> None:
    exchange, chain, admin = sweeping.exchange, sweeping.custody.chain, sweeping.admin
    erin_address = await _credited(sweeping, "erin@example.com", 2 * ONE_ETH, token=False)
    [deposit_wallet] = await exchange.sql("SELECT address FROM wallets WHERE kind = 'deposit'")

    async def view() -> dict[str, dict[str, Any]]:
        answer = await admin.get(f"{ADMIN}/wallets/overview")
        assert answer.status_code == 200, answer.text
        return {c["currency"]: c for c in answer.json()}

    addresses = {
        erin_address,
        sweeping.hot["address"],
        sweeping.fee["address"],
        sweeping.warm["address"],
        deposit_wallet["address"],
    }
    wei = sum([await chain.plugin.balance_of(a, ETH) for a in addresses])
    on_chain = Decimal(wei) / ONE_ETH
    eth = (await view())["eth"]
    assert eth["addresses"] == len(addresses)
    assert Decimal(eth["on_chain"]) == on_chain
    assert (eth["liabilities"], eth["assets"]) == ("2", "2")
    # The fee wallet's gas came from outside: on chain, not in the books.
    assert Decimal(eth["difference"]) == on_chain - 2 == 1
    assert Decimal(eth["reserve"]) == on_chain - 2
    assert eth["status"] == "mismatch"

    await _book_outside_funding(management, "fee-wallet-gas")
    booked = (await view())["eth"]
    assert (booked["assets"], booked["difference"], booked["status"]) == ("3", "0", "ok")

    # Money the ledger holds but the chain does not: the view shows the gap.
    [erin] = await exchange.sql(
        "SELECT uid, member_id FROM deposits WHERE address = $1", erin_address
    )
    await exchange.credit(Caller(admin.client, erin["uid"], int(erin["member_id"])), "eth", "10")
    short = (await view())["eth"]
    assert (short["liabilities"], short["assets"]) == ("12", "13")
    assert Decimal(short["difference"]) == on_chain - 13
    assert Decimal(short["reserve"]) == on_chain - 12
    assert short["status"] == "short"


async def test_a_node_that_does_not_answer_shows_as_unavailable(sweeping: Sweeping) -> None:
    exchange, admin = sweeping.exchange, sweeping.admin
    dead = f"http://127.0.0.1:{free_port()}"
    added = await admin.post(
        f"{ADMIN}/blockchains/new",
        {"key": "deadchain", "name": "Down", "client": "ethereum", "server": dead},
    )
    assert added.status_code == 201, added.text
    await exchange.sql("UPDATE currencies SET blockchain_key = 'deadchain' WHERE id = 'btc'")
    wallet = await admin.post(
        f"{ADMIN}/wallets/new",
        {"name": "down-hot", "blockchain_key": "deadchain", "kind": "hot", "currencies": ["btc"]},
    )
    assert wallet.status_code == 201, wallet.text
    answer = await admin.get(f"{ADMIN}/wallets/overview")
    found = {c["currency"]: c for c in answer.json()}
    assert found["btc"]["status"] == "unavailable" and found["btc"]["on_chain"] is None
    assert found["eth"]["status"] != "unavailable"


async def test_admin_blockchains_and_wallets_never_show_secrets(sweeping: Sweeping) -> None:
    admin, chain = sweeping.admin, sweeping.custody.chain
    listed = await admin.get(f"{ADMIN}/blockchains")
    assert listed.status_code == 200 and listed.headers["Total"] == "1"
    [ethereum] = listed.json()
    assert ethereum["key"] == "ethereum" and ethereum["client"] == "ethereum"
    one = await admin.get(f"{ADMIN}/blockchains/ethereum")
    assert one.json() == ethereum
    assert chain.anvil.url not in one.text and "server" not in one.json()
    assert_error(await admin.get(f"{ADMIN}/blockchains/nochain"), 404, "record.not_found")

    wallets = (await admin.get(f"{ADMIN}/wallets")).json()
    assert {w["kind"] for w in wallets} == {"deposit", "hot", "fee", "warm"}
    hot = (await admin.get(f"{ADMIN}/wallets/{sweeping.hot['id']}")).json()
    assert hot["currencies"] == ["eth", "usdt"] and "secret" not in hot
    [sealed] = await sweeping.exchange.sql(
        "SELECT secret FROM wallets WHERE id = $1", sweeping.hot["id"]
    )
    assert sealed["secret"] not in str(wallets) and sealed["secret"] not in str(hot)

    refusals: list[tuple[dict[str, object], str]] = [
        ({"kind": "vault"}, "admin.wallet.invalid_kind"),
        ({"blockchain_key": "nochain"}, "admin.wallet.blockchain_doesnt_exist"),
        ({"currencies": ["btc"]}, "admin.wallet.invalid_currencies"),
        ({"kind": "cold"}, "admin.wallet.missing_address"),
        ({"address": "0x00"}, "admin.wallet.redundant_address"),
        ({"name": "eth-hot"}, "admin.wallet.name_taken"),
        ({"max_balance": "-1"}, "admin.wallet.invalid_max_balance"),
        ({"max_balance": "1e30"}, "admin.wallet.invalid_max_balance"),
        ({"currencies": ["eth\x00"]}, "admin.wallet.invalid_currencies"),
    ]
    base: dict[str, object] = {
        "name": "another",
        "blockchain_key": "ethereum",
        "kind": "hot",
        "currencies": ["eth"],
    }
    for change, code in refusals:
        assert_error(await admin.post(f"{ADMIN}/wallets/new", base | change), 422, code)
    bad_client = {"key": "x", "name": "X", "client": "nochain", "server": "http://x"}
    assert_error(
        await admin.post(f"{ADMIN}/blockchains/new", bad_client),
        422,
        "admin.blockchain.invalid_client",
    )
    blockchain_refusals: list[tuple[dict[str, object], str]] = [
        ({"key": "Has Space"}, "admin.blockchain.invalid_key"),
        ({"server": "localhost"}, "admin.blockchain.invalid_server"),
        ({"min_confirmations": 0}, "admin.blockchain.invalid_min_confirmations"),
        ({"min_confirmations": 2**40}, "admin.blockchain.invalid_min_confirmations"),
    ]
    for change, code in blockchain_refusals:
        assert_error(await admin.post(f"{ADMIN}/blockchains/new", bad_client | change), 422, code)
    taken = bad_client | {"key": "ethereum", "client": "ethereum"}
    assert_error(
        await admin.post(f"{ADMIN}/blockchains/new", taken), 422, "admin.blockchain.key_taken"
    )
    changed = await admin.post(
        f"{ADMIN}/blockchains/update", {"key": "ethereum", "min_confirmations": 5}
    )
    assert changed.status_code == 201, changed.text
    assert changed.json()["min_confirmations"] == 5
    assert_error(
        await admin.post(f"{ADMIN}/blockchains/update", {"key": "ethereum", "status": "gone"}),
        422,
        "admin.blockchain.invalid_status",
    )
    chain_log = (await admin.get(f"{ADMIN}/audit", target_type="Blockchain")).json()
    assert [e["action"] for e in chain_log] == ["blockchain.update"]
    assert chain.anvil.url not in str(chain_log)
    member = await sweeping.exchange.member("mallory@example.com")
    assert (await member.get(f"{ADMIN}/wallets")).status_code in (401, 403)
    # Barong's permissions drop compliance on wallets: the views under it follow.
    compliance = await sweeping.exchange.member("compliance@example.com", role="compliance")
    for path in ("wallets/overview", "wallets/sweeps"):
        assert (await compliance.get(f"{ADMIN}/{path}")).status_code in (401, 403)
    reporter = await sweeping.exchange.member("reporter@example.com", role="accountant")
    assert (await reporter.get(f"{ADMIN}/wallets/overview")).status_code == 200
    log = (await admin.get(f"{ADMIN}/audit", target_type="Wallet")).json()
    assert {e["action"] for e in log} >= {"wallet.create"}


async def test_the_sweep_service_collects_in_the_background(sweeping: Sweeping) -> None:
    exchange = sweeping.exchange
    frank = await _credited(sweeping, "frank@example.com", ONE_ETH, token=False)
    engine = create_engine(exchange.database_url, pool_size=2)
    service = SweepService(
        engine,
        create_session_factory(engine),
        exchange.app.state.custody,
        exchange.runner.submit,
        idle_s=0.1,
    )
    try:
        assert await service.start() == ["ethereum"]
        for _ in range(100):
            if (await _states(exchange))[f"eth@{frank}"] == "collected":
                break
            await sweeping.custody.chain.anvil.mine(1)  # the chain goes on: confirmations
            await asyncio.sleep(0.1)
    finally:
        await service.stop()
        await engine.dispose()
    assert (await _states(exchange))[f"eth@{frank}"] == "collected"
    assert await sweeping.custody.chain.plugin.balance_of(frank, ETH) == 0


async def test_a_sweep_counts_only_at_the_confirmations_asked_for(sweeping: Sweeping) -> None:
    exchange, chain = sweeping.exchange, sweeping.custody.chain
    deep = Sweeper(
        exchange.app.state.session_factory,
        "ethereum",
        sweeping.sweeper.plugin,
        sweeping.sweeper.assets,
        exchange.app.state.custody.keystore,
        submit=exchange.runner.submit,
        confirmations=3,
    )
    alice = await _credited(sweeping, "alice@example.com", ONE_ETH, token=False)
    assert (await deep.step()).signed == 1
    assert (await deep.step()).confirmed == 0  # mined: one confirmation
    await chain.anvil.mine(1)
    assert (await deep.step()).confirmed == 0  # two
    assert (await _states(exchange))[f"eth@{alice}"] == "processing"
    await chain.anvil.mine(1)
    assert (await deep.step()).confirmed == 1  # three
    assert (await _states(exchange))[f"eth@{alice}"] == "collected"


async def test_surplus_sends_wait_for_the_hot_wallet_spending_lock(sweeping: Sweeping) -> None:
    """The sender and the sweeper's surplus sends both spend from the hot wallet: whoever
    signs holds the chain's lock until its broadcast returned (one nonce each)."""
    exchange = sweeping.exchange
    sessions = exchange.app.state.session_factory
    await exchange.sql(
        "UPDATE currencies SET options = options || '{\"send_surplus\": true}'::jsonb"
        " WHERE id = 'eth'"
    )
    await exchange.sql("UPDATE wallets SET max_balance = 1 WHERE kind = 'hot'")
    await sweeping.custody.chain.anvil.set_balance(sweeping.hot["address"], 3 * ONE_ETH)
    async with hot_wallet_spending(sessions, "ethereum"):
        stepping = asyncio.create_task(sweeping.sweeper.step())
        await asyncio.sleep(0.5)
        assert not stepping.done()  # waiting for the lock, nothing signed yet
        rows = await exchange.sql("SELECT state FROM sweeps WHERE kind = 'surplus'")
        assert [r["state"] for r in rows] == ["proposed"]
    report = await asyncio.wait_for(stepping, 10)
    assert report.signed == 1
    rows = await exchange.sql("SELECT state FROM sweeps WHERE kind = 'surplus'")
    assert [r["state"] for r in rows] in (["broadcast"], ["signed"], ["confirmed"])
