"""Coin deposits end to end on a real anvil node: a member asks for a deposit address over
HTTP, ETH and an ERC-20 token are paid to it on chain, the scanner records them, credits
them through the engine at their confirmations, the member trades them, and the ledger
verifies against what the chain holds. A reorganisation (evm_snapshot / evm_revert) takes
back a deposit not yet credited."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
import pytest

from bursa.custody.addresses import Plugins
from bursa.custody.chain import ChainCurrency
from bursa.custody.scanner import Scanner
from bursa.custody.service import ScanService
from bursa.custody.setup import NewBlockchain, NewWallet, add_blockchain, add_wallet
from bursa.ledger.verify import verify_ledger
from tests.api.members import (
    ACCOUNT,
    MARKET,
    Caller,
    Exchange,
    exchange,  # noqa: F401 - fixture
)
from tests.custody.test_ethereum import ETH, ONE_ETH, Chain, chain, funded, pay  # noqa: F401

ADMIN = "/api/v2/peatio/admin"
USDT_UNIT = 10**6  # the test token counts in 6 decimals, as USDT does


@dataclass
class Custody:
    exchange: Exchange
    chain: Chain
    scanner: Scanner


@pytest.fixture
async def custody(exchange: Exchange, chain: Chain) -> AsyncIterator[Custody]:
    await exchange.sql(
        "UPDATE currencies SET blockchain_key = 'ethereum', min_confirmations = 3,"
        " min_deposit_amount = 0.001 WHERE id IN ('eth', 'usdt')"
    )
    await exchange.sql(
        "UPDATE currencies SET options = jsonb_build_object("
        "'erc20_contract_address', $1::text, 'decimals', 6) WHERE id = 'usdt'",
        chain.token.contract,
    )
    sessions = exchange.app.state.session_factory
    plugins = exchange.app.state.custody
    start = await chain.anvil.height() + 1
    async with sessions() as session, session.begin():
        await add_blockchain(
            session,
            plugins.keystore,
            NewBlockchain("ethereum", "Ethereum", "ethereum", chain.anvil.url, 3, start),
        )
        await add_wallet(
            session, plugins, NewWallet("eth-deposits", "ethereum", "deposit", ("eth", "usdt"))
        )
    async with sessions() as session:
        plugin, assets = await plugins.get(session, "ethereum")
    assert assets["usdt"].chain == ChainCurrency("usdt", 6, chain.token.contract)
    try:
        yield Custody(
            exchange, chain, Scanner(sessions, "ethereum", plugin, assets, exchange.runner.submit)
        )
    finally:
        await plugins.close()


async def _balance(member: Caller, currency: str) -> Decimal:
    return Decimal((await member.get(f"{ACCOUNT}/balances/{currency}")).json()["balance"])


async def _ledger(exchange: Exchange) -> dict[str, Decimal]:
    conn = await asyncpg.connect(exchange.database_url)
    try:
        report = await verify_ledger(conn)
    finally:
        await conn.close()
    assert report.ok, report.breaks
    return {t.currency: t.assets for t in report.totals}


async def test_deposits_are_credited_at_their_confirmations_and_traded(custody: Custody) -> None:
    exchange, chain = custody.exchange, custody.chain
    alice = await exchange.member("alice@example.com")
    answer = await alice.get(f"{ACCOUNT}/deposit_address/eth")
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    address = shown["address"]
    assert shown == {
        "currencies": ["eth", "usdt"],
        "blockchain_key": "ethereum",
        "address": address,
        "state": "active",
    }
    assert address.startswith("0x") and address == address.lower()
    again = await alice.get(f"{ACCOUNT}/deposit_address/usdt")
    assert again.json()["address"] == address  # one address per member and chain
    sealed = await exchange.sql("SELECT secret FROM payment_addresses")
    assert sealed[0]["secret"].startswith("local:") or sealed[0]["secret"].startswith("vault:")

    payer = await funded(chain, 10 * ONE_ETH)
    await pay(chain, payer, address, 3 * ONE_ETH // 2, ETH)  # 1.5 ETH
    await pay(chain, chain.treasury, address, 250 * USDT_UNIT, chain.token)

    first = await custody.scanner.step()
    assert (first.deposits, first.credited) == (2, 0)
    listed = (await alice.get(f"{ACCOUNT}/deposits")).json()
    assert sorted((d["currency"], d["amount"], d["state"]) for d in listed) == [
        ("eth", "1.5", "submitted"),
        ("usdt", "250", "submitted"),
    ]
    assert {d["confirmations"] for d in listed} <= {1, 2}
    assert await _balance(alice, "eth") == 0

    await chain.anvil.mine(3)
    credited = await custody.scanner.step()
    assert credited.credited == 2
    assert await _balance(alice, "eth") == Decimal("1.5")
    assert await _balance(alice, "usdt") == Decimal("250")
    assert (await custody.scanner.step()).credited == 0  # once

    # The money trades: Alice sells 0.5 ETH to Bob for USDT.
    bob = await exchange.member("bob@example.com")
    await exchange.credit(bob, "usdt", "5000")
    ask = {"market": "ethusdt", "side": "sell", "volume": "0.5", "price": "2000"}
    bid = {"market": "ethusdt", "side": "buy", "volume": "0.5", "price": "2000"}
    assert (await alice.post(f"{MARKET}/orders", ask)).status_code == 201
    assert (await bob.post(f"{MARKET}/orders", bid)).status_code == 201
    assert await _balance(alice, "eth") == Decimal("1")
    assert await _balance(alice, "usdt") > Decimal("1200")

    # What the ledger says the platform holds in ETH is what the chain holds for it.
    assets = await _ledger(exchange)
    on_chain = await chain.plugin.balance_of(address, ETH)
    assert assets["eth"] == Decimal(on_chain) / ONE_ETH == Decimal("1.5")


async def test_a_reorganisation_takes_back_a_deposit_not_yet_credited(custody: Custody) -> None:
    exchange, chain = custody.exchange, custody.chain
    carol = await exchange.member("carol@example.com")
    address = (await carol.get(f"{ACCOUNT}/deposit_address/eth")).json()["address"]
    payer = await funded(chain, 10 * ONE_ETH)
    await custody.scanner.step()

    snapshot = await chain.anvil.rpc("evm_snapshot")
    await pay(chain, payer, address, 2 * ONE_ETH, ETH)
    assert (await custody.scanner.step()).deposits == 1
    assert await chain.anvil.rpc("evm_revert", snapshot) is True
    await chain.anvil.mine(4)  # a longer chain without the payment

    report = await custody.scanner.step()
    assert report.reorganised_from is not None
    rows = await exchange.sql("SELECT state, error FROM deposits WHERE type = 'coin'")
    assert [r["state"] for r in rows] == ["canceled"]
    assert "reorganised" in rows[0]["error"]
    assert await _balance(carol, "eth") == 0
    await _ledger(exchange)


async def _until(check: Callable[[], Awaitable[bool]], within_s: float = 15.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_running_scanners_follow_the_admins_chain_settings(
    custody: Custody, caplog: pytest.LogCaptureFixture
) -> None:
    """A token an admin puts on the chain is scanned and credited by a running scanner,
    and a chain an admin disables loses its scanner: no restart either time."""
    exchange, chain = custody.exchange, custody.chain
    admin = await exchange.member("admin@example.com", role="superadmin")
    off = await admin.post(
        f"{ADMIN}/currencies/update", {"code": "usdt", "blockchain_key": "", "options": {}}
    )
    assert off.status_code == 201, off.text
    sessions = exchange.app.state.session_factory
    service = ScanService(  # as ``bursa custody scan`` runs it, in a process of its own
        sessions.kw["bind"],
        sessions,
        Plugins(exchange.app.state.custody.keystore),
        exchange.runner.submit,
        idle_s=0.05,
        refresh_s=0.2,
    )
    alice = await exchange.member("alice@example.com")
    caplog.set_level(logging.INFO, logger="bursa.custody.service")
    try:
        assert await service.start() == ["ethereum"]
        address = (await alice.get(f"{ACCOUNT}/deposit_address/eth")).json()["address"]
        assert (await alice.get(f"{ACCOUNT}/deposit_address/usdt")).status_code == 422

        token = {"erc20_contract_address": chain.token.contract, "decimals": 6}
        on = await admin.post(
            f"{ADMIN}/currencies/update",
            {"code": "usdt", "blockchain_key": "ethereum", "options": token},
        )
        assert on.status_code == 201, on.text
        assert (await alice.get(f"{ACCOUNT}/deposit_address/usdt")).json()["address"] == address

        async def rescanning() -> bool:  # the service reads the settings every 0.2 s
            return "scanning ethereum (eth, usdt)" in caplog.text

        assert await _until(rescanning), "the scanner did not start again with the token"
        await pay(chain, chain.treasury, address, 40 * USDT_UNIT, chain.token)

        async def credited() -> bool:
            await chain.anvil.mine(1)
            return await _balance(alice, "usdt") == 40

        assert await _until(credited), "the running scanner never credited the new token"

        disabled = await admin.post(
            f"{ADMIN}/blockchains/update", {"key": "ethereum", "status": "disabled"}
        )
        assert disabled.status_code == 201, disabled.text

        async def unlocked() -> bool:
            held = await exchange.sql(
                "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND objid = (hashtext('bursa.scanner.ethereum')::bigint & 4294967295)"
                "::text::oid"
            )
            return bool(held[0]["n"] == 0)

        assert await _until(unlocked), "the disabled chain's scanner kept running"
    finally:
        await service.stop()
        await service.plugins.close()
    await _ledger(exchange)
