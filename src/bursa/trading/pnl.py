"""A member's profit and loss per currency, valued in one currency (Peatio's
``StatsMemberPnl``, ``GET account/stats/pnl``), computed from committed records on request.

What counts, per currency, in the engine's order (its sequence number):

* **trades** (the ``trades`` table, both roles): a buyer's credit is the base received net
  of the fee (the fee is a credit fee) and its debit the quote paid; a seller's the quote
  received net of the fee and the base given;
* **deposits** (``Credit`` postings): the net amount is a credit, the fee a credit fee;
* **withdrawals** once settled: what was sent is a debit, the fee a debit fee;
* **adjustments** and **transfers** (Management API transfers, members' internal transfers)
  touching the member's main account: a credit or a debit, without fee.

Peatio counts trades, deposits, withdrawals and adjustments and leaves out single-currency
transfers; Bursa counts those too, so that ``total_credit - total_debit - total_debit_fees``
is always the member's balance (main + locked).

Values, as Peatio's daemon computes them: a credit is valued net of its fee, a debit with
its fee; a trade in a market quoted (or based) in the PnL currency at the trade's own
price, anything else at the nearest trade of the currency's market against the PnL
currency (the last at or before the movement, else the first after it), that market's
price or, with no direct market, the inverse of the inverse market's. A currency that
cannot be valued (no such market, or no trade in it) is left out of the answer.

The balance's value and average price follow Peatio's running average: a credit adds its
value, a debit takes away its amount (fee included) at the average price so far, never
below zero; the average is the balance's value over the balance after each credit.

Decimal arithmetic throughout: sums and products are exact; a quotient (an average, an
inverse price, a value through an inverse market) is rounded half-even to 18 places.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine.tables import engine_commands, trades
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies, operations
from bursa.trading import history
from bursa.trading.tables import markets

CURRENCY_NOT_FOUND = "pnl.currency.doesnt_exist"
PLACES = Decimal(10) ** -18  # quotients are rounded to the stored amounts' scale
ZERO = Decimal(0)
ONE = Decimal(1)
# Exact for every sum and product of stored amounts (40 digits, 18 of them decimals).
EXACT = Context(prec=200, rounding=ROUND_HALF_EVEN)
MAIN_CODES = history.MAIN_CODES
LOCKED_CODES = (211, 212)
REVENUE_CODES = history.REVENUE_CODES
COUNTED = ("deposit", "withdrawal", "adjustment", "transfer")


class UnknownCurrency(BursaError):
    def __init__(self) -> None:
        super().__init__(Refusal.INVALID, CURRENCY_NOT_FOUND)


@dataclass(frozen=True, slots=True)
class Movement:
    """One change to one of the member's currencies: a credit or a debit (with its fee),
    and its value in the PnL currency when the movement itself sets it (a trade against
    the PnL currency); otherwise it is valued at the market's price at ``at``."""

    seq: int
    at: datetime
    currency: str
    credit: Decimal = ZERO
    credit_fees: Decimal = ZERO
    debit: Decimal = ZERO
    debit_fees: Decimal = ZERO
    value: Decimal | None = None

    @property
    def is_credit(self) -> bool:
        return self.credit > 0 or self.credit_fees > 0

    @property
    def units(self) -> Decimal:
        """What is valued: a credit net of its fee, a debit with its fee (as Peatio)."""
        return self.credit if self.is_credit else self.debit + self.debit_fees


@dataclass(slots=True)
class Pnl:
    """One row of the answer: the member's totals in ``currency``, valued in
    ``pnl_currency``."""

    currency: str
    pnl_currency: str
    total_credit: Decimal = ZERO
    total_credit_fees: Decimal = ZERO
    total_credit_value: Decimal = ZERO
    total_debit: Decimal = ZERO
    total_debit_fees: Decimal = ZERO
    total_debit_value: Decimal = ZERO
    total_balance_value: Decimal = ZERO
    average_balance_price: Decimal = ZERO
    started: bool = field(default=False, repr=False)

    @property
    def average_buy_price(self) -> Decimal | None:
        """Value per unit credited (None before any credit)."""
        return _divide(self.total_credit_value, self.total_credit) if self.total_credit else None

    @property
    def average_sell_price(self) -> Decimal | None:
        """Value per unit debited (None before any debit)."""
        return _divide(self.total_debit_value, self.total_debit) if self.total_debit else None

    def add(self, move: Movement, value: Decimal) -> None:
        """Count one movement whose value is ``value`` (Peatio's running update)."""
        own = self.currency == self.pnl_currency
        credit_value = value if move.is_credit else ZERO
        debit_value = ZERO if move.is_credit else value
        if not self.started:
            self.started = True
            self.total_balance_value = credit_value
            if own:
                self.average_balance_price = ONE
            elif move.credit:
                self.average_balance_price = _divide(credit_value, move.credit)
        else:
            spent = (move.debit + move.debit_fees) * self.average_balance_price
            taken = spent if move.debit else ZERO  # Peatio: no debit, nothing taken
            balance_value = self.total_balance_value + credit_value - taken
            self.total_balance_value = max(ZERO, balance_value)
            balance = move.credit + self.total_credit - self.total_debit - self.total_debit_fees
            if own:
                self.average_balance_price = ONE
            elif move.is_credit and balance > 0:
                self.average_balance_price = _divide(self.total_balance_value, balance)
        self.total_credit += move.credit
        self.total_credit_fees += move.credit_fees
        self.total_credit_value += credit_value
        self.total_debit += move.debit
        self.total_debit_fees += move.debit_fees
        self.total_debit_value += debit_value


def _divide(a: Decimal, b: Decimal) -> Decimal:
    with localcontext(EXACT):
        return (a / b).quantize(PLACES)


# ---------------------------------------------------------------------- movements


def _trade_movements(row: Any, pnl_currency: str) -> list[Movement]:
    """A trade from the member's side: what they received (net of the fee) and gave."""
    base, quote = row["base_unit"], row["quote_unit"]
    price, amount, total, fee = row["price"], row["amount"], row["total"], row["fee_amount"]
    seq, at = row["seq"], row["created_at"]
    if row["side"] == "buy":
        got = Movement(seq, at, base, credit=amount - fee, credit_fees=fee)
        gave = Movement(seq, at, quote, debit=total)
    else:
        got = Movement(seq, at, quote, credit=total - fee, credit_fees=fee)
        gave = Movement(seq, at, base, debit=amount)
    found = []
    for move in (got, gave):
        units = move.units
        value: Decimal | None = None
        if pnl_currency == quote:  # the trade's own price, as Peatio's direct conversion
            value = units if move.currency == quote else units * price
        elif pnl_currency == base:  # the same price, inverted
            value = units if move.currency == base else _divide(units, price)
        found.append(replace(move, value=value))
    return found


async def _ledger_movements(session: AsyncSession, member_id: int) -> list[Movement]:
    """Deposits, settled withdrawals, adjustments and transfers from the ledger: the
    member's postings of those kinds, one movement per command and currency."""
    query = (
        select(
            operations.c.seq,
            operations.c.code,
            operations.c.currency_id,
            operations.c.reference_type,
            operations.c.debit,
            operations.c.credit,
            engine_commands.c.kind,
            engine_commands.c.created_at,
        )
        .join(engine_commands, engine_commands.c.seq == operations.c.seq)
        .where(
            operations.c.member_id == member_id,
            operations.c.reference_type.in_(COUNTED),
            operations.c.code.in_(MAIN_CODES + LOCKED_CODES + REVENUE_CODES),
        )
        .order_by(operations.c.seq, operations.c.id)
    )
    grouped: dict[tuple[int, str], dict[str, Any]] = {}
    for row in (await session.execute(query)).mappings():
        key = (row["seq"], row["currency_id"])
        entry = grouped.setdefault(
            key, {"at": row["created_at"], "kind": row["kind"], "net": ZERO, "fee": ZERO}
        )
        code, change, kind = row["code"], row["credit"] - row["debit"], row["reference_type"]
        if code in REVENUE_CODES:
            if kind in ("deposit", "withdrawal"):
                entry["fee"] += change  # the fee the member paid on it
        elif kind == "withdrawal":
            # Holds and releases move main <-> locked; only a settlement leaves the member.
            if row["kind"] == "settle_withdrawal" and code in LOCKED_CODES:
                entry["net"] += change
        elif code in MAIN_CODES:
            entry["net"] += change
    found = []
    for (seq, currency), entry in grouped.items():
        net, fee, at = entry["net"], entry["fee"], entry["at"]
        if entry["kind"] == "settle_withdrawal":
            # The locked debit is the whole amount; the fee went to revenue.
            if net or fee:
                found.append(Movement(seq, at, currency, debit=-net - fee, debit_fees=fee))
        elif net > 0:
            found.append(Movement(seq, at, currency, credit=net, credit_fees=fee))
        elif net < 0:
            found.append(Movement(seq, at, currency, debit=-net))
    return found


# ---------------------------------------------------------------------- prices


class Prices:
    """What a currency was worth in the PnL currency at a moment: the nearest trade of
    its market against it (direct, else inverse); None when there is none."""

    def __init__(self, session: AsyncSession, pnl_currency: str) -> None:
        self.session = session
        self.pnl_currency = pnl_currency
        self.routes: dict[str, tuple[str, bool] | None] = {}
        self.cache: dict[tuple[str, datetime], Decimal | None] = {}

    async def _route(self, currency: str) -> tuple[str, bool] | None:
        """The market to value ``currency`` with, and whether its price is inverted: the
        direct market (base ``currency``, quote the PnL currency) if it has traded, else
        the inverse one."""
        if currency not in self.routes:
            route: tuple[str, bool] | None = None
            for base, quote, inverted in (
                (currency, self.pnl_currency, False),
                (self.pnl_currency, currency, True),
            ):
                traded = (
                    select(markets.c.id)
                    .where(markets.c.base_unit == base, markets.c.quote_unit == quote)
                    .where(select(trades.c.id).where(trades.c.market_id == markets.c.id).exists())
                    .order_by(markets.c.id)
                    .limit(1)
                )
                market = await self.session.scalar(traded)
                if market is not None:
                    route = (market, inverted)
                    break
            self.routes[currency] = route
        return self.routes[currency]

    async def value(self, currency: str, units: Decimal, at: datetime) -> Decimal | None:
        if currency == self.pnl_currency:
            return units
        route = await self._route(currency)
        if route is None:
            return None
        market, inverted = route
        key = (market, at)
        if key not in self.cache:
            self.cache[key] = await self._nearest(market, at)
        price = self.cache[key]
        if price is None or price <= 0:
            return None
        return _divide(units, price) if inverted else units * price

    async def _nearest(self, market: str, at: datetime) -> Decimal | None:
        t = trades.c
        before = (
            select(t.price)
            .where(t.market_id == market, t.created_at <= at)
            .order_by(t.created_at.desc(), t.id.desc())
            .limit(1)
        )
        price = await self.session.scalar(before)
        if price is None:
            after = (
                select(t.price)
                .where(t.market_id == market, t.created_at > at)
                .order_by(t.created_at.asc(), t.id.asc())
                .limit(1)
            )
            price = await self.session.scalar(after)
        return price


# ---------------------------------------------------------------------- the answer


async def currency_exists(session: AsyncSession, code: str) -> bool:
    return await history.currency_exists(session, code)


async def member_pnl(session: AsyncSession, member_id: int, pnl_currency: str) -> list[Pnl]:
    """The member's PnL rows in ``pnl_currency`` (lower case), by currency position;
    currencies that cannot be valued are left out."""
    pnl_currency = pnl_currency.lower()
    if not await currency_exists(session, pnl_currency):
        raise UnknownCurrency()
    rows: dict[str, Pnl] = {}
    unpriced: set[str] = set()
    with localcontext(EXACT):
        moves: list[Movement] = []
        for row in await history.member_trade_rows(session, member_id):
            moves.extend(_trade_movements(row, pnl_currency))
        moves.extend(await _ledger_movements(session, member_id))
        moves.sort(key=lambda m: m.seq)  # the engine's order (a stable sort keeps a seq's)
        prices = Prices(session, pnl_currency)
        for move in moves:
            if move.currency in unpriced:
                continue
            value = move.value
            if value is None:
                value = await prices.value(move.currency, move.units, move.at)
            if value is None:
                unpriced.add(move.currency)
                continue
            row = rows.setdefault(move.currency, Pnl(move.currency, pnl_currency))
            row.add(move, value)
    return [rows[c] for c in await _by_position(session, rows) if c not in unpriced]


async def _by_position(session: AsyncSession, codes: Iterable[str]) -> list[str]:
    wanted = list(codes)
    if not wanted:
        return []
    query = (
        select(currencies.c.id)
        .where(currencies.c.id.in_(wanted))
        .order_by(currencies.c.position, currencies.c.id)
    )
    return list((await session.scalars(query)).all())
