"""A member's own records as committed by the engine: balances, orders, trades, ledger
operations and deposits (queries only; nothing here writes).

The engine's tables are the truth once a batch has committed, so the API reads them rather
than the engine's memory: a member sees exactly what survived the commit, and closed
orders (which the engine forgets) read the same as open ones.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.hot import HotQuery, HotReads
from bursa.db.pages import Page, page_of
from bursa.engine.tables import engine_commands, orders, trades
from bursa.ledger.tables import accounts, currencies, operations
from bursa.trading.repository import LISTED
from bursa.trading.tables import markets

MEMBER_CODES = (201, 202, 211, 212)  # liabilities: the member's own money, main and locked
MAIN_CODES = (201, 202)
REVENUE_CODES = (301, 302)
DEPOSIT = "deposit"  # the reference type of the engine's Credit postings


@dataclass(frozen=True, slots=True)
class Window:
    """Filters most histories share: a time range and which end comes first."""

    time_from: datetime | None = None
    time_to: datetime | None = None
    ascending: bool = False


@dataclass(frozen=True, slots=True)
class MarketScope:
    """Which markets a member's list covers (all when empty): named markets, a base or a
    quote currency, a market type (Peatio's ``spot`` or ``qe``)."""

    markets: tuple[str, ...] = ()
    base_unit: str | None = None
    quote_unit: str | None = None
    market_type: str | None = None


def _in_scope(scope: MarketScope) -> list[ColumnElement[bool]]:
    """Conditions on ``markets`` (the query must join it)."""
    found: list[ColumnElement[bool]] = []
    if scope.markets:
        found.append(markets.c.id.in_(scope.markets))
    if scope.base_unit is not None:
        found.append(markets.c.base_unit == scope.base_unit)
    if scope.quote_unit is not None:
        found.append(markets.c.quote_unit == scope.quote_unit)
    if scope.market_type is not None:
        found.append(markets.c.type == scope.market_type)
    return found


def _between(column: Any, window: Window) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if window.time_from is not None:
        found.append(column >= window.time_from)
    if window.time_to is not None:
        found.append(column < window.time_to)
    return found


# ---------------------------------------------------------------------- balances


def _balance_query(member_id: int) -> Select[Any]:
    mine = and_(accounts.c.currency_id == currencies.c.id, accounts.c.member_id == member_id)
    return select(
        currencies.c.id.label("currency"),
        func.coalesce(accounts.c.balance, 0).label("balance"),
        func.coalesce(accounts.c.locked, 0).label("locked"),
        currencies.c.state,
    ).select_from(currencies.outerjoin(accounts, mine))


@dataclass(frozen=True, slots=True)
class CurrencySearch:
    """Peatio's balance ``search``: currencies whose code or name contains the text (case
    ignored); given both, either may match."""

    code: str | None = None
    name: str | None = None

    def condition(self) -> ColumnElement[bool] | None:
        found = [
            column.icontains(text, autoescape=True)
            for column, text in ((currencies.c.id, self.code), (currencies.c.name, self.name))
            if text
        ]
        return or_(*found) if found else None


async def balances(
    session: AsyncSession,
    member_id: int,
    *,
    nonzero: bool,
    limit: int,
    page: int,
    search: CurrencySearch = CurrencySearch(),
) -> Page:
    """Every listed currency (zero where the member has nothing yet), plus any unlisted one
    the member still holds funds in; by currency position."""
    held = or_(accounts.c.balance > 0, accounts.c.locked > 0)
    shown = held if nonzero else or_(currencies.c.state == LISTED, held)
    query = _balance_query(member_id).where(shown)
    matching = search.condition()
    if matching is not None:
        query = query.where(matching)
    query = query.order_by(currencies.c.position, currencies.c.id)
    return await page_of(session, query, limit, page)


async def balance(session: AsyncSession, member_id: int, currency: str) -> Any | None:
    """The member's account in one currency (zeros when none), or None for no currency."""
    query = _balance_query(member_id).where(currencies.c.id == currency)
    return (await session.execute(query)).mappings().first()


# ---------------------------------------------------------------------- orders


def average_price() -> Any:
    """Quote paid or received per base unit over the order's trades (None before any)."""
    mine = or_(trades.c.maker_order_id == orders.c.id, trades.c.taker_order_id == orders.c.id)
    return (
        select(func.sum(trades.c.total) / func.nullif(func.sum(trades.c.amount), 0))
        .where(mine)
        .scalar_subquery()
        .label("avg_price")
    )


def _order_query(member_id: int) -> Select[Any]:
    return (
        select(orders, markets.c.price_precision, average_price())
        .join(markets, markets.c.id == orders.c.market_id)
        .where(orders.c.member_id == member_id)
    )


@dataclass(frozen=True, slots=True)
class OrderFilter:
    scope: MarketScope = MarketScope()
    states: tuple[str, ...] = ()
    side: str | None = None
    ord_type: str | None = None
    client_id: str | None = None
    window: Window = Window()


async def member_orders(
    session: AsyncSession, member_id: int, found: OrderFilter, *, limit: int, page: int
) -> Page:
    """The member's orders, newest first by default (Peatio sorts on ``updated_at``;
    ties by id), filtered on ``created_at``."""
    query = _order_query(member_id).where(*_in_scope(found.scope))
    if found.states:
        query = query.where(orders.c.state.in_(found.states))
    if found.side is not None:
        query = query.where(orders.c.side == found.side)
    if found.ord_type is not None:
        query = query.where(orders.c.ord_type == found.ord_type)
    if found.client_id is not None:
        query = query.where(orders.c.client_id == found.client_id)
    query = query.where(*_between(orders.c.created_at, found.window))
    keys = (orders.c.updated_at, orders.c.id)
    query = query.order_by(*(k.asc() if found.window.ascending else k.desc() for k in keys))
    return await page_of(session, query, limit, page)


async def member_order(
    session: AsyncSession, member_id: int, *, id: int | None = None, uuid: str | None = None
) -> Any | None:
    """One of the member's orders by id or UUID; another member's reads as none."""
    query = _order_query(member_id)
    query = query.where(orders.c.id == id) if id is not None else query.where(orders.c.uuid == uuid)
    return (await session.execute(query)).mappings().first()


_MEMBER: Any = bindparam("member_id", type_=BigInteger)
_ORDER_BY_ID = HotQuery.of(_order_query(_MEMBER).where(orders.c.id == bindparam("id")))
_ORDER_BY_UUID = HotQuery.of(_order_query(_MEMBER).where(orders.c.uuid == bindparam("uuid")))
# Client ids are unique among a member's *open* orders only.
_OPEN_ORDER_BY_CLIENT_ID = HotQuery.of(
    _order_query(_MEMBER).where(
        orders.c.client_id == bindparam("client_id"),
        or_(orders.c.state == "wait", orders.c.state == "trigger_wait"),
    )
)


async def committed_order(
    reads: HotReads,
    member_id: int,
    *,
    id: int | None = None,
    uuid: str | None = None,
    client_id: str | None = None,
) -> Any | None:
    """``member_order`` as one hot read (the statement it runs, no session): what the
    engine committed, read back on every placement and cancellation. By client id, only
    an open order is found."""
    if id is not None:
        return await reads.row(_ORDER_BY_ID, member_id=member_id, id=id)
    if client_id is not None:
        return await reads.row(_OPEN_ORDER_BY_CLIENT_ID, member_id=member_id, client_id=client_id)
    return await reads.row(_ORDER_BY_UUID, member_id=member_id, uuid=uuid)


async def orders_by_id(session: AsyncSession, member_id: int, ids: list[int]) -> list[Any]:
    """The member's orders with these ids, in the given order."""
    if not ids:
        return []
    query = _order_query(member_id).where(orders.c.id.in_(ids))
    rows = {r["id"]: r for r in (await session.execute(query)).mappings()}
    return [rows[i] for i in ids if i in rows]


# ---------------------------------------------------------------------- trades


def _trades_as(member_id: int, role: str) -> Select[Any]:
    """The trades where the member was maker or taker, from their side of it."""
    maker = role == "maker"
    order_id = trades.c.maker_order_id if maker else trades.c.taker_order_id
    fee_rate = orders.c.maker_fee if maker else orders.c.taker_fee
    fee_amount = trades.c.maker_fee_amount if maker else trades.c.taker_fee_amount
    side = (
        case((trades.c.taker_type == "buy", literal("sell")), else_=literal("buy"))
        if maker
        else trades.c.taker_type
    )
    return (
        select(
            trades.c.id,
            trades.c.market_id,
            trades.c.price,
            trades.c.amount,
            trades.c.total,
            trades.c.taker_type,
            trades.c.created_at,
            trades.c.seq,
            order_id.label("order_id"),
            side.label("side"),
            fee_rate.label("fee"),
            fee_amount.label("fee_amount"),
            markets.c.base_unit,
            markets.c.quote_unit,
        )
        .join(orders, orders.c.id == order_id)
        .join(markets, markets.c.id == trades.c.market_id)
        # Through the member's orders: trades are indexed by order, not by member.
        .where(orders.c.member_id == member_id)
    )


@dataclass(frozen=True, slots=True)
class TradeFilter:
    scope: MarketScope = MarketScope()
    side: str | None = None
    order_id: int | None = None
    window: Window = Window()


async def member_trades(
    session: AsyncSession, member_id: int, found: TradeFilter, *, limit: int, page: int
) -> Page:
    """The member's trades (as maker and as taker), newest first by default."""
    parts = []
    for role in ("maker", "taker"):
        part = _trades_as(member_id, role).where(*_in_scope(found.scope))
        part = part.where(*_between(trades.c.created_at, found.window))
        parts.append(part)
    mine = union_all(*parts).subquery("mine")
    query = select(mine)
    if found.side is not None:
        query = query.where(mine.c.side == found.side)
    if found.order_id is not None:
        query = query.where(mine.c.order_id == found.order_id)
    query = query.order_by(mine.c.id.asc() if found.window.ascending else mine.c.id.desc())
    return await page_of(session, query, limit, page)


async def member_trade_rows(session: AsyncSession, member_id: int) -> list[Any]:
    """Every trade of the member from their side (as maker and as taker), in the engine's
    order: what the member's profit and loss is counted from."""
    mine = union_all(*(_trades_as(member_id, role) for role in ("maker", "taker"))).subquery()
    query = select(mine).order_by(mine.c.seq, mine.c.id)
    return list((await session.execute(query)).mappings())


# ---------------------------------------------------------------------- ledger


@dataclass(frozen=True, slots=True)
class OperationFilter:
    currency: str | None = None
    reference_type: str | None = None
    window: Window = Window()


async def member_operations(
    session: AsyncSession, member_id: int, found: OperationFilter, *, limit: int, page: int
) -> Page:
    """Postings to the member's own accounts (main and locked), each with the time of the
    engine command that made it; newest first by default."""
    query = (
        select(operations, engine_commands.c.created_at)
        .join(engine_commands, engine_commands.c.seq == operations.c.seq)
        .where(operations.c.member_id == member_id, operations.c.code.in_(MEMBER_CODES))
    )
    if found.currency is not None:
        query = query.where(operations.c.currency_id == found.currency)
    if found.reference_type is not None:
        query = query.where(operations.c.reference_type == found.reference_type)
    query = query.where(*_between(engine_commands.c.created_at, found.window))
    key = operations.c.id
    return await page_of(
        session, query.order_by(key.asc() if found.window.ascending else key.desc()), limit, page
    )


async def member_deposits(
    session: AsyncSession,
    member_id: int,
    *,
    currency: str | None,
    window: Window,
    limit: int,
    page: int,
) -> Page:
    """Credits the engine applied to the member (its ``Credit`` command: a deposit), the
    net amount from the main-account posting and the fee from the revenue posting."""
    fee = operations.alias("fee")
    fee_of = and_(
        fee.c.seq == operations.c.seq,
        fee.c.reference_type == DEPOSIT,
        fee.c.reference_id == operations.c.reference_id,
        fee.c.code.in_(REVENUE_CODES),
    )
    query = (
        select(
            operations.c.seq.label("id"),
            operations.c.currency_id.label("currency"),
            operations.c.credit.label("amount"),
            func.coalesce(fee.c.credit, 0).label("fee"),
            operations.c.reference_id.label("tid"),
            currencies.c.type,
            engine_commands.c.created_at,
        )
        .join(engine_commands, engine_commands.c.seq == operations.c.seq)
        .join(currencies, currencies.c.id == operations.c.currency_id)
        .outerjoin(fee, fee_of)
        .where(
            operations.c.member_id == member_id,
            operations.c.reference_type == DEPOSIT,
            operations.c.code.in_(MAIN_CODES),
        )
    )
    if currency is not None:
        query = query.where(operations.c.currency_id == currency)
    query = query.where(*_between(engine_commands.c.created_at, window))
    key = operations.c.seq
    return await page_of(
        session, query.order_by(key.asc() if window.ascending else key.desc()), limit, page
    )


async def currency_exists(session: AsyncSession, code: str) -> bool:
    found = await session.scalar(select(func.count()).where(currencies.c.id == code))
    return bool(found)


async def market_exists(session: AsyncSession, market: str) -> bool:
    found = await session.scalar(select(func.count()).where(markets.c.id == market))
    return bool(found)


async def markets_exist(session: AsyncSession, ids: tuple[str, ...]) -> bool:
    """Every one of ``ids`` is a market."""
    found = await session.scalar(select(func.count()).where(markets.c.id.in_(ids)))
    return found == len(set(ids))


async def unit_exists(session: AsyncSession, code: str, *, base: bool) -> bool:
    """``code`` is the base (or quote) currency of some market (Peatio's check on the
    ``base_unit`` and ``quote_unit`` filters)."""
    column = markets.c.base_unit if base else markets.c.quote_unit
    found = await session.scalar(select(func.count()).where(column == code))
    return bool(found)
