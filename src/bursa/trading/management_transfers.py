"""Posting a management transfer (Peatio's ``management/transfers/new``): balanced
movements between ledger accounts, every operation through one engine ``Transfer`` or none.

The money workflow of ``bursa.trading.engine_requests``: the transfer is claimed
``pending`` under its key (committed), its ``Transfer`` is submitted once under
``transfers.engine_key`` (read back from the command log when an earlier request got the
engine there), and the row becomes ``done`` or ``refused``. A ``key`` sent again with the
same request answers the transfer it made, moving nothing; with another request it is
refused; a refused transfer moved nothing and frees its key for the next attempt.

Refusals are Grape's messages (the Management API's words) as codes.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bursa.engine import errors
from bursa.engine.commands import Command, Transfer
from bursa.engine.specs import ASSET, EXPENSE, LIABILITY_LOCKED, LIABILITY_MAIN, REVENUE
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.formats import decimal_text
from bursa.trading import admin_queries as queries
from bursa.trading import engine_requests, transfers
from bursa.trading.engine_requests import EngineResult, Submit

CHART = sorted(
    code
    for codes in (ASSET, LIABILITY_MAIN, LIABILITY_LOCKED, REVENUE, EXPENSE)
    for code in codes.values()
)
MEMBER_SCOPE = frozenset(LIABILITY_MAIN.values()) | frozenset(LIABILITY_LOCKED.values())
NOT_FOUND = "Couldn't find record."
MemberOf = Callable[[AsyncSession, str], Awaitable[int | None]]
"""The member id of a uid (identity's directory: a sibling context, so the edge hands it
in)."""
REFUSALS = {
    errors.TRANSFER_UNBALANCED: (
        "Operations do not balance: for each currency, assets - liabilities - revenues"
        " + expenses must stay the same."
    ),
    errors.TRANSFER_INSUFFICIENT_BALANCE: "Account balance is insufficient.",
    errors.TRANSFER_LOCKED_ACCOUNT: (
        "Locked accounts (211, 212) hold open orders and withdrawals; a transfer cannot use them."
    ),
    errors.TRANSFER_INVALID_ACCOUNT: (
        "An account code does not fit its currency: fiat uses 101, 201, 301, 401; coins"
        " use 102, 202, 302, 402."
    ),
}


@dataclass(frozen=True, slots=True)
class Account:
    """A ledger account: a code of Peatio's chart, and the member's uid for 201/202/211/212."""

    code: int
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    currency: str  # any case
    amount: Decimal  # positive
    account_src: Account
    account_dst: Account


@dataclass(frozen=True, slots=True)
class TransferAsk:
    key: str
    category: str
    description: str
    operations: Sequence[Operation]


async def post(session: AsyncSession, submit: Submit, member_of: MemberOf, ask: TransferAsk) -> Any:
    """Post ``ask`` (or answer the transfer its key already made); the transfer's row, or
    a ``BursaError`` naming Grape's message. ``session`` has no transaction open."""
    async with session.begin():
        operations = await _operations(session, ask)
        legs = await _legs(session, member_of, operations)
    row = await _claim(session, ask, operations)
    if row["state"] == transfers.DONE:
        return row
    (outcome,) = await engine_requests.carry_out(session, submit, _Postings(legs), [row])
    current = outcome.row
    if outcome.finished_here:
        failed = outcome.result.error
    elif current["state"] == transfers.PENDING:
        raise BursaError(
            Refusal.CONFLICT, "Another request is posting this transfer; send it again."
        )
    else:
        failed = current["error"]  # a concurrent request finished this attempt
    if failed is None:
        return current
    raise BursaError(
        Refusal.INVALID, REFUSALS.get(failed, f"The engine refused the transfer: {failed}")
    )


async def _currency(session: AsyncSession, code: str, where: str) -> Any:
    found = await queries.currency(session, code.lower())
    if found is None:
        raise BursaError(Refusal.INVALID, f"{where}[currency] does not have a valid value")
    return found


def _units(amount: Decimal, precision: int, where: str) -> int:
    try:
        return to_units(amount, precision)
    except OverPrecise:
        raise BursaError(
            Refusal.INVALID, f"{where} has more than {precision} decimal places"
        ) from None


def _check_account(account: Account, where: str) -> None:
    """Grape's checks of one account: a code of the chart, a uid for member accounts."""
    if account.code not in CHART:
        raise BursaError(Refusal.INVALID, f"{where}[code] does not have a valid value")
    if account.code in MEMBER_SCOPE and account.uid is None:
        raise BursaError(Refusal.INVALID, f"{where}[uid] is missing")


async def _operations(session: AsyncSession, ask: TransferAsk) -> list[dict[str, Any]]:
    """The operations as stored: currency ids, exact amount text, codes and uids."""
    stored = []
    for index, operation in enumerate(ask.operations):
        where = f"operations[{index}]"
        currency = await _currency(session, operation.currency, where)
        _units(operation.amount, currency["precision"], f"{where}[amount]")
        ends = {}
        for side in ("account_src", "account_dst"):
            account: Account = getattr(operation, side)
            _check_account(account, f"{where}[{side}]")
            ends[side] = {"code": account.code, "uid": account.uid}
        stored.append({"currency": currency["id"], "amount": decimal_text(operation.amount)} | ends)
    return stored


async def _legs(
    session: AsyncSession, member_of: MemberOf, operations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The engine's legs: amounts in subunits, members by id (an unknown uid: not found)."""
    legs = []
    for operation in operations:
        currency = await _currency(session, operation["currency"], "currency")
        leg: dict[str, Any] = {
            "currency": currency["id"],
            "amount": _units(Decimal(operation["amount"]), currency["precision"], "amount"),
        }
        for side, name in (("account_src", "src"), ("account_dst", "dst")):
            uid = operation[side]["uid"]
            leg[name] = operation[side]["code"]
            leg[f"{name}_member"] = None if uid is None else await _member(session, member_of, uid)
        legs.append(leg)
    return legs


async def _member(session: AsyncSession, member_of: MemberOf, uid: str) -> int:
    found = await member_of(session, uid)
    if found is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return found


async def _claim(session: AsyncSession, ask: TransferAsk, operations: list[Any]) -> Any:
    """The transfer's pending row: new, left pending by an earlier request, or taking
    over a refused one's key. A done transfer sent again is returned as it is."""
    async with session.begin():
        row = await transfers.create(
            session,
            key=ask.key,
            category=ask.category,
            description=ask.description,
            operations=operations,
        )
        if row is not None:
            return row
        row = await transfers.find(session, ask.key, lock=True)
        assert row is not None  # the conflict was on the key, and transfers stay
        if row["state"] == transfers.REFUSED:
            return await transfers.change(
                session,
                row["id"],
                state=transfers.PENDING,
                attempts=row["attempts"] + 1,
                category=ask.category,
                description=ask.description,
                operations=operations,
                error=None,
            )
        if not transfers.same_request(row, ask.category, ask.description, operations):
            raise BursaError(Refusal.INVALID, "key has already been taken")
        return row


@dataclass(frozen=True, slots=True)
class _Postings:
    """One management transfer as ``engine_requests`` carries it out: ``pending`` under
    ``transfers.engine_key`` (its key and attempt), then ``done`` (with the engine's seq)
    or ``refused`` (with its error, freeing the key)."""

    legs: list[dict[str, Any]]

    async def commands(self, session: AsyncSession, rows: Sequence[Any]) -> list[Command]:
        return [
            Transfer(key=transfers.engine_key(row), reference=row["key"], legs=self.legs)
            for row in rows
        ]

    def waiting(self, row: Any) -> str | None:
        return transfers.engine_key(row) if row["state"] == transfers.PENDING else None

    async def relock(self, session: AsyncSession, rows: Sequence[Any]) -> list[Any]:
        found = [await transfers.find(session, row["key"], lock=True) for row in rows]
        return [row for row in found if row is not None]  # transfers are never deleted

    async def finish(
        self, session: AsyncSession, done: Sequence[tuple[Any, EngineResult]]
    ) -> list[Any]:
        finished = []
        for row, result in done:
            if result.applied:
                values: dict[str, Any] = {"state": transfers.DONE, "engine_seq": result.seq}
            else:
                values = {"state": transfers.REFUSED, "error": result.error}
            finished.append(await transfers.change(session, row["id"], **values))
        return finished
