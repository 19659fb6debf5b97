"""The deposit scanner on a real engine and PostgreSQL, following a scripted chain whose
blocks the test mines and reorganises at will (the chain plugins are tested against real
nodes in their own modules; here the subject is what the scanner does with blocks):
deposits recorded once, credited once at the confirmations asked for, skipped below the
minimum, taken back or flagged when the chain reorganises, and finished after a crash."""

import itertools
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from bursa.custody import registry
from bursa.custody.chain import FAILED, Block, ChainError, Transfer
from bursa.custody.scanner import Scanner
from bursa.db.session import create_engine, create_session_factory
from bursa.trading import deposits as deposit_records
from tests.api.members import (
    ACCOUNT,
    Caller,
    Exchange,
    exchange,  # noqa: F401 - fixture
)

WEI = 10**18
_hashes = itertools.count(1)


class ScriptedChain:
    """Blocks the test mines; ``reorganise`` drops the blocks from a height."""

    case_sensitive = False

    def __init__(self) -> None:
        self.blocks = [Block(0, "0xgenesis", "0x0")]
        self.down = False

    def mine(self, *transfers: Transfer, empty: int = 0) -> Block:
        for _ in range(empty + 1):
            height = len(self.blocks)
            placed = tuple(
                Transfer(t.txid, t.txout, t.to_address, t.amount, t.currency, height, (), t.status)
                for t in transfers
            )
            block = Block(height, f"0x{next(_hashes):064x}", self.blocks[-1].hash, placed)
            self.blocks.append(block)
            transfers = ()
        return self.blocks[-1]

    def reorganise(self, height: int) -> None:
        del self.blocks[height:]

    async def latest_height(self) -> int:
        if self.down:
            raise ChainError("connection refused")
        return len(self.blocks) - 1

    async def block(self, height: int, watched: frozenset[str] | None = None) -> Block:
        block = self.blocks[height]
        if watched is None:
            return block
        kept = tuple(t for t in block.transfers if t.to_address in watched)
        return Block(block.height, block.hash, block.parent_hash, kept)


def pay(txid: str, address: str, eth: str, txout: int = 0, status: str = "success") -> Transfer:
    return Transfer(txid, txout, address, int(Decimal(eth) * WEI), "eth", 0, (), status)


class Rig:
    def __init__(self, exchange: Exchange, chain: ScriptedChain, scanner: Scanner) -> None:
        self.exchange, self.chain, self.scanner = exchange, chain, scanner

    async def address_of(self, member: Caller) -> str:
        address = f"0x{member.id:040x}"
        await self.exchange.sql(
            "INSERT INTO payment_addresses (member_id, wallet_id, blockchain_key, address, secret)"
            " SELECT $1, id, 'ethereum', $2, 'sealed' FROM wallets WHERE name = 'eth-deposit'",
            member.id,
            address,
        )
        return address

    async def deposits(self) -> list[tuple[str, str, str, Any]]:
        rows = await self.exchange.sql(
            "SELECT txid, state, amount, error FROM deposits WHERE type = 'coin' ORDER BY id"
        )
        return [
            (r["txid"], r["state"], str(r["amount"]), r["error"] and json.loads(r["error"]))
            for r in rows
        ]


@pytest.fixture
async def rig(exchange: Exchange) -> AsyncIterator[Rig]:
    await exchange.sql(
        "INSERT INTO blockchains (key, name, client, height, min_confirmations) VALUES"
        " ('ethereum', 'Ethereum', 'ethereum', 1, 3)"
    )
    await exchange.sql(
        "INSERT INTO wallets (name, blockchain_key, kind) VALUES ('eth-deposit', 'ethereum',"
        " 'deposit')"
    )
    await exchange.sql("UPDATE currencies SET min_deposit_amount = 0.01 WHERE id = 'eth'")
    database = create_engine(exchange.database_url, pool_size=2)
    sessions = create_session_factory(database)
    async with sessions() as session:
        assets = await registry.assets(session, "ethereum")
    chain = ScriptedChain()
    scanner = Scanner(sessions, "ethereum", chain, assets, exchange.runner.submit)  # type: ignore[arg-type]
    try:
        yield Rig(exchange, chain, scanner)
    finally:
        await database.dispose()


async def _eth(member: Caller) -> Decimal:
    answer = await member.get(f"{ACCOUNT}/balances/eth")
    return Decimal(answer.json()["balance"])


async def _ledger_ok(exchange: Exchange) -> None:
    await exchange.ledger_ok()


async def test_a_deposit_is_credited_once_at_its_confirmations(rig: Rig) -> None:
    alice = await rig.exchange.member("alice@example.com")
    address = await rig.address_of(alice)
    rig.chain.mine(pay("0xaa", address, "1.5"), pay("0xbb", "0xsomeoneelse", "7"))

    first = await rig.scanner.step()
    assert (first.blocks, first.deposits, first.credited) == (1, 1, 0)
    assert await rig.deposits() == [("0xaa", "submitted", "1.500000000000000000", None)]

    rig.chain.mine()  # two confirmations
    assert (await rig.scanner.step()).credited == 0
    assert await _eth(alice) == 0
    rig.chain.mine()  # three
    third = await rig.scanner.step()
    assert third.credited == 1
    assert await _eth(alice) == Decimal("1.5")
    [shown] = (await alice.get(f"{ACCOUNT}/deposits")).json()
    assert (shown["confirmations"], shown["min_confirmations"]) == (3, 3)  # the chain's
    rig.chain.mine(empty=2)
    assert (await rig.scanner.step()).credited == 0

    # Read the same blocks again (a replay): nothing is recorded or credited twice.
    await rig.exchange.sql("UPDATE blockchains SET height = 1")
    await rig.exchange.sql("DELETE FROM chain_blocks")
    again = await rig.scanner.step()
    assert (again.deposits, again.credited) == (0, 0)
    assert await rig.deposits() == [("0xaa", "accepted", "1.500000000000000000", None)]
    assert await _eth(alice) == Decimal("1.5")
    events = [e["name"] for e in await rig.exchange.outbox() if "deposit" in e["name"]]
    assert events == ["model.deposit.created", "model.deposit.updated"]
    await _ledger_ok(rig.exchange)


async def test_a_currency_override_beats_the_chains_confirmations(rig: Rig) -> None:
    await rig.exchange.sql("UPDATE currencies SET min_confirmations = 2 WHERE id = 'eth'")
    async with rig.scanner.sessions() as session:
        rig.scanner.assets = await registry.assets(session, "ethereum")
    alice = await rig.exchange.member("alice@example.com")
    rig.chain.mine(pay("0xaa", await rig.address_of(alice), "1"), empty=1)
    assert (await rig.scanner.step()).credited == 1  # two confirmations, not the chain's 3
    [shown] = (await alice.get(f"{ACCOUNT}/deposits")).json()
    assert shown["min_confirmations"] == 2


async def test_small_failed_and_dusty_deposits(rig: Rig) -> None:
    bob = await rig.exchange.member("bob@example.com")
    address = await rig.address_of(bob)
    dust = Transfer("0xdd", 0, address, 5, "eth", 0)  # 5 wei: counted, below the minimum
    rig.chain.mine(
        pay("0xsmall", address, "0.001"),
        pay("0xfail", address, "2", status=FAILED),
        dust,
        pay("0xok", address, "0.25", txout=3),
        empty=3,
    )
    await rig.scanner.step()
    states = {txid: state for txid, state, _, _ in await rig.deposits()}
    assert states == {"0xsmall": "skipped", "0xdd": "skipped", "0xok": "accepted"}
    assert await _eth(bob) == Decimal("0.25")


async def test_a_reorganisation_takes_back_uncredited_deposits_and_flags_credited_ones(
    rig: Rig,
) -> None:
    carol = await rig.exchange.member("carol@example.com")
    address = await rig.address_of(carol)
    rig.chain.mine(pay("0xold", address, "1"), empty=2)  # heights 1-3: credited at 3
    await rig.scanner.step()
    assert await _eth(carol) == Decimal("1")
    rig.chain.mine(pay("0xnew", address, "2"))  # height 4: one confirmation
    await rig.scanner.step()

    # The chain drops heights 2 and up: 0xold's block stays, 0xnew's goes.
    rig.chain.reorganise(2)
    rig.chain.mine(empty=2)  # new heights 2-4, 0xnew not in them
    report = await rig.scanner.step()
    assert report.reorganised_from == 2
    found = {txid: (state, error) for txid, state, _, error in await rig.deposits()}
    assert found["0xold"] == ("accepted", None)
    assert found["0xnew"][0] == "canceled"
    assert found["0xnew"][1]["reorganised"]["block_number"] == 4

    # 0xnew is mined again: it comes back and is credited at its confirmations.
    rig.chain.mine(pay("0xnew", address, "2"), empty=2)
    await rig.scanner.step()
    found = {txid: (state, error) for txid, state, _, error in await rig.deposits()}
    assert found["0xnew"] == ("accepted", None)
    assert await _eth(carol) == Decimal("3")

    # Now a reorganisation below a credited deposit: it is flagged, not reversed.
    rig.chain.reorganise(1)
    rig.chain.mine(empty=9)
    await rig.scanner.step()
    flagged = {txid: error for txid, _, _, error in await rig.deposits()}
    assert flagged["0xold"]["reorganised"]["block_number"] == 1
    assert flagged["0xnew"]["reorganised"]["block_number"] == 5
    assert await _eth(carol) == Decimal("3")
    await _ledger_ok(rig.exchange)


async def test_a_crash_between_engine_and_deposit_is_finished_once(rig: Rig) -> None:
    dave = await rig.exchange.member("dave@example.com")
    address = await rig.address_of(dave)
    rig.chain.mine(pay("0xcc", address, "4"), empty=2)
    await rig.scanner.step()
    assert await _eth(dave) == Decimal("4")
    # The engine credited, then the process died before the deposit said so.
    await rig.exchange.sql("UPDATE deposits SET state = 'accepting', completed_at = NULL")
    assert (await rig.scanner.step()).credited == 1
    assert await _eth(dave) == Decimal("4")
    assert [s for _, s, _, _ in await rig.deposits()] == ["accepted"]


async def test_a_node_that_is_down_loses_nothing(rig: Rig) -> None:
    erin = await rig.exchange.member("erin@example.com")
    address = await rig.address_of(erin)
    rig.chain.mine(pay("0xee", address, "1"), empty=2)
    rig.chain.down = True
    with pytest.raises(ChainError):
        await rig.scanner.step()
    rig.chain.down = False
    assert (await rig.scanner.step()).credited == 1
    assert await _eth(erin) == Decimal("1")


ADMIN_DEPOSITS = "/api/v2/peatio/admin/deposits"


async def test_admins_see_flagged_deposits_reject_coins_and_accept_only_fiat(rig: Rig) -> None:
    exchange = rig.exchange
    frank = await exchange.member("frank@example.com")
    address = await rig.address_of(frank)
    admin = await exchange.member("ops@example.com", role="admin")
    rig.chain.mine(pay("0xf1", address, "1"), empty=2)  # credited at height 3
    rig.chain.mine(pay("0xf2", address, "2"))  # height 4: one confirmation
    await rig.scanner.step()

    listed = await admin.get(ADMIN_DEPOSITS, type="coin")
    assert listed.status_code == 200, listed.text
    by_txid = {d["txid"]: d for d in listed.json()}
    assert (by_txid["0xf1"]["state"], by_txid["0xf1"]["confirmations"]) == ("accepted", 4)
    assert by_txid["0xf2"]["state"] == "submitted"
    assert by_txid["0xf1"]["uid"] == frank.uid

    # An admin cannot credit coins the chain has not confirmed, but may reject them.
    coin = by_txid["0xf2"]["id"]
    refused = await admin.post(f"{ADMIN_DEPOSITS}/actions", {"id": coin, "action": "accept"})
    assert refused.status_code == 422
    assert refused.json() == {"errors": ["admin.deposit.cannot_perform_accept_action"]}
    rejected = await admin.post(f"{ADMIN_DEPOSITS}/actions", {"id": coin, "action": "reject"})
    assert rejected.status_code == 201, rejected.text
    assert rejected.json()["state"] == "rejected"
    rig.chain.mine(empty=3)
    assert (await rig.scanner.step()).credited == 0
    assert await _eth(frank) == Decimal("1")

    # A reorganisation below the credited one flags it for admins.
    rig.chain.reorganise(1)
    rig.chain.mine(empty=8)
    await rig.scanner.step()
    flagged = (await admin.get(ADMIN_DEPOSITS, flagged="true")).json()
    assert [d["txid"] for d in flagged] == ["0xf1"]
    assert flagged[0]["error"]["reorganised"]["block_number"] == 1

    # A fiat deposit a payment gateway left submitted: an admin checks it and accepts it.
    async with exchange.app.state.session_factory() as session, session.begin():
        row, _ = await deposit_records.create(
            session,
            tid="TIDFIAT00001",
            member_id=frank.id,
            uid=frank.uid,
            currency_id="usd",
            type="fiat",
            amount=Decimal("75"),
            fee=Decimal(0),
            transfer_type="wire",
        )
    accepted = await admin.post(f"{ADMIN_DEPOSITS}/actions", {"id": row["id"], "action": "accept"})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["state"] == "accepted"
    again = await admin.post(f"{ADMIN_DEPOSITS}/actions", {"id": row["id"], "action": "accept"})
    assert again.json()["state"] == "accepted"
    balance = (await frank.get(f"{ACCOUNT}/balances/usd")).json()
    assert balance["balance"] == "75"
    audited = await exchange.sql("SELECT action FROM admin_audit ORDER BY id")
    # Changes and repeats are audited; a refused action changed nothing and is not.
    assert [a["action"] for a in audited] == ["deposit.reject", "deposit.accept", "deposit.accept"]
    assert (await frank.get(ADMIN_DEPOSITS)).status_code in (401, 403)  # not staff
    await _ledger_ok(exchange)
