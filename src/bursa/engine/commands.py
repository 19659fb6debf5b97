"""The commands the engine accepts. Each carries an idempotency key.

Amounts are integers: ``volume`` in the market's lots, ``price`` in its ticks, currency
amounts in the currency's smallest unit (see ``specs``). ``payload`` gives the JSON the
command log stores; ``command_from_payload`` reads it back for replay.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from bursa.engine.vocabulary import (
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerCondition,
)

# The short names the engine has always used (``bursa.engine.vocabulary`` has the types).
BUY = Side.BUY
SELL = Side.SELL
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
STOP_LIMIT = OrderType.STOP_LIMIT
STOP_MARKET = OrderType.STOP_MARKET
ABOVE = TriggerCondition.ABOVE
BELOW = TriggerCondition.BELOW
GTC = TimeInForce.GTC
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
CANCEL_TAKER = SelfTradePrevention.CANCEL_TAKER
CANCEL_MAKER = SelfTradePrevention.CANCEL_MAKER
CANCEL_BOTH = SelfTradePrevention.CANCEL_BOTH
STP_MODES = tuple(SelfTradePrevention)


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
    # Stop orders only: the trigger in ticks, and "above" / "below" ("": buy above, sell below).
    trigger_price: int = 0
    trigger_condition: str = ""


@dataclass(slots=True, kw_only=True)
class PlaceOco(Command):
    """One cancels the other: a GTC limit order at ``price`` and a stop order triggered at
    ``trigger_price`` (a stop-limit at ``stop_price``, or a stop-market when it is 0), the
    funds locked once for both."""

    member_id: int
    market: str
    side: str
    volume: int
    price: int
    trigger_price: int
    stop_price: int = 0
    client_id: str | None = None
    stp: str = CANCEL_TAKER


@dataclass(slots=True, kw_only=True)
class AmendOrder(Command):
    """Change a resting limit order's price and/or remaining volume (0: unchanged)."""

    member_id: int
    order_id: int | None = None
    client_id: str | None = None
    price: int = 0
    volume: int = 0


@dataclass(slots=True, kw_only=True)
class BulkOrders(Command):
    """Cancels (``{"order_id"}`` or ``{"client_id"}``), then placements (``PlaceOrder``'s
    fields without key and member), each answered on its own, as one command."""

    member_id: int
    place: list[Any] = field(default_factory=list)
    cancel: list[Any] = field(default_factory=list)


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


@dataclass(slots=True, kw_only=True)
class Transfer(Command):
    """Balanced movements between ledger accounts (Peatio's management transfer): each
    leg debits account ``src`` and credits account ``dst`` by ``amount`` of ``currency``.

    A leg is ``{"currency", "amount", "src", "src_member", "dst", "dst_member"}``: codes
    from the chart of accounts, members (ids, or None) for member accounts. ``reference``
    names the transfer on its postings.
    """

    reference: str
    legs: list[Any]  # of leg mappings; the engine checks their shape


@dataclass(slots=True, kw_only=True)
class ConfigureCurrency(Command):
    """Make a currency known to the engine, or change its row. Its type and precision
    never change once set: every balance is counted in its smallest unit.

    The other fields are the rest of the currency's ``currencies`` row (amounts in its
    smallest unit), which the engine writes in the batch that applied the command, as it
    does a market's: the table and the engine never disagree, whatever crashes when. A
    command logged before the row rode along lacks them and replays with these defaults
    (replay writes no rows).
    """

    code: str
    type: str
    precision: int
    name: str = ""  # "": the code in capitals
    description: str = ""
    homepage: str = ""
    icon_url: str = ""
    state: str = "enabled"
    position: int = 1
    blockchain_key: str | None = None
    deposit_fee: int = 0
    min_deposit_amount: int = 0
    withdraw_fee: int = 0
    min_withdraw_amount: int = 0
    withdraw_limit_24h: int = 0
    withdraw_limit_72h: int = 0
    deposit_enabled: bool = True
    withdrawal_enabled: bool = True
    min_confirmations: int | None = None  # None: the blockchain's number applies
    options: dict[str, Any] = field(default_factory=dict)  # chain details, plain values


@dataclass(slots=True, kw_only=True)
class ConfigureMarket(Command):
    """Open a market or change its rules (bounds in ticks and lots, fees in millionths,
    state, position); its currencies and precisions never change. The engine writes the
    market's row, so the table always holds the rules the engine applies."""

    market: str
    base: str
    quote: str
    amount_precision: int
    price_precision: int
    min_price: int
    max_price: int
    min_amount: int
    maker_fee: int
    taker_fee: int
    state: str
    position: int = 1
    type: str = "spot"


@dataclass(slots=True, kw_only=True)
class SetTradingFee(Command):
    """Set the fees of a member group on a market (either may be ``any``), in millionths;
    ``maker`` and ``taker`` of -1 remove the entry."""

    market: str
    group: str
    maker: int
    taker: int


@dataclass(slots=True, kw_only=True)
class SetMemberGroup(Command):
    """Put a member in a fee group (Peatio's ``member.group``)."""

    member_id: int
    group: str


COMMAND_KINDS: dict[type[Command], str] = {
    PlaceOrder: "place_order",
    PlaceOco: "place_oco",
    AmendOrder: "amend_order",
    BulkOrders: "bulk_orders",
    CancelOrder: "cancel_order",
    CancelAll: "cancel_all",
    Credit: "credit",
    HoldWithdrawal: "hold_withdrawal",
    ReleaseWithdrawal: "release_withdrawal",
    SettleWithdrawal: "settle_withdrawal",
    Adjust: "adjust",
    Transfer: "transfer",
    ConfigureCurrency: "configure_currency",
    ConfigureMarket: "configure_market",
    SetTradingFee: "set_trading_fee",
    SetMemberGroup: "set_member_group",
}
COMMAND_TYPES: dict[str, type[Command]] = {kind: cls for cls, kind in COMMAND_KINDS.items()}


def command_from_payload(kind: str, payload: dict[str, Any]) -> Command:
    """Rebuild a logged command (for replay and for the AMQP transport)."""
    return COMMAND_TYPES[kind](**payload)
