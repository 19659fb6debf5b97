"""The few ERC-20 facts the Ethereum plugin needs, as plain encoding and decoding: a token
transfer is a ``transfer(address,uint256)`` call and a ``Transfer`` log, nothing more, so
no contract ABI machinery is involved."""

from dataclasses import dataclass

from eth_abi.abi import decode, encode
from eth_utils.abi import function_signature_to_4byte_selector

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
TRANSFER_SELECTOR = function_signature_to_4byte_selector("transfer(address,uint256)")
BALANCE_OF_SELECTOR = function_signature_to_4byte_selector("balanceOf(address)")


@dataclass(frozen=True, slots=True)
class TokenMove:
    """Who pays whom how much, read from a call or a log (addresses lower-case hex)."""

    sender: str
    receiver: str
    amount: int


def transfer_call(receiver: str, amount: int) -> bytes:
    return TRANSFER_SELECTOR + encode(["address", "uint256"], [receiver, amount])


def balance_of_call(owner: str) -> bytes:
    return BALANCE_OF_SELECTOR + encode(["address"], [owner])


def decode_uint256(result: bytes) -> int:
    (value,) = decode(["uint256"], result)
    return int(value)


def decode_transfer_call(sender: str, data: bytes) -> TokenMove | None:
    """The transfer a transaction's input asks for, or None when it is another call."""
    if len(data) != 4 + 64 or data[:4] != TRANSFER_SELECTOR:
        return None
    receiver, amount = decode(["address", "uint256"], data[4:])
    return TokenMove(sender.lower(), str(receiver).lower(), int(amount))


def decode_transfer_log(topics: list[bytes], data: bytes) -> TokenMove | None:
    """An ERC-20 ``Transfer`` log (two indexed addresses, the amount as data), or None for
    anything else: ERC-721's ``Transfer`` indexes its third argument too."""
    if len(topics) != 3 or "0x" + topics[0].hex() != TRANSFER_TOPIC or len(data) != 32:
        return None
    return TokenMove(_topic_address(topics[1]), _topic_address(topics[2]), int.from_bytes(data))


def _topic_address(topic: bytes) -> str:
    return "0x" + topic[-20:].hex()
