"""Every member's records for the Peatio admin API: orders, trades, ledger operations and
accounts, as the engine committed them (queries only; nothing here writes).

Members are ids here (the engine's ``member_id``): the API turns uids and emails into ids
before filtering, and ids into uids and emails to show them (``bursa.identity.directory``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.db.pages import Page, page_of
from bursa.engine.specs import DEFAULT_GROUP
from bursa.engine.tables import engine_commands, member_groups, orders, trades
from bursa.ledger.tables import accounts, currencies, operations
from bursa.trading.history import average_price
from bursa.trading.tables import markets

# Peatio's chart of accounts by family: what each admin operations list shows.
FAMILIES = {
    "asset": (101, 102),
    "liability": (201, 202, 211, 212),
    "revenue": (301, 302),
    "expense": (401, 402),
}
OPEN = "wait"


@dataclass(frozen=True, slots=True)
class Listing:
    """What every admin list takes: a time range on creation (or last update), which
    column orders it, and in which direction (Peatio's default: id, ascending)."""

    time_from: datetime | None = None
    time_to: datetime | None = None
    updated: bool = False
    order_by: str = "id"
    ascending: bool = True
    completed: bool = False  # the range is on completion (lists of records that complete)


def in_window(column: Any, listing: Listing) -> list[ColumnElement[bool]]:
    """The conditions of ``listing``'s time range on ``column``."""
    found: list[ColumnElement[bool]] = []
    if listing.time_from is not None:
        found.append(column >= listing.time_from)
    if listing.time_to is not None:
        found.append(column < listing.time_to)
    return found


def moment(columns: Any, listing: Listing) -> Any:
    """The column ``listing``'s time range is on: ``completed_at``, ``updated_at`` or
    ``created_at`` of ``columns`` (a table's ``c``)."""
    if listing.completed:
        return columns.completed_at
    return columns.updated_at if listing.updated else columns.created_at


def ordered(query: Select[Any], listing: Listing, column: Any, tie: Any) -> Select[Any]:
    """``query`` in ``listing``'s direction by ``column``, then ``tie``."""
    keys = [column, tie] if column is not tie else [tie]
    return query.order_by(*(k.asc() if listing.ascending else k.desc() for k in keys))


# ---------------------------------------------------------------------- orders


def _orders() -> Select[Any]:
    return select(orders, markets.c.price_precision, average_price()).join(
        markets, markets.c.id == orders.c.market_id
    )


@dataclass(frozen=True, slots=True)
class OrderFilter:
    market: str | None = None
    state: str | None = None
    ord_type: str | None = None
    side: str | None = None
    price: Decimal | None = None
    origin_volume: Decimal | None = None
    member_id: int | None = None
    nobody: bool = False  # the uid or email filter named no member: nothing matches
    listing: Listing = field(default_factory=Listing)


async def all_orders(session: AsyncSession, found: OrderFilter, *, limit: int, page: int) -> Page:
    query = _orders()
    exact: list[tuple[Any, Any]] = [
        (orders.c.market_id, found.market),
        (orders.c.state, found.state),
        (orders.c.ord_type, found.ord_type),
        (orders.c.side, found.side),
        (orders.c.price, found.price),
        (orders.c.origin_volume, found.origin_volume),
        (orders.c.member_id, found.member_id),
    ]
    query = query.where(*(column == value for column, value in exact if value is not None))
    if found.nobody:
        query = query.where(false())
    listing = found.listing
    query = query.where(
        *in_window(orders.c.updated_at if listing.updated else orders.c.created_at, listing)
    )
    return await page_of(
        session, ordered(query, listing, orders.c[listing.order_by], orders.c.id), limit, page
    )


async def order(session: AsyncSession, order_id: int) -> Any | None:
    query = _orders().where(orders.c.id == order_id)
    return (await session.execute(query)).mappings().first()


async def orders_by_id(session: AsyncSession, ids: Iterable[int]) -> list[Any]:
    """These orders (of any member), by id."""
    wanted = list(ids)
    if not wanted:
        return []
    query = _orders().where(orders.c.id.in_(wanted)).order_by(orders.c.id)
    return list((await session.execute(query)).mappings())


async def open_orders(session: AsyncSession, market: str, side: str | None) -> list[Any]:
    """Every member's open orders in a market (optionally of one side), by id."""
    query = _orders().where(orders.c.market_id == market, orders.c.state == OPEN)
    if side is not None:
        query = query.where(orders.c.side == side)
    return list((await session.execute(query.order_by(orders.c.id))).mappings())


# ---------------------------------------------------------------------- trades


def _trades() -> Select[Any]:
    maker, taker = orders.alias("maker_order"), orders.alias("taker_order")
    return (
        select(
            trades,
            markets.c.base_unit,
            markets.c.quote_unit,
            maker.c.maker_fee.label("maker_fee"),
            taker.c.taker_fee.label("taker_fee"),
        )
        .join(markets, markets.c.id == trades.c.market_id)
        .join(maker, maker.c.id == trades.c.maker_order_id)
        .join(taker, taker.c.id == trades.c.taker_order_id)
    )


@dataclass(frozen=True, slots=True)
class TradeFilter:
    market: str | None = None
    order_id: int | None = None
    member_id: int | None = None
    nobody: bool = False
    listing: Listing = field(default_factory=Listing)


async def all_trades(session: AsyncSession, found: TradeFilter, *, limit: int, page: int) -> Page:
    query = _trades()
    if found.market is not None:
        query = query.where(trades.c.market_id == found.market)
    if found.order_id is not None:
        query = query.where(
            or_(
                trades.c.maker_order_id == found.order_id, trades.c.taker_order_id == found.order_id
            )
        )
    if found.member_id is not None:
        query = query.where(
            or_(trades.c.maker_id == found.member_id, trades.c.taker_id == found.member_id)
        )
    if found.nobody:
        query = query.where(false())
    listing = found.listing
    query = query.where(*in_window(trades.c.created_at, listing))  # trades never change
    return await page_of(
        session, ordered(query, listing, trades.c[listing.order_by], trades.c.id), limit, page
    )


async def trade(session: AsyncSession, trade_id: int) -> Any | None:
    query = _trades().where(trades.c.id == trade_id)
    return (await session.execute(query)).mappings().first()


# ---------------------------------------------------------------------- ledger


@dataclass(frozen=True, slots=True)
class OperationFilter:
    family: str
    currency: str | None = None
    code: int | None = None
    reference_type: str | None = None
    rid: str | None = None
    member_id: int | None = None
    nobody: bool = False
    listing: Listing = field(default_factory=Listing)


async def operations_of(
    session: AsyncSession, found: OperationFilter, *, limit: int, page: int
) -> Page:
    """Postings to one family of accounts, each timed by the engine command that made it."""
    query = (
        select(operations, engine_commands.c.created_at)
        .join(engine_commands, engine_commands.c.seq == operations.c.seq)
        .where(operations.c.code.in_(FAMILIES[found.family]))
    )
    exact: list[tuple[Any, Any]] = [
        (operations.c.currency_id, found.currency),
        (operations.c.code, found.code),
        (operations.c.reference_type, found.reference_type),
        (operations.c.reference_id, found.rid),
        (operations.c.member_id, found.member_id),
    ]
    query = query.where(*(column == value for column, value in exact if value is not None))
    if found.nobody:
        query = query.where(false())
    listing = found.listing
    query = query.where(*in_window(engine_commands.c.created_at, listing))  # never updated
    # Operations are written in command order: ordering by id is ordering by time.
    return await page_of(
        session, ordered(query, listing, operations.c.id, operations.c.id), limit, page
    )


async def operations_by_reference(
    session: AsyncSession, reference_type: str, reference_ids: Iterable[str]
) -> dict[str, list[Any]]:
    """The postings made for each of these references (e.g. adjustments' engine keys)."""
    wanted = set(reference_ids)
    found: dict[str, list[Any]] = {rid: [] for rid in wanted}
    if not wanted:
        return found
    query = (
        select(operations, engine_commands.c.created_at)
        .join(engine_commands, engine_commands.c.seq == operations.c.seq)
        .where(
            operations.c.reference_type == reference_type,
            operations.c.reference_id.in_(wanted),
        )
        .order_by(operations.c.id)
    )
    for row in (await session.execute(query)).mappings():
        found[row["reference_id"]].append(row)
    return found


async def currency(session: AsyncSession, code: str) -> Any | None:
    """A currency's type (coin, fiat) and precision, by code."""
    query = select(currencies.c.id, currencies.c.type, currencies.c.precision).where(
        currencies.c.id == code
    )
    return (await session.execute(query)).mappings().first()


async def accounts_of(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, list[Any]]:
    """The accounts each member holds (currency, balance, locked), by currency position."""
    wanted = set(member_ids)
    found: dict[int, list[Any]] = {member: [] for member in wanted}
    if not wanted:
        return found
    query = (
        select(
            accounts.c.member_id,
            accounts.c.currency_id.label("currency"),
            accounts.c.balance,
            accounts.c.locked,
        )
        .join(currencies, currencies.c.id == accounts.c.currency_id)
        .where(accounts.c.member_id.in_(wanted))
        .order_by(accounts.c.member_id, currencies.c.position, currencies.c.id)
    )
    for row in (await session.execute(query)).mappings():
        found[row["member_id"]].append(row)
    return found


async def holders(session: AsyncSession, currency: str, *, limit: int, page: int) -> Page:
    """The members holding some of ``currency`` (balance or locked), by member id."""
    query = (
        select(accounts.c.member_id, accounts.c.balance, accounts.c.locked)
        .where(
            accounts.c.currency_id == currency,
            or_(accounts.c.balance != 0, accounts.c.locked != 0),
        )
        .order_by(accounts.c.member_id)
    )
    return await page_of(session, query, limit, page)


async def groups_of(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, str]:
    """Each member's fee group (``vip-0`` unless an admin put them in another)."""
    wanted = set(member_ids)
    found = dict.fromkeys(wanted, DEFAULT_GROUP)
    if wanted:
        rows = await session.execute(
            select(member_groups.c.member_id, member_groups.c.group).where(
                member_groups.c.member_id.in_(wanted)
            )
        )
        found.update({row.member_id: row.group for row in rows})
    return found


async def group_members(session: AsyncSession, group: str) -> tuple[list[int], bool]:
    """The members of a group: (ids, False), or for the default group the ids *outside*
    it, (ids, True), since its members have no row."""
    if group == DEFAULT_GROUP:
        return list(await session.scalars(select(member_groups.c.member_id))), True
    query = select(member_groups.c.member_id).where(member_groups.c.group == group)
    return list(await session.scalars(query)), False
