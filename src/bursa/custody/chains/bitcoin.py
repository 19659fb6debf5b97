"""The Bitcoin chain plugin: Bitcoin's UTXO model behind Bursa's ``ChainPlugin``.

It reads blocks over the node's JSON-RPC and parses them itself (so amounts are satoshi
integers from the raw bytes, and any node with ``getblock <hash> 0`` will do), holds the
keys on Bursa's side (P2WPKH addresses, signed here: the node needs no wallet), and finds
an address's coins through bcoin's address index (REST ``/coin/address/<address>``,
bcoin started with ``--index-address``), which Bitcoin Core has no call for.

The network (``main``, ``test``, ``signet``, ``regtest``) is a constructor option or the
server URL's ``?network=`` query; the first call checks it against the node's own.
"""

import asyncio
import time
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from bursa.custody.chain import (
    PENDING,
    SUCCESS,
    Block,
    ChainCurrency,
    ChainError,
    NewAddress,
    Signed,
    Transfer,
    TxStatus,
)
from bursa.custody.chains import bitcoin_tx
from bursa.custody.chains.bitcoin_rpc import NOT_FOUND_CODE, BitcoinRPC, NodeError
from bursa.custody.chains.bitcoin_tx import AddressError, Coin, InsufficientFunds

SATOSHI_PER_BTC = 100_000_000
UNKNOWN = "unknown"
P2WPKH_SHAPE = bytes([0, 20]) + bytes(20)  # a P2WPKH scriptPubKey's size, to size fees


class BitcoinPlugin:
    """Bitcoin (and its test networks) through a Bitcoin Core-style JSON-RPC node."""

    case_sensitive = True

    def __init__(
        self,
        server: str,
        currencies: Sequence[ChainCurrency],
        *,
        network: str | None = None,
        fallback_fee_rate: int = 10,
        confirmation_target: int = 6,
        timeout: float = 10.0,
        accept_wait: float = 3.0,
    ) -> None:
        """``fallback_fee_rate`` (sat/vB) is used when the node has no estimate (bcoin
        never has; Core has none on a fresh chain). ``accept_wait`` is how long
        ``broadcast`` waits to see a transaction in the node's mempool: bcoin's
        ``sendrawtransaction`` answers before checking the transaction."""
        if len(currencies) != 1 or currencies[0].contract is not None:
            raise ValueError("the Bitcoin plugin counts one currency: the native coin")
        if currencies[0].decimals != 8:
            raise ValueError(f"{currencies[0].id} must have 8 decimals (satoshi) on Bitcoin")
        if fallback_fee_rate < 1:
            raise ValueError("the fallback fee rate is in sat/vB and at least 1")
        parts = urlsplit(server)
        query = parse_qs(parts.query)
        self.network_name = network or query.get("network", ["main"])[0]
        self._network = bitcoin_tx.network_params(self.network_name)
        self.currency = currencies[0]
        self.fallback_fee_rate = fallback_fee_rate
        self.confirmation_target = confirmation_target
        self.accept_wait = accept_wait
        self._rpc = BitcoinRPC(urlunsplit(parts._replace(query="")), timeout=timeout)
        self._network_checked = False

    def __repr__(self) -> str:
        return f"BitcoinPlugin({self.network_name} node at {self._rpc.where})"

    async def latest_height(self) -> int:
        return int(await self._call("getblockcount"))

    async def block(self, height: int, watched: frozenset[str] | None = None) -> Block:
        block_hash = str(await self._call("getblockhash", height))
        raw = bytes.fromhex(await self._call("getblock", block_hash, 0))
        transfers = tuple(
            Transfer(
                txid=payment.txid,
                txout=payment.txout,
                to_address=payment.address,
                amount=payment.amount,
                currency=self.currency.id,
                block_number=height,
                from_addresses=payment.from_addresses,
                status=SUCCESS,
            )
            for payment in bitcoin_tx.parse_block(raw, self._network)
            if watched is None or payment.address in watched
        )
        return Block(height, block_hash, bitcoin_tx.parent_hash(raw), transfers)

    async def balance_of(self, address: str, currency: ChainCurrency) -> int:
        """What ``address`` holds in the node's view: confirmed coins and mempool ones,
        less those a mempool transaction spends."""
        self._check_currency(currency)
        return sum(coin.value for coin in await self._coins(address))

    async def fee_estimate(self, currency: ChainCurrency) -> int:
        """The fee of a one-input payment with change, at the node's (or fallback) rate."""
        self._check_currency(currency)
        vsize = bitcoin_tx.transaction_vsize(1, [P2WPKH_SHAPE, P2WPKH_SHAPE])
        return vsize * await self.fee_rate()

    async def fee_rate(self) -> int:
        """sat/vB: the node's ``estimatesmartfee`` rounded up, else the fallback rate."""
        answer = await self._call("estimatesmartfee", self.confirmation_target)
        btc_per_kvb = answer.get("feerate") if isinstance(answer, dict) else None
        if not isinstance(btc_per_kvb, Decimal | int) or btc_per_kvb <= 0:
            return self.fallback_fee_rate
        rate = (Decimal(btc_per_kvb) * SATOSHI_PER_BTC / 1000).to_integral_value(ROUND_CEILING)
        return max(int(rate), 1)

    async def transaction(self, txid: str) -> TxStatus:
        try:
            found = await self._call("getrawtransaction", txid, True)
        except NodeError as error:
            if _not_found(error):
                return TxStatus(UNKNOWN)
            raise
        block_hash = found.get("blockhash")
        if not block_hash:
            return TxStatus(PENDING)
        header = await self._call("getblockheader", block_hash, True)
        return TxStatus(SUCCESS, int(header["height"]), int(found.get("confirmations", 0)))

    def create_address(self) -> NewAddress:
        secret = bitcoin_tx.new_key()
        return NewAddress(bitcoin_tx.wpkh_address(secret, self._network), secret)

    async def sign(
        self,
        secret: bytes,
        source: str,
        to_address: str,
        amount: int,
        currency: ChainCurrency,
        *,
        subtract_fee: bool = False,
    ) -> Signed:
        self._check_currency(currency)
        if bitcoin_tx.wpkh_address(secret, self._network) != source:
            raise ChainError(f"the key given is not the key of {source}")
        try:
            payee = bitcoin_tx.script_of(to_address, self._network)
        except AddressError as error:
            raise ChainError(f"cannot pay {to_address!r}: {error}") from None
        change = bitcoin_tx.script_of(source, self._network)
        tip = await self.latest_height()
        coins = [coin for coin in await self._coins(source) if coin.spendable_at(tip)]
        rate = await self.fee_rate()
        try:
            plan = bitcoin_tx.plan_spend(
                coins, amount, payee, change, rate, subtract_fee=subtract_fee
            )
        except InsufficientFunds as error:
            raise ChainError(f"{source} cannot pay {amount} sat: {error}") from None
        signed = bitcoin_tx.sign_spend(secret, plan.coins, payee, plan.amount, change, plan.change)
        return Signed(signed.txid, signed.raw, signed.amount, signed.fee)

    async def broadcast(self, signed: Signed) -> str:
        """Send ``signed``; a transaction the node already has (mempool or chain) counts
        as sent. bcoin answers before it has checked the transaction, so acceptance is
        confirmed by seeing it in the node."""
        rejection: ChainError | None = None
        try:
            await self._call("sendrawtransaction", signed.raw.hex())
        except NodeError as error:
            rejection = error
        deadline = time.monotonic() + (0 if rejection else self.accept_wait)
        while True:
            if await self._node_has(signed.txid):
                return signed.txid
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.05)
        reason = str(rejection) if rejection else "rejected it (its log says why)"
        raise ChainError(f"the node did not take transaction {signed.txid}: {reason}")

    async def close(self) -> None:
        await self._rpc.close()

    async def _node_has(self, txid: str) -> bool:
        try:
            await self._call("getrawtransaction", txid, False)
        except NodeError as error:
            if _not_found(error):
                return False
            raise
        return True

    async def _coins(self, address: str) -> list[Coin]:
        """``address``'s unspent outputs from bcoin's address index."""
        script = bitcoin_tx.script_of(address, self._network)
        await self._check_network()
        answer = await self._rpc.rest(f"/coin/address/{address}")
        if not isinstance(answer, list):
            raise ChainError(f"the node at {self._rpc.where} gave no coin list for {address}")
        coins = [_coin(item) for item in answer]
        return [coin for coin in coins if coin.script == script]

    async def _call(self, method: str, *params: Any) -> Any:
        await self._check_network()
        return await self._rpc.call(method, *params)

    async def _check_network(self) -> None:
        """Refuse a node of another network than the addresses this plugin makes."""
        if self._network_checked:
            return
        info = await self._rpc.call("getblockchaininfo")
        chain = str(info.get("chain"))
        if bitcoin_tx.NETWORK_NAMES.get(chain) != bitcoin_tx.NETWORK_NAMES[self.network_name]:
            raise ChainError(
                f"the node at {self._rpc.where} runs {chain}, not {self.network_name}: "
                "set the network in the server URL (?network=…)"
            )
        self._network_checked = True

    def _check_currency(self, currency: ChainCurrency) -> None:
        if currency.id != self.currency.id:
            raise ChainError(f"{currency.id} is not on this Bitcoin chain ({self.currency.id})")


def _coin(item: dict[str, Any]) -> Coin:
    if not isinstance(item.get("value"), int):
        raise ChainError(f"the node gave a coin of {item.get('value')!r}, not satoshi")
    return Coin(
        txid=str(item["hash"]),
        vout=int(item["index"]),
        value=int(item["value"]),
        script=bytes.fromhex(item["script"]),
        height=int(item["height"]),
        coinbase=bool(item["coinbase"]),
    )


def _not_found(error: NodeError) -> bool:
    message = str(error).lower()
    return error.code == NOT_FOUND_CODE or "not found" in message or "no such" in message
