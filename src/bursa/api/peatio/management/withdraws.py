"""Peatio's Management API for withdrawals (``/api/v2/peatio/management/withdraws…``):
server-to-server, each request a jwt-multisig envelope checked against the scope's
signers (``bursa.api.management_auth``); answers and errors in Grape's form
(``{"error": message}``).

``withdraws/new`` holds ``amount`` (as in Peatio, what the member pays: the currency's
``withdraw_fee`` comes out of it, the rest leaves) and accepts the withdrawal; with
``action=process`` a fiat one settles at once (``succeed``) and a coin one waits in
``processing`` for custody to send it (issue 6). Peatio's ``beneficiary_id`` is not taken
yet (beneficiaries come with custody): ``rid`` names the destination. The flow, and why a
crash half-way is repaired by asking again, is in ``bursa.trading.withdrawals``.
"""

import secrets
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.deps import Runner, Session
from bursa.api.errors import status_of
from bursa.api.management_auth import ManagementRefused, scope
from bursa.api.peatio.management.common import ENVELOPE, RESPONSES
from bursa.engine.commands import Command
from bursa.engine.runner import EngineStopped
from bursa.engine.units import OverPrecise, to_units
from bursa.identity import directory
from bursa.plain_input import NotPlain, is_digits, parse_digits, read_amount
from bursa.trading import withdrawals
from bursa.trading.withdrawals import Ask, WithdrawalRefused, Withdrawals, WithdrawFilter

router = APIRouter(prefix="/api/v2/peatio/management/withdraws", tags=["peatio management"])
ReadData = Annotated[dict[str, Any], Depends(scope("peatio", "read_withdraws"))]
WriteData = Annotated[dict[str, Any], Depends(scope("peatio", "write_withdraws"))]
MOST_TID, MOST_RID, MOST_NOTE, MOST_UID, MOST_KEY = 64, 256, 256, 32, 32
MOST_DIGITS = 30
DEFAULT_LIMIT, MOST_LIMIT = 100, 1000
TRANSFER_TYPES = ("fiat", "crypto")


def _refuse(problems: list[str]) -> None:
    if problems:
        raise ManagementRefused(422, ", ".join(problems))


def _string(data: dict[str, Any], name: str, most: int, problems: list[str]) -> str | None:
    """An optional string parameter, stripped (Grape's ``is invalid`` otherwise)."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        problems.append(f"{name} is invalid")
        return None
    text = str(value).strip()
    if len(text) > most or "\x00" in text:
        problems.append(f"{name} is invalid")
        return None
    return text or None


def _required(data: dict[str, Any], name: str, most: int, problems: list[str]) -> str | None:
    text = _string(data, name, most, problems)
    if text is None and name not in {p.split(" ")[0] for p in problems}:
        problems.append(f"{name} is missing")
    return text


def _amount(data: dict[str, Any], problems: list[str]) -> Decimal | None:
    """A positive amount: a string in plain notation or an integer (a JSON float is read
    in its shortest form, which is what was typed unless that was exponent form)."""
    value = data.get("amount")
    if value is None:
        problems.append("amount is missing")
        return None
    try:
        number = read_amount(repr(value) if isinstance(value, float) else value, signed=True)
    except NotPlain:
        number = Decimal("NaN")
    if not number.is_finite() or number <= 0 or number.adjusted() >= MOST_DIGITS:
        problems.append("amount must be positive")
        return None
    return number


async def _ask(session: AsyncSession, data: dict[str, Any]) -> tuple[Ask, bool]:
    """The validated request and whether to process it, or Grape's 422 listing every
    problem (404 for an unknown member, as Peatio's ``find_by!``)."""
    problems: list[str] = []
    uid = _required(data, "uid", MOST_UID, problems)
    code = _required(data, "currency", 10, problems)
    amount = _amount(data, problems)
    rid = _required(data, "rid", MOST_RID, problems)
    if data.get("beneficiary_id") is not None:
        problems.append("beneficiary_id is not supported yet, give rid")
    tid = _string(data, "tid", MOST_TID, problems) or f"TID{secrets.token_hex(5).upper()}"
    note = _string(data, "note", MOST_NOTE, problems)
    key = _string(data, "blockchain_key", MOST_KEY, problems)
    action = data.get("action")
    if action not in (None, "process"):
        problems.append("action does not have a valid value")
    transfer_type = data.get("transfer_type")
    if transfer_type not in (None, *TRANSFER_TYPES):
        problems.append("transfer_type does not have a valid value")
    currency = await withdrawals.currency(session, code.lower()) if code else None
    if code and currency is None:
        problems.append("currency does not have a valid value")
    _refuse(problems)
    # Every parameter checked without a problem is present.
    assert currency is not None
    assert amount is not None
    assert uid is not None
    assert rid is not None
    if not currency["withdrawal_enabled"] or currency["state"] == "disabled":
        _refuse(["account.currency.withdrawal_disabled"])
    try:
        to_units(amount, currency["precision"])
    except OverPrecise:
        _refuse(["account.withdraw.invalid_amount"])
    # Peatio's ``amount`` is what the member pays (its ``sum``): the fee comes out of it.
    fee: Decimal = currency["withdraw_fee"]
    if amount <= fee or amount < currency["min_withdraw_amount"]:
        _refuse(["account.withdraw.invalid_amount"])
    member_id = await directory.member_id(session, uid=uid)
    if member_id is None:
        raise ManagementRefused(404, "Couldn't find record.")
    ask = Ask(
        tid=tid,
        member_id=member_id,
        uid=uid,
        currency=currency["id"],
        type=currency["type"],
        precision=currency["precision"],
        amount=amount - fee,
        fee=fee,
        rid=rid,
        note=note,
        transfer_type=transfer_type or ("fiat" if currency["type"] == "fiat" else "crypto"),
        blockchain_key=key or (currency["blockchain_key"] if currency["type"] == "coin" else None),
    )
    return ask, action == "process"


async def _email_of(session: AsyncSession, member_id: int) -> str:
    person = (await directory.people(session, [member_id])).get(member_id)
    return "" if person is None else person.email


def _service(request: Request, runner: Runner) -> Withdrawals:
    async def submit(command: Command) -> dict[str, Any]:
        try:
            return await runner.submit(command)
        except EngineStopped as exc:
            raise ManagementRefused(503, "Engine is unavailable.") from exc

    return Withdrawals(request.app.state.session_factory, submit, _email_of)


async def _run(call: Any) -> dict[str, Any]:
    try:
        row = await call
    except WithdrawalRefused as exc:
        raise ManagementRefused(status_of(exc), exc.code) from exc
    return withdrawals.entity(row)


@router.post(
    "/new",
    status_code=201,
    openapi_extra=ENVELOPE,
    responses=RESPONSES,
    summary="Create a withdrawal and hold its funds",
)
async def new_withdraw(
    data: WriteData, request: Request, runner: Runner, session: Session
) -> dict[str, Any]:
    """``uid``, ``currency``, ``amount`` (what the member pays, fee included),
    ``rid``, ``tid``, ``note``, ``action`` (``process``), ``transfer_type``."""
    ask, process = await _ask(session, data)
    await session.close()  # the service opens its own transactions
    return await _run(_service(request, runner).create(ask, process=process))


@router.put(
    "/action", openapi_extra=ENVELOPE, responses=RESPONSES, summary="Process or cancel a withdrawal"
)
async def act(data: WriteData, request: Request, runner: Runner) -> dict[str, Any]:
    """``tid`` and ``action``: ``process`` or ``cancel`` (only an accepted withdrawal)."""
    problems: list[str] = []
    tid = _required(data, "tid", MOST_TID, problems)
    action = data.get("action")
    if action is None:
        problems.append("action is missing")
    elif action not in ("process", "cancel"):
        problems.append("action does not have a valid value")
    _refuse(problems)
    assert tid is not None
    return await _run(_service(request, runner).act(tid, str(action)))


@router.post(
    "/get",
    status_code=201,
    openapi_extra=ENVELOPE,
    responses=RESPONSES,
    summary="One withdrawal by tid",
)
async def get_withdraw(data: ReadData, session: Session) -> dict[str, Any]:
    problems: list[str] = []
    tid = _required(data, "tid", MOST_TID, problems)
    _refuse(problems)
    assert tid is not None
    row = await withdrawals.find(session, tid)
    if row is None:
        raise ManagementRefused(404, "Couldn't find record.")
    return withdrawals.entity(row)


def _page(data: dict[str, Any], name: str, default: int, most: int, problems: list[str]) -> int:
    value = data.get(name, default)
    if isinstance(value, str) and is_digits(value) and len(value) <= 19:
        value = parse_digits(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        problems.append(f"{name} does not have a valid value")
        return default
    return value


@router.post(
    "",
    status_code=201,
    openapi_extra=ENVELOPE,
    responses=RESPONSES,
    summary="Withdrawals, newest first",
)
async def list_withdraws(
    data: ReadData, session: Session, response: Response
) -> list[dict[str, Any]]:
    """Filters ``uid``, ``currency``, ``state``; ``page``, ``limit`` (100, at most 1000)."""
    problems: list[str] = []
    uid = _string(data, "uid", MOST_UID, problems)
    currency = _string(data, "currency", 10, problems)
    state = data.get("state")
    if state is not None and state not in withdrawals.STATES:
        problems.append("state does not have a valid value")
    page = _page(data, "page", 1, 2**31 - 1, problems)
    limit = _page(data, "limit", DEFAULT_LIMIT, MOST_LIMIT, problems)
    _refuse(problems)
    found = await withdrawals.listed(
        session,
        WithdrawFilter(uid=uid, currency=currency and currency.lower(), state=state),
        limit=limit,
        page=page,
    )
    response.headers["Total"] = str(found.total)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)
    return [withdrawals.entity(row) for row in found.rows]
