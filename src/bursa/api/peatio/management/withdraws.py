"""Peatio's Management API for withdrawals (``/api/v2/peatio/management/withdraws…``).
Service: ``bursa.custody.management_withdrawals`` (the flow, and why a crash half-way is
repaired by asking again, is ``bursa.trading.withdrawals``).

``withdraws/new`` takes ``amount`` as Peatio did: what the member pays, the currency's
``withdraw_fee`` out of it. Peatio's ``beneficiary_id`` is not taken here: ``rid`` names the
destination. A request that does not fit is refused with every problem, in Grape's words
(``uid is missing, amount must be positive``).
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.deps import Runner, Session
from bursa.api.management import engine_submit, get_sessions, payload
from bursa.api.peatio.management.common import peatio_router
from bursa.api.peatio.params import paginate
from bursa.custody import management_withdrawals
from bursa.custody.management_withdrawals import Requested
from bursa.plain_input import NotPlain, PlainInt, read_amount
from bursa.trading import withdrawals

router = peatio_router("/api/v2/peatio/management/withdraws", omit_none=False)
Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]
ENGINE_UNAVAILABLE = "Engine is unavailable."
MOST_DIGITS = 30
# Grape's words for a problem of a kind; others carry their own.
WORDS = {"missing": "is missing", "literal_error": "does not have a valid value"}
OUT_OF_RANGE = ("int_parsing", "int_type", "greater_than_equal", "less_than_equal")


def grape_problems(exc: ValidationError) -> str:
    """Every problem, ``<field> <words>``, as Grape listed them."""
    return ", ".join(
        f"{'.'.join(str(part) for part in error['loc'])} "
        + (
            "does not have a valid value"
            if error["type"] in OUT_OF_RANGE
            else WORDS.get(error["type"], error["msg"])
        )
        for error in exc.errors(include_input=False, include_url=False)
    )


def signed(scope: str, model: type[BaseModel]) -> Any:
    return payload("peatio", scope, model, grape_problems)


def _text(most: int, *, required: bool) -> BeforeValidator:
    """A string parameter (or a number, as text), stripped: longer than ``most`` or with
    a NUL it is invalid; empty it is absent (missing, when ``required``)."""

    def read(value: object) -> str | None:
        text = None
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise PydanticCustomError("invalid", "is invalid")
            text = str(value).strip()
            if len(text) > most or "\x00" in text:
                raise PydanticCustomError("invalid", "is invalid")
        if not text and required:
            raise PydanticCustomError("missing", "is missing")
        return text or None

    return BeforeValidator(read)


def _amount(value: object) -> Decimal:
    """A positive amount: a string in plain notation or an integer (a JSON float is read
    in its shortest form, which is what was typed unless that was exponent form)."""
    if value is None:
        raise PydanticCustomError("missing", "is missing")
    try:
        number = read_amount(repr(value) if isinstance(value, float) else value, signed=True)
    except NotPlain:
        number = Decimal("NaN")
    if not number.is_finite() or number <= 0 or number.adjusted() >= MOST_DIGITS:
        raise PydanticCustomError("not_positive", "must be positive")
    return number


def _unsupported(value: object) -> None:
    if value is not None:
        raise PydanticCustomError("unsupported", "is not supported yet, give rid")


def _given(value: object) -> object:
    if value is None:
        raise PydanticCustomError("missing", "is missing")
    return value


class Params(BaseModel):
    """Grape ignored unknown parameters; so does Bursa."""

    model_config = ConfigDict(extra="ignore")


Uid = Annotated[str, _text(32, required=True)]
Tid = Annotated[str, _text(64, required=True)]


class NewWithdraw(Params):
    uid: Uid
    currency: Annotated[str, _text(10, required=True)]
    amount: Annotated[Decimal, BeforeValidator(_amount)]
    rid: Annotated[str, _text(256, required=True)]
    beneficiary_id: Annotated[None, BeforeValidator(_unsupported)] = None
    tid: Annotated[str | None, _text(64, required=False)] = None
    note: Annotated[str | None, _text(256, required=False)] = None
    blockchain_key: Annotated[str | None, _text(32, required=False)] = None
    action: Literal["process"] | None = None
    transfer_type: Literal["fiat", "crypto"] | None = None


@router.post("/new", status_code=201, summary="Create a withdrawal and hold its funds")
async def new_withdraw(
    body: Annotated[NewWithdraw, signed("write_withdraws", NewWithdraw)],
    sessions: Sessions,
    runner: Runner,
) -> dict[str, Any]:
    """``amount`` is what the member pays, fee included; ``action: process`` processes it
    at once."""
    requested = Requested(
        uid=body.uid,
        currency=body.currency,
        amount=body.amount,
        rid=body.rid,
        tid=body.tid,
        note=body.note,
        blockchain_key=body.blockchain_key,
        transfer_type=body.transfer_type,
        process=body.action == "process",
    )
    submit = engine_submit(runner, ENGINE_UNAVAILABLE)
    return withdrawals.entity(await management_withdrawals.create(sessions, submit, requested))


class Action(Params):
    tid: Tid
    action: Annotated[Literal["process", "cancel"], BeforeValidator(_given)]


@router.put("/action", summary="Process or cancel a withdrawal")
async def act(
    body: Annotated[Action, signed("write_withdraws", Action)],
    sessions: Sessions,
    runner: Runner,
) -> dict[str, Any]:
    """``process`` or ``cancel`` (only an accepted withdrawal cancels)."""
    submit = engine_submit(runner, ENGINE_UNAVAILABLE)
    return withdrawals.entity(
        await management_withdrawals.act(sessions, submit, body.tid, body.action)
    )


class WithdrawGet(Params):
    tid: Tid


@router.post("/get", status_code=201, summary="One withdrawal by tid")
async def get_withdraw(
    body: Annotated[WithdrawGet, signed("read_withdraws", WithdrawGet)], session: Session
) -> dict[str, Any]:
    return withdrawals.entity(await management_withdrawals.find(session, body.tid))


class WithdrawList(Params):
    uid: Annotated[str | None, _text(32, required=False)] = None
    currency: Annotated[str | None, _text(10, required=False)] = None
    state: Literal[withdrawals.STATES] | None = None  # type: ignore[valid-type]
    page: PlainInt = Field(default=1, ge=1, le=2**31 - 1)
    limit: PlainInt = Field(default=100, ge=1, le=1000)


@router.post("", status_code=201, summary="Withdrawals, newest first")
async def list_withdraws(
    body: Annotated[WithdrawList, signed("read_withdraws", WithdrawList)],
    session: Session,
    response: Response,
) -> list[dict[str, Any]]:
    found = await management_withdrawals.listed(
        session,
        uid=body.uid,
        currency=body.currency,
        state=body.state,
        limit=body.limit,
        page=body.page,
    )
    paginate(response, found.total, body.page, body.limit)
    return [withdrawals.entity(row) for row in found.rows]
