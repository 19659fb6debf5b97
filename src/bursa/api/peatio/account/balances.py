"""The member's account (``/api/v2/peatio/account``): balances, transactions (deposits
and withdrawals, Peatio's shape), deposits and deposit addresses; and Bursa's ``ledger``:
the postings to the member's own accounts.
"""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from bursa.api.deps import Session
from bursa.api.errors import NOT_FOUND, ApiError, error_code
from bursa.api.peatio import present
from bursa.api.peatio.auth import AccountMember, DepositMember
from bursa.api.peatio.params import MAX_TIME, moment, paginate
from bursa.api.peatio.schemas import Account, Deposit, Operation, PaymentAddress, Transaction
from bursa.api.schemas import Errors
from bursa.custody import address_formats, addresses, member_transactions, registry
from bursa.engine.core import REFERENCE_TYPES
from bursa.engine.specs import DEFAULT_GROUP
from bursa.engine.tables import member_groups
from bursa.plain_input import PlainInt
from bursa.trading import deposits as deposit_records
from bursa.trading import history
from bursa.trading import withdrawals as withdraw_flow
from bursa.trading.confirmations import required_by_currency

router = APIRouter(prefix="/api/v2/peatio/account", tags=["account"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422)
}

CURRENCY_NOT_FOUND = "account.currency.doesnt_exist"
CurrencyCode = Annotated[
    str | None,
    Query(
        max_length=10, pattern=r"^[a-zA-Z0-9_]+$", json_schema_extra=error_code(CURRENCY_NOT_FOUND)
    ),
]


def _limit(area: str, most: int) -> Any:
    return Query(ge=1, le=most, json_schema_extra=error_code(f"account.{area}.invalid_limit"))


def _page(area: str) -> Any:
    return Query(ge=1, json_schema_extra=error_code(f"account.{area}.non_positive_page"))


def _time(area: str, name: str) -> Any:
    return Query(ge=0, le=MAX_TIME, json_schema_extra=error_code(f"account.{area}.invalid_{name}"))


async def _currency(session: Session, code: str | None) -> str | None:
    if code is None:
        return None
    code = code.lower()
    if not await history.currency_exists(session, code):
        raise ApiError(422, CURRENCY_NOT_FOUND)
    return code


INVALID_SEARCH = "account.balances.invalid_search"
MOST_SEARCH = 64


def _search_text(name: str) -> Any:
    """One of ``search``'s texts sent on its own (``search[currency_code]=bt``)."""
    return Query(
        alias=f"search[{name}]",
        max_length=MOST_SEARCH,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        json_schema_extra=error_code(INVALID_SEARCH),
    )


def _search(whole: str | None, code: str | None, name: str | None) -> history.CurrencySearch:
    """Peatio's ``search``: a JSON object with ``currency_code`` and/or ``currency_name``,
    or each as its own bracketed parameter (which wins)."""
    given: dict[str, Any] = {}
    if whole is not None:
        try:
            given = json.loads(whole)
        except ValueError:
            raise ApiError(422, INVALID_SEARCH) from None
        if not isinstance(given, dict):
            raise ApiError(422, INVALID_SEARCH)
    texts = {"currency_code": code, "currency_name": name}
    for key, text in texts.items():
        if text is None and given.get(key) is not None:
            text = given[key]
            if not isinstance(text, str) or len(text) > MOST_SEARCH or not text.isprintable():
                raise ApiError(422, INVALID_SEARCH)
            texts[key] = text
    return history.CurrencySearch(texts["currency_code"], texts["currency_name"])


@router.get("/balances", summary="Balances in every listed currency", responses=_ERRORS)
async def balances(
    member: AccountMember,
    session: Session,
    response: Response,
    nonzero: Annotated[
        bool, Query(json_schema_extra=error_code("account.balances.invalid_nonzero"))
    ] = False,
    limit: Annotated[PlainInt, _limit("balances", 1000)] = 100,
    page: Annotated[PlainInt, _page("balances")] = 1,
    search: Annotated[
        str | None,
        Query(
            description='JSON: {"currency_code": …, "currency_name": …}',
            max_length=256,
            json_schema_extra=error_code(INVALID_SEARCH),
        ),
    ] = None,
    currency_code: Annotated[str | None, _search_text("currency_code")] = None,
    currency_name: Annotated[str | None, _search_text("currency_name")] = None,
) -> list[Account]:
    """``search``: only currencies whose code or name contains the text (case ignored;
    given both, either may match)."""
    found = await history.balances(
        session,
        member.id,
        nonzero=nonzero,
        limit=limit,
        page=page,
        search=_search(search, currency_code, currency_name),
    )
    paginate(response, found.total, page, limit)
    return [present.account(row) for row in found.rows]


class MemberMe(BaseModel):
    """Peatio 3's member: who the caller is to the exchange, their fee group, balances."""

    uid: str
    email: str
    group: str
    accounts: list[Account]


@router.get("/members/me", summary="The caller as a member: group and balances", responses=_ERRORS)
async def me(member: AccountMember, session: Session) -> MemberMe:
    group = await session.scalar(
        select(member_groups.c.group).where(member_groups.c.member_id == member.id)
    )
    found = await history.balances(session, member.id, nonzero=False, limit=1000, page=1)
    return MemberMe(
        uid=member.uid,
        email=member.email,
        group=group or DEFAULT_GROUP,
        accounts=[present.account(row) for row in found.rows],
    )


@router.get("/balances/{currency}", summary="The balance in one currency", responses=_ERRORS)
async def balance(
    member: AccountMember,
    session: Session,
    currency: Annotated[str, Path(max_length=10, json_schema_extra=error_code(CURRENCY_NOT_FOUND))],
) -> Account:
    row = await history.balance(session, member.id, currency.lower())
    if row is None:
        raise ApiError(422, CURRENCY_NOT_FOUND)
    return present.account(row)


@router.get(
    "/transactions",
    summary="The member's deposits and withdrawals, newest first",
    responses=_ERRORS,
)
async def transactions(
    member: AccountMember,
    session: Session,
    response: Response,
    currency: CurrencyCode = None,
    order_by: Annotated[
        Literal["asc", "desc"],
        Query(json_schema_extra=error_code("account.transactions.invalid_order_by")),
    ] = "desc",
    time_from: Annotated[PlainInt | None, _time("transactions", "time_from")] = None,
    time_to: Annotated[PlainInt | None, _time("transactions", "time_to")] = None,
    deposit_state: Annotated[
        Literal[deposit_records.STATES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code("account.transactions.invalid_deposit_state")),
    ] = None,
    withdraw_state: Annotated[
        Literal[withdraw_flow.STATES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code("account.transactions.invalid_withdraw_state")),
    ] = None,
    txid: Annotated[
        str | None,
        Query(max_length=128, json_schema_extra=error_code("account.transactions.invalid_txid")),
    ] = None,
    limit: Annotated[PlainInt, _limit("transactions", 1000)] = 100,
    page: Annotated[PlainInt, _page("transactions")] = 1,
) -> list[Transaction]:
    """Peatio's Transactions: each deposit (``type`` ``Deposit``) and withdrawal
    (``Withdraw``) with its ``address``, ``amount``, ``fee``, ``txid``, ``state``,
    ``note`` and ``confirmations``, by creation time; ``deposit_state`` and
    ``withdraw_state`` narrow only their own kind. The postings behind them are
    ``GET ledger``."""
    found, total = await member_transactions.member_transactions(
        session,
        member_transactions.TransactionFilter(
            member_id=member.id,
            currency=await _currency(session, currency),
            deposit_state=deposit_state,
            withdraw_state=withdraw_state,
            txid=txid,
            created_from=moment(time_from),
            created_to=moment(time_to),
            ascending=order_by == "asc",
        ),
        limit=limit,
        page=page,
    )
    paginate(response, total, page, limit)
    return [present.transaction(t) for t in found]


@router.get(
    "/ledger",
    summary="Bursa: the member's ledger operations (main and locked accounts), newest first",
    responses=_ERRORS,
)
async def ledger(
    member: AccountMember,
    session: Session,
    response: Response,
    currency: CurrencyCode = None,
    type: Annotated[
        Literal[REFERENCE_TYPES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code("account.ledger.invalid_type")),
    ] = None,
    time_from: Annotated[PlainInt | None, _time("ledger", "time_from")] = None,
    time_to: Annotated[PlainInt | None, _time("ledger", "time_to")] = None,
    order_by: Annotated[
        Literal["asc", "desc"],
        Query(json_schema_extra=error_code("account.ledger.invalid_order_by")),
    ] = "desc",
    limit: Annotated[PlainInt, _limit("ledger", 1000)] = 100,
    page: Annotated[PlainInt, _page("ledger")] = 1,
) -> list[Operation]:
    """Every posting to the member's main and locked accounts (a Bursa extension; Peatio's
    ``transactions`` are deposits and withdrawals): ``type`` is the posting's reference
    type (order, trade, deposit, withdrawal, adjustment, transfer)."""
    found = await history.member_operations(
        session,
        member.id,
        history.OperationFilter(
            await _currency(session, currency),
            type,
            history.Window(moment(time_from), moment(time_to), order_by == "asc"),
        ),
        limit=limit,
        page=page,
    )
    paginate(response, found.total, page, limit)
    return [present.operation(row) for row in found.rows]


@router.get("/deposits", summary="The member's deposits, newest first", responses=_ERRORS)
async def deposits(
    member: DepositMember,
    session: Session,
    response: Response,
    currency: CurrencyCode = None,
    state: Annotated[
        Literal[deposit_records.STATES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code("account.deposit.invalid_state")),
    ] = None,
    txid: Annotated[
        str | None,
        Query(max_length=128, json_schema_extra=error_code("account.deposit.invalid_txid")),
    ] = None,
    time_from: Annotated[PlainInt | None, _time("deposit", "time_from")] = None,
    time_to: Annotated[PlainInt | None, _time("deposit", "time_to")] = None,
    limit: Annotated[PlainInt, _limit("deposit", 100)] = 100,
    page: Annotated[PlainInt, _page("deposit")] = 1,
) -> list[Deposit]:
    """Fiat deposits from payment gateways and coin deposits from the chains, with the
    confirmations each coin deposit has (counted to the last block the scanner read) and
    those it needs to be credited (``min_confirmations``)."""
    code = await _currency(session, currency)
    found = await deposit_records.listed(
        session,
        deposit_records.DepositFilter(
            member_id=member.id,
            currency=code,
            state=state,
            txid=txid,
            created_from=moment(time_from),
            created_to=moment(time_to),
        ),
        limit=limit,
        page=page,
    )
    heights = await registry.scanned_heights(
        session, {r["blockchain_key"] for r in found.rows if r["blockchain_key"]}
    )
    required = await required_by_currency(session, {r["currency_id"] for r in found.rows})
    paginate(response, found.total, page, limit)
    return [present.deposit(row, heights, required) for row in found.rows]


@router.get(
    "/deposits/{txid}",
    summary="One of the member's deposits, by its transaction id",
    responses=_ERRORS,
)
async def deposit(
    member: DepositMember,
    session: Session,
    txid: Annotated[
        str, Path(max_length=128, json_schema_extra=error_code("account.deposit.invalid_txid"))
    ],
) -> Deposit:
    """The member's deposit with this ``txid`` (the newest, when one transaction paid
    several); another member's, or none, is ``404 record.not_found``."""
    found = await deposit_records.listed(
        session, deposit_records.DepositFilter(member_id=member.id, txid=txid), limit=1, page=1
    )
    if not found.rows:
        raise ApiError(404, NOT_FOUND)
    row = found.rows[0]
    heights = await registry.scanned_heights(
        session, {row["blockchain_key"]} if row["blockchain_key"] else set()
    )
    required = await required_by_currency(session, {row["currency_id"]})
    return present.deposit(row, heights, required)


@router.get(
    "/deposit_address/{currency}",
    summary="The member's deposit address for a coin (made on first request)",
    responses=_ERRORS,
)
async def deposit_address(
    member: DepositMember,
    session: Session,
    request: Request,
    currency: Annotated[str, Path(max_length=10)],
    address_format: Annotated[
        Literal[address_formats.FORMATS] | None,  # type: ignore[valid-type]
        Query(
            description="legacy | cash: Bitcoin Cash's spellings; no chain Bursa ships has "
            "them, so on every coin this answers 422 "
            f"{address_formats.NOT_SUPPORTED}.",
            json_schema_extra=error_code("account.deposit_address.invalid_address_format"),
        ),
    ] = None,
) -> PaymentAddress:
    if address_format is not None:
        await address_formats.refuse_format(session, currency)
    plugins: addresses.Plugins | None = request.app.state.custody
    if plugins is None:
        raise ApiError(422, addresses.WALLET_NOT_FOUND)
    async with session.begin():
        found = await addresses.deposit_address(session, plugins, member.id, currency)
    return PaymentAddress(
        currencies=found.currencies,
        blockchain_key=found.blockchain_key,
        address=found.address,
        state="active",
    )
