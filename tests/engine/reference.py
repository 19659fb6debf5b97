"""A deliberately simple reference model of the exchange, for the engine's property tests.

It is written from the rules the engine documents (``bursa.engine.commands``, ``errors``,
``ARCHITECTURE.md``), not from its code, and it is slow and obvious on purpose:

* balances are two dicts keyed by ``(member, currency)``: ``balance`` (main) and ``locked``;
* an order is a dict; a book side is the open orders of a market and side, sorted again
  every time it is read (best price first, then the oldest, i.e. the lowest id);
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
* A withdrawal id is held once, ever; releasing or settling a closed one is an invalid state.
* A transfer's legs each take ``amount`` from one account of the chart (debit) and give it
  to another (credit). All legs apply or none: every account must belong to the currency's
  type, member accounts need a member, locked accounts are never touched, each currency's
  assets - liabilities - revenues + expenses stays what it was, and no member's balance
  ends below zero.
"""

import copy
from dataclasses import dataclass
from typing import Any

from bursa.engine import errors

BUY, SELL = "buy", "sell"
LIMIT, MARKET = "limit", "market"
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
    ``order`` is ``(id, state, volume, locked, origin_locked, funds_received, trades_count)``
    (``origin_locked``: what the order locked when placed); ``orders``
    is ``((id, state, volume, locked), ...)`` sorted by id; ``account`` is
    ``(member, currency, balance, locked)``.
    """

    seq: int | None
    error: str | None
    order: tuple[Any, ...] | None = None
    orders: tuple[tuple[Any, ...], ...] | None = None
    account: tuple[Any, ...] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> tuple[Any, ...]:
        """What stays true of a result whenever it is read again (a repeated key)."""
        order_id = None if self.order is None else self.order[0]
        ids = None if self.orders is None else tuple(o[0] for o in self.orders)
        return (self.seq, self.error, order_id, ids)


# (id, market, price, volume, total, maker order, taker order, maker, taker, taker side,
#  maker fee, taker fee)
TradeRow = tuple[int, str, int, int, int, int, int, int, int, str, int, int]


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
        self.open: dict[int, dict[str, Any]] = {}  # open orders by id
        self.holds: dict[str, dict[str, Any]] = {}  # every withdrawal ever held
        self.results: dict[str, Outcome] = {}
        self.trades: list[TradeRow] = []
        self.revenue: dict[str, int] = {}
        self.seq = 0
        self.next_order_id = 1
        self.next_trade_id = 1

    # ------------------------------------------------------------------ views

    def balances_view(self) -> dict[tuple[int, str], tuple[int, int]]:
        keys = set(self.balance) | set(self.locked)
        view = {k: (self.balance.get(k, 0), self.locked.get(k, 0)) for k in keys}
        return {k: v for k, v in view.items() if v != (0, 0)}

    def open_orders_view(self) -> dict[int, tuple[Any, ...]]:
        return {
            o["id"]: (o["member"], o["market"], o["side"], o["price"], o["volume"], o["locked"])
            for o in self.open.values()
        }

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
        outcome: Outcome = handler(command)
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
        orders = [o for o in self.open.values() if o["market"] == market and o["side"] == side]
        if side == BUY:
            orders.sort(key=lambda o: (-o["price"], o["id"]))
        else:
            orders.sort(key=lambda o: (o["price"], o["id"]))
        return orders

    @staticmethod
    def _acceptable(side: str, limit: int, price: int) -> bool:
        """Whether an order on ``side`` with ``limit`` (0: market) trades at ``price``."""
        if limit == 0:
            return True
        return price <= limit if side == BUY else price >= limit

    def _PlaceOrder(self, c: Any) -> Outcome:  # noqa: C901  (the plain reference)
        m = self.markets.get(c.market)
        if m is None or not m.tradable:
            return self._no(errors.MARKET_NOT_AVAILABLE)
        if c.side not in (BUY, SELL):
            return self._no(errors.INVALID_SIDE)
        tif = c.time_in_force
        if c.ord_type == LIMIT:
            tif = tif or GTC
            too_high = m.max_price != 0 and c.price > m.max_price
            if c.price <= 0 or c.price < m.min_price or too_high:
                return self._no(errors.INVALID_VOLUME_OR_PRICE)
        elif c.ord_type == MARKET:
            tif = tif or IOC
            if c.price != 0:
                return self._no(errors.MARKET_ORDER_PRICE)
            if tif == GTC:
                return self._no(errors.INVALID_TIME_IN_FORCE)
        else:
            return self._no(errors.INVALID_TYPE)
        if c.volume <= 0 or c.volume < m.min_amount:
            return self._no(errors.INVALID_VOLUME_OR_PRICE)
        if tif not in (GTC, IOC, FOK):
            return self._no(errors.INVALID_TIME_IN_FORCE)
        if c.post_only and tif != GTC:
            return self._no(errors.INVALID_POST_ONLY)
        if c.stp not in (CANCEL_TAKER, CANCEL_MAKER, CANCEL_BOTH):
            return self._no(errors.INVALID_SELF_TRADE_PREVENTION)
        if c.client_id is not None:
            for o in self.open.values():
                if o["member"] == c.member_id and o["client_id"] == c.client_id:
                    return self._no(errors.DUPLICATE_CLIENT_ID)
        other_side = SELL if c.side == BUY else BUY
        opposite = self.book(m.id, other_side)
        if c.post_only and opposite and self._acceptable(c.side, c.price, opposite[0]["price"]):
            return self._no(errors.POST_ONLY_WOULD_MATCH)

        currency = m.quote if c.side == BUY else m.base
        available = self.balance.get((c.member_id, currency), 0)
        if c.ord_type == LIMIT:
            lock = c.price * c.volume * m.tick_lot if c.side == BUY else c.volume * m.lot
        else:
            if not opposite:
                return self._no(errors.INSUFFICIENT_LIQUIDITY)
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
                    return self._no(errors.INSUFFICIENT_BALANCE)
        if lock > available:
            return self._no(errors.INSUFFICIENT_BALANCE)

        order = {
            "id": self.next_order_id,
            "member": c.member_id,
            "market": m.id,
            "side": c.side,
            "type": c.ord_type,
            "price": c.price,
            "volume": c.volume,
            "locked": 0,
            "origin_locked": 0,
            "received": 0,
            "trades": 0,
            "client_id": c.client_id,
            "currency": currency,
            "state": "wait",
        }
        self.next_order_id += 1
        if tif == FOK:
            saved = copy.deepcopy((self.balance, self.locked, self.open, self.trades, self.revenue))
            saved_trade_id = self.next_trade_id
            self._execute(order, m, lock, tif, c.stp)
            if order["volume"] != 0:  # not filled entirely: as if never tried
                self.balance, self.locked, self.open, self.trades, self.revenue = saved
                self.next_trade_id = saved_trade_id
                killed = (order["id"], "cancel", c.volume, 0, 0, 0, 0)  # nothing was locked
                return Outcome(self.seq, None, order=killed)
        else:
            self._execute(order, m, lock, tif, c.stp)
        return Outcome(self.seq, None, order=self._order_view(order))

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
        )

    def _execute(self, order: dict[str, Any], m: RefMarket, lock: int, tif: str, stp: str) -> None:
        key = (order["member"], order["currency"])
        self._add(self.balance, key, -lock)
        self._add(self.locked, key, lock)
        order["locked"] = order["origin_locked"] = lock
        other_side = SELL if order["side"] == BUY else BUY
        market_buy = order["type"] == MARKET and order["side"] == BUY
        stopped = False
        while order["volume"] > 0:
            opposite = self.book(m.id, other_side)
            if not opposite:
                break
            maker = opposite[0]
            if not self._acceptable(order["side"], order["price"], maker["price"]):
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
        else:
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
        if maker["volume"] == 0:
            self._close(maker, "done")

    def _close(self, order: dict[str, Any], state: str) -> None:
        """The order leaves the book; what it still has locked goes back to the balance."""
        self.open.pop(order["id"], None)
        order["state"] = state
        key = (order["member"], order["currency"])
        self._add(self.locked, key, -order["locked"])
        self._add(self.balance, key, order["locked"])
        order["locked"] = 0

    def _CancelOrder(self, c: Any) -> Outcome:
        order = None
        if c.order_id is not None:
            order = self.open.get(c.order_id)
        elif c.client_id is not None:
            for o in self.open.values():
                if o["member"] == c.member_id and o["client_id"] == c.client_id:
                    order = o
        if order is None or order["member"] != c.member_id:
            return self._no(errors.ORDER_NOT_FOUND)
        self._close(order, "cancel")
        return Outcome(self.seq, None, order=self._order_view(order))

    def _CancelAll(self, c: Any) -> Outcome:
        if c.side not in (None, BUY, SELL):
            return self._no(errors.INVALID_SIDE)
        if c.market is not None and c.market not in self.markets:
            return self._no(errors.MARKET_NOT_AVAILABLE)
        chosen = [
            o
            for _, o in sorted(self.open.items())
            if o["member"] == c.member_id
            and c.market in (None, o["market"])
            and c.side in (None, o["side"])
        ]
        for o in chosen:
            self._close(o, "cancel")
        return Outcome(
            self.seq, None, orders=tuple((o["id"], o["state"], o["volume"], 0) for o in chosen)
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
