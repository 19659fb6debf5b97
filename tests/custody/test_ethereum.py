"""The Ethereum chain plugin against a real anvil node, with a real ERC-20 token compiled
by vyper and deployed by the tests."""

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import vyper
from eth_account import Account

from bursa.custody.chain import (
    FAILED,
    PENDING,
    SUCCESS,
    ChainCurrency,
    ChainError,
    ChainPlugin,
    NewAddress,
    Transfer,
    TxStatus,
    plugin_factory,
)
from bursa.custody.chains.ethereum import EthereumPlugin
from tests.custody.anvil import CHAIN_ID, Anvil, free_port

TOKEN_SOURCE = Path(__file__).with_name("erc20_token.vy")
ETH = ChainCurrency("eth", 18)
ONE_ETH = 10**18
TOKEN_SUPPLY = 1_000_000 * 10**6


@dataclass(frozen=True)
class Chain:
    anvil: Anvil
    plugin: EthereumPlugin
    token: ChainCurrency
    treasury: NewAddress  # holds the token's supply


async def deploy_token(node: Anvil, deployer: NewAddress) -> str:
    compiled = vyper.compile_code(TOKEN_SOURCE.read_text(), output_formats=["bytecode"])
    constructor_args = TOKEN_SUPPLY.to_bytes(32)
    creation = {
        "nonce": 0,
        "gas": 3_000_000,
        "gasPrice": int(await node.rpc("eth_gasPrice"), 16),
        "chainId": CHAIN_ID,
        "data": bytes.fromhex(compiled["bytecode"][2:]) + constructor_args,
        "value": 0,
    }
    signed = Account.sign_transaction(creation, deployer.secret)
    txid = await node.rpc("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
    receipt = await node.rpc("eth_getTransactionReceipt", txid)
    assert receipt["status"] == "0x1", receipt
    return str(receipt["contractAddress"])


@pytest.fixture(scope="module")
async def chain(anvil: Anvil) -> AsyncIterator[Chain]:
    deployer_plugin = EthereumPlugin(anvil.url, [ETH])
    treasury = deployer_plugin.create_address()
    await deployer_plugin.close()
    await anvil.set_balance(treasury.address, 100 * ONE_ETH)
    contract = await deploy_token(anvil, treasury)
    token = ChainCurrency("btd", 6, contract=contract)
    plugin = EthereumPlugin(anvil.url, [ETH, token])
    yield Chain(anvil, plugin, token, treasury)
    await plugin.close()


async def funded(chain: Chain, wei: int = 0, token_units: int = 0) -> NewAddress:
    """A new address holding ``wei`` and ``token_units`` (paid by the treasury)."""
    wallet = chain.plugin.create_address()
    if wei:
        await chain.anvil.set_balance(wallet.address, wei)
    if token_units:
        await pay(chain, chain.treasury, wallet.address, token_units, chain.token)
    return wallet


async def pay(
    chain: Chain, source: NewAddress, to: str, amount: int, currency: ChainCurrency
) -> str:
    signed = await chain.plugin.sign(source.secret, source.address, to, amount, currency)
    return await chain.plugin.broadcast(signed)


async def eventually(read: Callable[[], Awaitable[int]], expected: int) -> int:
    """``read()`` once it gives ``expected`` (or after 10 s, what it gives then): anvil
    answers ``eth_sendRawTransaction`` before its automined block is always readable."""
    deadline = time.monotonic() + 10
    for _ in range(200):
        found = await read()
        if found == expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    return found


@pytest.fixture
async def manual_mining(chain: Chain) -> AsyncIterator[None]:
    """Transactions wait in the pool until the test mines them into one block."""
    await chain.anvil.automine(False)
    try:
        yield
    finally:
        await chain.anvil.automine(True)


def test_the_plugin_is_registered_as_ethereum() -> None:
    factory = plugin_factory("ethereum")
    assert factory is EthereumPlugin
    plugin = factory("http://127.0.0.1:8545", [ETH])
    assert isinstance(plugin, ChainPlugin)
    assert plugin.case_sensitive is False


async def test_new_addresses_are_random_lower_case_and_fundable(chain: Chain) -> None:
    first, second = chain.plugin.create_address(), chain.plugin.create_address()
    assert first.address != second.address and first.secret != second.secret
    for wallet in (first, second):
        assert wallet.address == wallet.address.lower() and len(wallet.address) == 42
        assert len(wallet.secret) == 32
        assert Account.from_key(wallet.secret).address.lower() == wallet.address
        assert wallet.secret.hex() not in repr(wallet)
    assert await chain.plugin.balance_of(first.address, ETH) == 0
    await chain.anvil.set_balance(first.address, 3 * ONE_ETH)
    assert await chain.plugin.balance_of(first.address, ETH) == 3 * ONE_ETH
    assert await chain.plugin.balance_of(first.address, chain.token) == 0


async def test_balances_and_fees(chain: Chain) -> None:
    wallet = await funded(chain, ONE_ETH, 12_345_678)
    assert await chain.plugin.balance_of(wallet.address, chain.token) == 12_345_678
    assert chain.token.to_decimal(12_345_678) == Decimal("12.345678")
    assert await chain.plugin.balance_of(wallet.address.upper().replace("0X", "0x"), ETH) == (
        ONE_ETH
    )
    gas_price = int(await chain.anvil.rpc("eth_gasPrice"), 16)
    assert await chain.plugin.fee_estimate(ETH) == 21_000 * gas_price
    assert await chain.plugin.fee_estimate(chain.token) == 90_000 * gas_price


async def test_a_block_holds_eth_and_token_transfers_with_their_status(
    chain: Chain, manual_mining: None
) -> None:
    payer = await funded(chain, 10 * ONE_ETH, 50_000_000)
    broke = await funded(chain, ONE_ETH)  # ETH for gas, no tokens: its transfer reverts
    eth_to, token_to, failed_to = (chain.plugin.create_address().address for _ in range(3))
    await chain.anvil.mine()  # the funding above is in earlier blocks
    eth_txid = await pay(chain, payer, eth_to, 3 * ONE_ETH // 2, ETH)
    token_txid = await pay(chain, payer, token_to, 12_345_678, chain.token)
    failed_txid = await pay(chain, broke, failed_to, 5_000_000, chain.token)
    await chain.anvil.mine()
    height = await chain.anvil.height()

    block = await chain.plugin.block(height)

    node_block = await chain.anvil.rpc("eth_getBlockByNumber", hex(height), False)
    assert (block.height, block.hash, block.parent_hash) == (
        height,
        node_block["hash"],
        node_block["parentHash"],
    )
    receipt = await chain.anvil.rpc("eth_getTransactionReceipt", token_txid)
    log_index = int(receipt["logs"][0]["logIndex"], 16)
    assert set(block.transfers) == {
        Transfer(eth_txid, 0, eth_to, 3 * ONE_ETH // 2, "eth", height, (payer.address,)),
        Transfer(token_txid, log_index, token_to, 12_345_678, "btd", height, (payer.address,)),
        Transfer(failed_txid, 0, failed_to, 5_000_000, "btd", height, (broke.address,), FAILED),
    }
    assert (await chain.plugin.transaction(failed_txid)).status == FAILED
    assert await chain.plugin.balance_of(failed_to, chain.token) == 0

    watched = await chain.plugin.block(height, frozenset({token_to, failed_to}))
    assert {(t.to_address, t.status) for t in watched.transfers} == {
        (token_to, SUCCESS),
        (failed_to, FAILED),
    }
    assert (watched.hash, watched.parent_hash) == (block.hash, block.parent_hash)
    nobody = await chain.plugin.block(height, frozenset({payer.address}))
    assert nobody.transfers == ()


async def test_a_block_not_mined_yet_is_an_error(chain: Chain) -> None:
    future = await chain.anvil.height() + 1000
    with pytest.raises(ChainError, match=f"no block at height {future}"):
        await chain.plugin.block(future)


async def test_eth_sent_lands_with_the_exact_amount_and_fee(chain: Chain) -> None:
    source = await funded(chain, ONE_ETH)
    to = chain.plugin.create_address().address
    signed = await chain.plugin.sign(source.secret, source.address, to, ONE_ETH // 4, ETH)
    assert signed.txid == signed.txid.lower() and signed.txid.startswith("0x")
    assert (signed.amount, signed.fee) == (ONE_ETH // 4, await chain.plugin.fee_estimate(ETH))
    assert signed.raw.hex() not in repr(signed)

    assert await chain.plugin.broadcast(signed) == signed.txid

    assert await eventually(lambda: chain.plugin.balance_of(to, ETH), ONE_ETH // 4) == ONE_ETH // 4
    assert await chain.plugin.balance_of(source.address, ETH) == (
        ONE_ETH - ONE_ETH // 4 - signed.fee
    )
    landed = await chain.plugin.transaction(signed.txid)
    assert (landed.status, landed.confirmations) == (SUCCESS, 1)
    await chain.anvil.mine(2)
    # A plain transfer uses exactly its gas limit: the fee paid is the fee signed.
    assert await chain.plugin.transaction(signed.txid) == TxStatus(
        SUCCESS, landed.block_number, 3, signed.fee
    )


async def test_tokens_sent_land_with_the_exact_amount(chain: Chain) -> None:
    source = await funded(chain, ONE_ETH, 7_000_000)
    to = chain.plugin.create_address().address
    signed = await chain.plugin.sign(source.secret, source.address, to, 2_500_001, chain.token)
    assert signed.fee == await chain.plugin.fee_estimate(chain.token)
    await chain.plugin.broadcast(signed)
    assert (
        await eventually(lambda: chain.plugin.balance_of(to, chain.token), 2_500_001) == 2_500_001
    )
    assert await chain.plugin.balance_of(source.address, chain.token) == 4_499_999
    status = await chain.plugin.transaction(signed.txid)
    assert status.status == SUCCESS
    # A token transfer uses less gas than its limit: the receipt says what it paid.
    receipt = await chain.anvil.rpc("eth_getTransactionReceipt", signed.txid)
    paid = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert status.fee == paid < signed.fee
    block = await chain.plugin.block(status.block_number or 0, frozenset({to}))
    assert [(t.txid, t.amount, t.currency) for t in block.transfers] == [
        (signed.txid, 2_500_001, "btd")
    ]


async def test_broadcasting_the_same_transaction_twice_pays_once(chain: Chain) -> None:
    source = await funded(chain, ONE_ETH)
    to = chain.plugin.create_address().address
    signed = await chain.plugin.sign(source.secret, source.address, to, 10**15, ETH)
    assert await chain.plugin.broadcast(signed) == signed.txid
    assert await chain.plugin.broadcast(signed) == signed.txid  # mined already
    await chain.anvil.mine()
    assert await chain.plugin.balance_of(to, ETH) == 10**15


async def test_a_pending_transaction_broadcast_again_is_known(
    chain: Chain, manual_mining: None
) -> None:
    source = await funded(chain, ONE_ETH, 1_000_000)
    to = chain.plugin.create_address().address
    signed = await chain.plugin.sign(source.secret, source.address, to, 400_000, chain.token)
    assert await chain.plugin.transaction(signed.txid) == TxStatus("unknown")
    assert await chain.plugin.broadcast(signed) == signed.txid
    assert await chain.plugin.transaction(signed.txid) == TxStatus(PENDING)
    assert await chain.plugin.broadcast(signed) == signed.txid  # in the pool already
    await chain.anvil.mine()
    assert await chain.plugin.balance_of(to, chain.token) == 400_000
    assert (await chain.plugin.transaction(signed.txid)).status == SUCCESS


async def test_nonces_follow_the_pool_so_queued_payments_all_land(
    chain: Chain, manual_mining: None
) -> None:
    source = await funded(chain, ONE_ETH)
    await chain.anvil.mine()
    receivers = [chain.plugin.create_address().address for _ in range(3)]
    for amount, to in enumerate(receivers, start=1):
        await pay(chain, source, to, amount * 10**12, ETH)
    await chain.anvil.mine()
    balances = [await chain.plugin.balance_of(to, ETH) for to in receivers]
    assert balances == [10**12, 2 * 10**12, 3 * 10**12]


async def test_subtract_fee_sweeps_an_address_to_zero(chain: Chain) -> None:
    source = await funded(chain, ONE_ETH // 100)
    to = chain.plugin.create_address().address
    balance = await chain.plugin.balance_of(source.address, ETH)
    signed = await chain.plugin.sign(
        source.secret, source.address, to, balance, ETH, subtract_fee=True
    )
    assert signed.amount == balance - signed.fee
    await chain.plugin.broadcast(signed)
    assert await chain.plugin.balance_of(to, ETH) == signed.amount
    assert await chain.plugin.balance_of(source.address, ETH) == 0


async def test_subtract_fee_refuses_when_nothing_is_left(chain: Chain) -> None:
    source = await funded(chain, ONE_ETH)
    fee = await chain.plugin.fee_estimate(ETH)
    with pytest.raises(ChainError, match="does not cover the fee"):
        await chain.plugin.sign(
            source.secret, source.address, source.address, fee, ETH, subtract_fee=True
        )
    with pytest.raises(ValueError, match="native coin only"):
        await chain.plugin.sign(
            source.secret, source.address, source.address, 10, chain.token, subtract_fee=True
        )


async def test_a_key_for_another_address_is_refused_without_showing_it(chain: Chain) -> None:
    source, other = chain.plugin.create_address(), chain.plugin.create_address()
    with pytest.raises(ChainError, match="does not belong to") as refused:
        await chain.plugin.sign(other.secret, source.address, other.address, 1, ETH)
    assert other.secret.hex() not in str(refused.value)


async def test_a_reorg_changes_the_block_at_a_height(chain: Chain) -> None:
    source = await funded(chain, ONE_ETH)
    first_to, second_to = (chain.plugin.create_address().address for _ in range(2))
    snapshot = await chain.anvil.rpc("evm_snapshot")
    await pay(chain, source, first_to, 10**15, ETH)
    height = await chain.anvil.height()
    before = await chain.plugin.block(height)
    assert [t.to_address for t in before.transfers] == [first_to]

    assert await chain.anvil.rpc("evm_revert", snapshot) is True
    await pay(chain, source, second_to, 2 * 10**15, ETH)
    assert await chain.anvil.height() == height
    after = await chain.plugin.block(height)

    assert after.hash != before.hash
    assert after.parent_hash == before.parent_hash
    assert [(t.to_address, t.amount) for t in after.transfers] == [(second_to, 2 * 10**15)]
    assert await chain.plugin.transaction(before.transfers[0].txid) == TxStatus("unknown")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


async def test_a_node_that_is_down_is_a_prompt_chain_error() -> None:
    port = free_port()
    server = f"http://bursa:hunter2@127.0.0.1:{port}/v3/secret-api-key"
    plugin = EthereumPlugin(server, [ETH], timeout=1)
    started = time.monotonic()
    with pytest.raises(
        ChainError, match=re.escape(f"eth_blockNumber on http://127.0.0.1:{port} failed")
    ) as refused:
        await plugin.latest_height()
    assert time.monotonic() - started < 1
    assert "hunter2" not in str(refused.value) and "secret-api-key" not in str(refused.value)
    assert "hunter2" not in repr(plugin)
    await plugin.close()


async def test_a_node_that_does_not_answer_times_out(silent_server: int) -> None:
    plugin = EthereumPlugin(f"http://127.0.0.1:{silent_server}", [ETH], timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ChainError, match="no answer in time"):
        await plugin.block(1)
    assert time.monotonic() - started < 2
    await plugin.close()


async def test_receipts_for_many_transfers_are_fetched_together(
    chain: Chain, manual_mining: None
) -> None:
    sources = [await funded(chain, ONE_ETH) for _ in range(20)]
    await chain.anvil.mine()
    to = chain.plugin.create_address().address
    await asyncio.gather(*(pay(chain, source, to, 10**9, ETH) for source in sources))
    await chain.anvil.mine()
    block = await chain.plugin.block(await chain.anvil.height())
    assert len(block.transfers) == 20
    assert {t.from_addresses[0] for t in block.transfers} == {s.address for s in sources}
    assert all(t.status == SUCCESS and t.amount == 10**9 for t in block.transfers)
