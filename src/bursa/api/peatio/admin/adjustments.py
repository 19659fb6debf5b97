"""Peatio's adjustments (``/api/v2/peatio/admin/adjustments``), maker/checker: one admin
proposes a correction (``new``: ``pending``), another accepts or rejects it (``action``).

Accepting moves money only through the engine (its ``Adjust`` command: asset ± amount,
the member's main liability ± amount), so only a member's main account (201 fiat, 202
coin) can be adjusted yet; the other receiving accounts of Peatio's chart (locked
liabilities, revenues, expenses) are refused when the adjustment is proposed
(``admin.adjustment.unsupported_account``), never accepted and silently dropped.

Four eyes: whoever proposed an adjustment may not accept it (they may reject it: a
withdrawal of their own proposal), and only ``adjustments.CHECKERS`` (superadmins and
admins) decide another's proposal, so an accountant proposes and never credits. The
row stays locked while the engine applies it, so two admins cannot both accept it; a
retried accept reuses the command's idempotency key and is answered what the engine did.
Every proposal, acceptance and rejection leaves an audit entry.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from bursa.api.deps import Runner, Session
from bursa.api.errors import NOT_FOUND, ApiError, error_code
from bursa.api.peatio.admin import present
from bursa.api.peatio.admin.auth import NOT_PERMITTED, PREFIX, admin_gate
from bursa.api.peatio.admin.lists import AdminList, CurrencyId, currency_of, sort_by
from bursa.api.peatio.admin.schemas import Adjustment
from bursa.api.peatio.market.orders import submit
from bursa.api.peatio.params import paginate, read_body
from bursa.api.schemas import Errors
from bursa.engine import errors as engine_errors
from bursa.engine.commands import Adjust
from bursa.engine.units import OverPrecise, to_units
from bursa.identity import directory
from bursa.plain_input import NotPlain, PlainInt, is_digits, parse_digits, read_amount
from bursa.trading import adjustments, audit
from bursa.trading import admin_queries as queries
from bursa.trading.audit import Actor

router = APIRouter(prefix=f"{PREFIX}/adjustments", tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
AREA = "admin.adjustment"
MOST_ID = 2**63 - 1
MOST_DIGITS = 30  # of an amount's integer part: far beyond any real correction
MOST_REASON, MOST_DESCRIPTION = 255, 4096
MOST_UID = 16
LIABILITY_CODES = (201, 202, 211, 212)
EXPENSE_CODES = (401, 402)
ENGINE_CODES = {  # the engine's refusals, as Peatio named them
    engine_errors.ADJUSTMENT_INSUFFICIENT_BALANCE: f"{AREA}.user_insufficient_balance",
    engine_errors.CURRENCY_NOT_FOUND: f"{AREA}.currency_doesnt_exist",
}

Reader = Annotated[Actor, Depends(admin_gate("read", "Adjustment"))]
Manager = Annotated[Actor, Depends(admin_gate("manage", "Adjustment"))]


async def _shown(session: Session, rows: list[Any]) -> list[Adjustment]:
    """The adjustments with the postings the engine made for the accepted ones."""
    keys = [adjustments.engine_key(r) for r in rows if r["state"] == adjustments.ACCEPTED]
    posted = await queries.operations_by_reference(session, adjustments.REFERENCE_TYPE, keys)
    return [present.adjustment(r, posted.get(adjustments.engine_key(r), [])) for r in rows]


@router.get("", summary="Adjustments", responses=_ERRORS)
async def list_adjustments(
    _: Reader,
    session: Session,
    response: Response,
    params: Annotated[AdminList, Depends()],
    currency: CurrencyId = None,
    state: Annotated[
        Literal["pending", "accepted", "rejected"] | None,
        Query(json_schema_extra=error_code(f"{AREA}.invalid_state")),
    ] = None,
    category: Annotated[
        Literal[adjustments.CATEGORIES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code(f"{AREA}.invalid_category")),
    ] = None,
    order_by: Annotated[
        Literal["id", "created_at", "updated_at", "amount"],
        sort_by("id", "created_at", "updated_at", "amount"),
    ] = "id",
) -> list[Adjustment]:
    found = await adjustments.listed(
        session,
        adjustments.AdjustmentFilter(
            currency=await currency_of(session, currency),
            state=state,
            category=category,
            listing=params.listing(order_by),
        ),
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    return await _shown(session, list(found.rows))


@router.get("/{id}", summary="One adjustment", responses=_ERRORS)
async def get_adjustment(
    _: Reader,
    session: Session,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
    ],
) -> Adjustment:
    row = await adjustments.find(session, id)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return (await _shown(session, [row]))[0]


# ---------------------------------------------------------------------- proposing


def _text(body: dict[str, Any], name: str, most: int, problems: list[str]) -> str:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(f"{AREA}.missing_{name}")
    elif not isinstance(value, str) or len(value) > most or "\x00" in value:
        problems.append(f"{AREA}.invalid_{name}")
    else:
        return value.strip()
    return ""


def _integer(body: dict[str, Any], name: str, problems: list[str]) -> int | None:
    value = body.get(name)
    if value is None:
        problems.append(f"{AREA}.missing_{name}")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MOST_ID:
        return value
    elif isinstance(value, str) and is_digits(value) and len(value) <= 18:
        return parse_digits(value)
    else:
        problems.append(f"{AREA}.non_integer_{name}")
    return None


def _amount(body: dict[str, Any], problems: list[str]) -> Decimal | None:
    """The signed amount: Peatio's ``non_decimal_amount``, or ``invalid_amount`` for zero."""
    value = body.get("amount")
    if value is None:
        problems.append(f"{AREA}.missing_amount")
        return None
    try:
        number = read_amount(value, signed=True)
    except NotPlain:
        problems.append(f"{AREA}.non_decimal_amount")
        return None
    if number.is_zero() or number.adjusted() >= MOST_DIGITS:
        problems.append(f"{AREA}.invalid_amount")
        return None
    return number


async def _proposal(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    """The new adjustment's columns, or every Peatio code the request breaks."""
    problems: list[str] = []
    reason = _text(body, "reason", MOST_REASON, problems)
    description = _text(body, "description", MOST_DESCRIPTION, problems)
    category = body.get("category")
    if category is None:
        problems.append(f"{AREA}.missing_category")
    elif category not in adjustments.CATEGORIES:
        problems.append(f"{AREA}.invalid_category")
    amount = _amount(body, problems)
    code = body.get("currency_id")
    currency = None
    if code is None:
        problems.append(f"{AREA}.missing_currency_id")
    elif isinstance(code, str) and len(code) <= 10:
        currency = await queries.currency(session, code.strip().lower())
    if code is not None and currency is None:
        problems.append(f"{AREA}.currency_doesnt_exist")
    asset_code = _integer(body, "asset_account_code", problems)
    if asset_code is not None and (
        asset_code not in adjustments.ASSET_CODES.values()
        or (currency is not None and asset_code != adjustments.ASSET_CODES[currency["type"]])
    ):
        problems.append(f"{AREA}.invalid_asset_account_code")
    receiving = _integer(body, "receiving_account_code", problems)
    if receiving is not None and receiving not in adjustments.RECEIVING_CODES:
        problems.append(f"{AREA}.invalid_receiving_account_code")
        receiving = None
    uid = body.get("receiving_member_uid")
    if uid is not None and (not isinstance(uid, str) or not uid.strip()):
        uid = None
    if receiving in LIABILITY_CODES and uid is None:
        problems.append(f"{AREA}.missing_receiving_member_uid")
    elif receiving in EXPENSE_CODES and uid is not None:
        problems.append(f"{AREA}.redundant_receiving_member_uid")
    elif receiving is not None and receiving not in adjustments.MAIN_CODES.values():
        problems.append(f"{AREA}.unsupported_account")  # the engine cannot post it yet
    elif currency is not None and receiving not in (None, adjustments.MAIN_CODES[currency["type"]]):
        problems.append(f"{AREA}.invalid_receiving_account_code")  # fiat code for a coin
    member_id = None
    if isinstance(uid, str) and receiving in adjustments.MAIN_CODES.values():
        if len(uid.strip()) <= MOST_UID:
            member_id = await directory.member_id(session, uid=uid.strip())
        if member_id is None:
            problems.append("admin.user.doesnt_exist")
    if currency is not None and amount is not None:
        try:
            to_units(amount, currency["precision"])
        except OverPrecise:
            problems.append(f"{AREA}.invalid_amount")
    if problems:
        raise ApiError(422, *dict.fromkeys(problems))
    # No problem means a currency, a main account and its member were all found.
    assert currency is not None
    assert member_id is not None
    assert isinstance(uid, str)
    return {
        "reason": reason,
        "description": description,
        "category": category,
        "amount": amount,
        "currency_id": currency["id"],
        "asset_account_code": asset_code,
        "receiving_account_code": receiving,
        "receiving_member_id": member_id,
        "receiving_member_uid": uid.strip(),
    }


@router.post("/new", status_code=201, summary="Propose an adjustment", responses=_ERRORS)
async def new_adjustment(actor: Manager, request: Request, session: Session) -> Adjustment:
    """Form or JSON: ``reason``, ``description``, ``category``, ``amount`` (signed),
    ``currency_id``, ``asset_account_code`` (101 fiat, 102 coin: the currency's),
    ``receiving_account_code`` (201 fiat, 202 coin: the member's main account; Peatio's
    other codes are refused until the engine posts them) and ``receiving_member_uid``."""
    values = await _proposal(session, await read_body(request))
    row = await adjustments.create(session, **values, creator_uid=actor.uid)
    shown = present.adjustment(row, [])
    await audit.record(
        session, actor, "adjustment.create", "Adjustment", row["id"], after=shown.model_dump()
    )
    await session.commit()
    return shown


# ---------------------------------------------------------------------- deciding


def _decision(body: dict[str, Any]) -> tuple[int, str]:
    problems: list[str] = []
    found = _integer(body, "id", problems)
    action = body.get("action")
    if action is None:
        problems.append(f"{AREA}.missing_action")
    elif action not in ("accept", "reject"):
        problems.append(f"{AREA}.invalid_action")
    if problems or found is None:
        raise ApiError(422, *problems)
    return found, str(action)


@router.post(
    "/action", status_code=201, summary="Accept or reject an adjustment", responses=_ERRORS
)
async def act(actor: Manager, request: Request, runner: Runner, session: Session) -> Adjustment:
    """Form or JSON: ``id`` and ``action`` (accept, reject). Only a pending adjustment can
    be accepted or rejected; its proposer may only reject (withdraw) it, and anyone else
    must be a checker (``adjustments.CHECKERS``)."""
    adjustment_id, action = _decision(await read_body(request))
    row = await adjustments.find(session, adjustment_id, lock=True)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    if row["creator_uid"] == actor.uid:
        if action == "accept":
            raise ApiError(403, f"{AREA}.creator_cannot_accept")
    elif actor.role not in adjustments.CHECKERS:
        raise ApiError(403, NOT_PERMITTED)
    if row["state"] != adjustments.PENDING:
        raise ApiError(422, f"{AREA}.cannot_perform_{action}_action")
    before = present.adjustment(row, []).model_dump()
    if action == "reject":
        changed = await adjustments.change(
            session, adjustment_id, state=adjustments.REJECTED, validator_uid=actor.uid
        )
        posted: list[Any] = []
    else:
        changed = await _accept(session, runner, row, actor)
        key = adjustments.engine_key(row)
        posted = (
            await queries.operations_by_reference(session, adjustments.REFERENCE_TYPE, [key])
        )[key]
    shown = present.adjustment(changed, posted)
    await audit.record(
        session,
        actor,
        f"adjustment.{action}",
        "Adjustment",
        adjustment_id,
        before=before,
        after=shown.model_dump(),
    )
    await session.commit()
    return shown


async def _accept(session: Session, runner: Runner, row: Any, actor: Actor) -> Any:
    """Have the engine post the adjustment, then mark it accepted (the caller commits)."""
    currency = await queries.currency(session, row["currency_id"])
    try:
        amount = to_units(row["amount"], currency["precision"]) if currency else 0
    except OverPrecise:  # the currency's precision shrank since the proposal
        amount = 0
    if amount == 0:
        raise ApiError(422, f"{AREA}.invalid_amount")
    command = Adjust(
        key=adjustments.engine_key(row),
        member_id=row["receiving_member_id"],
        currency=row["currency_id"],
        amount=amount,
        reason=row["reason"],
    )
    # Posted already by an earlier request that failed before recording it: the engine
    # remembers keys for a window only, the ledger for ever.
    done = await queries.operations_by_reference(session, adjustments.REFERENCE_TYPE, [command.key])
    if done[command.key]:
        result: dict[str, Any] = {"error": None, "seq": done[command.key][0]["seq"]}
    else:
        result = await submit(runner, command)
    if result["error"] is not None:
        # Refused, nothing moved: the next accept needs a key of its own.
        await adjustments.change(session, row["id"], attempts=row["attempts"] + 1)
        await session.commit()
        raise ApiError(422, ENGINE_CODES.get(result["error"], result["error"]))
    return await adjustments.change(
        session,
        row["id"],
        state=adjustments.ACCEPTED,
        validator_uid=actor.uid,
        engine_seq=result["seq"],
    )
