"""The matching engine as a pure, deterministic state machine.

``Engine.apply(command, ts)`` validates a command, changes balances and books, and records
every effect (orders, trades, double-entry postings, accounts) in ``journal``; it does no
I/O. A trade's postings are a pure function of the trade and are expanded at commit time
(``trade_postings``), which keeps the matching loop short. A rejected command changes
nothing but its own log entry. The same commands in the same order always give the same state.

Ledger convention (Peatio's): each account's balance is ``sum(credit) - sum(debit)``, so
assets = liabilities + revenues - expenses for every currency.
"""

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable

from bursa.engine import errors
from bursa.engine.commands import (
    ABOVE,
    BELOW,
    BUY,
    CANCEL_BOTH,
    CANCEL_MAKER,
    CANCEL_TAKER,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP_LIMIT,
    STOP_MARKET,
    STP_MODES,
    Adjust,
    AmendOrder,
    BulkOrders,
    CancelAll,
    CancelOrder,
    Command,
    ConfigureCurrency,
    ConfigureMarket,
    Credit,
    HoldWithdrawal,
    PlaceOco,
    PlaceOrder,
    ReleaseWithdrawal,
    SetMemberGroup,
    SettleWithdrawal,
    SetTradingFee,
    Transfer,
)
from bursa.engine.specs import (
    ANY,
    COIN,
    CURRENCY_STATES,
    DEFAULT_GROUP,
    FEE_SCALE,
    FIAT,
    MARKET_STATES,
    MAX_CURRENCY_CODE,
    MAX_FEE,
    MAX_MARKET_ID,
    MAX_PRECISION,
    MAX_STORED_INT,
    MEMBER_CODES,
    STORED_AMOUNT_DIGITS,
    TRADABLE_STATES,
    CurrencySpec,
    MarketSpec,
    currency_view,
    equation_weight,
    market_view,
)
from bursa.engine.state import (
    CANCEL,
    DONE,
    HELD,
    RELEASED,
    SETTLED,
    TRIGGER_WAIT,
    WAIT,
    Account,
    Book,
    BookSide,
    Hold,
    Journal,
    Level,
    Order,
    Posting,
    Result,
    Trade,
)
from bursa.engine.vocabulary import OrderState

ORDER = "order"
TRADE = "trade"
DEPOSIT = "deposit"
WITHDRAWAL = "withdrawal"
ADJUSTMENT = "adjustment"
TRANSFER = "transfer"
# What a posting's ``reference_type`` may be (the filters of operation lists offer them).
REFERENCE_TYPES = (ORDER, TRADE, DEPOSIT, WITHDRAWAL, ADJUSTMENT, TRANSFER)
MAX_TRANSFER_LEGS = 100
MAX_BULK = 100  # placements, and cancellations, one bulk command may carry
TRANSFER_LEG_KEYS = frozenset(("currency", "amount", "src", "src_member", "dst", "dst_member"))
GROUP_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


def _order_id(order: Order) -> int:
    return order.id


def _crossed(last: int, trigger: int, condition: str) -> bool:
    """Whether the last trade price (0: none yet) meets a trigger."""
    if not last:
        return False
    return last >= trigger if condition == ABOVE else last <= trigger


_PLACE_FIELDS: dict[str, tuple[type, ...]] = {
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
_PLACE_REQUIRED = frozenset(("market", "side", "volume"))


def _bulk_place(cmd: BulkOrders, item: object) -> PlaceOrder | None:
    """A bulk placement item as the command it stands for, or None when malformed."""
    if not isinstance(item, dict) or not item.keys() >= _PLACE_REQUIRED:
        return None
    for name, value in item.items():
        kinds = _PLACE_FIELDS.get(name)
        if kinds is None or not isinstance(value, kinds):
            return None
        if isinstance(value, bool) and name != "post_only":
            return None
    return PlaceOrder(key=cmd.key, member_id=cmd.member_id, **item)


def _bulk_cancel(cmd: BulkOrders, item: object) -> CancelOrder | None:
    """A bulk cancellation item (``{"order_id"}`` or ``{"client_id"}``), or None."""
    if not isinstance(item, dict) or len(item) != 1:
        return None
    order_id, client_id = item.get("order_id"), item.get("client_id")
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        return CancelOrder(key=cmd.key, member_id=cmd.member_id, order_id=order_id)
    if isinstance(client_id, str):
        return CancelOrder(key=cmd.key, member_id=cmd.member_id, client_id=client_id)
    return None


def valid_group(group: str) -> bool:
    """A member group's name: 1 to 32 lower-case letters, digits, ``_`` or ``-``."""
    return 0 < len(group) <= 32 and all(c in GROUP_CHARACTERS for c in group)


def trade_postings(trade: Trade, spec: MarketSpec) -> list[Posting]:
    """The double-entry postings of one trade (Peatio's): locked funds leave buyer and
    seller, each receives the other's currency minus the fee, fees become revenue."""
    base, quote = spec.base, spec.quote
    amount = trade.volume * spec.base_per_lot
    total = trade.total
    if trade.taker_side == BUY:
        buyer, seller = trade.taker_id, trade.maker_id
        buyer_fee, seller_fee = trade.taker_fee_amount, trade.maker_fee_amount
    else:
        buyer, seller = trade.maker_id, trade.taker_id
        buyer_fee, seller_fee = trade.maker_fee_amount, trade.taker_fee_amount
    seq, ts, ref = trade.seq, trade.created_at, trade.id
    postings: list[Posting] = [
        (seq, quote.locked_code, quote.code, buyer, TRADE, ref, total, 0, ts),
        (seq, base.locked_code, base.code, seller, TRADE, ref, amount, 0, ts),
        (seq, base.main_code, base.code, buyer, TRADE, ref, 0, amount - buyer_fee, ts),
        (seq, quote.main_code, quote.code, seller, TRADE, ref, 0, total - seller_fee, ts),
    ]
    if buyer_fee:
        postings.append((seq, base.revenue_code, base.code, buyer, TRADE, ref, 0, buyer_fee, ts))
    if seller_fee:
        postings.append(
            (seq, quote.revenue_code, quote.code, seller, TRADE, ref, 0, seller_fee, ts)
        )
    return postings


def _transfer_account_error(codes: tuple[int, ...], code: object, member: object) -> str | None:
    """Why a transfer may not post to account ``code`` (of ``member``), or None.

    Locked balances belong to open orders and held withdrawals, so a transfer leaves them
    alone; member accounts need a member, and platform accounts may name one (as revenue
    postings name the member who paid)."""
    if not isinstance(code, int) or code not in codes:
        return errors.TRANSFER_INVALID_ACCOUNT
    if member is not None and (not isinstance(member, int) or isinstance(member, bool)):
        return errors.TRANSFER_INVALID_ACCOUNT
    if code in MEMBER_CODES:
        if code == codes[2]:
            return errors.TRANSFER_LOCKED_ACCOUNT
        if member is None:
            return errors.TRANSFER_INVALID_ACCOUNT
    return None


def _amount_fits(units: int, places: int) -> bool:
    """``units`` of ``10**-places`` fits a stored (NUMERIC) amount."""
    limit: int = 10 ** (STORED_AMOUNT_DIGITS + places)
    return 0 <= units < limit


def currency_row_error(cmd: ConfigureCurrency) -> str | None:
    """Why the ``currencies`` table could not hold the row ``cmd`` carries (the code names
    the first bad field), or None. Checked before anything changes: the engine writes the
    row in its batch, and a batch that cannot commit halts the engine. (What no command
    may carry at all, such as a NUL character, the callers keep out: a refused command is
    logged as it came.)"""
    invalid = errors.invalid_currency_field
    if not 0 < len(cmd.code) <= MAX_CURRENCY_CODE:
        return invalid("code")
    if len(cmd.name) > 64:
        return invalid("name")
    if cmd.blockchain_key is not None and not 0 < len(cmd.blockchain_key) <= 32:
        return invalid("blockchain_key")
    if cmd.state not in CURRENCY_STATES:
        return invalid("status")
    if not -MAX_STORED_INT <= cmd.position <= MAX_STORED_INT:
        return invalid("position")
    if cmd.min_confirmations is not None and not 1 <= cmd.min_confirmations <= MAX_STORED_INT:
        return invalid("min_confirmations")
    amounts = (
        ("deposit_fee", cmd.deposit_fee),
        ("min_deposit_amount", cmd.min_deposit_amount),
        ("withdraw_fee", cmd.withdraw_fee),
        ("min_withdraw_amount", cmd.min_withdraw_amount),
        ("withdraw_limit_24h", cmd.withdraw_limit_24h),
        ("withdraw_limit_72h", cmd.withdraw_limit_72h),
    )
    for name, units in amounts:
        if not _amount_fits(units, cmd.precision):
            return invalid(name)
    return None


def _market_row_error(cmd: ConfigureMarket) -> str | None:
    """Why the ``markets`` table could not hold the row ``cmd`` carries, or None (see
    ``currency_row_error``)."""
    if not 0 < len(cmd.market) <= MAX_MARKET_ID:
        return errors.MARKET_INVALID_SYMBOL
    if not (
        _amount_fits(cmd.min_price, cmd.price_precision)
        and _amount_fits(cmd.max_price, cmd.price_precision)
        and _amount_fits(cmd.min_amount, cmd.amount_precision)
    ):
        return errors.MARKET_INVALID_BOUNDS
    if not -MAX_STORED_INT <= cmd.position <= MAX_STORED_INT:
        return errors.MARKET_INVALID_POSITION
    return None


class Engine:
    """Order books and balances of every market and member, changed only by commands."""

    def __init__(
        self,
        currencies: Iterable[CurrencySpec],
        markets: Iterable[MarketSpec],
        *,
        seq: int = 0,
        next_order_id: int = 1,
        next_trade_id: int = 1,
        next_priority: int = 1,
    ) -> None:
        self.currencies: dict[str, CurrencySpec] = {c.code: c for c in currencies}
        self.markets: dict[str, MarketSpec] = {}
        self.books: dict[str, Book] = {}
        # Trading fees by (market or "any", group or "any"): (maker, taker) in millionths.
        self.fees: dict[tuple[str, str], tuple[int, int]] = {}
        self.member_groups: dict[int, str] = {}  # members outside DEFAULT_GROUP
        for spec in markets:
            self.add_market(spec)
        self.balances: dict[int, dict[str, Account]] = {}
        self.open_orders: dict[int, Order] = {}
        self.member_orders: dict[int, dict[int, Order]] = {}
        self.client_orders: dict[tuple[int, str], Order] = {}
        self.holds: dict[str, Hold] = {}
        self.results: dict[str, Result] = {}
        self.seq = seq
        self.next_order_id = next_order_id
        self.next_trade_id = next_trade_id
        self.next_priority = next_priority  # the queue place the next resting order gets
        self.journal = Journal()
        self._handlers: dict[type[Command], Callable[..., Result]] = {
            PlaceOrder: self._place_order,
            PlaceOco: self._place_oco,
            AmendOrder: self._amend_order,
            BulkOrders: self._bulk_orders,
            CancelOrder: self._cancel_order,
            CancelAll: self._cancel_all,
            Credit: self._credit,
            HoldWithdrawal: self._hold_withdrawal,
            ReleaseWithdrawal: self._release_withdrawal,
            SettleWithdrawal: self._settle_withdrawal,
            Adjust: self._adjust,
            Transfer: self._transfer,
            ConfigureCurrency: self._configure_currency,
            ConfigureMarket: self._configure_market,
            SetTradingFee: self._set_trading_fee,
            SetMemberGroup: self._set_member_group,
        }

    # ------------------------------------------------------------------ setup

    def add_market(self, spec: MarketSpec) -> None:
        """Open a market, or replace the rules of an existing one (its book stays)."""
        self.markets[spec.id] = spec
        book = self.books.get(spec.id)
        if book is None:
            self.books[spec.id] = Book(spec)
        else:
            book.spec = spec

    def restore_account(self, member_id: int, currency: str, balance: int, locked: int) -> None:
        self._account(member_id, currency).__init__(member_id, currency, balance, locked)  # type: ignore[misc]

    def restore_fee(self, market: str, group: str, maker: int, taker: int) -> None:
        self.fees[(market, group)] = (maker, taker)

    def restore_group(self, member_id: int, group: str) -> None:
        if group != DEFAULT_GROUP:
            self.member_groups[member_id] = group

    def fees_for(self, member_id: int, spec: MarketSpec) -> tuple[int, int]:
        """The (maker, taker) fees a member's new order on a market gets, fixed at placement.

        Peatio's rule: the most specific trading fee wins, group before market
        (market+group, any market+group, market+any group, any+any). Where none is set,
        the market's own fees apply (Bursa keeps default fees with each market).
        """
        fees = self.fees
        if fees:
            group = self.member_groups.get(member_id, DEFAULT_GROUP)
            found = (
                fees.get((spec.id, group))
                or fees.get((ANY, group))
                or fees.get((spec.id, ANY))
                or fees.get((ANY, ANY))
            )
            if found is not None:
                return found
        return spec.maker_fee, spec.taker_fee

    def restore_order(self, order: Order) -> None:
        """Put a persisted open order back in its book, or with the waiting triggers
        (call in ``priority`` order)."""
        book = self.books[order.market]
        if order.state == TRIGGER_WAIT:
            waiting = book.above if order.trigger_condition == ABOVE else book.below
            insort(waiting, (order.trigger_price, order.id))
            self._index(order)
        else:
            self._rest(order, book)

    def restore_hold(self, hold: Hold) -> None:
        self.holds[hold.withdrawal_id] = hold

    def remember(self, key: str, result: Result) -> None:
        """Make a committed command's key known again after a restart."""
        self.results[key] = result

    def end_batch(self) -> Journal:
        """Hand over what the batch changed and start a new journal."""
        journal, self.journal = self.journal, Journal()
        return journal

    # ------------------------------------------------------------------ commands

    def apply(self, command: Command, ts: int) -> Result:
        """Apply one command at time ``ts`` (microseconds); a repeated key is not re-applied."""
        prior = self.results.get(command.key)
        if prior is not None:
            return prior
        self.seq = seq = self.seq + 1
        result: Result = self._handlers[type(command)](command, seq, ts)
        self.results[command.key] = result
        self.journal.commands.append((seq, command, result, ts))
        return result

    def _account(self, member_id: int, currency: str) -> Account:
        accounts = self.balances.get(member_id)
        if accounts is None:
            accounts = self.balances[member_id] = {}
        account = accounts.get(currency)
        if account is None:
            account = accounts[currency] = Account(member_id, currency)
        return account

    def _available(self, member_id: int, currency: str) -> int:
        accounts = self.balances.get(member_id)
        if accounts is None:
            return 0
        account = accounts.get(currency)
        return 0 if account is None else account.balance

    # ------------------------------------------------------------------ orders

    def _place_order(self, cmd: PlaceOrder, seq: int, ts: int) -> Result:  # noqa: C901  (hot path)
        book = self.books.get(cmd.market)
        if book is None or not book.spec.tradable:
            return Result(seq, cmd.kind, errors.MARKET_NOT_AVAILABLE)
        spec = book.spec
        side = cmd.side
        if side != BUY and side != SELL:
            return Result(seq, cmd.kind, errors.INVALID_SIDE)
        ord_type = cmd.ord_type
        tif = cmd.time_in_force
        price = cmd.price
        volume = cmd.volume
        trigger = cmd.trigger_price
        stop = ord_type in (STOP_LIMIT, STOP_MARKET)
        if stop:
            if not self._price_fits(trigger, spec):
                return Result(seq, cmd.kind, errors.INVALID_VOLUME_OR_PRICE)
            condition = cmd.trigger_condition or (ABOVE if side == BUY else BELOW)
            if condition != ABOVE and condition != BELOW:
                return Result(seq, cmd.kind, errors.INVALID_TRIGGER_CONDITION)
        elif trigger or cmd.trigger_condition:
            return Result(seq, cmd.kind, errors.TRIGGER_NOT_ALLOWED)
        if ord_type in (LIMIT, STOP_LIMIT):
            tif = tif or GTC
            if not self._price_fits(price, spec):
                return Result(seq, cmd.kind, errors.INVALID_VOLUME_OR_PRICE)
        elif ord_type in (MARKET, STOP_MARKET):
            tif = tif or IOC
            if price:
                return Result(seq, cmd.kind, errors.MARKET_ORDER_PRICE)
            if tif == GTC:
                return Result(seq, cmd.kind, errors.INVALID_TIME_IN_FORCE)
        else:
            return Result(seq, cmd.kind, errors.INVALID_TYPE)
        if volume <= 0 or volume < spec.min_amount:
            return Result(seq, cmd.kind, errors.INVALID_VOLUME_OR_PRICE)
        if tif != GTC and tif != IOC and tif != FOK:
            return Result(seq, cmd.kind, errors.INVALID_TIME_IN_FORCE)
        if cmd.post_only and (tif != GTC or stop):
            return Result(seq, cmd.kind, errors.INVALID_POST_ONLY)
        if cmd.stp not in STP_MODES:
            return Result(seq, cmd.kind, errors.INVALID_SELF_TRADE_PREVENTION)
        member_id = cmd.member_id
        if cmd.client_id is not None and (member_id, cmd.client_id) in self.client_orders:
            return Result(seq, cmd.kind, errors.DUPLICATE_CLIENT_ID)

        is_buy = side == BUY
        currency = spec.quote.code if is_buy else spec.base.code
        available = self._available(member_id, currency)
        if stop:
            if _crossed(book.last_price(), trigger, condition):
                return Result(seq, cmd.kind, errors.TRIGGER_ALREADY_CROSSED)
            lock = (
                (price or trigger) * volume * spec.quote_per_tick_lot
                if is_buy
                else volume * spec.base_per_lot
            )
            if lock > available:
                return Result(seq, cmd.kind, errors.INSUFFICIENT_BALANCE)
            order = self._new_order(
                member_id, spec, side, ord_type, tif, False, cmd.client_id, price, volume, seq, ts
            )
            self._lock(order, lock, seq, ts)
            self._arm(order, book, trigger, condition, cmd.stp)
            return Result(seq, cmd.kind, order=order)

        opposite = book.asks if is_buy else book.bids
        if cmd.post_only and opposite.keys:
            best = opposite.keys[-1] * opposite.sign
            if (best <= price) if is_buy else (best >= price):
                return Result(seq, cmd.kind, errors.POST_ONLY_WOULD_MATCH)

        if ord_type == LIMIT:
            lock = (
                price * volume * spec.quote_per_tick_lot if is_buy else volume * spec.base_per_lot
            )
        elif is_buy:
            if not opposite.keys:
                return Result(seq, cmd.kind, errors.INSUFFICIENT_LIQUIDITY)
            lock = min(self._cost_to_fill(opposite, volume, spec), available)
            if lock <= 0:
                return Result(seq, cmd.kind, errors.INSUFFICIENT_BALANCE)
        else:
            if not opposite.keys:
                return Result(seq, cmd.kind, errors.INSUFFICIENT_LIQUIDITY)
            lock = volume * spec.base_per_lot
        if lock > available:
            return Result(seq, cmd.kind, errors.INSUFFICIENT_BALANCE)

        order = self._new_order(
            member_id,
            spec,
            side,
            ord_type,
            tif,
            cmd.post_only,
            cmd.client_id,
            price,
            volume,
            seq,
            ts,
        )
        if tif == FOK and not self._can_fill(order, opposite, spec, lock, cmd.stp):
            order.state = CANCEL
            return Result(seq, cmd.kind, order=order)
        self._lock(order, lock, seq, ts)
        trades_before = self.next_trade_id
        self._execute(order, book, cmd.stp, seq, ts)
        if self.next_trade_id != trades_before and (book.above or book.below):
            self._fire_triggers(book, seq, ts)
        return Result(seq, cmd.kind, order=order)

    @staticmethod
    def _price_fits(price: int, spec: MarketSpec) -> bool:
        """Within the market's price bounds (a price or a trigger price)."""
        return (
            price > 0
            and spec.min_price <= price
            and not (spec.max_price and price > spec.max_price)
        )

    def _new_order(
        self,
        member_id: int,
        spec: MarketSpec,
        side: str,
        ord_type: str,
        tif: str,
        post_only: bool,
        client_id: str | None,
        price: int,
        volume: int,
        seq: int,
        ts: int,
    ) -> Order:
        """A new order with the next id and the member's fees, in the journal (no funds
        locked yet)."""
        maker_fee, taker_fee = self.fees_for(member_id, spec)
        order_id = self.next_order_id
        self.next_order_id = order_id + 1
        order = Order(
            order_id,
            member_id,
            spec.id,
            side,
            ord_type,
            tif,
            post_only,
            client_id,
            price,
            volume,
            maker_fee,
            taker_fee,
            seq,
            ts,
        )
        self.journal.orders[order_id] = order
        return order

    def _lock(self, order: Order, lock: int, seq: int, ts: int) -> None:
        """Move ``lock`` of the member's funds from main to locked for ``order``."""
        spec = self.books[order.market].spec
        cur = spec.quote if order.side == BUY else spec.base
        member_id = order.member_id
        account = self._account(member_id, cur.code)
        account.balance -= lock
        account.locked += lock
        self.journal.accounts.add(account)
        order.origin_locked = order.locked = lock
        ref = order.id
        postings = self.journal.postings
        postings.append((seq, cur.main_code, cur.code, member_id, ORDER, ref, lock, 0, ts))
        postings.append((seq, cur.locked_code, cur.code, member_id, ORDER, ref, 0, lock, ts))

    def _execute(self, order: Order, book: Book, stp: str, seq: int, ts: int) -> None:
        """Match a funded order, then rest its remainder (GTC) or close it. Triggers it
        crossed are the caller's (``_fire_triggers``), so cascades never recurse."""
        opposite = book.asks if order.side == BUY else book.bids
        stopped = False
        keys = opposite.keys
        price = order.price
        if keys:
            best = keys[-1] * opposite.sign
            if not price or ((best <= price) if order.side == BUY else (best >= price)):
                stopped = self._match(order, book, opposite, stp, seq, ts)
        if order.oco_id is not None and order.trades_count:
            self._break_oco(order, seq, ts)
        if order.volume == 0:
            self._finish(order, DONE, seq, ts)
        elif stopped or order.time_in_force != GTC:
            self._finish(order, CANCEL, seq, ts)
        else:
            self._rest(order, book)

    # ------------------------------------------------------------------ trigger orders

    def _arm(self, order: Order, book: Book, trigger: int, condition: str, stp: str) -> None:
        """Let a funded trigger order wait for its price (an open order, not in the book)."""
        order.state = TRIGGER_WAIT
        order.trigger_price = trigger
        order.trigger_condition = condition
        order.stp = stp
        insort(book.above if condition == ABOVE else book.below, (trigger, order.id))
        self._index(order)

    def _disarm(self, order: Order, book: Book) -> None:
        waiting = book.above if order.trigger_condition == ABOVE else book.below
        del waiting[bisect_left(waiting, (order.trigger_price, order.id))]
        self._unindex(order)

    def _fire_triggers(self, book: Book, seq: int, ts: int) -> None:
        """Fire, one at a time and lowest id first, every trigger order of ``book`` the
        last trade price has crossed, re-checking after each (a fire may trade and cross
        more)."""
        while True:
            last = book.last_price()
            if not last:
                return
            first = 0
            for trigger, order_id in book.above:
                if trigger > last:
                    break
                if not first or order_id < first:
                    first = order_id
            below = book.below
            for i in range(len(below) - 1, -1, -1):
                trigger, order_id = below[i]
                if trigger < last:
                    break
                if not first or order_id < first:
                    first = order_id
            if not first:
                return
            self._fire(self.open_orders[first], book, seq, ts)

    def _fire(self, order: Order, book: Book, seq: int, ts: int) -> None:
        """A trigger order's price was crossed: it becomes a live limit or market order."""
        self._disarm(order, book)
        spec = book.spec
        is_buy = order.side == BUY
        if order.oco_id is not None:
            sibling = self.open_orders.get(order.oco_id)
            if sibling is not None:  # the limit leg, which held the pair's funds
                self._unrest(sibling, book)
                self._finish(sibling, CANCEL, seq, ts)
            lock = (
                (order.price or order.trigger_price) * order.volume * spec.quote_per_tick_lot
                if is_buy
                else order.volume * spec.base_per_lot
            )
            currency = spec.quote.code if is_buy else spec.base.code
            if lock > self._available(order.member_id, currency):  # cannot happen: see above
                self._finish(order, CANCEL, seq, ts)
                return
            self._lock(order, lock, seq, ts)
        order.state = WAIT
        order.updated_at = ts
        order.seq = seq
        self.journal.orders[order.id] = order
        opposite = book.asks if is_buy else book.bids
        if order.time_in_force == FOK and not self._can_fill(
            order, opposite, spec, order.locked, order.stp
        ):
            self._finish(order, CANCEL, seq, ts)
            return
        self._execute(order, book, order.stp, seq, ts)

    def _break_oco(self, order: Order, seq: int, ts: int) -> None:
        """``order`` traded or closed: its waiting stop sibling is cancelled."""
        sibling = self.open_orders.get(order.oco_id) if order.oco_id is not None else None
        if sibling is not None and sibling.state == TRIGGER_WAIT:
            self._disarm(sibling, self.books[sibling.market])
            self._finish(sibling, CANCEL, seq, ts)

    def _place_oco(self, cmd: PlaceOco, seq: int, ts: int) -> Result:
        book = self.books.get(cmd.market)
        if book is None or not book.spec.tradable:
            return Result(seq, cmd.kind, errors.MARKET_NOT_AVAILABLE)
        spec = book.spec
        side = cmd.side
        if side != BUY and side != SELL:
            return Result(seq, cmd.kind, errors.INVALID_SIDE)
        price, trigger, stop_price, volume = (
            cmd.price,
            cmd.trigger_price,
            cmd.stop_price,
            cmd.volume,
        )
        if (
            not self._price_fits(price, spec)
            or not self._price_fits(trigger, spec)
            or (stop_price and not self._price_fits(stop_price, spec))
            or volume <= 0
            or volume < spec.min_amount
        ):
            return Result(seq, cmd.kind, errors.INVALID_VOLUME_OR_PRICE)
        is_buy = side == BUY
        if (price >= trigger) if is_buy else (price <= trigger):
            return Result(seq, cmd.kind, errors.INVALID_OCO_PRICES)
        if cmd.stp not in STP_MODES:
            return Result(seq, cmd.kind, errors.INVALID_SELF_TRADE_PREVENTION)
        member_id = cmd.member_id
        if cmd.client_id is not None and (member_id, cmd.client_id) in self.client_orders:
            return Result(seq, cmd.kind, errors.DUPLICATE_CLIENT_ID)
        condition = ABOVE if is_buy else BELOW
        if _crossed(book.last_price(), trigger, condition):
            return Result(seq, cmd.kind, errors.TRIGGER_ALREADY_CROSSED)
        if is_buy:
            lock = max(price, stop_price or trigger) * volume * spec.quote_per_tick_lot
        else:
            lock = volume * spec.base_per_lot
        if lock > self._available(member_id, spec.quote.code if is_buy else spec.base.code):
            return Result(seq, cmd.kind, errors.INSUFFICIENT_BALANCE)
        limit = self._new_order(
            member_id, spec, side, LIMIT, GTC, False, cmd.client_id, price, volume, seq, ts
        )
        stop_type, stop_tif = (STOP_LIMIT, GTC) if stop_price else (STOP_MARKET, IOC)
        stop = self._new_order(
            member_id, spec, side, stop_type, stop_tif, False, None, stop_price, volume, seq, ts
        )
        limit.oco_id, stop.oco_id = stop.id, limit.id
        self._arm(stop, book, trigger, condition, cmd.stp)
        self._lock(limit, lock, seq, ts)
        trades_before = self.next_trade_id
        self._execute(limit, book, cmd.stp, seq, ts)
        if self.next_trade_id != trades_before and (book.above or book.below):
            self._fire_triggers(book, seq, ts)
        return Result(seq, cmd.kind, order=limit, orders=[limit, stop])

    # ------------------------------------------------------------------ amend and bulk

    def _amend_order(self, cmd: AmendOrder, seq: int, ts: int) -> Result:
        order = self._member_open_order(cmd.member_id, cmd.order_id, cmd.client_id)
        if order is None:
            return Result(seq, cmd.kind, errors.ORDER_NOT_FOUND)
        if order.state != WAIT or order.ord_type != LIMIT or order.oco_id is not None:
            return Result(seq, cmd.kind, errors.AMEND_NOT_ALLOWED)
        book = self.books[order.market]
        spec = book.spec
        if cmd.price < 0 or cmd.volume < 0:
            return Result(seq, cmd.kind, errors.INVALID_VOLUME_OR_PRICE)
        price = cmd.price or order.price
        volume = cmd.volume or order.volume
        if price == order.price and volume == order.volume:
            return Result(seq, cmd.kind, errors.AMEND_NOTHING)
        if not self._price_fits(price, spec) or volume < spec.min_amount:
            return Result(seq, cmd.kind, errors.INVALID_VOLUME_OR_PRICE)
        is_buy = order.side == BUY
        cur = spec.quote if is_buy else spec.base
        if price == order.price and volume < order.volume:  # in place, keeping its priority
            less = order.volume - volume
            release = price * less * spec.quote_per_tick_lot if is_buy else less * spec.base_per_lot
            side = book.bids if is_buy else book.asks
            side.levels[price].volume -= less
            order.volume = volume
            order.origin_volume -= less
            order.locked -= release  # origin_locked stays: what was spent stays known
            order.updated_at = ts
            order.seq = seq
            self.journal.orders[order.id] = order
            account = self.balances[order.member_id][cur.code]
            account.locked -= release
            account.balance += release
            self.journal.accounts.add(account)
            postings = self.journal.postings
            member, ref = order.member_id, order.id
            postings.append((seq, cur.locked_code, cur.code, member, ORDER, ref, release, 0, ts))
            postings.append((seq, cur.main_code, cur.code, member, ORDER, ref, 0, release, ts))
            return Result(seq, cmd.kind, order=order)
        opposite = book.asks if is_buy else book.bids
        if order.post_only and opposite.keys:
            best = opposite.keys[-1] * opposite.sign
            if (best <= price) if is_buy else (best >= price):
                return Result(seq, cmd.kind, errors.POST_ONLY_WOULD_MATCH)
        lock = price * volume * spec.quote_per_tick_lot if is_buy else volume * spec.base_per_lot
        if lock > self._available(order.member_id, cur.code) + order.locked:
            return Result(seq, cmd.kind, errors.INSUFFICIENT_BALANCE)
        self._unrest(order, book)
        self._finish(order, CANCEL, seq, ts)
        new = self._new_order(
            order.member_id,
            spec,
            order.side,
            LIMIT,
            GTC,
            order.post_only,
            order.client_id,
            price,
            volume,
            seq,
            ts,
        )
        self._lock(new, lock, seq, ts)
        trades_before = self.next_trade_id
        self._execute(new, book, CANCEL_TAKER, seq, ts)
        if self.next_trade_id != trades_before and (book.above or book.below):
            self._fire_triggers(book, seq, ts)
        return Result(seq, cmd.kind, order=new, orders=[order])

    def _bulk_orders(self, cmd: BulkOrders, seq: int, ts: int) -> Result:
        """Cancels, then placements, each as its own command would be, in one sequence
        number: one batch, one idempotency key."""
        cancels, places = cmd.cancel, cmd.place
        if len(cancels) > MAX_BULK or len(places) > MAX_BULK or not (cancels or places):
            return Result(seq, cmd.kind, errors.TOO_MANY_ORDERS)
        items: list[Result] = []
        for item in cancels:
            cancel = _bulk_cancel(cmd, item)
            if cancel is None:
                items.append(Result(seq, "cancel_order", errors.INVALID_BULK_ITEM))
            else:
                items.append(self._cancel_order(cancel, seq, ts))
        for item in places:
            place = _bulk_place(cmd, item)
            if place is None:
                items.append(Result(seq, "place_order", errors.INVALID_BULK_ITEM))
            else:
                items.append(self._place_order(place, seq, ts))
        result = Result(seq, cmd.kind)
        result.items = items
        return result

    def _cost_to_fill(self, side: BookSide, volume: int, spec: MarketSpec) -> int:
        """Quote subunits a market buy of ``volume`` lots would spend at current asks."""
        cost = 0
        sign, levels = side.sign, side.levels
        for key in reversed(side.keys):
            level = levels[key * sign]
            take = volume if volume < level.volume else level.volume
            cost += take * level.price
            volume -= take
            if not volume:
                break
        return cost * spec.quote_per_tick_lot

    def _can_fill(
        self, order: Order, opposite: BookSide, spec: MarketSpec, funds: int, stp: str
    ) -> bool:
        """Whether a fill-or-kill order would fill entirely, walking the book without change."""
        need = order.volume
        is_buy = order.side == BUY
        market_buy = is_buy and (order.ord_type == MARKET or order.ord_type == STOP_MARKET)
        sign, levels = opposite.sign, opposite.levels
        for key in reversed(opposite.keys):
            price = key * sign
            if order.price and ((price > order.price) if is_buy else (price < order.price)):
                return False
            for maker in levels[price].orders.values():
                if maker.member_id == order.member_id:
                    if stp == CANCEL_MAKER:
                        continue
                    return False
                take = need if need < maker.volume else maker.volume
                if market_buy:
                    unit = price * spec.quote_per_tick_lot
                    take = min(take, funds // unit)
                    funds -= take * unit
                    if take < (need if need < maker.volume else maker.volume):
                        return False
                need -= take
                if not need:
                    return True
        return False

    def _match(
        self, taker: Order, book: Book, opposite: BookSide, stp: str, seq: int, ts: int
    ) -> bool:
        """Trade ``taker`` against the opposite side; True if self-trade prevention stopped it."""
        spec = book.spec
        is_buy = taker.side == BUY
        limit = taker.price
        market_buy = is_buy and (taker.ord_type == MARKET or taker.ord_type == STOP_MARKET)
        keys, levels, sign = opposite.keys, opposite.levels, opposite.sign
        lot, qmul = spec.base_per_lot, spec.quote_per_tick_lot
        base, quote = spec.base, spec.quote
        taker_member = taker.member_id
        taker_base = self._account(taker_member, base.code)
        taker_quote = self._account(taker_member, quote.code)
        journal = self.journal
        accounts = journal.accounts
        trades = journal.trades
        recent = book.recent_trades
        while keys:
            price = keys[-1] * sign
            if limit and ((price > limit) if is_buy else (price < limit)):
                break
            level = levels[price]
            maker = next(iter(level.orders.values()))
            if maker.member_id == taker_member:
                if stp == CANCEL_TAKER:
                    return True
                self._unrest(maker, book)
                self._finish(maker, CANCEL, seq, ts)
                if stp == CANCEL_BOTH:
                    return True
                continue
            qty = taker.volume if taker.volume < maker.volume else maker.volume
            if market_buy:
                affordable = taker.locked // (price * qmul)
                if affordable < qty:
                    qty = affordable
                    if not qty:
                        break
            amount = qty * lot
            total = price * qty * qmul
            maker_member = maker.member_id
            maker_accounts = self.balances[maker_member]
            if is_buy:
                buyer, seller = taker, maker
                buyer_base, buyer_quote = taker_base, taker_quote
                seller_base = maker_accounts[base.code]
                seller_quote = maker_accounts.get(quote.code) or self._account(
                    maker_member, quote.code
                )
                buyer_fee = amount * taker.taker_fee // FEE_SCALE
                seller_fee = total * maker.maker_fee // FEE_SCALE
                maker_fee_amount, taker_fee_amount = seller_fee, buyer_fee
            else:
                buyer, seller = maker, taker
                seller_base, seller_quote = taker_base, taker_quote
                buyer_quote = maker_accounts[quote.code]
                buyer_base = maker_accounts.get(base.code) or self._account(maker_member, base.code)
                buyer_fee = amount * maker.maker_fee // FEE_SCALE
                seller_fee = total * taker.taker_fee // FEE_SCALE
                maker_fee_amount, taker_fee_amount = buyer_fee, seller_fee
            trade_id = self.next_trade_id
            self.next_trade_id = trade_id + 1
            trade = Trade(
                trade_id,
                spec.id,
                price,
                qty,
                total,
                maker.id,
                taker.id,
                maker_member,
                taker_member,
                taker.side,
                maker_fee_amount,
                taker_fee_amount,
                seq,
                ts,
            )
            trades.append(trade)
            recent.append(trade)

            buyer_quote.locked -= total
            buyer.locked -= total
            buyer.funds_received += amount
            buyer_base.balance += amount - buyer_fee
            seller_base.locked -= amount
            seller.locked -= amount
            seller.funds_received += total
            seller_quote.balance += total - seller_fee
            accounts.add(buyer_base)
            accounts.add(buyer_quote)
            accounts.add(seller_base)
            accounts.add(seller_quote)

            taker.volume -= qty
            taker.trades_count += 1
            taker.updated_at = ts
            maker.volume -= qty
            maker.trades_count += 1
            maker.updated_at = ts
            maker.seq = seq
            journal.orders[maker.id] = maker
            level.volume -= qty
            if maker.oco_id is not None:
                self._break_oco(maker, seq, ts)
            if not maker.volume:
                self._unrest(maker, book)
                self._finish(maker, DONE, seq, ts)
            if not taker.volume:
                break
        return False

    def _rest(self, order: Order, book: Book) -> None:
        """Put an open limit order at the back of its price level (or, restoring it, where
        its ``priority`` puts it: restored in that order)."""
        if not order.priority:
            order.priority = self.next_priority
            self.next_priority += 1
        side = book.bids if order.side == BUY else book.asks
        level = side.levels.get(order.price)
        if level is None:
            level = side.levels[order.price] = Level(order.price)
            insort(side.keys, order.price * side.sign)
        level.orders[order.id] = order
        level.volume += order.volume
        self._index(order)

    def _index(self, order: Order) -> None:
        """Make an open order (resting or waiting for its trigger) findable."""
        self.open_orders[order.id] = order
        member = self.member_orders.get(order.member_id)
        if member is None:
            member = self.member_orders[order.member_id] = {}
        member[order.id] = order
        if order.client_id is not None:
            self.client_orders[(order.member_id, order.client_id)] = order

    def _unrest(self, order: Order, book: Book) -> None:
        """Take an open order out of its level and the indexes."""
        side = book.bids if order.side == BUY else book.asks
        level = side.levels[order.price]
        del level.orders[order.id]
        level.volume -= order.volume
        if not level.orders:
            del side.levels[order.price]
            key = order.price * side.sign
            keys = side.keys
            if keys[-1] == key:
                keys.pop()
            else:
                del keys[bisect_left(keys, key)]
        self._unindex(order)

    def _unindex(self, order: Order) -> None:
        del self.open_orders[order.id]
        del self.member_orders[order.member_id][order.id]
        if order.client_id is not None:
            self.client_orders.pop((order.member_id, order.client_id), None)

    def _finish(self, order: Order, state: OrderState, seq: int, ts: int) -> None:
        """Close an order (not in the book any more): unlock what it still holds. An OCO
        order closing for any reason takes its waiting stop sibling with it."""
        order.state = state
        order.updated_at = ts
        order.seq = seq
        self.journal.orders[order.id] = order
        if order.oco_id is not None:
            self._break_oco(order, seq, ts)
        leftover = order.locked
        if leftover:
            spec = self.books[order.market].spec
            cur = spec.quote if order.side == BUY else spec.base
            account = self.balances[order.member_id][cur.code]
            account.locked -= leftover
            account.balance += leftover
            order.locked = 0
            self.journal.accounts.add(account)
            ref = order.id
            member = order.member_id
            postings = self.journal.postings
            postings.append((seq, cur.locked_code, cur.code, member, ORDER, ref, leftover, 0, ts))
            postings.append((seq, cur.main_code, cur.code, member, ORDER, ref, 0, leftover, ts))

    def _member_open_order(
        self, member_id: int, order_id: int | None, client_id: str | None
    ) -> Order | None:
        """The member's open order by id or client id; None for closed, unknown and other
        members' orders alike (nothing leaks)."""
        if order_id is not None:
            order = self.open_orders.get(order_id)
        elif client_id is not None:
            order = self.client_orders.get((member_id, client_id))
        else:
            order = None
        if order is None or order.member_id != member_id:
            return None
        return order

    def _withdraw(self, order: Order, seq: int, ts: int) -> Order | None:
        """Cancel an open order wherever it waits, and the other order of its OCO pair
        (returned, when there was one still open)."""
        book = self.books[order.market]
        sibling = self.open_orders.get(order.oco_id) if order.oco_id is not None else None
        if order.state == TRIGGER_WAIT:
            self._disarm(order, book)
        else:
            self._unrest(order, book)
        self._finish(order, CANCEL, seq, ts)  # cancels a waiting stop sibling itself
        if sibling is not None and sibling.id in self.open_orders:
            if sibling.state == TRIGGER_WAIT:
                self._disarm(sibling, book)
            else:
                self._unrest(sibling, book)
            self._finish(sibling, CANCEL, seq, ts)
        return sibling

    def _cancel_order(self, cmd: CancelOrder, seq: int, ts: int) -> Result:
        order = self._member_open_order(cmd.member_id, cmd.order_id, cmd.client_id)
        if order is None:
            return Result(seq, cmd.kind, errors.ORDER_NOT_FOUND)
        sibling = self._withdraw(order, seq, ts)
        if sibling is None:
            return Result(seq, cmd.kind, order=order)
        return Result(seq, cmd.kind, order=order, orders=[order, sibling])

    def _cancel_all(self, cmd: CancelAll, seq: int, ts: int) -> Result:
        if cmd.side is not None and cmd.side != BUY and cmd.side != SELL:
            return Result(seq, cmd.kind, errors.INVALID_SIDE)
        if cmd.market is not None and cmd.market not in self.books:
            return Result(seq, cmd.kind, errors.MARKET_NOT_AVAILABLE)
        chosen = sorted(
            (
                order
                for order in self.member_orders.get(cmd.member_id, {}).values()
                if (cmd.market is None or order.market == cmd.market)
                and (cmd.side is None or order.side == cmd.side)
            ),
            key=_order_id,
        )
        cancelled: list[Order] = []
        for order in chosen:
            if order.id in self.open_orders:  # not already gone with its OCO sibling
                sibling = self._withdraw(order, seq, ts)
                cancelled.append(order)
                if sibling is not None:
                    cancelled.append(sibling)
        return Result(seq, cmd.kind, orders=cancelled)

    # ------------------------------------------------------------------ funds

    def _credit(self, cmd: Credit, seq: int, ts: int) -> Result:
        cur = self.currencies.get(cmd.currency)
        if cur is None:
            return Result(seq, cmd.kind, errors.CURRENCY_NOT_FOUND)
        if cmd.amount <= 0:
            return Result(seq, cmd.kind, errors.DEPOSIT_INVALID_AMOUNT)
        if cmd.fee < 0 or cmd.fee >= cmd.amount:
            return Result(seq, cmd.kind, errors.DEPOSIT_INVALID_FEE)
        net = cmd.amount - cmd.fee
        account = self._account(cmd.member_id, cur.code)
        account.balance += net
        self.journal.accounts.add(account)
        ref, member = cmd.deposit_id, cmd.member_id
        postings = self.journal.postings
        postings.append((seq, cur.asset_code, cur.code, None, DEPOSIT, ref, 0, cmd.amount, ts))
        postings.append((seq, cur.main_code, cur.code, member, DEPOSIT, ref, 0, net, ts))
        if cmd.fee:
            postings.append((seq, cur.revenue_code, cur.code, member, DEPOSIT, ref, 0, cmd.fee, ts))
        return Result(seq, cmd.kind, account=account)

    def _hold_withdrawal(self, cmd: HoldWithdrawal, seq: int, ts: int) -> Result:
        cur = self.currencies.get(cmd.currency)
        if cur is None:
            return Result(seq, cmd.kind, errors.CURRENCY_NOT_FOUND)
        if cmd.amount <= 0:
            return Result(seq, cmd.kind, errors.WITHDRAW_INVALID_AMOUNT)
        if cmd.withdrawal_id in self.holds:
            return Result(seq, cmd.kind, errors.WITHDRAW_DUPLICATE)
        if self._available(cmd.member_id, cur.code) < cmd.amount:
            return Result(seq, cmd.kind, errors.WITHDRAW_INSUFFICIENT_BALANCE)
        account = self._account(cmd.member_id, cur.code)
        account.balance -= cmd.amount
        account.locked += cmd.amount
        self.journal.accounts.add(account)
        hold = Hold(cmd.withdrawal_id, cmd.member_id, cur.code, cmd.amount, seq, ts)
        self.holds[hold.withdrawal_id] = hold
        self.journal.holds[hold.withdrawal_id] = hold
        self._post_transfer(cur, cmd.member_id, cmd.withdrawal_id, cmd.amount, True, seq, ts)
        return Result(seq, cmd.kind, account=account)

    def _held(self, withdrawal_id: str) -> Hold | str:
        hold = self.holds.get(withdrawal_id)
        if hold is None:
            return errors.WITHDRAW_NOT_FOUND
        if hold.state != HELD:
            return errors.WITHDRAW_NOT_HELD
        return hold

    def _release_withdrawal(self, cmd: ReleaseWithdrawal, seq: int, ts: int) -> Result:
        hold = self._held(cmd.withdrawal_id)
        if isinstance(hold, str):
            return Result(seq, cmd.kind, hold)
        cur = self.currencies[hold.currency]
        account = self.balances[hold.member_id][hold.currency]
        account.locked -= hold.amount
        account.balance += hold.amount
        self._close_hold(hold, RELEASED, account, seq, ts)
        self._post_transfer(cur, hold.member_id, hold.withdrawal_id, hold.amount, False, seq, ts)
        return Result(seq, cmd.kind, account=account)

    def _settle_withdrawal(self, cmd: SettleWithdrawal, seq: int, ts: int) -> Result:
        hold = self._held(cmd.withdrawal_id)
        if isinstance(hold, str):
            return Result(seq, cmd.kind, hold)
        if cmd.fee < 0 or cmd.fee > hold.amount:
            return Result(seq, cmd.kind, errors.WITHDRAW_INVALID_FEE)
        cur = self.currencies[hold.currency]
        account = self.balances[hold.member_id][hold.currency]
        account.locked -= hold.amount
        self._close_hold(hold, SETTLED, account, seq, ts)
        ref, member = hold.withdrawal_id, hold.member_id
        sent = hold.amount - cmd.fee
        postings = self.journal.postings
        postings.append(
            (seq, cur.locked_code, cur.code, member, WITHDRAWAL, ref, hold.amount, 0, ts)
        )
        if cmd.fee:
            postings.append(
                (seq, cur.revenue_code, cur.code, member, WITHDRAWAL, ref, 0, cmd.fee, ts)
            )
        if sent:
            postings.append((seq, cur.asset_code, cur.code, None, WITHDRAWAL, ref, sent, 0, ts))
        return Result(seq, cmd.kind, account=account)

    def _close_hold(self, hold: Hold, state: str, account: Account, seq: int, ts: int) -> None:
        hold.state = state
        hold.seq = seq
        hold.updated_at = ts
        # The closed hold stays known: its id cannot be held again (the table's key), and
        # a second release or settle reads "invalid state", not "doesn't exist".
        self.journal.holds[hold.withdrawal_id] = hold
        self.journal.accounts.add(account)

    def _post_transfer(
        self,
        cur: CurrencySpec,
        member: int,
        ref: str,
        amount: int,
        to_locked: bool,
        seq: int,
        ts: int,
    ) -> None:
        """Move ``amount`` between a member's main and locked liability accounts."""
        src, dst = (
            (cur.main_code, cur.locked_code) if to_locked else (cur.locked_code, cur.main_code)
        )
        postings = self.journal.postings
        postings.append((seq, src, cur.code, member, WITHDRAWAL, ref, amount, 0, ts))
        postings.append((seq, dst, cur.code, member, WITHDRAWAL, ref, 0, amount, ts))

    def _adjust(self, cmd: Adjust, seq: int, ts: int) -> Result:
        cur = self.currencies.get(cmd.currency)
        if cur is None:
            return Result(seq, cmd.kind, errors.CURRENCY_NOT_FOUND)
        if not cmd.reason.strip():
            return Result(seq, cmd.kind, errors.ADJUSTMENT_MISSING_REASON)
        if cmd.amount == 0:
            return Result(seq, cmd.kind, errors.ADJUSTMENT_INVALID_AMOUNT)
        if cmd.amount < 0 and self._available(cmd.member_id, cur.code) < -cmd.amount:
            return Result(seq, cmd.kind, errors.ADJUSTMENT_INSUFFICIENT_BALANCE)
        account = self._account(cmd.member_id, cur.code)
        account.balance += cmd.amount
        self.journal.accounts.add(account)
        ref, member = cmd.key, cmd.member_id
        up, down = (cmd.amount, 0) if cmd.amount > 0 else (0, -cmd.amount)
        postings = self.journal.postings
        postings.append((seq, cur.asset_code, cur.code, None, ADJUSTMENT, ref, down, up, ts))
        postings.append((seq, cur.main_code, cur.code, member, ADJUSTMENT, ref, down, up, ts))
        return Result(seq, cmd.kind, account=account)

    def _transfer(self, cmd: Transfer, seq: int, ts: int) -> Result:
        """All legs or none: every account valid, each currency's equation unchanged, and
        no member's main balance (what orders and withdrawals leave free) below zero."""
        legs = cmd.legs
        if not legs or len(legs) > MAX_TRANSFER_LEGS or not cmd.reference:
            return Result(seq, cmd.kind, errors.TRANSFER_INVALID)
        equation: dict[str, int] = {}
        moves: dict[tuple[int, str], int] = {}
        for leg in legs:
            if not isinstance(leg, dict) or leg.keys() != TRANSFER_LEG_KEYS:
                return Result(seq, cmd.kind, errors.TRANSFER_INVALID)
            currency = leg["currency"]
            cur = self.currencies.get(currency) if isinstance(currency, str) else None
            if cur is None:
                return Result(seq, cmd.kind, errors.CURRENCY_NOT_FOUND)
            amount = leg["amount"]
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                return Result(seq, cmd.kind, errors.TRANSFER_INVALID_AMOUNT)
            for code, member, sign in (
                (leg["src"], leg["src_member"], -1),
                (leg["dst"], leg["dst_member"], 1),
            ):
                refused = _transfer_account_error(cur.codes, code, member)
                if refused is not None:
                    return Result(seq, cmd.kind, refused)
                equation[cur.code] = equation.get(cur.code, 0) + sign * amount * equation_weight(
                    code
                )
                if code == cur.main_code and isinstance(member, int):
                    where = (member, cur.code)
                    moves[where] = moves.get(where, 0) + sign * amount
        if any(equation.values()):
            return Result(seq, cmd.kind, errors.TRANSFER_UNBALANCED)
        for (member, currency), change in moves.items():
            if change < 0 and self._available(member, currency) < -change:
                return Result(seq, cmd.kind, errors.TRANSFER_INSUFFICIENT_BALANCE)
        for (member, currency), change in moves.items():
            account = self._account(member, currency)
            account.balance += change
            self.journal.accounts.add(account)
        postings = self.journal.postings
        ref = cmd.reference
        for leg in legs:
            currency, amount = self.currencies[leg["currency"]].code, leg["amount"]
            postings.append(
                (seq, leg["src"], currency, leg["src_member"], TRANSFER, ref, amount, 0, ts)
            )
            postings.append(
                (seq, leg["dst"], currency, leg["dst_member"], TRANSFER, ref, 0, amount, ts)
            )
        return Result(seq, cmd.kind)

    # ------------------------------------------------------------------ configuration

    def _configure_currency(self, cmd: ConfigureCurrency, seq: int, ts: int) -> Result:
        if cmd.type not in (COIN, FIAT) or not 0 <= cmd.precision <= MAX_PRECISION:
            return Result(seq, cmd.kind, errors.CURRENCY_INVALID)
        old = self.currencies.get(cmd.code)
        if old is not None and (old.type, old.precision) != (cmd.type, cmd.precision):
            return Result(seq, cmd.kind, errors.CURRENCY_IMMUTABLE)
        refused = currency_row_error(cmd)
        if refused is not None:
            return Result(seq, cmd.kind, refused)
        spec = old or CurrencySpec(cmd.code, cmd.type, cmd.precision)
        self.currencies[cmd.code] = spec
        self.journal.currencies[cmd.code] = (cmd, ts)
        result = Result(seq, cmd.kind)
        previous = currency_view(old) if old is not None else None
        result.change = {"previous": previous, "current": currency_view(spec)}
        return result

    def _configure_market(self, cmd: ConfigureMarket, seq: int, ts: int) -> Result:
        if cmd.state not in MARKET_STATES:
            return Result(seq, cmd.kind, errors.MARKET_INVALID_STATE)
        base, quote = self.currencies.get(cmd.base), self.currencies.get(cmd.quote)
        if base is None or quote is None or base is quote:
            return Result(seq, cmd.kind, errors.MARKET_INVALID_CURRENCIES)
        if (
            cmd.min_price < 1
            or cmd.min_amount < 1
            or cmd.max_price < 0
            or (cmd.max_price and cmd.max_price < cmd.min_price)
        ):
            return Result(seq, cmd.kind, errors.MARKET_INVALID_BOUNDS)
        if not (0 <= cmd.maker_fee <= MAX_FEE and 0 <= cmd.taker_fee <= MAX_FEE):
            return Result(seq, cmd.kind, errors.FEE_INVALID)
        old = self.markets.get(cmd.market)
        shape = (cmd.base, cmd.quote, cmd.amount_precision, cmd.price_precision)
        if old is not None:
            if (old.base.code, old.quote.code, old.amount_precision, old.price_precision) != shape:
                return Result(seq, cmd.kind, errors.MARKET_IMMUTABLE)
        else:
            for other in self.markets.values():
                if other.base.code == cmd.quote and other.quote.code == cmd.base:
                    return Result(seq, cmd.kind, errors.MARKET_REVERSE_PAIR)
        if cmd.amount_precision < 0 or cmd.price_precision < 0:
            return Result(seq, cmd.kind, errors.MARKET_INVALID_PRECISION)
        refused = _market_row_error(cmd)
        if refused is not None:
            return Result(seq, cmd.kind, refused)
        try:
            spec = MarketSpec(
                id=cmd.market,
                base=base,
                quote=quote,
                amount_precision=cmd.amount_precision,
                price_precision=cmd.price_precision,
                min_price=cmd.min_price,
                max_price=cmd.max_price,
                min_amount=cmd.min_amount,
                maker_fee=cmd.maker_fee,
                taker_fee=cmd.taker_fee,
                tradable=cmd.state in TRADABLE_STATES,
            )
        except ValueError:
            return Result(seq, cmd.kind, errors.MARKET_INVALID_PRECISION)
        self.add_market(spec)
        self.journal.markets[cmd.market] = (cmd, ts)
        result = Result(seq, cmd.kind)
        previous = market_view(old) if old is not None else None
        result.change = {"previous": previous, "current": market_view(spec)}
        return result

    def _set_trading_fee(self, cmd: SetTradingFee, seq: int, ts: int) -> Result:
        if cmd.market != ANY and cmd.market not in self.markets:
            return Result(seq, cmd.kind, errors.FEE_MARKET_NOT_FOUND)
        if cmd.group != ANY and not valid_group(cmd.group):
            return Result(seq, cmd.kind, errors.INVALID_GROUP)
        key = (cmd.market, cmd.group)
        previous = self.fees.get(key)
        current: tuple[int, int] | None
        if cmd.maker == -1 and cmd.taker == -1:
            if previous is None:
                return Result(seq, cmd.kind, errors.FEE_NOT_FOUND)
            del self.fees[key]
            current = None
        elif 0 <= cmd.maker <= MAX_FEE and 0 <= cmd.taker <= MAX_FEE:
            current = self.fees[key] = (cmd.maker, cmd.taker)
        else:
            return Result(seq, cmd.kind, errors.FEE_INVALID)
        self.journal.fees[key] = current
        result = Result(seq, cmd.kind)
        result.change = {
            "previous": None if previous is None else [cmd.market, cmd.group, *previous],
            "current": None if current is None else [cmd.market, cmd.group, *current],
        }
        return result

    def _set_member_group(self, cmd: SetMemberGroup, seq: int, ts: int) -> Result:
        if cmd.group == ANY or not valid_group(cmd.group):
            return Result(seq, cmd.kind, errors.INVALID_GROUP)
        previous = self.member_groups.get(cmd.member_id, DEFAULT_GROUP)
        if cmd.group == DEFAULT_GROUP:
            self.member_groups.pop(cmd.member_id, None)
        else:
            self.member_groups[cmd.member_id] = cmd.group
        self.journal.groups[cmd.member_id] = cmd.group
        result = Result(seq, cmd.kind)
        result.change = {"previous": previous, "current": cmd.group}
        return result
