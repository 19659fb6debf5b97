"""A deliberately simple reference model of the exchange, for the engine's property tests.

It is written from the rules the engine documents (``bursa.engine.commands``, ``errors``,
``ARCHITECTURE.md``), not from its code, and it is slow and obvious on purpose:

* balances are two dicts keyed by ``(member, currency)``: ``balance`` (main) and ``locked``;
* an order is a dict; a book side is the open orders of a market and side, sorted again
  every time it is read (best price first, then the one that came to rest first: a trigger
  order that fired rests behind the orders already there, whatever its id);
* fill-or-kill runs the order on a deep copy of the state and keeps the copy only if the
  order filled entirely ("checked before anything changes");
* everything is an integer: volumes in lots, prices in ticks, currency amounts in the
  currency's smallest unit, fee rates in millionths.

The rules it follows:

* A repeated idempotency key returns the first result and changes nothing, whether the
  first command was accepted or rejected. Every other command takes the next sequence
  number, rejected or not.
* A limit order locks ``price × volume`` (buy, in quote) or ``volume`` (sell, in base). A
  market sell locks its volume; a market buy locks what filling its volume at the current
  asks would cost, at most what the member has, and stops buying when that is spent.
* Matching is by price-time priority, each trade at the resting (maker) order's price.
  The buyer pays the fee in base, the seller in quote, each at the maker or taker rate of
  the market; fees are rounded down (in the member's favour) and go to revenue.
* Self-trade prevention, when the best resting order is the member's own: ``cancel_taker``
  (default) cancels the incoming order's remainder; ``cancel_maker`` cancels the resting
  order and goes on matching; ``cancel_both`` does both.
* What is left of a GTC limit order rests (keeping what it still has locked); IOC and
  market orders, and any order stopped by self-trade prevention, are cancelled. Whenever an
  order closes, what it still has locked goes back to the member's balance.
* Post-only orders must be GTC limit orders and are rejected if they would trade at once.
* Client order ids are unique among a member's open orders.
* Trigger orders (``stop_limit``, ``stop_market``) lock at placement what a limit order of
  the same side locks (a stop-market buy: ``trigger_price × volume``), wait in
  ``trigger_wait`` outside the book, and are refused when the market's last trade price
  already meets their condition. After every command (and every bulk item) the waiting
  triggers of a market whose condition the last trade price meets fire one at a time,
  lowest id first, the condition checked again after each, all in the same command.
* An OCO is a GTC limit leg (locking the larger of both legs' locks) and a trigger leg
  locking nothing while it waits: the limit leg's first trade cancels the stop leg, the
  stop leg firing cancels the limit leg (then locks its own funds), and a leg closed
  otherwise (cancelled, or by self-trade prevention) takes the other with it.
* An amend that only shrinks the remaining volume changes the order in place (its queue
  place kept); a new price or a larger volume cancels it and places a new order (new id,
  back of the queue), atomically: refused as a whole if the new order would be.
* A bulk command applies its cancels, then its placements, each as the single command
  would, each answered, in one sequence number.
* A withdrawal id is held once, ever; releasing or settling a closed one is an invalid state.
* A transfer's legs each take ``amount`` from one account of the chart (debit) and give it
  to another (credit). All legs apply or none: every account must belong to the currency's
  type, member accounts need a member, locked accounts are never touched, each currency's
  assets - liabilities - revenues + expenses stays what it was, and no member's balance
  ends below zero.
"""

import copy
from dataclasses import dataclass, replace
from typing import Any

from bursa.engine import errors

BUY, SELL = "buy", "sell"
LIMIT, MARKET = "limit", "market"
STOP_LIMIT, STOP_MARKET = "stop_limit", "stop_market"
ABOVE, BELOW = "above", "below"
TRIGGER_WAIT = "trigger_wait"
BULK_LIMIT = 100  # items of each kind in one bulk command
# Error codes of the trigger, OCO, amend and bulk commands (the engine's, when it has them).
TRIGGER_ALREADY_CROSSED = getattr(
    errors, "TRIGGER_ALREADY_CROSSED", "market.order.trigger_already_crossed"
)
INVALID_OCO_PRICES = getattr(errors, "INVALID_OCO_PRICES", "market.order.invalid_oco_prices")
AMEND_NOTHING = getattr(errors, "AMEND_NOTHING", "market.order.amend_nothing")
AMEND_NOT_ALLOWED = getattr(errors, "AMEND_NOT_ALLOWED", "market.order.amend_not_allowed")
TOO_MANY_ORDERS = getattr(errors, "TOO_MANY_ORDERS", "market.order.too_many_orders")
INVALID_BULK_ITEM = getattr(errors, "INVALID_BULK_ITEM", "market.order.invalid_bulk_item")
BULK_EMPTY = TOO_MANY_ORDERS  # no item at all: the engine answers as for too many
TRIGGER_NOT_ALLOWED = getattr(
    errors, "TRIGGER_NOT_ALLOWED", "market.order.trigger_price_not_allowed"
)
INVALID_TRIGGER_CONDITION = getattr(
    errors, "INVALID_TRIGGER_CONDITION", "market.order.invalid_trigger_condition"
)
GTC, IOC, FOK = "GTC", "IOC", "FOK"
CANCEL_TAKER, CANCEL_MAKER, CANCEL_BOTH = "cancel_taker", "cancel_maker", "cancel_both"
FEE_SCALE = 1_000_000  # fee rates are millionths
# Peatio's chart of accounts: code -> what it is, by currency type.
CHART = {
    "fiat": {101: "asset", 201: "main", 211: "locked", 301: "revenue", 401: "expense"},
    "coin": {102: "asset", 202: "main", 212: "locked", 302: "revenue", 402: "expense"},
}
LEG_FIELDS = {"currency", "amount", "src", "src_member", "dst", "dst_member"}


@dataclass(frozen=True)
class RefMarket:
    id: str
    base: str
    quote: str
    base_precision: int
    quote_precision: int
    amount_precision: int
    price_precision: int
    min_price: int  # ticks
    max_price: int  # ticks, 0 for no maximum
    min_amount: int  # lots
    maker_fee: int  # millionths
    taker_fee: int  # millionths
    tradable: bool = True

    @property
    def lot(self) -> int:
        """Base subunits in one lot."""
        lot: int = 10 ** (self.base_precision - self.amount_precision)
        return lot

    @property
    def tick_lot(self) -> int:
        """Quote subunits one lot costs at a price of one tick."""
        cost: int = 10 ** (self.quote_precision - self.amount_precision - self.price_precision)
        return cost


@dataclass(frozen=True)
class Outcome:
    """What a command did, in comparable form.

    ``seq`` is None for a command refused at the edge (it never reached the engine).
    ``order`` is ``(id, state, volume, locked, origin_locked, funds_received, trades_count,
    oco_id)`` (``origin_locked``: what the order locked when placed); ``orders``
    is ``((id, state, volume, locked), ...)`` sorted by id; ``account`` is
    ``(member, currency, balance, locked)``; ``items`` a bulk command's item outcomes
    (cancels, then placements).
    """

    seq: int | None
    error: str | None
    order: tuple[Any, ...] | None = None
    orders: tuple[tuple[Any, ...], ...] | None = None
    account: tuple[Any, ...] | None = None
    items: tuple["Outcome", ...] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> tuple[Any, ...]:
        """What stays true of a result whenever it is read again (a repeated key)."""
        order_id = None if self.order is None else self.order[0]
        ids = None if self.orders is None else tuple(o[0] for o in self.orders)
        items = None if self.items is None else tuple(i.summary() for i in self.items)
        return (self.seq, self.error, order_id, ids, items)


# (id, market, price, volume, total, maker order, taker order, maker, taker, taker side,
#  maker fee, taker fee)
TradeRow = tuple[int, str, int, int, int, int, int, int, int, str, int, int]


@dataclass(frozen=True)
class Ticket:
    """A placement's fields (``PlaceOrder`` without key and member)."""

    market: str
    side: str
    volume: int
    price: int = 0
    ord_type: str = LIMIT
    time_in_force: str = ""
    post_only: bool = False
    client_id: str | None = None
    stp: str = CANCEL_TAKER
    trigger_price: int = 0
    trigger_condition: str = ""


# A bulk item's fields and the types they must have (``bool`` is no ``int`` here).
PLACE_TYPES: dict[str, tuple[type, ...]] = {
    "market": (str,),
    "side": (str,),
    "volume": (int,),
    "price": (int,),
    "ord_type": (str,),
    "time_in_force": (str,),
    "post_only": (bool,),
    "client_id": (str, type(None)),
    "stp": (str,),
    "trigger_price": (int,),
    "trigger_condition": (str,),
}
PLACE_REQUIRED = {"market", "side", "volume"}


def _typed(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def place_ticket(item: Any) -> Ticket | None:
    """A bulk placement item as a ticket; None if it is malformed."""
    if not isinstance(item, dict) or not PLACE_REQUIRED <= set(item) <= set(PLACE_TYPES):
        return None
    if not all(_typed(v, PLACE_TYPES[k]) for k, v in item.items()):
        return None
    return Ticket(**item)


def cancel_ref(item: Any) -> tuple[int | None, str | None] | None:
    """A bulk cancel item as (order id, client id); None if it is malformed."""
    if not isinstance(item, dict) or len(item) != 1:
        return None
    if "order_id" in item and _typed(item["order_id"], (int,)):
        return item["order_id"], None
    if "client_id" in item and _typed(item["client_id"], (str,)):
        return None, item["client_id"]
    return None


@dataclass(frozen=True)
class Plan:
    """An accepted placement: its market, time in force, trigger condition ("" none), the
    currency it locks, how much, and what the member had available."""

    market: RefMarket
    tif: str
    condition: str
    currency: str
    lock: int
    available: int


@dataclass
class Pending:
    """An order command's result before it is over: ids, read into an ``Outcome`` once the
    command (and the triggers it fires) is done."""

    error: str | None
    order: int | None = None
    orders: list[int] | None = None
    items: list["Pending"] | None = None


def parse_units(text: str, places: int) -> int | None:
    """``text`` (plain decimal notation) in units of ``10**-places``; None if it has more
    decimals than that."""
    negative = text.startswith("-")
    digits = text.lstrip("+-")
    whole, _, fraction = digits.partition(".")
    fraction = fraction.rstrip("0")
    if len(fraction) > places:
        return None
    units: int = int(whole or "0") * 10**places + int(fraction.ljust(places, "0") or "0")
    return -units if negative else units


class Reference:
    def __init__(
        self,
        currencies: dict[str, int],
        markets: list[RefMarket],
        types: dict[str, str] | None = None,
    ) -> None:
        self.currencies = dict(currencies)  # code -> precision
        self.types = dict(types or {})  # code -> coin | fiat (transfers need it)
        self.markets = {m.id: m for m in markets}
        self.balance: dict[tuple[int, str], int] = {}
        self.locked: dict[tuple[int, str], int] = {}
        self.open: dict[int, dict[str, Any]] = {}  # open orders by id (resting or waiting)
        self.orders: dict[int, dict[str, Any]] = {}  # every order ever, by id
        self.fired: dict[int, int] = {}  # trigger order id -> seq it fired in
        self.holds: dict[str, dict[str, Any]] = {}  # every withdrawal ever held
        self.results: dict[str, Outcome] = {}
        self.trades: list[TradeRow] = []
        self.revenue: dict[str, int] = {}
        self.seq = 0
        self.next_order_id = 1
        self.next_since = 1  # time priority: the order in which orders came to rest
        self.next_trade_id = 1

    # ------------------------------------------------------------------ views

    def balances_view(self) -> dict[tuple[int, str], tuple[int, int]]:
        keys = set(self.balance) | set(self.locked)
        view = {k: (self.balance.get(k, 0), self.locked.get(k, 0)) for k in keys}
        return {k: v for k, v in view.items() if v != (0, 0)}

    def open_orders_view(self, triggers: bool = False) -> dict[int, tuple[Any, ...]]:
        """Resting orders (and, with ``triggers``, waiting trigger orders)."""
        return {
            o["id"]: (o["member"], o["market"], o["side"], o["price"], o["volume"], o["locked"])
            for o in self.open.values()
            if triggers or o["state"] != TRIGGER_WAIT
        }

    def orders_view(self) -> dict[int, tuple[Any, ...]]:
        """Every order ever placed: what a member's order list shows of it."""
        return {i: self.order_state(o) for i, o in self.orders.items()}

    @staticmethod
    def order_state(o: dict[str, Any]) -> tuple[Any, ...]:
        return (
            o["id"],
            o["type"],
            o["state"],
            o["price"],
            o["trigger_price"],
            o["condition"],
            o["origin_volume"],
            o["volume"],
            o["locked"],
            o["received"],
            o["trades"],
            o["client_id"],
            o["oco"],
        )

    def last_price(self, market: str) -> int | None:
        """The price of the newest trade in ``market`` (None before the first)."""
        for t in reversed(self.trades):
            if t[1] == market:
                return t[2]
        return None

    def holds_view(self) -> dict[str, tuple[Any, ...]]:
        return {
            wid: (h["member"], h["currency"], h["amount"], h["state"])
            for wid, h in self.holds.items()
        }

    def book_view(self, market: str, side: str) -> list[int]:
        """Order ids of one side, in matching priority."""
        return [o["id"] for o in self.book(market, side)]

    # ------------------------------------------------------------------ commands

    def apply(self, command: Any) -> Outcome:
        key = command.key
        if key in self.results:
            return self.results[key]
        self.seq += 1
        handler = getattr(self, "_" + type(command).__name__)
        done: Outcome | Pending = handler(command)
        self._fire_triggers()
        outcome = self._outcome(done) if isinstance(done, Pending) else done
        self.results[key] = outcome
        return outcome

    def _no(self, error: str) -> Outcome:
        return Outcome(self.seq, error)

    def _account_outcome(self, member: int, currency: str) -> Outcome:
        key = (member, currency)
        return Outcome(
            self.seq,
            None,
            account=(member, currency, self.balance.get(key, 0), self.locked.get(key, 0)),
        )

    def _add(self, table: dict[Any, int], key: Any, amount: int) -> None:
        table[key] = table.get(key, 0) + amount

    # ------------------------------------------------------------------ orders

    def book(self, market: str, side: str) -> list[dict[str, Any]]:
        orders = [
            o
            for o in self.open.values()
            if o["market"] == market and o["side"] == side and o["state"] == "wait"
        ]
        if side == BUY:
            orders.sort(key=lambda o: (-o["price"], o["since"]))
        else:
            orders.sort(key=lambda o: (o["price"], o["since"]))
        return orders

    @staticmethod
    def _acceptable(side: str, limit: int, price: int) -> bool:
        """Whether an order on ``side`` with ``limit`` (0: market) trades at ``price``."""
        if limit == 0:
            return True
        return price <= limit if side == BUY else price >= limit

    @staticmethod
    def _met(condition: str, trigger: int, last: int | None) -> bool:
        """Whether the last trade price ``last`` meets a trigger's condition."""
        if last is None:
            return False
        return last >= trigger if condition == ABOVE else last <= trigger

    @staticmethod
    def _in_bounds(m: RefMarket, price: int) -> bool:
        return price > 0 and price >= m.min_price and not (m.max_price and price > m.max_price)

    def _client_taken(self, member: int, client_id: str | None) -> bool:
        return client_id is not None and any(
            o["member"] == member and o["client_id"] == client_id for o in self.open.values()
        )

    def _plan(  # noqa: C901  (the plain reference)
        self, c: Any, member: int, *, free: int = 0, funds: bool = True
    ) -> "str | Plan":
        """The checks of a placement, in the order the engine makes them: an error code, or
        what the order is (time in force, condition) and locks. ``free`` counts as
        available (an amended order's lock); without ``funds`` the balance is not checked."""
        m = self.markets.get(c.market)
        if m is None or not m.tradable:
            return errors.MARKET_NOT_AVAILABLE
        if c.side not in (BUY, SELL):
            return errors.INVALID_SIDE
        tif = c.time_in_force
        trigger = c.ord_type in (STOP_LIMIT, STOP_MARKET)
        condition = ""
        if trigger:
            if not self._in_bounds(m, c.trigger_price):
                return errors.INVALID_VOLUME_OR_PRICE
            condition = c.trigger_condition or (ABOVE if c.side == BUY else BELOW)
            if condition not in (ABOVE, BELOW):
                return INVALID_TRIGGER_CONDITION
        elif c.trigger_price != 0 or c.trigger_condition != "":
            return TRIGGER_NOT_ALLOWED
        if c.ord_type in (LIMIT, STOP_LIMIT):
            tif = tif or GTC
            if not self._in_bounds(m, c.price):
                return errors.INVALID_VOLUME_OR_PRICE
        elif c.ord_type in (MARKET, STOP_MARKET):
            tif = tif or IOC
            if c.price != 0:
                return errors.MARKET_ORDER_PRICE
            if tif == GTC:
                return errors.INVALID_TIME_IN_FORCE
        else:
            return errors.INVALID_TYPE
        if c.volume <= 0 or c.volume < m.min_amount:
            return errors.INVALID_VOLUME_OR_PRICE
        if tif not in (GTC, IOC, FOK):
            return errors.INVALID_TIME_IN_FORCE
        if c.post_only and (tif != GTC or trigger):
            return errors.INVALID_POST_ONLY
        if c.stp not in (CANCEL_TAKER, CANCEL_MAKER, CANCEL_BOTH):
            return errors.INVALID_SELF_TRADE_PREVENTION
        if self._client_taken(member, c.client_id):
            return errors.DUPLICATE_CLIENT_ID
        if trigger and self._met(condition, c.trigger_price, self.last_price(m.id)):
            return TRIGGER_ALREADY_CROSSED
        other_side = SELL if c.side == BUY else BUY
        opposite = self.book(m.id, other_side)
        if c.post_only and opposite and self._acceptable(c.side, c.price, opposite[0]["price"]):
            return errors.POST_ONLY_WOULD_MATCH

        currency = m.quote if c.side == BUY else m.base
        available = self.balance.get((member, currency), 0) + free
        if c.ord_type == MARKET:
            if not opposite:
                return errors.INSUFFICIENT_LIQUIDITY
            if c.side == SELL:
                lock = c.volume * m.lot
            else:
                cost, wanted = 0, c.volume
                for ask in opposite:
                    take = min(wanted, ask["volume"])
                    cost += take * ask["price"] * m.tick_lot
                    wanted -= take
                    if wanted == 0:
                        break
                lock = min(cost, available)
                if lock <= 0:
                    return errors.INSUFFICIENT_BALANCE
        else:
            lock = self._lock_amount(c.side, c.ord_type, c.price, c.trigger_price, c.volume, m)
        if funds and lock > available:
            return errors.INSUFFICIENT_BALANCE
        return Plan(m, tif, condition, currency, lock, available)

    @staticmethod
    def _lock_amount(
        side: str, ord_type: str, price: int, trigger_price: int, volume: int, m: RefMarket
    ) -> int:
        """What a limit or trigger order locks: a limit order's funds of its side, at the
        trigger price for a stop-market buy."""
        if side == SELL:
            return volume * m.lot
        return (trigger_price if ord_type == STOP_MARKET else price) * volume * m.tick_lot

    def _new_order(self, c: Any, member: int, plan: "Plan") -> dict[str, Any]:
        trigger = c.ord_type in (STOP_LIMIT, STOP_MARKET)
        order = {
            "id": self.next_order_id,
            "member": member,
            "market": plan.market.id,
            "side": c.side,
            "type": c.ord_type,
            "price": c.price,
            "trigger_price": c.trigger_price if trigger else 0,
            "condition": plan.condition,
            "origin_volume": c.volume,
            "volume": c.volume,
            "locked": 0,
            "origin_locked": 0,
            "received": 0,
            "trades": 0,
            "client_id": c.client_id,
            "currency": plan.currency,
            "state": "wait",
            "tif": plan.tif,
            "stp": c.stp,
            "post_only": c.post_only,
            "oco": None,  # the other leg's id
            "linked": False,  # an OCO leg whose other leg is still to be cancelled with it
            "since": 0,  # when it came to rest in the book
        }
        self.next_order_id += 1
        self.orders[order["id"]] = order
        return order

    def _PlaceOrder(self, c: Any) -> "Pending":
        return self._place(c, c.member_id)

    def _place(self, c: Any, member: int) -> "Pending":
        plan = self._plan(c, member)
        if isinstance(plan, str):
            return Pending(plan)
        order = self._new_order(c, member, plan)
        if c.ord_type in (STOP_LIMIT, STOP_MARKET):
            self._lock(order, plan.lock)
            order["state"] = TRIGGER_WAIT
            self.open[order["id"]] = order
        else:
            self._execute(order, plan.market, plan.lock, plan.tif, c.stp)
        return Pending(None, order=order["id"])

    def _lock(self, order: dict[str, Any], lock: int) -> None:
        key = (order["member"], order["currency"])
        assert self.balance.get(key, 0) >= lock, (order, lock)
        self._add(self.balance, key, -lock)
        self._add(self.locked, key, lock)
        order["locked"] = order["origin_locked"] = lock

    def _execute(
        self, order: dict[str, Any], m: RefMarket, lock: int | None, tif: str, stp: str
    ) -> None:
        """Lock ``lock`` (None: the order holds its funds already) and match ``order``.
        Fill-or-kill runs on a copy of the state, kept only if the order filled entirely
        ("checked before anything changes")."""
        saved = None
        if tif == FOK:
            saved = copy.deepcopy(
                (self.balance, self.locked, self.open, self.orders, self.trades, self.revenue)
            )
            saved_trade_id = self.next_trade_id
        if lock is not None:
            self._lock(order, lock)
        self._match(order, m, tif, stp)
        if saved is not None and order["volume"] != 0:  # not filled entirely: as if never tried
            self.balance, self.locked, self.open, self.orders, self.trades, self.revenue = saved
            self.next_trade_id = saved_trade_id
            self._close(self.orders[order["id"]], "cancel")

    def _match(self, order: dict[str, Any], m: RefMarket, tif: str, stp: str) -> None:
        other_side = SELL if order["side"] == BUY else BUY
        market_buy = order["type"] in (MARKET, STOP_MARKET) and order["side"] == BUY
        limit = 0 if order["type"] in (MARKET, STOP_MARKET) else order["price"]
        stopped = False
        while order["volume"] > 0:
            opposite = self.book(m.id, other_side)
            if not opposite:
                break
            maker = opposite[0]
            if not self._acceptable(order["side"], limit, maker["price"]):
                break
            if maker["member"] == order["member"]:
                if stp == CANCEL_TAKER:
                    stopped = True
                    break
                self._close(maker, "cancel")
                if stp == CANCEL_BOTH:
                    stopped = True
                    break
                continue
            volume = min(order["volume"], maker["volume"])
            if market_buy:
                volume = min(volume, order["locked"] // (maker["price"] * m.tick_lot))
                if volume == 0:
                    break
            self._trade(m, maker, order, volume)
        if order["volume"] == 0:
            self._close(order, "done")
        elif stopped or tif != GTC:
            self._close(order, "cancel")
        else:  # it rests, behind what rests at its price already
            order["since"] = self.next_since
            self.next_since += 1
            self.open[order["id"]] = order

    def _trade(
        self, m: RefMarket, maker: dict[str, Any], taker: dict[str, Any], volume: int
    ) -> None:
        price = maker["price"]
        amount = volume * m.lot  # base subunits
        total = price * volume * m.tick_lot  # quote subunits
        if taker["side"] == BUY:
            buyer, seller = taker, maker
            buyer_rate, seller_rate = m.taker_fee, m.maker_fee
        else:
            buyer, seller = maker, taker
            buyer_rate, seller_rate = m.maker_fee, m.taker_fee
        buyer_fee = amount * buyer_rate // FEE_SCALE  # in base, rounded down
        seller_fee = total * seller_rate // FEE_SCALE  # in quote, rounded down

        self._add(self.locked, (buyer["member"], m.quote), -total)
        buyer["locked"] -= total
        self._add(self.balance, (buyer["member"], m.base), amount - buyer_fee)
        buyer["received"] += amount
        self._add(self.locked, (seller["member"], m.base), -amount)
        seller["locked"] -= amount
        self._add(self.balance, (seller["member"], m.quote), total - seller_fee)
        seller["received"] += total
        self._add(self.revenue, m.base, buyer_fee)
        self._add(self.revenue, m.quote, seller_fee)

        maker_fee = buyer_fee if maker is buyer else seller_fee
        taker_fee = buyer_fee if taker is buyer else seller_fee
        self.trades.append(
            (
                self.next_trade_id,
                m.id,
                price,
                volume,
                total,
                maker["id"],
                taker["id"],
                maker["member"],
                taker["member"],
                taker["side"],
                maker_fee,
                taker_fee,
            )
        )
        self.next_trade_id += 1
        for o in (maker, taker):
            o["volume"] -= volume
            o["trades"] += 1
            if o["linked"]:  # an OCO's limit leg traded: its stop leg is cancelled
                self._unlink(o)
        if maker["volume"] == 0:
            self._close(maker, "done")

    def _unlink(self, leg: dict[str, Any]) -> None:
        """Resolve an OCO: the other leg of ``leg`` is cancelled (if still open)."""
        other = self.orders[leg["oco"]]
        leg["linked"] = other["linked"] = False
        if other["id"] in self.open:
            self._close(other, "cancel")

    def _close(self, order: dict[str, Any], state: str) -> None:
        """The order leaves the book; what it still has locked goes back to the balance.
        An OCO leg closing takes its other leg with it."""
        self.open.pop(order["id"], None)
        order["state"] = state
        key = (order["member"], order["currency"])
        self._add(self.locked, key, -order["locked"])
        self._add(self.balance, key, order["locked"])
        order["locked"] = 0
        if order["linked"]:
            self._unlink(order)

    # ------------------------------------------------------------------ triggers

    def _fire_triggers(self) -> None:
        """Fire every waiting trigger whose condition the last trade price meets, one at a
        time, lowest id first, looking again after each."""
        for market in self.markets:
            while True:
                last = self.last_price(market)
                met = [
                    o
                    for o in self.open.values()
                    if o["market"] == market
                    and o["state"] == TRIGGER_WAIT
                    and self._met(o["condition"], o["trigger_price"], last)
                ]
                if not met:
                    break
                self._fire(min(met, key=lambda o: o["id"]))

    def _fire(self, order: dict[str, Any]) -> None:
        m = self.markets[order["market"]]
        assert order["id"] not in self.fired, order
        self.fired[order["id"]] = self.seq
        lock = None
        if order["linked"]:  # an OCO's stop leg: its limit leg goes first, then it locks
            limit = self.orders[order["oco"]]
            order["linked"] = limit["linked"] = False
            self._close(limit, "cancel")
            lock = self._lock_amount(
                order["side"],
                order["type"],
                order["price"],
                order["trigger_price"],
                order["volume"],
                m,
            )
        self.open.pop(order["id"])
        order["state"] = "wait"
        self._execute(order, m, lock, order["tif"], order["stp"])

    # ------------------------------------------------------------------ cancels

    def _find_open(
        self, member: int, order_id: int | None, client_id: str | None
    ) -> dict[str, Any] | None:
        order = None
        if order_id is not None:
            order = self.open.get(order_id)
        elif client_id is not None:
            for o in self.open.values():
                if o["member"] == member and o["client_id"] == client_id:
                    order = o
        if order is None or order["member"] != member:
            return None
        return order

    def _CancelOrder(self, c: Any) -> "Pending":
        return self._cancel(c.member_id, c.order_id, c.client_id)

    def _cancel(self, member: int, order_id: int | None, client_id: str | None) -> "Pending":
        order = self._find_open(member, order_id, client_id)
        if order is None:
            return Pending(errors.ORDER_NOT_FOUND)
        both = order["linked"]  # an OCO leg: its other leg goes too, and is named
        self._close(order, "cancel")
        return Pending(
            None, order=order["id"], orders=[order["id"], order["oco"]] if both else None
        )

    def _CancelAll(self, c: Any) -> "Pending":
        if c.side not in (None, BUY, SELL):
            return Pending(errors.INVALID_SIDE)
        if c.market is not None and c.market not in self.markets:
            return Pending(errors.MARKET_NOT_AVAILABLE)
        chosen = [
            o
            for _, o in sorted(self.open.items())
            if o["member"] == c.member_id
            and c.market in (None, o["market"])
            and c.side in (None, o["side"])
        ]
        for o in chosen:
            if o["id"] in self.open:  # not cancelled already with its other OCO leg
                self._close(o, "cancel")
        return Pending(None, orders=[o["id"] for o in chosen])

    # ------------------------------------------------------------------ OCO, amend, bulk

    def _PlaceOco(self, c: Any) -> "Pending":
        limit_leg = Ticket(
            market=c.market,
            side=c.side,
            volume=c.volume,
            price=c.price,
            ord_type=LIMIT,
            client_id=c.client_id,
            stp=c.stp,
        )
        stop_leg = Ticket(
            market=c.market,
            side=c.side,
            volume=c.volume,
            price=c.stop_price,
            ord_type=STOP_LIMIT if c.stop_price > 0 else STOP_MARKET,
            trigger_price=c.trigger_price,
            stp=c.stp,
        )
        # The checks both legs share come first, then the pair's prices, then the rest of
        # each leg's own checks.
        m = self.markets.get(c.market)
        if m is None or not m.tradable:
            return Pending(errors.MARKET_NOT_AVAILABLE)
        if c.side not in (BUY, SELL):
            return Pending(errors.INVALID_SIDE)
        prices = [c.price, c.trigger_price] + ([c.stop_price] if c.stop_price else [])
        if not all(self._in_bounds(m, p) for p in prices) or not 0 < c.volume >= m.min_amount:
            return Pending(errors.INVALID_VOLUME_OR_PRICE)
        if (c.price <= c.trigger_price) if c.side == SELL else (c.price >= c.trigger_price):
            return Pending(INVALID_OCO_PRICES)
        limit_plan = self._plan(limit_leg, c.member_id, funds=False)
        if isinstance(limit_plan, str):
            return Pending(limit_plan)
        stop_plan = self._plan(stop_leg, c.member_id, funds=False)
        if isinstance(stop_plan, str):
            return Pending(stop_plan)
        lock = max(limit_plan.lock, stop_plan.lock)
        if lock > limit_plan.available:
            return Pending(errors.INSUFFICIENT_BALANCE)
        limit = self._new_order(limit_leg, c.member_id, limit_plan)
        stop = self._new_order(stop_leg, c.member_id, stop_plan)
        limit["oco"], stop["oco"] = stop["id"], limit["id"]
        limit["linked"] = stop["linked"] = True
        stop["state"] = TRIGGER_WAIT
        self.open[stop["id"]] = stop
        self._execute(limit, limit_plan.market, lock, GTC, c.stp)
        return Pending(None, order=limit["id"], orders=[limit["id"], stop["id"]])

    def _AmendOrder(self, c: Any) -> "Pending":
        order = self._find_open(c.member_id, c.order_id, c.client_id)
        if order is None:
            return Pending(errors.ORDER_NOT_FOUND)
        if order["type"] != LIMIT or order["oco"] is not None:
            return Pending(AMEND_NOT_ALLOWED)
        if c.price < 0 or c.volume < 0:
            return Pending(errors.INVALID_VOLUME_OR_PRICE)
        price, volume = c.price or order["price"], c.volume or order["volume"]
        if (price, volume) == (order["price"], order["volume"]):
            return Pending(AMEND_NOTHING)
        m = self.markets[order["market"]]
        if price == order["price"] and volume < order["volume"]:
            if volume < m.min_amount:
                return Pending(errors.INVALID_VOLUME_OR_PRICE)
            less = order["volume"] - volume
            release = self._lock_amount(order["side"], LIMIT, price, 0, less, m)
            key = (order["member"], order["currency"])
            self._add(self.locked, key, -release)
            self._add(self.balance, key, release)
            order["locked"] -= release  # origin_locked: what it locked when placed
            order["volume"] -= less
            order["origin_volume"] -= less
            return Pending(None, order=order["id"])
        ticket = Ticket(
            market=order["market"],
            side=order["side"],
            volume=volume,
            price=price,
            post_only=order["post_only"],
            client_id=None,  # the old order's own client id: not a duplicate
        )
        plan = self._plan(ticket, c.member_id, free=order["locked"])
        if isinstance(plan, str):
            return Pending(plan)
        self._close(order, "cancel")
        ticket = replace(ticket, client_id=order["client_id"])
        new = self._new_order(ticket, c.member_id, plan)
        self._execute(new, plan.market, plan.lock, GTC, CANCEL_TAKER)
        return Pending(None, order=new["id"], orders=[order["id"]])

    def _BulkOrders(self, c: Any) -> "Pending":
        if len(c.place) > BULK_LIMIT or len(c.cancel) > BULK_LIMIT:
            return Pending(TOO_MANY_ORDERS)
        if not c.place and not c.cancel:
            return Pending(BULK_EMPTY)
        items: list[Pending] = []
        for item in c.cancel:
            ref = cancel_ref(item)
            if ref is None:
                items.append(Pending(INVALID_BULK_ITEM))
            else:
                items.append(self._cancel(c.member_id, *ref))
            self._fire_triggers()  # as after the single command, before the next item
        for item in c.place:
            ticket = place_ticket(item)
            if ticket is None:
                items.append(Pending(INVALID_BULK_ITEM))
            else:
                items.append(self._place(ticket, c.member_id))
            self._fire_triggers()  # as after the single command, before the next item
        return Pending(None, items=items)

    # ------------------------------------------------------------------ outcomes

    def _outcome(self, p: "Pending") -> Outcome:
        """A command's outcome, read when the command is over (fires included)."""
        return Outcome(
            self.seq,
            p.error,
            order=None if p.order is None else self._order_view(self.orders[p.order]),
            orders=None
            if p.orders is None
            else tuple(
                sorted(
                    (o["id"], o["state"], o["volume"], o["locked"])
                    for o in (self.orders[i] for i in p.orders)
                )
            ),
            items=None if p.items is None else tuple(self._outcome(i) for i in p.items),
        )

    @staticmethod
    def _order_view(o: dict[str, Any]) -> tuple[Any, ...]:
        return (
            o["id"],
            o["state"],
            o["volume"],
            o["locked"],
            o["origin_locked"],
            o["received"],
            o["trades"],
            o["oco"],
        )

    # ------------------------------------------------------------------ funds

    def _Credit(self, c: Any) -> Outcome:
        if c.currency not in self.currencies:
            return self._no(errors.CURRENCY_NOT_FOUND)
        if c.amount <= 0:
            return self._no(errors.DEPOSIT_INVALID_AMOUNT)
        if not 0 <= c.fee < c.amount:
            return self._no(errors.DEPOSIT_INVALID_FEE)
        self._add(self.balance, (c.member_id, c.currency), c.amount - c.fee)
        self._add(self.revenue, c.currency, c.fee)
        return self._account_outcome(c.member_id, c.currency)

    def _HoldWithdrawal(self, c: Any) -> Outcome:
        if c.currency not in self.currencies:
            return self._no(errors.CURRENCY_NOT_FOUND)
        if c.amount <= 0:
            return self._no(errors.WITHDRAW_INVALID_AMOUNT)
        if c.withdrawal_id in self.holds:
            return self._no(errors.WITHDRAW_DUPLICATE)
        key = (c.member_id, c.currency)
        if self.balance.get(key, 0) < c.amount:
            return self._no(errors.WITHDRAW_INSUFFICIENT_BALANCE)
        self._add(self.balance, key, -c.amount)
        self._add(self.locked, key, c.amount)
        self.holds[c.withdrawal_id] = {
            "member": c.member_id,
            "currency": c.currency,
            "amount": c.amount,
            "state": "held",
        }
        return self._account_outcome(c.member_id, c.currency)

    def _held(self, withdrawal_id: str) -> dict[str, Any] | str:
        hold = self.holds.get(withdrawal_id)
        if hold is None:
            return errors.WITHDRAW_NOT_FOUND
        if hold["state"] != "held":
            return errors.WITHDRAW_NOT_HELD
        return hold

    def _ReleaseWithdrawal(self, c: Any) -> Outcome:
        hold = self._held(c.withdrawal_id)
        if isinstance(hold, str):
            return self._no(hold)
        key = (hold["member"], hold["currency"])
        self._add(self.locked, key, -hold["amount"])
        self._add(self.balance, key, hold["amount"])
        hold["state"] = "released"
        return self._account_outcome(*key)

    def _SettleWithdrawal(self, c: Any) -> Outcome:
        hold = self._held(c.withdrawal_id)
        if isinstance(hold, str):
            return self._no(hold)
        if not 0 <= c.fee <= hold["amount"]:
            return self._no(errors.WITHDRAW_INVALID_FEE)
        key = (hold["member"], hold["currency"])
        self._add(self.locked, key, -hold["amount"])
        self._add(self.revenue, hold["currency"], c.fee)
        hold["state"] = "settled"
        return self._account_outcome(*key)

    def _Adjust(self, c: Any) -> Outcome:
        if c.currency not in self.currencies:
            return self._no(errors.CURRENCY_NOT_FOUND)
        if not c.reason.strip():
            return self._no(errors.ADJUSTMENT_MISSING_REASON)
        if c.amount == 0:
            return self._no(errors.ADJUSTMENT_INVALID_AMOUNT)
        key = (c.member_id, c.currency)
        if c.amount < 0 and self.balance.get(key, 0) < -c.amount:
            return self._no(errors.ADJUSTMENT_INSUFFICIENT_BALANCE)
        self._add(self.balance, key, c.amount)
        return self._account_outcome(c.member_id, c.currency)

    def _Transfer(self, c: Any) -> Outcome:  # noqa: C901  (the plain reference)
        if not c.reference or not 1 <= len(c.legs) <= 100:
            return self._no(errors.TRANSFER_INVALID)
        equation: dict[str, int] = {}
        change: dict[tuple[int, str], int] = {}
        revenue: dict[str, int] = {}
        for leg in c.legs:
            if not isinstance(leg, dict) or set(leg) != LEG_FIELDS:
                return self._no(errors.TRANSFER_INVALID)
            currency, amount = leg["currency"], leg["amount"]
            if currency not in self.currencies:
                return self._no(errors.CURRENCY_NOT_FOUND)
            if amount <= 0:
                return self._no(errors.TRANSFER_INVALID_AMOUNT)
            chart = CHART[self.types[currency]]
            for code, member, way in (
                (leg["src"], leg["src_member"], -1),
                (leg["dst"], leg["dst_member"], 1),
            ):
                kind = chart.get(code)
                if kind is None:
                    return self._no(errors.TRANSFER_INVALID_ACCOUNT)
                if kind == "locked":
                    return self._no(errors.TRANSFER_LOCKED_ACCOUNT)
                if kind == "main" and member is None:
                    return self._no(errors.TRANSFER_INVALID_ACCOUNT)
                weight = 1 if kind in ("asset", "expense") else -1
                equation[currency] = equation.get(currency, 0) + way * weight * amount
                if kind == "main":
                    self._add(change, (member, currency), way * amount)
                if kind == "revenue":
                    self._add(revenue, currency, way * amount)
        if any(equation.values()):
            return self._no(errors.TRANSFER_UNBALANCED)
        for key, amount in change.items():
            if self.balance.get(key, 0) + amount < 0:
                return self._no(errors.TRANSFER_INSUFFICIENT_BALANCE)
        for key, amount in change.items():
            self._add(self.balance, key, amount)
        for currency, amount in revenue.items():
            self._add(self.revenue, currency, amount)
        return Outcome(self.seq, None)
