"""Ethereum (and any EVM chain) as a Bursa chain plugin, over a node's JSON-RPC.

Keys stay on Bursa's side: the node is only asked to read the chain and relay signed
transactions, so any node (own geth, a provider) will do and holds no wallet. Transactions
carry an explicit gas limit, gas price and chain id and are signed here, so signing never
depends on the node's estimates and the same bytes can be broadcast again after a crash.

Token deposits come from ``Transfer`` logs (one ``eth_getLogs`` per block, by block hash,
so logs and block agree even during a reorg). A reverted token transfer has no log; it is
found from its ``transfer(address,uint256)`` call and reported ``failed``.
"""

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientTimeout
from eth_account import Account
from eth_typing import ChecksumAddress, HexStr
from hexbytes import HexBytes
from web3 import AsyncHTTPProvider, AsyncWeb3, Web3
from web3.exceptions import BlockNotFound, TransactionNotFound, Web3Exception, Web3RPCError
from web3.types import FilterParams, LogReceipt, TxData, TxParams, TxReceipt

from bursa.custody.chain import (
    FAILED,
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
from bursa.custody.chains.erc20 import (
    TRANSFER_TOPIC,
    balance_of_call,
    decode_transfer_call,
    decode_transfer_log,
    decode_uint256,
    transfer_call,
)

NATIVE_GAS_LIMIT = 21_000  # a plain value transfer to an account always costs this
TOKEN_GAS_LIMIT = 90_000  # enough for common ERC-20 transfers (first-time receivers too)
DEFAULT_TIMEOUT = 10.0  # seconds per JSON-RPC call; a scanner retries, so fail fast
RECEIPT_FETCHES = 16  # receipts fetched at once, so a busy block does not flood the node
BLOCK_RECEIPTS_FROM = 4  # from this many receipts on, ask for the whole block's at once
AddressFilter = Callable[[str], bool]
# The node's words for "I have this transaction already" (geth, erigon, anvil, nethermind).
ALREADY_KNOWN = ("already known", "already imported", "alreadyknown", "known transaction")


class EthereumPlugin:
    """``ChainPlugin`` for Ethereum: the native coin and the configured ERC-20 tokens."""

    case_sensitive = False

    def __init__(
        self,
        server: str,
        currencies: Sequence[ChainCurrency],
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._server = server
        self._server_label = _redacted(server)
        natives = [currency for currency in currencies if currency.contract is None]
        if len(natives) > 1:
            raise ValueError(f"more than one native currency: {[c.id for c in natives]}")
        self._native = natives[0] if natives else None
        self._tokens = {
            currency.contract.lower(): currency
            for currency in currencies
            if currency.contract is not None
        }
        self._provider = AsyncHTTPProvider(
            server,
            request_kwargs={"timeout": ClientTimeout(total=timeout)},
            # The caller (a scanner, a withdrawal worker) retries on its own schedule;
            # retrying here as well would only hide a node that is down.
            exception_retry_configuration=None,
        )
        self._web3 = AsyncWeb3(self._provider)
        self._chain_id: int | None = None
        self._receipt_fetches = asyncio.Semaphore(RECEIPT_FETCHES)
        self._block_receipts = True  # until the node says it has no eth_getBlockReceipts

    def __repr__(self) -> str:
        return f"EthereumPlugin({self._server_label!r})"

    # reading the chain

    async def latest_height(self) -> int:
        with self._node_call("eth_blockNumber"):
            return int(await self._web3.eth.block_number)

    async def block(self, height: int, watched: frozenset[str] | None = None) -> Block:
        with self._node_call(f"eth_getBlockByNumber({height})"):
            try:
                data = await self._web3.eth.get_block(height, full_transactions=True)
            except BlockNotFound:
                raise ChainError(
                    f"{self._server_label} has no block at height {height} yet"
                ) from None
        block_hash = _hex(data["hash"])
        transactions = cast(Sequence[TxData], data["transactions"])
        wanted = _wanted(watched)
        natives: list[TxData] = []
        token_calls: list[TxData] = []
        for tx in transactions:
            to = tx.get("to")
            if to is None:
                continue
            receiver = str(to).lower()
            if self._native is not None and tx["value"] > 0 and wanted(receiver):
                natives.append(tx)
            elif receiver in self._tokens:
                move = decode_transfer_call(str(tx["from"]), bytes(tx["input"]))
                if move is not None and wanted(move.receiver):
                    token_calls.append(tx)
        logs = await self._transfer_logs(block_hash) if self._tokens else []
        receipts = await self._receipts([tx["hash"] for tx in natives + token_calls], block_hash)
        transfers = [self._native_transfer(tx, receipts, height) for tx in natives]
        transfers += self._failed_token_calls(token_calls, receipts, height)
        transfers += self._token_transfers(logs, wanted, height)
        transfers.sort(key=lambda transfer: (transfer.txid, transfer.txout))
        return Block(height, block_hash, _hex(data["parentHash"]), tuple(transfers))

    async def balance_of(self, address: str, currency: ChainCurrency) -> int:
        owner = _checksum(address)
        if currency.contract is None:
            with self._node_call("eth_getBalance"):
                return int(await self._web3.eth.get_balance(owner))
        call: TxParams = {"to": _checksum(currency.contract), "data": balance_of_call(owner)}
        with self._node_call(f"balanceOf on {currency.id} contract {currency.contract}"):
            result = await self._web3.eth.call(call)
        if len(result) != 32:
            raise ChainError(
                f"{currency.id} contract {currency.contract} did not answer balanceOf "
                "(is it an ERC-20 token on this chain?)"
            )
        return decode_uint256(bytes(result))

    async def fee_estimate(self, currency: ChainCurrency) -> int:
        return _gas_limit(currency) * await self._gas_price()

    async def transaction(self, txid: str) -> TxStatus:
        with self._node_call(f"eth_getTransactionReceipt({txid})"):
            try:
                receipt = await self._web3.eth.get_transaction_receipt(HexStr(txid))
            except TransactionNotFound:
                receipt = None
        if receipt is None:
            with self._node_call(f"eth_getTransactionByHash({txid})"):
                try:
                    await self._web3.eth.get_transaction(HexStr(txid))
                except TransactionNotFound:
                    return TxStatus("unknown")
            return TxStatus(PENDING)
        latest = await self.latest_height()
        number = int(receipt["blockNumber"])
        deep = max(latest - number + 1, 0)
        return TxStatus(_receipt_status(receipt), number, deep, _fee_paid(receipt))

    # sending

    def create_address(self) -> NewAddress:
        while True:
            secret = secrets.token_bytes(32)
            try:
                account = Account.from_key(secret)
            except (ValueError, TypeError):  # 0 or above the curve order: about never
                continue
            return NewAddress(account.address.lower(), secret)

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
        if amount <= 0:
            raise ValueError(f"amount must be positive, not {amount}")
        if subtract_fee and currency.contract is not None:
            raise ValueError(f"subtract_fee is for the native coin only, not {currency.id}")
        sender = _checksum(source)
        try:
            account = Account.from_key(secret)
        except (ValueError, TypeError):
            raise ChainError(f"the key for {source} is not a valid private key") from None
        if account.address != sender:
            raise ChainError(f"the key given does not belong to {source}")
        gas = _gas_limit(currency)
        gas_price = await self._gas_price()
        fee = gas * gas_price
        with self._node_call(f"eth_getTransactionCount({source}, pending)"):
            nonce = await self._web3.eth.get_transaction_count(sender, "pending")
        chain_id = await self._chain()
        if subtract_fee:
            if amount <= fee:
                raise ChainError(
                    f"{currency.id} amount {amount} does not cover the fee {fee} "
                    f"({gas} gas at {gas_price} wei): nothing would be left to send"
                )
            amount -= fee
        tx: dict[str, Any] = {
            "nonce": nonce,
            "gas": gas,
            "gasPrice": gas_price,
            "chainId": chain_id,
        }
        if currency.contract is None:
            tx |= {"to": _checksum(to_address), "value": amount, "data": b""}
        else:
            call = transfer_call(_checksum(to_address), amount)
            tx |= {"to": _checksum(currency.contract), "value": 0, "data": call}
        signed = Account.sign_transaction(tx, secret)
        return Signed(_hex(signed.hash), bytes(signed.raw_transaction), amount, fee)

    async def broadcast(self, signed: Signed) -> str:
        try:
            with self._node_call(f"eth_sendRawTransaction({signed.txid})"):
                txid = await self._web3.eth.send_raw_transaction(signed.raw)
            return _hex(txid)
        except ChainError as error:
            # Sent before (a retry after a crash, a second broadcast): the node says
            # "already known" while it is in its pool, or "nonce too low" once mined.
            if any(words in str(error).lower() for words in ALREADY_KNOWN):
                return signed.txid
            if await self.transaction(signed.txid) != TxStatus("unknown"):
                return signed.txid
            raise

    async def close(self) -> None:
        await self._provider.disconnect()

    # helpers

    async def _gas_price(self) -> int:
        with self._node_call("eth_gasPrice"):
            return int(await self._web3.eth.gas_price)

    async def _chain(self) -> int:
        if self._chain_id is None:
            with self._node_call("eth_chainId"):
                self._chain_id = int(await self._web3.eth.chain_id)
        return self._chain_id

    async def _transfer_logs(self, block_hash: str) -> list[LogReceipt]:
        query: FilterParams = {
            "blockHash": HexBytes(block_hash),
            "address": [_checksum(contract) for contract in self._tokens],
            "topics": [HexStr(TRANSFER_TOPIC)],
        }
        with self._node_call(f"eth_getLogs(block {block_hash})"):
            return list(await self._web3.eth.get_logs(query))

    async def _receipts(self, txids: Sequence[HexBytes], block_hash: str) -> dict[str, TxReceipt]:
        """The receipts of ``txids`` (all in block ``block_hash``): for many, the block's
        receipts in one ``eth_getBlockReceipts`` where the node has it, else one call
        per transaction."""
        if len(txids) > BLOCK_RECEIPTS_FROM and self._block_receipts:
            try:
                with self._node_call(f"eth_getBlockReceipts({block_hash})"):
                    every = await self._web3.eth.get_block_receipts(HexStr(block_hash))
            except ChainError:
                self._block_receipts = False  # an older node: ask per transaction
            else:
                found = {_hex(receipt["transactionHash"]): receipt for receipt in every}
                return {_hex(txid): found[_hex(txid)] for txid in txids}

        async def fetch(txid: HexBytes) -> TxReceipt:
            async with self._receipt_fetches:
                with self._node_call(f"eth_getTransactionReceipt({_hex(txid)})"):
                    return await self._web3.eth.get_transaction_receipt(txid)

        fetches: list[Awaitable[TxReceipt]] = [fetch(txid) for txid in txids]
        receipts = await asyncio.gather(*fetches)
        return {_hex(receipt["transactionHash"]): receipt for receipt in receipts}

    def _native_transfer(self, tx: TxData, receipts: dict[str, TxReceipt], height: int) -> Transfer:
        assert self._native is not None
        txid = _hex(tx["hash"])
        return Transfer(
            txid=txid,
            txout=0,
            to_address=str(tx["to"]).lower(),
            amount=int(tx["value"]),
            currency=self._native.id,
            block_number=height,
            from_addresses=(str(tx["from"]).lower(),),
            status=_receipt_status(receipts[txid]),
        )

    def _failed_token_calls(
        self, calls: list[TxData], receipts: dict[str, TxReceipt], height: int
    ) -> list[Transfer]:
        """Token transfers that reverted: they left no log, only their call."""
        failed = []
        for tx in calls:
            txid = _hex(tx["hash"])
            move = decode_transfer_call(str(tx["from"]), bytes(tx["input"]))
            if move is None or _receipt_status(receipts[txid]) != FAILED:
                continue
            failed.append(
                Transfer(
                    txid=txid,
                    txout=0,
                    to_address=move.receiver,
                    amount=move.amount,
                    currency=self._tokens[str(tx["to"]).lower()].id,
                    block_number=height,
                    from_addresses=(move.sender,),
                    status=FAILED,
                )
            )
        return failed

    def _token_transfers(
        self, logs: list[LogReceipt], wanted: AddressFilter, height: int
    ) -> list[Transfer]:
        transfers = []
        for log in logs:
            currency = self._tokens.get(str(log["address"]).lower())
            move = decode_transfer_log([bytes(topic) for topic in log["topics"]], log["data"])
            if currency is None or move is None or not wanted(move.receiver):
                continue
            transfers.append(
                Transfer(
                    txid=_hex(log["transactionHash"]),
                    txout=int(log["logIndex"]),
                    to_address=move.receiver,
                    amount=move.amount,
                    currency=currency.id,
                    block_number=height,
                    from_addresses=(move.sender,),
                )
            )
        return transfers

    @contextmanager
    def _node_call(self, what: str) -> Iterator[None]:
        """Turn whatever the node or the connection raised into a ``ChainError`` that says
        which call failed and why, without the node URL's credentials."""
        try:
            yield
        except (Web3Exception, ClientError, TimeoutError, OSError) as error:
            reason = _reason(error).replace(self._server, self._server_label)
            for secret_part in _url_secrets(self._server):
                reason = reason.replace(secret_part, "***")
            raise ChainError(f"{what} on {self._server_label} failed: {reason}") from None


def _wanted(watched: frozenset[str] | None) -> AddressFilter:
    """Whether a receiving address matters: all of them, or the watched ones only."""
    if watched is None:
        return lambda address: True
    return frozenset(address.lower() for address in watched).__contains__


def _reason(error: BaseException) -> str:
    if isinstance(error, Web3RPCError) and isinstance(error.rpc_response, dict):
        details = error.rpc_response.get("error")
        if isinstance(details, dict) and "message" in details:
            return str(details["message"])
    if isinstance(error, TimeoutError):
        return "no answer in time (is the node overloaded or down?)"
    text = str(error) or type(error).__name__
    return text


def _redacted(server: str) -> str:
    """The node URL as it may be shown: no user, password, path or query (providers put
    API keys there)."""
    parts = urlsplit(server)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _url_secrets(server: str) -> list[str]:
    """The parts of the node URL that may hold credentials (providers put API keys in the
    path or the query), longest first."""
    parts = urlsplit(server)
    candidates = [parts.password, parts.query]
    if len(parts.path) > 1:
        candidates.append(parts.path)
    return sorted((part for part in candidates if part), key=len, reverse=True)


def _receipt_status(receipt: TxReceipt) -> str:
    return SUCCESS if receipt["status"] == 1 else FAILED


def _fee_paid(receipt: TxReceipt) -> int | None:
    """Gas used × the price paid for it (a legacy transaction's gas price), in wei; None
    from a node whose receipts do not say the price."""
    price = receipt.get("effectiveGasPrice")
    return None if price is None else int(receipt["gasUsed"]) * int(price)


def _gas_limit(currency: ChainCurrency) -> int:
    return NATIVE_GAS_LIMIT if currency.contract is None else TOKEN_GAS_LIMIT


def _checksum(address: str) -> ChecksumAddress:
    try:
        return Web3.to_checksum_address(address)
    except ValueError:
        raise ValueError(f"{address!r} is not an Ethereum address") from None


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()
