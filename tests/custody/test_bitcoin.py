"""The Bitcoin plugin against a real bcoin regtest node: blocks, balances, signing and
broadcasting with Bursa-held keys, sweeps, and a node that is down."""

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bursa.custody.chain import (
    ChainCurrency,
    ChainError,
    ChainPlugin,
    NewAddress,
    Signed,
    plugin_factory,
)
from bursa.custody.chains.bitcoin import BitcoinPlugin
from tests.custody.bcoin import SEGWIT_HEIGHT, BcoinNode, bcoin, free_port

__all__ = ["bcoin"]

BTC = ChainCurrency("btc", 8)
FEE_RATE = 7  # sat/vB: bcoin has no fee estimates, so the plugin's fallback rate applies
# A one-input, two-output P2WPKH payment: 10.5 + 67.75 + 2 x 31 vB, rounded up (an input's
# witness counts a quarter: a 71-byte signature at most and a 33-byte key).
PAYMENT_VSIZE = 141


@pytest.fixture(scope="module")
async def plugin(bcoin: BcoinNode) -> AsyncIterator[BitcoinPlugin]:
    chain = BitcoinPlugin(bcoin.server, [BTC], fallback_fee_rate=FEE_RATE)
    yield chain
    await chain.close()


@pytest.fixture(scope="module")
async def miner(bcoin: BcoinNode, plugin: BitcoinPlugin) -> NewAddress:
    """A key of the test's that owns mature coinbase outputs past segwit's activation."""
    key = plugin.create_address()
    started = time.monotonic()
    bcoin.mine(SEGWIT_HEIGHT, key.address)
    assert time.monotonic() - started < 20, "mining the segwit blocks took too long"
    return key


async def pay(plugin: BitcoinPlugin, source: NewAddress, to: str, amount: int) -> str:
    signed = await plugin.sign(source.secret, source.address, to, amount, BTC)
    return await plugin.broadcast(signed)


async def settled_balance(plugin: BitcoinPlugin, address: str, expected: int) -> int:
    """The balance once the node's index has caught up with a block (it is quick)."""
    deadline = time.monotonic() + 5
    while (balance := await plugin.balance_of(address, BTC)) != expected:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    return balance


async def test_the_entry_point_builds_a_chain_plugin(bcoin: BcoinNode) -> None:
    factory = plugin_factory("bitcoin")
    chain = factory(bcoin.server, [BTC])
    try:
        assert isinstance(chain, BitcoinPlugin)
        assert isinstance(chain, ChainPlugin)
        assert chain.case_sensitive is True
        assert await chain.latest_height() == bcoin.height()
    finally:
        await chain.close()


def test_new_addresses_are_regtest_p2wpkh_with_a_raw_key(plugin: BitcoinPlugin) -> None:
    first, second = plugin.create_address(), plugin.create_address()
    assert first.address.startswith("bcrt1q") and len(first.address) == 44
    assert len(first.secret) == 32
    assert first.address != second.address and first.secret != second.secret
    assert first.secret.hex() not in repr(first)


async def test_a_block_lists_the_outputs_paying_watched_addresses(
    bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    alice, bob = plugin.create_address(), plugin.create_address()
    to_alice = await pay(plugin, miner, alice.address, 123_456_789)
    to_bob = await pay(plugin, miner, bob.address, 5_000_001)
    [block_hash] = bcoin.mine(1, miner.address)
    height = bcoin.height()

    block = await plugin.block(height, frozenset({alice.address, bob.address}))

    assert block.height == height
    assert block.hash == block_hash
    assert block.parent_hash == bcoin.rpc("getblock", block_hash)["previousblockhash"]
    found = {(t.txid, t.txout, t.to_address, t.amount) for t in block.transfers}
    assert found == {
        (to_alice, 0, alice.address, 123_456_789),
        (to_bob, 0, bob.address, 5_000_001),
    }
    assert all(t.currency == "btc" and t.status == "success" for t in block.transfers)
    assert all(t.block_number == height for t in block.transfers)
    assert all(t.from_addresses == (miner.address,) for t in block.transfers)

    everything = await plugin.block(height)
    coinbase = everything.transfers[0]
    assert coinbase.to_address == miner.address and coinbase.from_addresses == ()
    change = [t for t in everything.transfers if t.txid == to_alice and t.txout == 1]
    assert change and change[0].to_address == miner.address


async def test_balances_count_confirmed_and_mempool_coins(
    bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    carol = plugin.create_address()
    assert await plugin.balance_of(carol.address, BTC) == 0
    await pay(plugin, miner, carol.address, 70_000_000)
    await pay(plugin, miner, carol.address, 1_234)
    assert await plugin.balance_of(carol.address, BTC) == 70_001_234
    bcoin.mine(1, miner.address)
    assert await settled_balance(plugin, carol.address, 70_001_234) == 70_001_234


async def test_a_signed_payment_lands_with_exact_amount_fee_and_change(
    bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    source, payee = plugin.create_address(), plugin.create_address()
    await pay(plugin, miner, source.address, 100_000_000)
    bcoin.mine(1, miner.address)

    signed = await plugin.sign(source.secret, source.address, payee.address, 30_000_000, BTC)

    assert signed.amount == 30_000_000
    assert signed.fee == PAYMENT_VSIZE * FEE_RATE
    decoded = bcoin.rpc("decoderawtransaction", signed.raw.hex())
    assert decoded["txid"] == signed.txid
    outputs = [(output["scriptPubKey"]["addresses"], output["value"]) for output in decoded["vout"]]
    change = 100_000_000 - 30_000_000 - signed.fee
    assert outputs == [
        ([payee.address], Decimal("0.3")),
        ([source.address], Decimal(change).scaleb(-8)),
    ]
    assert (await plugin.transaction(signed.txid)).status == "unknown"

    assert await plugin.broadcast(signed) == signed.txid
    assert (await plugin.transaction(signed.txid)).status == "pending"
    bcoin.mine(1, miner.address)
    height = bcoin.height()

    assert await settled_balance(plugin, payee.address, 30_000_000) == 30_000_000
    assert await plugin.balance_of(source.address, BTC) == change
    status = await plugin.transaction(signed.txid)
    assert (status.status, status.block_number, status.confirmations) == ("success", height, 1)
    bcoin.mine(2, miner.address)
    assert (await plugin.transaction(signed.txid)).confirmations == 3


async def test_broadcasting_the_same_transaction_again_pays_once(
    bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    payee = plugin.create_address()
    signed = await plugin.sign(miner.secret, miner.address, payee.address, 40_000_000, BTC)

    assert await plugin.broadcast(signed) == signed.txid
    assert await plugin.broadcast(signed) == signed.txid  # already in the mempool
    bcoin.mine(1, miner.address)
    assert await plugin.broadcast(signed) == signed.txid  # already in the chain
    bcoin.mine(1, miner.address)

    assert await settled_balance(plugin, payee.address, 40_000_000) == 40_000_000
    assert (await plugin.transaction(signed.txid)).confirmations == 2


async def test_subtract_fee_sweeps_every_coin_of_an_address(
    bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    deposit, hot = plugin.create_address(), plugin.create_address()
    await pay(plugin, miner, deposit.address, 20_000_000)
    await pay(plugin, miner, deposit.address, 3_000_000)
    bcoin.mine(1, miner.address)
    balance = await settled_balance(plugin, deposit.address, 23_000_000)
    assert balance == 23_000_000

    signed = await plugin.sign(
        deposit.secret, deposit.address, hot.address, balance, BTC, subtract_fee=True
    )

    # Two inputs, one output (no change): 10.5 + 2 x 67.75 + 31 vB.
    assert signed.fee == 177 * FEE_RATE
    assert signed.amount == balance - signed.fee
    await plugin.broadcast(signed)
    bcoin.mine(1, miner.address)
    assert await settled_balance(plugin, hot.address, signed.amount) == signed.amount
    assert await plugin.balance_of(deposit.address, BTC) == 0


async def test_the_fee_estimate_uses_the_fallback_rate_bcoin_needs(
    plugin: BitcoinPlugin, bcoin: BcoinNode
) -> None:
    assert bcoin.rpc("estimatesmartfee", 6)["fee"] == -1
    assert await plugin.fee_estimate(BTC) == PAYMENT_VSIZE * FEE_RATE


async def test_refusals_say_why_without_the_key(
    bcoin: BcoinNode, plugin: BitcoinPlugin, miner: NewAddress
) -> None:
    poor, other = plugin.create_address(), plugin.create_address()
    with pytest.raises(ChainError, match="0 sat can be spent") as no_funds:
        await plugin.sign(poor.secret, poor.address, other.address, 1_000, BTC)
    with pytest.raises(ChainError, match="not the key of") as wrong_key:
        await plugin.sign(other.secret, poor.address, other.address, 1_000, BTC)
    with pytest.raises(ChainError, match="not an address of Regtest"):
        await plugin.sign(
            miner.secret, miner.address, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 1, BTC
        )
    for error in (no_funds.value, wrong_key.value):
        assert poor.secret.hex() not in str(error) and other.secret.hex() not in str(error)
        assert bcoin.api_key not in str(error)
    broken = await plugin.sign(miner.secret, miner.address, other.address, 10_000, BTC)
    with pytest.raises(ChainError, match="did not take transaction"):
        await plugin.broadcast(Signed(broken.txid, broken.raw[:-6], 1, 1))


async def test_a_double_spend_the_node_drops_is_an_error(
    bcoin: BcoinNode, miner: NewAddress
) -> None:
    """bcoin answers sendrawtransaction with the txid even when it then rejects the
    transaction: the plugin must notice that the node never kept it."""
    impatient = BitcoinPlugin(bcoin.server, [BTC], fallback_fee_rate=FEE_RATE, accept_wait=0.5)
    try:
        first, second = impatient.create_address(), impatient.create_address()
        kept = await impatient.sign(miner.secret, miner.address, first.address, 50_000, BTC)
        dropped = await impatient.sign(miner.secret, miner.address, second.address, 60_000, BTC)
        spends = [
            {(i["txid"], i["vout"]) for i in bcoin.rpc("decoderawtransaction", s.raw.hex())["vin"]}
            for s in (kept, dropped)
        ]
        assert kept.txid != dropped.txid and spends[0] & spends[1]
        assert await impatient.broadcast(kept) == kept.txid
        with pytest.raises(ChainError, match=f"did not take transaction {dropped.txid}"):
            await impatient.broadcast(dropped)
        bcoin.mine(1, miner.address)
        assert await settled_balance(impatient, first.address, 50_000) == 50_000
        assert await impatient.balance_of(second.address, BTC) == 0
    finally:
        await impatient.close()


async def test_a_node_that_is_down_gives_a_chain_error_promptly() -> None:
    password = "hunter2-rpc-password"
    down = BitcoinPlugin(f"http://x:{password}@127.0.0.1:{free_port()}/", [BTC], timeout=2)
    started = time.monotonic()
    try:
        with pytest.raises(ChainError, match=r"cannot reach the node at 127\.0\.0\.1") as caught:
            await down.latest_height()
    finally:
        await down.close()
    assert time.monotonic() - started < 3
    assert password not in str(caught.value) and password not in repr(down)


async def test_a_wrong_api_key_or_network_is_refused(bcoin: BcoinNode) -> None:
    wrong_key = BitcoinPlugin(f"http://x:not-the-key@127.0.0.1:{bcoin.port}/", [BTC])
    mainnet = BitcoinPlugin(bcoin.server.replace("regtest", "main"), [BTC])
    try:
        with pytest.raises(ChainError, match="refused the credentials"):
            await wrong_key.latest_height()
        with pytest.raises(ChainError, match="runs regtest, not main"):
            await mainnet.latest_height()
    finally:
        await wrong_key.close()
        await mainnet.close()
