"""The Peatio admin API's remaining custody operations over HTTP, with a real engine:
wallet kinds, gateways and currencies; blockchain clients, the node's latest block and
reading a block again (through the scanner's code, credited once); admins recording fiat
deposits (accepted through the engine) and refunds refused on purpose; withdrawals'
metadata; whitelisted smart contracts (one by one and from CSV); airdrops from CSV (one
engine transfer, idempotent, all rows checked first). Bad input changes nothing."""

from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import registry
from bursa.custody.addresses import Plugins
from bursa.custody.chain import Block, ChainError, ChainPlugin, Transfer
from tests.api.members import (
    ACCOUNT,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

ADMIN = "/api/v2/peatio/admin"
CHAIN = "fakechain"
ALICE_ADDRESS = "fake-address-alice"


async def send(
    caller: Caller, method: str, path: str, *, files: Any = None, **kwargs: Any
) -> httpx.Response:
    headers = {"X-CSRF-Token": caller.csrf}
    return await caller.client.request(method, path, headers=headers, files=files, **kwargs)


async def upload(caller: Caller, path: str, content: bytes) -> httpx.Response:
    return await send(caller, "POST", path, files={"file": ("rows.csv", content, "text/csv")})


async def balance(member: Caller, currency: str) -> str:
    found = await member.get(f"{ACCOUNT}/balances/{currency}")
    assert found.status_code == 200, found.text
    return str(found.json()["balance"])


async def add_chain(exchange: Exchange, key: str = CHAIN, client: str = "bitcoin") -> None:
    await exchange.sql(
        "INSERT INTO blockchains (key, name, client, height, min_confirmations)"
        " VALUES ($1, $1, $2, 10, 1)",
        key,
        client,
    )


# ---------------------------------------------------------------------- wallets


async def test_wallet_kinds_gateways_and_currencies(exchange: Exchange) -> None:
    admin = await exchange.member("admin@example.com", role="admin")
    kinds = await admin.get(f"{ADMIN}/wallets/kinds")
    assert (kinds.status_code, kinds.json()) == (200, ["deposit", "fee", "hot", "warm", "cold"])
    gateways = (await admin.get(f"{ADMIN}/wallets/gateways")).json()
    clients = (await admin.get(f"{ADMIN}/blockchains/clients")).json()
    assert {"bitcoin", "ethereum"} <= set(gateways) and gateways == clients

    await add_chain(exchange)
    await exchange.sql(
        "UPDATE currencies SET blockchain_key = $1 WHERE id IN ('btc', 'eth')", CHAIN
    )
    [wallet] = await exchange.sql(
        "INSERT INTO wallets (name, blockchain_key, kind, address) VALUES ('cold', $1, 'cold',"
        " 'cold-address') RETURNING id",
        CHAIN,
    )
    await exchange.sql("INSERT INTO wallet_currencies VALUES ($1, 'btc')", wallet["id"])
    number = wallet["id"]
    added = await admin.post(f"{ADMIN}/wallets/currencies", {"id": number, "currencies": "eth"})
    assert added.status_code == 201, added.text
    assert added.json()["currencies"] == ["btc", "eth"]
    again = await admin.post(f"{ADMIN}/wallets/currencies", {"id": number, "currencies": ["eth"]})
    assert again.json()["currencies"] == ["btc", "eth"]
    refusals: list[tuple[dict[str, Any], int, str]] = [
        ({"id": number, "currencies": "usd"}, 422, "admin.wallet.invalid_currencies"),
        ({"id": number}, 422, "admin.wallet.missing_currencies"),
        ({"id": "x", "currencies": "eth"}, 422, "admin.wallet.non_integer_id"),
        ({"id": 999999, "currencies": "eth"}, 404, "record.not_found"),
    ]
    for body, status, code in refusals:
        assert_error(await admin.post(f"{ADMIN}/wallets/currencies", body), status, code)

    removed = await send(
        admin, "DELETE", f"{ADMIN}/wallets/currencies", params={"id": number, "currencies": "eth"}
    )
    assert (removed.status_code, removed.json()["currencies"]) == (200, ["btc"])
    last = await send(
        admin, "DELETE", f"{ADMIN}/wallets/currencies", params={"id": number, "currencies": "btc"}
    )
    assert_error(last, 422, "admin.wallet.last_currency")
    held = await exchange.sql(
        "SELECT currency_id FROM wallet_currencies WHERE wallet_id = $1", number
    )
    assert [r["currency_id"] for r in held] == ["btc"]
    log = (await admin.get(f"{ADMIN}/audit", target_type="Wallet")).json()
    assert sorted(e["action"] for e in log) == [
        "wallet.currencies.add",
        "wallet.currencies.add",
        "wallet.currencies.remove",
    ]
    member = await exchange.member("mallory@example.com")
    assert (await member.get(f"{ADMIN}/wallets/kinds")).status_code in (401, 403)
    denied = await member.post(f"{ADMIN}/wallets/currencies", {"id": number, "currencies": "eth"})
    assert denied.status_code in (401, 403)


# ---------------------------------------------------------------------- blocks


class FakeChain:
    """A node answering from memory: block 5 pays Alice 0.5 BTC."""

    case_sensitive = True

    def __init__(self) -> None:
        self.down = False
        self.latest = 20

    async def latest_height(self) -> int:
        if self.down:
            raise ChainError("connection refused")
        return self.latest

    async def block(self, height: int, watched: frozenset[str] | None = None) -> Block:
        if self.down:
            raise ChainError("connection refused")
        transfers: tuple[Transfer, ...] = ()
        if height == 5:
            transfers = (Transfer("tx-five", 0, ALICE_ADDRESS, 50_000_000, "btc", 5),)
        return Block(height, f"hash-{height}", f"hash-{height - 1}", transfers)


class FakePlugins(Plugins):
    def __init__(self, original: Plugins, chain: FakeChain) -> None:
        super().__init__(original.keystore)
        self.chain = chain

    async def get(self, session: AsyncSession, key: str) -> tuple[ChainPlugin, Any]:
        if key != CHAIN:
            raise LookupError(key)
        plugin: Any = self.chain
        return plugin, await registry.assets(session, key)


async def test_latest_block_and_process_block_credit_once(exchange: Exchange) -> None:
    admin = await exchange.member("admin@example.com", role="admin")
    alice = await exchange.member("alice@example.com")
    chain = FakeChain()
    exchange.app.state.custody = FakePlugins(exchange.app.state.custody, chain)
    await add_chain(exchange)
    await exchange.sql("UPDATE currencies SET blockchain_key = $1 WHERE id = 'btc'", CHAIN)
    [wallet] = await exchange.sql(
        "INSERT INTO wallets (name, blockchain_key, kind, address, secret) VALUES"
        " ('deposit', $1, 'deposit', 'd', 'sealed') RETURNING id",
        CHAIN,
    )
    await exchange.sql(
        "INSERT INTO payment_addresses (member_id, wallet_id, blockchain_key, address, secret)"
        " VALUES ($1, $2, $3, $4, 'sealed')",
        alice.id,
        wallet["id"],
        CHAIN,
        ALICE_ADDRESS,
    )
    latest = await admin.get(f"{ADMIN}/blockchains/{CHAIN}/latest_block")
    assert (latest.status_code, latest.json()) == (200, 20)
    assert_error(
        await admin.get(f"{ADMIN}/blockchains/nochain/latest_block"), 404, "record.not_found"
    )

    done = await admin.post(f"{ADMIN}/blockchains/process_block", {"id": CHAIN, "block_number": 5})
    assert done.status_code == 201, done.text
    assert done.json()["key"] == CHAIN and done.json()["height"] == 10  # the scan's, unmoved
    assert await balance(alice, "btc") == "0.5"
    again = await admin.post(f"{ADMIN}/blockchains/process_block", {"id": CHAIN, "block_number": 5})
    assert again.status_code == 201, again.text
    assert await balance(alice, "btc") == "0.5"
    rows = await exchange.sql("SELECT state, txid FROM deposits WHERE txid = 'tx-five'")
    assert [(r["state"], r["txid"]) for r in rows] == [("accepted", "tx-five")]

    refusals: list[tuple[dict[str, Any], int, str]] = [
        ({"id": CHAIN, "block_number": 10}, 422, "admin.blockchain.block_not_scanned"),
        ({"id": CHAIN, "block_number": 0}, 422, "admin.blockchain.non_positive_block_number"),
        ({"id": CHAIN, "block_number": "x"}, 422, "admin.blockchain.non_integer_block_number"),
        ({"id": CHAIN}, 422, "admin.blockchain.missing_block_number"),
        ({"id": "nochain", "block_number": 3}, 404, "record.not_found"),
    ]
    for body, status, code in refusals:
        assert_error(await admin.post(f"{ADMIN}/blockchains/process_block", body), status, code)
    chain.down = True
    assert_error(
        await admin.get(f"{ADMIN}/blockchains/{CHAIN}/latest_block"),
        422,
        "admin.blockchain.latest_block",
    )
    assert_error(
        await admin.post(f"{ADMIN}/blockchains/process_block", {"id": CHAIN, "block_number": 4}),
        422,
        "admin.blockchain.process_block",
    )
    support = await exchange.member("support@example.com", role="support")
    denied = await support.post(
        f"{ADMIN}/blockchains/process_block", {"id": CHAIN, "block_number": 5}
    )
    assert denied.status_code in (401, 403)
    log = (await admin.get(f"{ADMIN}/audit", target_type="Blockchain")).json()
    assert [e["action"] for e in log] == ["blockchain.process_block"] * 2
    await exchange.ledger_ok()


# ---------------------------------------------------------------------- deposits


async def test_admin_records_a_fiat_deposit_then_accepts_it(exchange: Exchange) -> None:
    admin = await exchange.member("admin@example.com", role="admin")
    alice = await exchange.member("alice@example.com")
    payment = {"uid": alice.uid, "currency": "USD", "amount": "100", "tid": "BANK-1"}
    created = await admin.post(f"{ADMIN}/deposits/new", payment)
    assert created.status_code == 201, created.text
    deposit = created.json()
    assert (deposit["state"], deposit["type"], deposit["tid"]) == ("submitted", "fiat", "BANK-1")
    assert await balance(alice, "usd") == "0"
    same = await admin.post(f"{ADMIN}/deposits/new", payment)
    assert (same.status_code, same.json()["id"]) == (201, deposit["id"])
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"amount": "99"}, "admin.deposit.tid_taken"),
        ({"currency": "btc", "tid": "B2"}, "admin.deposit.currency_doesnt_exist"),
        ({"uid": "ID0000000000", "tid": "B3"}, "admin.deposit.member_doesnt_exist"),
        ({"amount": "-1", "tid": "B4"}, "admin.deposit.non_positive_amount"),
        ({"amount": "1e3", "tid": "B5"}, "admin.deposit.non_decimal_amount"),
        ({"amount": "0.001", "tid": "B6"}, "admin.deposit.invalid_amount"),
        ({"uid": None, "tid": "B7"}, "admin.deposit.missing_uid"),
    ]
    for change, code in refusals:
        assert_error(await admin.post(f"{ADMIN}/deposits/new", payment | change), 422, code)
    assert len(await exchange.sql("SELECT id FROM deposits")) == 1

    accepted = await admin.post(
        f"{ADMIN}/deposits/actions", {"id": deposit["id"], "action": "accept"}
    )
    assert (accepted.status_code, accepted.json()["state"]) == (201, "accepted")
    await admin.post(f"{ADMIN}/deposits/actions", {"id": deposit["id"], "action": "accept"})
    assert await balance(alice, "usd") == deposit["amount"]
    await exchange.ledger_ok()

    support = await exchange.member("support@example.com", role="support")
    denied = await support.post(f"{ADMIN}/deposits/new", payment | {"tid": "BANK-3"})
    assert denied.status_code in (401, 403)


async def test_refunds_are_refused_on_purpose(exchange: Exchange) -> None:
    admin = await exchange.member("admin@example.com", role="admin")
    alice = await exchange.member("alice@example.com")
    fiat = await admin.post(
        f"{ADMIN}/deposits/new", {"uid": alice.uid, "currency": "usd", "amount": "50"}
    )
    [coin] = await exchange.sql(
        "INSERT INTO deposits (tid, member_id, uid, currency_id, type, amount, fee,"
        " transfer_type, txid, txout, state) VALUES ('TIDSKIP', $1, $2, 'btc', 'coin', 0.00001,"
        " 0, 'crypto', 'tx-small', 0, 'skipped') RETURNING id",
        alice.id,
        alice.uid,
    )
    to = {"address": "bc1qrefund"}
    assert_error(
        await admin.post(f"{ADMIN}/deposits/{coin['id']}/refund", to),
        422,
        "admin.deposit.refund_not_supported",
    )
    assert_error(
        await admin.post(f"{ADMIN}/deposits/{fiat.json()['id']}/refund", to),
        422,
        "admin.deposit.cannot_refund",
    )
    assert_error(
        await admin.post(f"{ADMIN}/deposits/{coin['id']}/refund", {}),
        422,
        "admin.deposit.missing_address",
    )
    assert_error(await admin.post(f"{ADMIN}/deposits/999999/refund", to), 404, "record.not_found")
    [row] = await exchange.sql("SELECT state FROM deposits WHERE id = $1", coin["id"])
    assert row["state"] == "skipped"


# ---------------------------------------------------------------------- withdrawals


async def test_withdraw_metadata(exchange: Exchange) -> None:
    admin = await exchange.member("admin@example.com", role="admin")
    alice = await exchange.member("alice@example.com")
    [row] = await exchange.sql(
        "INSERT INTO withdraws (tid, member_id, uid, currency_id, amount, fee, sum, type, rid,"
        " state) VALUES ('TIDW1', $1, $2, 'usd', 10, 0, 10, 'fiat', 'IBAN', 'accepted')"
        " RETURNING id",
        alice.id,
        alice.uid,
    )
    number = row["id"]
    changed = await send(
        admin, "PUT", f"{ADMIN}/withdraws", json={"id": number, "metadata": {"ticket": "T-1"}}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["metadata"], changed.json()["state"]) == ({"ticket": "T-1"}, "accepted")
    shown = await admin.get(f"{ADMIN}/withdraws/{number}")
    assert shown.json()["metadata"] == {"ticket": "T-1"}
    as_form = await send(
        admin, "PUT", f"{ADMIN}/withdraws", data={"id": str(number), "metadata": '{"n": 2}'}
    )
    assert as_form.json()["metadata"] == {"n": 2}
    refusals: list[tuple[dict[str, Any], int, str]] = [
        ({"id": number, "metadata": [1]}, 422, "admin.withdraw.invalid_metadata"),
        ({"id": number, "metadata": "{not json"}, 422, "admin.withdraw.invalid_metadata"),
        ({"id": number, "metadata": {"x": "y" * 5000}}, 422, "admin.withdraw.invalid_metadata"),
        ({"metadata": {}}, 422, "admin.withdraw.missing_id"),
        ({"id": 999999, "metadata": {}}, 404, "record.not_found"),
    ]
    for body, status, code in refusals:
        assert_error(await send(admin, "PUT", f"{ADMIN}/withdraws", json=body), status, code)
    [kept] = await exchange.sql("SELECT metadata, state FROM withdraws WHERE id = $1", number)
    assert (kept["metadata"], kept["state"]) == ('{"n": 2}', "accepted")
    log = (await admin.get(f"{ADMIN}/audit", target_type="Withdraw")).json()
    assert [e["action"] for e in log] == ["withdraw.metadata"] * 2


# ---------------------------------------------------------------------- contracts


async def test_whitelisted_smart_contracts(exchange: Exchange) -> None:
    admin = await exchange.member("admin@example.com", role="admin")
    await add_chain(exchange, "eth-test", "ethereum")
    await add_chain(exchange, "btc-test", "bitcoin")
    contract = "0x" + "Ab" * 20
    url = f"{ADMIN}/whitelisted_smart_contracts"
    created = await admin.post(url, {"blockchain_key": "eth-test", "address": contract})
    assert created.status_code == 201, created.text
    first = created.json()
    assert (first["address"], first["state"], first["description"]) == (
        contract.lower(),
        "active",
        "",
    )
    refusals: list[tuple[dict[str, Any], str]] = [
        (
            {"blockchain_key": "eth-test", "address": contract},
            "admin.whitelisted_address.address_taken",
        ),
        (
            {"blockchain_key": "eth-test", "address": "0x12"},
            "admin.whitelisted_address.invalid_address",
        ),
        (
            {"blockchain_key": "nochain", "address": contract},
            "admin.whitelisted_address.blockchain_key_doesnt_exist",
        ),
        (
            {"blockchain_key": "eth-test", "address": contract, "state": "on"},
            "admin.whitelisted_address.invalid_status",
        ),
        ({"blockchain_key": "eth-test"}, "admin.whitelisted_address.missing_address"),
    ]
    for body, code in refusals:
        assert_error(await admin.post(url, body), 422, code)
    changed = await send(
        admin, "PUT", url, json={"id": first["id"], "description": "router", "state": "disabled"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["description"], changed.json()["state"]) == ("router", "disabled")
    assert_error(await send(admin, "PUT", url, json={"id": 999999}), 404, "record.not_found")
    one = await admin.get(f"{ADMIN}/whitelisted_smart_contract/{first['id']}")
    assert one.json() == changed.json()
    assert_error(
        await admin.get(f"{ADMIN}/whitelisted_smart_contract/x"),
        422,
        "admin.whitelisted_smart_contract.non_integer_id",
    )

    bad = b"blockchain_key,address,description\nbtc-test,bc1qgood,ok\neth-test,0xnothex,bad\n"
    assert_error(
        await upload(admin, f"{url}/csv", bad),
        422,
        "admin.whitelisted_address.invalid_address",
        "admin.whitelisted_smart_contract.line_3",
    )
    good = (
        "Blockchain_Key,address,description,state\n"
        f"eth-test,{contract},again,active\n"
        "btc-test,bc1qgood,batch sender,disabled\n"
    ).encode()
    imported = await upload(admin, f"{url}/csv", good)
    assert imported.status_code == 201, imported.text
    assert [(c["address"], c["state"]) for c in imported.json()] == [("bc1qgood", "disabled")]
    assert_error(
        await upload(admin, f"{url}/csv", b"\xff\xfe"),
        422,
        "admin.whitelisted_smart_contract.invalid_file",
    )
    listed = await admin.get(url, blockchain_key="btc-test")
    assert listed.headers["Total"] == "1" and listed.json()[0]["address"] == "bc1qgood"
    everything = await admin.get(url, order_by="address", ordering="desc")
    assert [c["address"] for c in everything.json()] == ["bc1qgood", contract.lower()]
    member = await exchange.member("mallory@example.com")
    assert (await member.get(url)).status_code in (401, 403)


# ---------------------------------------------------------------------- airdrops


async def test_airdrop_credits_once_and_checks_every_row(exchange: Exchange) -> None:
    admin = await exchange.member("admin@example.com", role="admin")
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    rows = f"uid,currency_id,amount,user_name\n{alice.uid},usd,10.5,Alice\n{bob.uid},BTC,0.25,Bob\n"
    first = await upload(admin, f"{ADMIN}/airdrops", rows.encode())
    assert first.status_code == 201, first.text
    assert (first.json()["created"], first.json()["rows"], first.json()["state"]) == (
        True,
        2,
        "done",
    )
    assert (await balance(alice, "usd"), await balance(bob, "btc")) == ("10.5", "0.25")
    again = await upload(admin, f"{ADMIN}/airdrops", rows.encode())
    assert (again.status_code, again.json()["created"]) == (201, False)
    assert again.json()["key"] == first.json()["key"]
    assert (await balance(alice, "usd"), await balance(bob, "btc")) == ("10.5", "0.25")

    bad_files: list[tuple[str, Sequence[str]]] = [
        (
            f"uid,currency_id,amount\n{alice.uid},usd,1\nID9999999999,usd,1\n",
            ["admin.airdrop.member_doesnt_exist", "admin.airdrop.line_3"],
        ),
        (
            f"uid,currency_id,amount\n{alice.uid},usd,1\n{bob.uid},usd,0.001\n",
            ["admin.airdrop.invalid_amount", "admin.airdrop.line_3"],
        ),
        (
            f"uid,currency_id,amount\n{alice.uid},usd,-1\n",
            ["admin.airdrop.invalid_amount", "admin.airdrop.line_2"],
        ),
        (
            f"uid,currency_id,amount\n{alice.uid},doge,1\n",
            ["admin.airdrop.currency_doesnt_exist", "admin.airdrop.line_2"],
        ),
        ("uid,currency_id,amount\n", ["admin.airdrop.empty_file"]),
        ("name,amount\nx,1\n", ["admin.airdrop.invalid_file"]),
    ]
    for content, errors in bad_files:
        assert_error(await upload(admin, f"{ADMIN}/airdrops", content.encode()), 422, *errors)
    assert (await balance(alice, "usd"), await balance(bob, "btc")) == ("10.5", "0.25")
    many = "uid,currency_id,amount\n" + f"{alice.uid},usd,1\n" * 101
    assert_error(
        await upload(admin, f"{ADMIN}/airdrops", many.encode()), 422, "admin.airdrop.too_many_rows"
    )
    accountant = await exchange.member("accountant@example.com", role="accountant")
    denied = await upload(accountant, f"{ADMIN}/airdrops", rows.encode())
    assert denied.status_code in (401, 403)
    log = (await admin.get(f"{ADMIN}/audit", target_type="Airdrop")).json()
    assert [e["action"] for e in log] == ["airdrop.create"]
    await exchange.ledger_ok()
