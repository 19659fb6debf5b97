"""Members' records as Peatio's Management API names them, by uid: a member's balance,
every holder of a currency, the operations of each family of ledger accounts, every
member's orders and trades; and the changes that name members by uid: cancelling their
orders and putting them in a fee group (``trading.admin_orders``, ``trading.fee_config``).

Records carry member ids and identity keeps the uids, so this joins the two contexts, here
above both. Changes never commit: the request's transaction does, at the boundary.
Refusals are ``BursaError``s whose codes are Grape's messages (the Management API answers
them as ``{"error": code}``); an unknown member is not found.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bursa.errors import BursaError, Refusal
from bursa.identity import directory
from bursa.identity.directory import Person
from bursa.trading import admin_orders, config_changes, fee_config
from bursa.trading import admin_queries as queries
from bursa.trading.admin_orders import Shown
from bursa.trading.audit import Actor
from bursa.trading.history import market_exists
from bursa.trading.orders import EnginePort

NOT_FOUND = "record.not_found"
INVALID_CURRENCY = "currency does not have a valid value"
INVALID_MARKET = "market does not have a valid value"
MOST_SYMBOL = 20
Order = TypeVar("Order", bound=Shown)


@dataclass(frozen=True, slots=True)
class Holding:
    uid: str
    balance: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True)
class Listed:
    """One page of records, the total the ``Total`` header announces, and who the
    records' member ids are."""

    rows: Sequence[Any]
    total: int
    people: dict[int, Person]


@dataclass(frozen=True, slots=True)
class OperationsAsk:
    """Which ledger operations: a family (asset, expense, revenue, liability) and filters."""

    family: str
    currency: str | None = None
    reference_type: str | None = None
    uid: str | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordsAsk:
    """Which orders or trades: a member, a market, and for orders a state and type.
    ``spot`` False asks for Peatio's ``qe`` markets, of which Bursa has none."""

    uid: str | None = None
    market: str | None = None
    spot: bool = True
    state: str | None = None
    ord_type: str | None = None


async def _currency(session: AsyncSession, code: str) -> Any:
    found = await queries.currency(session, code.lower())
    if found is None:
        raise BursaError(Refusal.INVALID, INVALID_CURRENCY)
    return found


async def member_of(session: AsyncSession, uid: str) -> int:
    """The member id of ``uid`` (not found: as Peatio's ``find_by!``)."""
    found = await directory.member_id(session, uid=uid)
    if found is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return found


async def _market(session: AsyncSession, symbol: str | None) -> str | None:
    if symbol is None:
        return None
    if len(symbol) > MOST_SYMBOL or not await market_exists(session, symbol.lower()):
        raise BursaError(Refusal.INVALID, INVALID_MARKET)
    return symbol.lower()


async def _member_or_none(session: AsyncSession, uid: str | None) -> int | None:
    return None if uid is None else await member_of(session, uid)


# ---------------------------------------------------------------------- balances


async def balance(session: AsyncSession, uid: str, currency: str) -> Holding:
    """``uid``'s balance of ``currency`` (zero if they never held any)."""
    code = (await _currency(session, currency))["id"]
    member_id = await member_of(session, uid)
    held = await queries.accounts_of(session, [member_id])
    for row in held[member_id]:
        if row["currency"] == code:
            return Holding(uid, row["balance"], row["locked"])
    return Holding(uid, Decimal(0), Decimal(0))


async def holders(session: AsyncSession, currency: str, *, limit: int, page: int) -> Listed:
    """Every member holding some of ``currency``, by member id."""
    code = (await _currency(session, currency))["id"]
    found = await queries.holders(session, code, limit=limit, page=page)
    people = await directory.people(session, (row["member_id"] for row in found.rows))
    return Listed(found.rows, found.total, people)


async def operations(session: AsyncSession, ask: OperationsAsk, *, limit: int, page: int) -> Listed:
    """The operations of one family of accounts, newest first."""
    member_id = await _member_or_none(session, ask.uid)
    currency = None if ask.currency is None else (await _currency(session, ask.currency))["id"]
    found = await queries.operations_of(
        session,
        queries.OperationFilter(
            family=ask.family,
            currency=currency,
            reference_type=ask.reference_type,
            member_id=member_id,
            listing=queries.Listing(time_from=ask.time_from, time_to=ask.time_to, ascending=False),
        ),
        limit=limit,
        page=page,
    )
    people = await directory.people(session, (row["member_id"] for row in found.rows))
    return Listed(found.rows, found.total, people)


# ---------------------------------------------------------------------- orders and trades


async def orders(session: AsyncSession, ask: RecordsAsk, *, limit: int, page: int) -> Listed:
    """Every member's orders (or one member's), newest first."""
    member_id = await _member_or_none(session, ask.uid)
    found = await queries.all_orders(
        session,
        queries.OrderFilter(
            market=await _market(session, ask.market),
            state=ask.state,
            ord_type=ask.ord_type,
            member_id=member_id,
            nobody=not ask.spot,
            listing=queries.Listing(ascending=False),
        ),
        limit=limit,
        page=page,
    )
    people = await directory.people(session, (row["member_id"] for row in found.rows))
    return Listed(found.rows, found.total, people)


async def trades(session: AsyncSession, ask: RecordsAsk, *, limit: int, page: int) -> Listed:
    """Every trade (or one member's), newest first."""
    member_id = await _member_or_none(session, ask.uid)
    found = await queries.all_trades(
        session,
        queries.TradeFilter(
            market=await _market(session, ask.market),
            member_id=member_id,
            nobody=not ask.spot,
            listing=queries.Listing(ascending=False),
        ),
        limit=limit,
        page=page,
    )
    ids = [m for row in found.rows for m in (row["maker_id"], row["taker_id"])]
    return Listed(found.rows, found.total, await directory.people(session, ids))


async def cancel_orders(
    session: AsyncSession,
    port: EnginePort,
    actor: Actor,
    ask: RecordsAsk,
    show: admin_orders.Show[Order],
) -> list[Order]:
    """Cancel the open orders in ``ask.market`` (of ``ask.uid``'s member, or everyone's)
    through the engine, audited as staff cancels are (``trading.admin_orders``); an unknown
    market is invalid, an unknown member not found."""
    symbol = await _market(session, ask.market)
    if symbol is None:
        raise BursaError(Refusal.INVALID, INVALID_MARKET)
    member_id = await _member_or_none(session, ask.uid)
    if not ask.spot:
        return []  # Bursa has spot markets only
    return await admin_orders.cancel_in_market(
        session, port, actor, symbol, show, member_id=member_id
    )


# ---------------------------------------------------------------------- members


@dataclass(frozen=True, slots=True)
class Grouped:
    """A member (as the member list shows them) and the fee group they are now in."""

    member: Any
    group: str


async def put_in_group(
    session: AsyncSession,
    submit: config_changes.Submit,
    actor: Actor,
    uid: str,
    group: str,
    *,
    email: str | None = None,
) -> Grouped:
    """Put the member ``uid`` names in fee ``group`` through the engine
    (``trading.fee_config``, audited). Members are Barong's users: nobody is created, and
    ``email``, when given, must be theirs."""
    user = await directory.member(session, uid)
    if user is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    if email is not None and email.strip().lower() != user["email"]:
        raise BursaError(Refusal.INVALID, "email does not match the user's")
    placed = await fee_config.put_in_group(session, submit, actor, uid, group)
    return Grouped(user, placed.group)
