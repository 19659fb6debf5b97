"""What a blockchain plugin offers Bursa: reading the chain, and making, signing and
broadcasting transfers (Peatio's blockchain and wallet adapters, in one plugin per chain).

Amounts are integers in the currency's on-chain units (wei, satoshi, a token's smallest
unit); ``ChainCurrency.decimals`` turns them into decimals at the edge. Private keys are
bytes the plugin makes (``create_address``) and receives back to sign with (``sign``); the
caller seals them with the key store at once and never logs them.

Sending is two steps so a transfer is never broadcast twice: ``sign`` gives the signed
transaction and its id, which the caller records before ``broadcast``. After a crash the
caller broadcasts the recorded bytes again: the network sees the same transaction (same
id), not a second payment.

Fees: ``Signed.fee`` is what the transaction pays as signed and ``TxStatus.fee`` what it
paid once mined, so custody books every network fee (``custody.network_fees``) when the
transaction is recorded and corrects it when it is mined.

A plugin is a class registered in the ``bursa.blockchains`` entry point group under its
client name (``ethereum``, ``bitcoin``) and built with ``(server, currencies)``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

ENTRY_POINTS = "bursa.blockchains"
SUCCESS, FAILED, PENDING = "success", "failed", "pending"


class ChainError(RuntimeError):
    """The node could not be reached or refused a call. The message names the node's
    answer, never a key or the node URL's credentials."""


class UnknownClient(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class ChainCurrency:
    """A Bursa currency as a chain counts it."""

    id: str  # Bursa's currency code
    decimals: int  # on-chain units per whole coin, as a power of ten
    contract: str | None = None  # a token's contract address; None for the native coin

    def to_decimal(self, units: int) -> Decimal:
        return Decimal(units).scaleb(-self.decimals)

    def to_units(self, amount: Decimal) -> int:
        """``amount`` in on-chain units; more decimals than the chain has is an error."""
        scaled = amount.scaleb(self.decimals)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{amount} has more than {self.decimals} decimals")
        return int(scaled)


@dataclass(frozen=True, slots=True)
class Transfer:
    """One payment to one address in a transaction: an output (UTXO chains), the value of
    a transaction or one token ``Transfer`` log (account chains)."""

    txid: str
    txout: int  # output index, or log index (native value: 0 on account chains)
    to_address: str
    amount: int  # on-chain units
    currency: str
    block_number: int
    from_addresses: tuple[str, ...] = ()
    status: str = SUCCESS  # success | failed (reverted)


@dataclass(frozen=True, slots=True)
class Block:
    height: int
    hash: str
    parent_hash: str
    transfers: tuple[Transfer, ...] = ()


@dataclass(frozen=True, slots=True)
class NewAddress:
    """A fresh address and the private key behind it (bytes: seal them at once)."""

    address: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Signed:
    """A signed transaction, ready to broadcast (again, after a crash)."""

    txid: str
    raw: bytes = field(repr=False)
    amount: int  # what the destination receives, on-chain units
    # What the network takes, in the chain's native units, as far as signing can tell:
    # Bitcoin's exact fee (inputs - outputs), Ethereum's most (gas limit × gas price; the
    # receipt's actual fee is ``TxStatus.fee``).
    fee: int


@dataclass(frozen=True, slots=True)
class TxStatus:
    status: str  # success | failed | pending (not in a block yet) | unknown
    block_number: int | None = None
    confirmations: int = 0
    # What the network took once mined (success or failed), in native units: gas used ×
    # gas price on Ethereum. None: the fee at signing stands (Bitcoin's never changes).
    fee: int | None = None


@runtime_checkable
class Blockchain(Protocol):
    """Reading a chain (Peatio's blockchain adapter)."""

    case_sensitive: bool  # False: Bursa lower-cases addresses and ids (Ethereum)

    async def latest_height(self) -> int: ...

    async def block(self, height: int, watched: frozenset[str] | None = None) -> Block:
        """The transfers of the configured currencies in the block at ``height``: to the
        ``watched`` addresses only when given (a plugin may then skip work such as
        fetching receipts), else all of them. Addresses are as ``case_sensitive`` says
        (lower-case when it is False)."""
        ...

    async def balance_of(self, address: str, currency: ChainCurrency) -> int: ...

    async def fee_estimate(self, currency: ChainCurrency) -> int:
        """The network fee of one transfer of ``currency``, in native units."""
        ...

    async def transaction(self, txid: str) -> TxStatus:
        """Where ``txid`` stands; once mined, with the fee it actually paid when that can
        differ from the one at signing."""
        ...


@runtime_checkable
class Wallet(Protocol):
    """Making keys and paying from them (Peatio's wallet adapter); keys stay Bursa's."""

    def create_address(self) -> NewAddress: ...

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
        """Pay ``amount`` of ``currency`` from ``source`` (whose key is ``secret``) to
        ``to_address``; with ``subtract_fee`` the fee comes out of ``amount`` (sweeps)."""
        ...

    async def broadcast(self, signed: Signed) -> str:
        """Send ``signed`` to the network; sending one already known is not an error."""
        ...


@runtime_checkable
class ChainPlugin(Blockchain, Wallet, Protocol):
    """A chain client: both adapters in one class (they share the node connection)."""

    async def close(self) -> None: ...


class PluginFactory(Protocol):
    def __call__(self, server: str, currencies: Sequence[ChainCurrency]) -> ChainPlugin: ...


def plugin_factory(client: str) -> PluginFactory:
    """The plugin class registered as ``client`` in ``bursa.blockchains``."""
    for point in entry_points(group=ENTRY_POINTS):
        if point.name == client:
            factory: PluginFactory = point.load()
            return factory
    known = sorted(point.name for point in entry_points(group=ENTRY_POINTS))
    raise UnknownClient(
        f"no blockchain plugin named {client!r} (installed: {', '.join(known) or 'none'})"
    )
