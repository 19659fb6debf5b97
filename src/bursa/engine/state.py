"""The engine's in-memory records: accounts, orders, price levels, trades, holds, results.

Plain ``__slots__`` classes, mutated only by ``core.Engine``; the persistence layer reads
them at the end of a batch.
"""

from collections import deque
from typing import Any

from bursa.engine.commands import BUY
from bursa.engine.specs import MarketSpec
from bursa.engine.vocabulary import OrderState

TRIGGER_WAIT = OrderState.TRIGGER_WAIT
WAIT = OrderState.WAIT
DONE = OrderState.DONE
CANCEL = OrderState.CANCEL

HELD = "held"
SETTLED = "settled"
RELEASED = "released"


class Account:
    """A member's funds in one currency, in the currency's smallest unit."""

    __slots__ = ("balance", "currency", "locked", "member_id")

    def __init__(self, member_id: int, currency: str, balance: int = 0, locked: int = 0) -> None:
        self.member_id = member_id
        self.currency = currency
        self.balance = balance
        self.locked = locked


class Order:
    __slots__ = (
        "client_id",
        "created_at",
        "funds_received",
        "id",
        "locked",
        "maker_fee",
        "market",
        "member_id",
        "oco_id",
        "ord_type",
        "origin_locked",
        "origin_volume",
        "post_only",
        "price",
        "priority",
        "seq",
        "side",
        "state",
        "stp",
        "taker_fee",
        "time_in_force",
        "trades_count",
        "trigger_condition",
        "trigger_price",
        "updated_at",
        "volume",
    )

    def __init__(
        self,
        id: int,
        member_id: int,
        market: str,
        side: str,
        ord_type: str,
        time_in_force: str,
        post_only: bool,
        client_id: str | None,
        price: int,
        volume: int,
        maker_fee: int,
        taker_fee: int,
        seq: int,
        ts: int,
    ) -> None:
        self.id = id
        self.member_id = member_id
        self.market = market
        self.side = side
        self.ord_type = ord_type
        self.time_in_force = time_in_force
        self.post_only = post_only
        self.client_id = client_id
        self.price = price
        self.origin_volume = volume
        self.volume = volume
        self.origin_locked = 0
        self.locked = 0
        self.funds_received = 0
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.state = WAIT
        self.trades_count = 0
        self.seq = seq
        self.created_at = ts
        self.updated_at = ts
        # Trigger orders (stop_limit, stop_market) only: the trigger in ticks, "above" or
        # "below", and the self-trade prevention to apply when it fires.
        self.trigger_price = 0
        self.trigger_condition = ""
        self.stp = ""
        self.oco_id: int | None = None  # the other order of a one-cancels-the-other pair
        # Its place in its price level's queue, given when it first rests (0: never rested);
        # not its id: a trigger order rests when it fires, behind later orders.
        self.priority = 0

    def view(self) -> dict[str, Any]:
        """The order as integers, for results and the command log."""
        return {
            "id": self.id,
            "market": self.market,
            "side": self.side,
            "ord_type": self.ord_type,
            "state": self.state,
            "price": self.price,
            "origin_volume": self.origin_volume,
            "volume": self.volume,
            "locked": self.locked,
            "funds_received": self.funds_received,
            "trades_count": self.trades_count,
            "client_id": self.client_id,
            "trigger_price": self.trigger_price,
            "trigger_condition": self.trigger_condition,
            "oco_id": self.oco_id,
        }


class Level:
    """Orders at one price, oldest first (a dict keeps insertion order)."""

    __slots__ = ("orders", "price", "volume")

    def __init__(self, price: int) -> None:
        self.price = price
        self.volume = 0
        self.orders: dict[int, Order] = {}


class BookSide:
    """Price levels of one side; ``keys`` is sorted ascending with the best price last.

    Bids use the price as key, asks its negation, so the best level is always ``keys[-1]``
    and removing it is a cheap ``pop()``.
    """

    __slots__ = ("keys", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.levels: dict[int, Level] = {}
        self.keys: list[int] = []
        self.sign = sign

    def best_price(self) -> int | None:
        return self.keys[-1] * self.sign if self.keys else None

    def depth(self, limit: int) -> list[tuple[int, int]]:
        """(price, volume) of the best ``limit`` levels, best first."""
        sign, levels = self.sign, self.levels
        return [(k * sign, levels[k * sign].volume) for k in reversed(self.keys[-limit:])]

    def orders_by_priority(self, limit: int) -> list["Order"]:
        """Individual resting orders, best price first, oldest first within a price."""
        found: list[Order] = []
        sign, levels = self.sign, self.levels
        for key in reversed(self.keys):
            for order in levels[key * sign].orders.values():
                found.append(order)
                if len(found) >= limit:
                    return found
        return found


class Trade:
    __slots__ = (
        "created_at",
        "id",
        "maker_fee_amount",
        "maker_id",
        "maker_order_id",
        "market",
        "price",
        "seq",
        "taker_fee_amount",
        "taker_id",
        "taker_order_id",
        "taker_side",
        "total",
        "volume",
    )

    def __init__(
        self,
        id: int,
        market: str,
        price: int,
        volume: int,
        total: int,
        maker_order_id: int,
        taker_order_id: int,
        maker_id: int,
        taker_id: int,
        taker_side: str,
        maker_fee_amount: int,
        taker_fee_amount: int,
        seq: int,
        ts: int,
    ) -> None:
        self.id = id
        self.market = market
        self.price = price
        self.volume = volume
        self.total = total
        self.maker_order_id = maker_order_id
        self.taker_order_id = taker_order_id
        self.maker_id = maker_id
        self.taker_id = taker_id
        self.taker_side = taker_side
        self.maker_fee_amount = maker_fee_amount
        self.taker_fee_amount = taker_fee_amount
        self.seq = seq
        self.created_at = ts


class Book:
    """One market's order book, its waiting trigger orders and its most recent trades.

    Trigger orders wait outside the book, as ``(trigger price, order id)`` sorted
    ascending: ``above`` fire when the last trade price reaches their trigger from below
    (a prefix of the list), ``below`` when it reaches it from above (a suffix).
    """

    __slots__ = ("above", "asks", "below", "bids", "recent_trades", "spec")

    def __init__(self, spec: MarketSpec, recent_trades: int = 1000) -> None:
        self.spec = spec
        self.bids = BookSide(1)
        self.asks = BookSide(-1)
        self.recent_trades: deque[Trade] = deque(maxlen=recent_trades)
        self.above: list[tuple[int, int]] = []
        self.below: list[tuple[int, int]] = []

    def last_price(self) -> int:
        """The price of the market's newest trade, 0 before any."""
        recent = self.recent_trades
        return recent[-1].price if recent else 0

    def side(self, side: str) -> BookSide:
        return self.bids if side == BUY else self.asks


class Hold:
    """Funds held for a withdrawal until it is settled or released."""

    __slots__ = ("amount", "currency", "member_id", "seq", "state", "updated_at", "withdrawal_id")

    def __init__(
        self, withdrawal_id: str, member_id: int, currency: str, amount: int, seq: int, ts: int
    ) -> None:
        self.withdrawal_id = withdrawal_id
        self.member_id = member_id
        self.currency = currency
        self.amount = amount
        self.state = HELD
        self.seq = seq
        self.updated_at = ts


class Result:
    """What a command did: an error code, or the order(s) / account it concerns.

    ``snapshot`` is filled when the batch is committed: it is what the caller (and any
    later caller with the same idempotency key) is told.
    """

    __slots__ = (
        "account",
        "change",
        "error",
        "items",
        "kind",
        "order",
        "orders",
        "seq",
        "snapshot",
    )

    def __init__(
        self,
        seq: int,
        kind: str,
        error: str | None = None,
        order: Order | None = None,
        orders: list[Order] | None = None,
        account: Account | None = None,
    ) -> None:
        self.seq = seq
        self.kind = kind
        self.error = error
        self.order = order
        self.orders = orders
        self.account = account
        self.items: list[Result] | None = None  # a bulk command's results, one per item
        # A configuration command's effect: {"previous": …, "current": …} (None: absent).
        self.change: dict[str, Any] | None = None
        self.snapshot: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def freeze(self) -> dict[str, Any]:
        """Take the snapshot (state at commit) and drop references to live records."""
        if self.snapshot is None:
            snap: dict[str, Any] = {"seq": self.seq, "kind": self.kind, "error": self.error}
            if self.order is not None:
                snap["order"] = self.order.view()
            if self.orders is not None:
                snap["orders"] = [o.view() for o in self.orders]
            if self.account is not None:
                snap["account"] = {
                    "member_id": self.account.member_id,
                    "currency": self.account.currency,
                    "balance": self.account.balance,
                    "locked": self.account.locked,
                }
            if self.change is not None:
                snap["previous"] = self.change["previous"]
                snap["current"] = self.change["current"]
            if self.items is not None:
                snap["items"] = [item.freeze() for item in self.items]
            self.snapshot = snap
            self.order = self.orders = self.account = None
            self.items = None
        return self.snapshot


# (seq, account code, currency, member id or None, reference type, reference id (an order
#  or trade id, or a deposit / withdrawal / adjustment key), debit, credit, microseconds)
Posting = tuple[int, int, str, int | None, str, int | str, int, int, int]


class Journal:
    """Everything a batch changed, for one PostgreSQL transaction.

    ``postings`` holds every posting except those of trades, which ``core.trade_postings``
    derives from ``trades``.
    """

    __slots__ = (
        "accounts",
        "commands",
        "currencies",
        "fees",
        "groups",
        "holds",
        "markets",
        "orders",
        "postings",
        "trades",
    )

    def __init__(self) -> None:
        self.commands: list[tuple[int, Any, Result, int]] = []
        self.orders: dict[int, Order] = {}
        self.trades: list[Trade] = []
        self.postings: list[Posting] = []
        self.accounts: set[Account] = set()
        self.holds: dict[str, Hold] = {}
        # Configuration the batch changed: currencies (their last ``ConfigureCurrency``) and
        # markets (their last ``ConfigureMarket``), each with its time, trading fees by
        # (market, group) (None: removed) and members' fee groups.
        self.currencies: dict[str, Any] = {}
        self.markets: dict[str, Any] = {}
        self.fees: dict[tuple[str, str], tuple[int, int] | None] = {}
        self.groups: dict[int, str] = {}
