"""Bitcoin keys, addresses, block parsing and transaction signing: no I/O, so the plugin
can ask the node only for what the node alone knows (blocks, coins, fee rates).

Bursa holds the keys (the node has no wallet): addresses are P2WPKH (``bc1q…``,
``bcrt1q…`` on regtest), signed with BIP-143 on Bursa's side. Amounts are satoshi
integers throughout.
"""

import io
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from embit import compact
from embit.ec import PrivateKey, PublicKey
from embit.networks import NETWORKS
from embit.script import Script, Witness, address_to_scriptpubkey, p2pkh, p2sh, p2wpkh
from embit.transaction import SIGHASH, Transaction, TransactionInput, TransactionOutput

# Bitcoin Core's name for each chain (getblockchaininfo's "chain") -> embit's network.
NETWORK_NAMES = {
    "main": "main",
    "test": "test",
    "testnet4": "test",
    "signet": "signet",
    "regtest": "regtest",
}

COINBASE_MATURITY = 100  # confirmations before a coinbase output may be spent
DUST_LIMIT = 546  # satoshi: an output below this is not relayed; such change goes to fee
HEADER_SIZE = 80
_INPUT_SIZE = 32 + 4 + 1 + 4  # outpoint, empty scriptSig, sequence
_SEGWIT_MARKER_SIZE = 2
# Item count, then a low-R DER signature (embit grinds for one: at most 70 bytes) with its
# sighash byte, then a compressed key, each with its length: sizing with the longest
# signature keeps the fee rate at or above the one asked for.
_WITNESS_SIZE = 1 + (1 + 71) + (1 + 33)


class AddressError(ValueError):
    """Not an address of the configured network (the message names the address only)."""


@dataclass(frozen=True, slots=True)
class Coin:
    """An unspent output the node's address index knows."""

    txid: str
    vout: int
    value: int  # satoshi
    script: bytes  # its scriptPubKey
    height: int  # -1 while in the mempool
    coinbase: bool

    def spendable_at(self, tip: int) -> bool:
        if not self.coinbase:
            return True
        return self.height >= 0 and tip - self.height + 1 >= COINBASE_MATURITY


@dataclass(frozen=True, slots=True)
class Payment:
    """One output of a parsed transaction that pays an address."""

    txid: str
    txout: int
    address: str
    amount: int
    from_addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    txid: str
    raw: bytes = field(repr=False)
    amount: int  # what the destination receives
    fee: int


def network_params(name: str) -> dict[str, object]:
    """embit's parameters for a chain named as Bitcoin Core names it."""
    try:
        params: dict[str, object] = NETWORKS[NETWORK_NAMES[name]]
    except KeyError:
        known = ", ".join(sorted(NETWORK_NAMES))
        raise ValueError(f"unknown Bitcoin network {name!r} (known: {known})") from None
    return params


def new_key() -> bytes:
    """32 random bytes that are a valid secp256k1 private key."""
    while True:
        secret = secrets.token_bytes(32)
        try:
            PrivateKey(secret)
        except Exception:  # noqa: S112 - zero or above the curve order: draw again
            continue
        return secret


def wpkh_address(secret: bytes, network: dict[str, object]) -> str:
    """The P2WPKH address of the key ``secret``."""
    return str(p2wpkh(_private_key(secret).get_public_key()).address(network))


def script_of(address: str, network: dict[str, object]) -> bytes:
    """The scriptPubKey paying ``address``; an address of another network is refused."""
    canonical = address.lower() if address.upper() == address else address
    try:
        script = address_to_scriptpubkey(canonical)
        round_trip = script.address(network)
    except Exception:
        raise AddressError(f"{address!r} is not a Bitcoin address") from None
    if round_trip != canonical:
        raise AddressError(f"{address!r} is not an address of {network['name']}")
    data: bytes = script.data
    return data


def address_of(script: bytes, network: dict[str, object]) -> str | None:
    """The address ``script`` pays, or None (OP_RETURN, bare multisig, unknown)."""
    parsed = Script(script)
    if parsed.script_type() is None:
        return None
    try:
        return str(parsed.address(network))
    except ValueError:
        return None


def parse_block(raw: bytes, network: dict[str, object]) -> Iterator[Payment]:
    """The outputs of a serialized block that pay an address, in block order."""
    stream = io.BytesIO(raw)
    stream.seek(HEADER_SIZE)
    for _ in range(compact.read_from(stream)):
        tx = Transaction.read_from(stream)
        txid = tx.txid().hex()
        senders = _senders(tx, network)
        for index, output in enumerate(tx.vout):
            address = address_of(output.script_pubkey.data, network)
            if address is not None:
                yield Payment(txid, index, address, int(output.value), senders)


def parent_hash(raw_block: bytes) -> str:
    """The previous block's hash, as nodes print it (byte-reversed hex)."""
    return raw_block[4:36][::-1].hex()


def _senders(tx: Transaction, network: dict[str, object]) -> tuple[str, ...]:
    """The P2WPKH (and P2SH-wrapped P2WPKH) addresses whose keys signed ``tx``'s inputs,
    read from the witnesses: free, unlike looking up each spent output."""
    found: list[str] = []
    for tx_input in tx.vin:
        items = tx_input.witness.items
        if len(items) != 2 or len(items[1]) != 33 or items[1][0] not in (2, 3):
            continue
        try:
            script = p2wpkh(PublicKey.parse(items[1]))
        except Exception:  # noqa: S112 - not a public key after all: not a P2WPKH spend
            continue
        if tx_input.script_sig.data == b"":
            address = script.address(network)
        elif tx_input.script_sig.data == bytes([len(script.data)]) + script.data:
            address = p2sh(script).address(network)
        else:
            continue
        if address not in found:
            found.append(address)
    return tuple(found)


def transaction_vsize(inputs: int, output_scripts: Sequence[bytes]) -> int:
    """The virtual size of a transaction spending ``inputs`` P2WPKH outputs, at most
    (BIP-141: non-witness bytes weigh 4, witness bytes 1; vsize is weight / 4 rounded up).
    Counted, not built, so choosing among many coins stays cheap."""
    outputs = sum(8 + len(compact.to_bytes(len(script))) + len(script) for script in output_scripts)
    base = 4 + len(compact.to_bytes(inputs)) + len(compact.to_bytes(len(output_scripts)))
    base += outputs + 4 + inputs * _INPUT_SIZE
    witness = _SEGWIT_MARKER_SIZE + inputs * _WITNESS_SIZE
    return -(-(base * 4 + witness) // 4)


class InsufficientFunds(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SpendPlan:
    coins: tuple[Coin, ...]
    amount: int  # to the payee
    change: int  # back to the source; 0: no change output


def plan_spend(
    coins: Sequence[Coin],
    amount: int,
    payee_script: bytes,
    change_script: bytes,
    fee_rate: int,
    *,
    subtract_fee: bool,
) -> SpendPlan:
    """Pick coins, largest first, to pay ``amount`` plus a fee of ``fee_rate`` sat/vB; with
    ``subtract_fee`` the payee gets ``amount`` less the fee (a sweep of all of a balance).
    Change below the dust limit is left to the fee rather than made into an output."""
    if amount <= 0:
        raise ValueError(f"the amount must be positive, not {amount}")
    chosen: list[Coin] = []
    total = 0
    for coin in sorted(coins, key=lambda coin: coin.value, reverse=True):
        chosen.append(coin)
        total += coin.value
        with_change = fee_rate * transaction_vsize(len(chosen), [payee_script, change_script])
        without_change = fee_rate * transaction_vsize(len(chosen), [payee_script])
        if subtract_fee:
            if total < amount:
                continue
            change = total - amount
            fee = with_change if change >= DUST_LIMIT else without_change
            send = amount - fee
            if send < DUST_LIMIT:
                raise InsufficientFunds(
                    f"the fee ({fee} sat) leaves {send} sat of {amount}, below the dust limit"
                )
        else:
            send = amount
            if total >= amount + with_change + DUST_LIMIT:
                change = total - amount - with_change
            elif total >= amount + without_change:
                change = 0
            else:
                continue
        return SpendPlan(tuple(chosen), send, change if change >= DUST_LIMIT else 0)
    fee = fee_rate * transaction_vsize(max(len(chosen), 1), [payee_script, change_script])
    needed = amount if subtract_fee else amount + fee
    raise InsufficientFunds(f"{total} sat can be spent, {needed} sat needed (amount and fee)")


def sign_spend(
    secret: bytes,
    coins: Sequence[Coin],
    payee_script: bytes,
    amount: int,
    change_script: bytes,
    change: int,
) -> SignedTransaction:
    """Spend ``coins`` (all P2WPKH of ``secret``): ``amount`` to the payee, ``change`` (if
    not zero) back; whatever the inputs hold beyond that is the fee."""
    key = _private_key(secret)
    public = key.get_public_key()
    outputs = [TransactionOutput(amount, Script(payee_script))]
    if change:
        outputs.append(TransactionOutput(change, Script(change_script)))
    tx = Transaction(
        version=2,
        vin=[TransactionInput(bytes.fromhex(coin.txid), coin.vout) for coin in coins],
        vout=outputs,
    )
    script_code = p2pkh(public)
    for index, coin in enumerate(coins):
        digest = tx.sighash_segwit(index, script_code, coin.value, sighash=SIGHASH.ALL)
        signature = key.sign(digest)
        tx.vin[index].witness = Witness(
            [signature.serialize() + bytes([SIGHASH.ALL]), public.sec()]
        )
    fee = sum(coin.value for coin in coins) - amount - change
    return SignedTransaction(tx.txid().hex(), bytes(tx.serialize()), amount, fee)


def _private_key(secret: bytes) -> PrivateKey:
    """embit's key object; its repr shows the key, so it never leaves this module."""
    try:
        return PrivateKey(secret)
    except Exception:
        raise ValueError("the secret is not a 32-byte secp256k1 private key") from None
