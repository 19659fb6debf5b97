"""The commands the engine accepts. Each carries an idempotency key.

Amounts are integers: ``volume`` in the market's lots, ``price`` in its ticks, currency
amounts in the currency's smallest unit (see ``specs``). ``payload`` gives the JSON the
command log stores; ``command_from_payload`` reads it back for replay.
"""

from dataclasses import asdict, dataclass
from typing import Any

BUY = "buy"
SELL = "sell"
LIMIT = "limit"
MARKET = "market"
GTC = "GTC"
IOC = "IOC"
FOK = "FOK"

# Self-trade prevention: what happens when an order would trade with its member's own.
CANCEL_TAKER = "cancel_taker"  # the incoming order's remainder is cancelled (default)
CANCEL_MAKER = "cancel_maker"  # the resting order is cancelled, matching goes on
CANCEL_BOTH = "cancel_both"
STP_MODES = (CANCEL_TAKER, CANCEL_MAKER, CANCEL_BOTH)


@dataclass(slots=True, kw_only=True)
class Command:
    key: str

    @property
    def kind(self) -> str:
        return COMMAND_KINDS[type(self)]

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True, kw_only=True)
class PlaceOrder(Command):
    member_id: int
    market: str
    side: str
    volume: int
    price: int = 0
    ord_type: str = LIMIT
    time_in_force: str = ""  # "" means GTC for limit orders, IOC for market orders
    post_only: bool = False
    client_id: str | None = None
    stp: str = CANCEL_TAKER


@dataclass(slots=True, kw_only=True)
class CancelOrder(Command):
    member_id: int
    order_id: int | None = None
    client_id: str | None = None


@dataclass(slots=True, kw_only=True)
class CancelAll(Command):
    member_id: int
    market: str | None = None
    side: str | None = None


@dataclass(slots=True, kw_only=True)
class Credit(Command):
    """A deposit: ``amount`` gross, of which ``fee`` goes to revenue."""

    member_id: int
    currency: str
    amount: int
    deposit_id: str
    fee: int = 0


@dataclass(slots=True, kw_only=True)
class HoldWithdrawal(Command):
    """Move ``amount`` (what the member pays, fee included) from main to locked."""

    member_id: int
    currency: str
    amount: int
    withdrawal_id: str


@dataclass(slots=True, kw_only=True)
class ReleaseWithdrawal(Command):
    withdrawal_id: str


@dataclass(slots=True, kw_only=True)
class SettleWithdrawal(Command):
    """The withdrawal left: ``amount - fee`` left the platform's assets, ``fee`` is revenue."""

    withdrawal_id: str
    fee: int = 0


@dataclass(slots=True, kw_only=True)
class Adjust(Command):
    """An admin correction of a member's main balance (signed), with a reason."""

    member_id: int
    currency: str
    amount: int
    reason: str


COMMAND_KINDS: dict[type[Command], str] = {
    PlaceOrder: "place_order",
    CancelOrder: "cancel_order",
    CancelAll: "cancel_all",
    Credit: "credit",
    HoldWithdrawal: "hold_withdrawal",
    ReleaseWithdrawal: "release_withdrawal",
    SettleWithdrawal: "settle_withdrawal",
    Adjust: "adjust",
}
COMMAND_TYPES: dict[str, type[Command]] = {kind: cls for cls, kind in COMMAND_KINDS.items()}


def command_from_payload(kind: str, payload: dict[str, Any]) -> Command:
    """Rebuild a logged command (for replay and for the AMQP transport)."""
    return COMMAND_TYPES[kind](**payload)
