"""The strategy plugin contract: what a bot's strategy sees and what it answers.

A strategy is a class registered by name (``bursa.bots.plugins``) with:

- ``Params``: a pydantic model of its ``params:`` in the bots' file (checked by
  ``bursa bots check`` before anything runs, so a typo never reaches an exchange);
- ``__init__(config, params)``: its ``StrategyConfig`` and validated ``Params``;
- ``async tick(view) -> Plan``: given a snapshot of its target market (book, balances, its
  own open orders, and the books of its sources), the orders to place and the ids to cancel.

``tick`` decides, the runner acts: a strategy does no I/O of its own, so it can be tested
with a hand-made ``View`` and the runner can apply risk limits and the kill switch to every
strategy alike. It is ``async`` only so a strategy may await helpers (a price feed it owns).

Money is ``Decimal`` throughout; ``Amount``/``Positive`` read it from the bots' file exactly
(see ``bursa.bots.config``), and plugins use them for their own ``Params``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Annotated, ClassVar, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator

from bursa.bots.assist import Trade
from bursa.plain_input import is_amount

if TYPE_CHECKING:
    from bursa.bots.config import StrategyConfig

Side = Literal["buy", "sell"]  # Peatio's names for an order's side


# ---------------------------------------------------------------------- params' types


def read_decimal(value: object) -> Decimal:
    """A decimal from the bots' file: a ``Decimal`` (a YAML number, read from its text), an
    integer, or a string in plain notation. A Python ``float`` has already lost its exact
    value, so it is refused rather than rounded."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, float):
        raise ValueError("a float is not exact: give the number as a string or a Decimal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite number")
        return value
    if isinstance(value, str):
        if not is_amount(value, signed=True):
            raise ValueError(f"{value!r} is not a plain decimal (write e.g. 0.001, not 1e-3)")
        return Decimal(value)
    raise ValueError("must be a number")


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


Amount = Annotated[Decimal, BeforeValidator(read_decimal)]
"""Any exact decimal (signed)."""
Positive = Annotated[Amount, AfterValidator(_positive)]
"""An exact decimal above zero: a price, an amount, a fraction."""
NotNegative = Annotated[Amount, AfterValidator(_not_negative)]
"""An exact decimal, zero or more."""


# ---------------------------------------------------------------------- what a tick sees


@dataclass(frozen=True, slots=True)
class Level:
    price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class BookSide:
    """One side of an order book, best price first (asks ascending, bids descending)."""

    levels: tuple[Level, ...] = ()

    @property
    def best(self) -> Decimal | None:
        return self.levels[0].price if self.levels else None


@dataclass(frozen=True, slots=True)
class Book:
    asks: BookSide = BookSide()
    bids: BookSide = BookSide()


@dataclass(frozen=True, slots=True)
class Balance:
    available: Decimal
    locked: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """One of the strategy's own orders on the target market, as the exchange reports it."""

    id: str
    side: Side
    price: Decimal
    remaining: Decimal  # amount not yet filled


@dataclass(frozen=True, slots=True)
class Market:
    """The target market's rules (Peatio's ``/public/markets``): orders must fit them."""

    id: str
    base_unit: str
    quote_unit: str
    amount_precision: int
    price_precision: int
    min_amount: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Fill:
    """A trade of one of the strategy's own orders (on its target or on another venue),
    handed to ``tick`` once: the runner keeps the ids it has told."""

    id: str  # the exchange's trade id
    venue: str  # "account_id/market_id" where it traded
    order_id: str
    side: Side  # the strategy's side
    price: Decimal
    amount: Decimal  # base
    at: int  # Unix seconds


@dataclass(frozen=True, slots=True)
class View:
    """A snapshot of the target market for one tick.

    ``sources`` holds the books of the strategy's ``sources:``, keyed
    ``"account_id/market_id"`` (``MarketRef``'s text); ``venues`` the rules, and
    ``venue_balances`` the account balances, of every venue the strategy may trade on
    besides the target (``Strategy.venues``), by the same keys. ``fills`` are the new trades
    of the strategy's orders since the last tick, oldest first; ``trades`` the target
    market's recent public trades, oldest first, filled in only for a strategy whose
    ``wants_trades`` is set. ``now`` is the tick's time (Unix seconds)."""

    market: Market
    book: Book
    balances: Mapping[str, Balance]  # by currency code
    open_orders: tuple[OpenOrder, ...]
    sources: Mapping[str, Book] = field(default_factory=dict)
    venues: Mapping[str, Market] = field(default_factory=dict)
    venue_balances: Mapping[str, Mapping[str, Balance]] = field(default_factory=dict)
    fills: tuple[Fill, ...] = ()
    trades: tuple[Trade, ...] = ()
    now: float = 0.0


# ---------------------------------------------------------------------- what a tick answers


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A limit order to place: on the target market, or with ``venue`` on another of the
    strategy's venues (``Strategy.venues``: a hedge on a source, the counterparty's taker of
    a microtrade, an arbitrage leg). ``ioc``: immediate-or-cancel, it takes what it can at
    ``price`` or better and rests nothing (``price`` is then the worst price accepted).
    ``needs_previous``: placed only if the plan's order just before it was placed (a taker
    never goes out without its maker, nor an arbitrage's second leg without its first)."""

    side: Side
    price: Decimal
    amount: Decimal
    venue: str | None = None  # "account_id/market_id"; None: the target
    ioc: bool = False
    needs_previous: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """What a tick asks for: cancels first, then placements, in the order given (a
    microtrade's maker before its taker)."""

    place: tuple[NewOrder, ...] = ()
    cancel: tuple[str, ...] = ()  # ids of the strategy's open orders


def reconcile(desired: Iterable[NewOrder], open_orders: Iterable[OpenOrder]) -> Plan:
    """The plan that turns ``open_orders`` into ``desired``: an open order equal to a wanted
    one (side, price, remaining amount) is kept, every other is cancelled, and what is still
    missing is placed. A partly filled order is therefore replaced by a full one, so each
    level keeps its configured size."""
    wanted = list(desired)
    cancel: list[str] = []
    for order in open_orders:
        match = NewOrder(order.side, order.price, order.remaining)
        if match in wanted:
            wanted.remove(match)
        else:
            cancel.append(order.id)
    return Plan(place=tuple(wanted), cancel=tuple(cancel))


def without_own(book: Book, own: Iterable[OpenOrder]) -> Book:
    """``book`` less the strategy's own resting orders: what the rest of the market quotes
    (a market maker centred on its own quotes would chase its own price)."""
    mine: dict[tuple[Side, Decimal], Decimal] = {}
    for order in own:
        key = (order.side, order.price)
        mine[key] = mine.get(key, Decimal(0)) + order.remaining

    def side(levels: BookSide, name: Side) -> BookSide:
        left = (
            Level(lv.price, lv.amount - mine.get((name, lv.price), Decimal(0)))
            for lv in levels.levels
        )
        return BookSide(tuple(lv for lv in left if lv.amount > 0))

    return Book(side(book.asks, "sell"), side(book.bids, "buy"))


def round_price(price: Decimal, side: Side, precision: int) -> Decimal:
    """``price`` to the market's tick, away from the middle (asks up, bids down), so that
    rounding never narrows a spread."""
    rounding = ROUND_CEILING if side == "sell" else ROUND_FLOOR
    return price.quantize(Decimal(1).scaleb(-precision), rounding=rounding)


def round_amount(amount: Decimal, precision: int) -> Decimal:
    """``amount`` down to the market's lot (never more than asked)."""
    return amount.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_FLOOR)


# ---------------------------------------------------------------------- the contract

P = TypeVar("P", bound=BaseModel)


class Strategy(ABC, Generic[P]):
    """A strategy plugin (see the module's docstring)."""

    Params: ClassVar[type[BaseModel]]
    wants_trades: bool = False  # the runner reads public trades into View.trades (per instance)

    def __init__(self, config: StrategyConfig, params: P) -> None:
        self.config = config
        self.params = params

    def venues(self) -> tuple[str, ...]:
        """The markets besides the target this strategy may place orders on
        (``"account_id/market_id"``): none unless it says so (sources are read, not traded
        on). ``bursa bots check`` asks for keys on each; the runner refuses an order for
        any other venue."""
        return ()

    @abstractmethod
    async def tick(self, view: View) -> Plan:
        """The orders this strategy wants on the target now (no I/O: the runner acts)."""


__all__ = [
    "Amount",
    "Balance",
    "Book",
    "BookSide",
    "Fill",
    "Level",
    "Market",
    "NewOrder",
    "NotNegative",
    "OpenOrder",
    "Plan",
    "Positive",
    "Side",
    "Strategy",
    "Trade",
    "View",
    "read_decimal",
    "reconcile",
    "round_amount",
    "round_price",
    "without_own",
]
