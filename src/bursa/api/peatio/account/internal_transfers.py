"""Peatio's member internal transfers (``/api/v2/peatio/account/internal_transfers``):
send funds to another member by uid or username with a TOTP code, and list the
transfers sent and received. The money moves through the engine
(``bursa.trading.internal_transfers``)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.bodies import AccountAmount, CurrencyText, NotBlank, body_of, codes
from bursa.api.deps import Runner, Session, client_of
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio.account.balances import CURRENCY_NOT_FOUND, CurrencyCode
from bursa.api.peatio.auth import AccountMember
from bursa.api.peatio.otp import read_otp
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Errors
from bursa.engine.commands import Command
from bursa.formats import decimal_text, iso
from bursa.identity.tables import users
from bursa.plain_input import PlainInt
from bursa.trading import history
from bursa.trading import internal_transfers as transfers
from bursa.trading.orders import submit

router = APIRouter(prefix="/api/v2/peatio/account", tags=["account"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 422, 503)
}
AREA = transfers.AREA


class InternalTransfer(BaseModel):
    """Peatio's InternalTransfer: ``direction`` is ``in`` or ``out`` for the member asking."""

    id: int
    currency: str
    sender_username: str | None
    receiver_username: str | None
    sender_uid: str
    receiver_uid: str
    direction: str
    amount: str
    status: str
    created_at: str
    updated_at: str


async def _people(session: AsyncSession, ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """Uid and username of each member."""
    query = select(users.c.id, users.c.uid, users.c.username).where(users.c.id.in_(ids))
    return {row.id: (row.uid, row.username) for row in await session.execute(query)}


def _shown(row: Any, member_id: int, people: dict[int, tuple[str, str | None]]) -> InternalTransfer:
    sender = people.get(row["sender_id"], ("", None))
    receiver = people.get(row["receiver_id"], ("", None))
    return InternalTransfer(
        id=row["id"],
        currency=row["currency_id"],
        sender_username=sender[1],
        receiver_username=receiver[1],
        sender_uid=sender[0],
        receiver_uid=receiver[0],
        direction="out" if row["sender_id"] == member_id else "in",
        amount=decimal_text(row["amount"]),
        status=row["state"],
        created_at=iso(row["created_at"]) or "",
        updated_at=iso(row["updated_at"]) or "",
    )


async def _member_named(session: AsyncSession, name: str) -> int | None:
    """The active member whose uid (as issued) or username (any case) is ``name``."""
    query = select(users.c.id).where(
        or_(users.c.uid == name, users.c.username == name.lower()), users.c.state == "active"
    )
    found = await session.scalar(query.limit(1))
    return None if found is None else int(found)


@router.get("/internal_transfers", summary="Transfers sent and received", responses=_ERRORS)
async def list_internal_transfers(
    member: AccountMember,
    session: Session,
    response: Response,
    currency: CurrencyCode = None,
    state: Annotated[
        Literal["completed"] | None,  # Peatio's only state
        Query(json_schema_extra=error_code(f"{AREA}.invalid_state")),
    ] = None,
    sender: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[
        PlainInt, Query(ge=1, le=100, json_schema_extra=error_code(f"{AREA}.invalid_limit"))
    ] = 100,
    page: Annotated[
        PlainInt, Query(ge=1, json_schema_extra=error_code(f"{AREA}.non_positive_page"))
    ] = 1,
) -> list[InternalTransfer]:
    """``sender``: only those from this uid or username."""
    code = currency.lower() if currency else None
    if code is not None and not await history.currency_exists(session, code):
        raise ApiError(422, CURRENCY_NOT_FOUND)
    sender_id = None
    if sender is not None:
        sender_id = await _member_named(session, sender.strip())
        if sender_id is None:
            paginate(response, 0, page, limit)
            return []
    found = await transfers.listed(
        session,
        transfers.Filter(member.id, code, sender_id),
        limit=limit,
        page=page,
    )
    people = await _people(session, transfers.involved(found.rows))
    paginate(response, found.total, page, limit)
    return [_shown(row, member.id, people) for row in found.rows]


def _receiver(value: str) -> str:
    if len(value) > 64:
        raise PydanticCustomError("unknown_receiver", "no such member")
    return value.strip()


class TransferRequest(BaseModel):
    """Funds to send to another member, free of open orders and held withdrawals."""

    currency: CurrencyText = Field(
        json_schema_extra=codes(
            f"{AREA}.missing_currency",
            missing=f"{AREA}.missing_currency",
            unknown_currency=CURRENCY_NOT_FOUND,
        )
    )
    amount: AccountAmount = Field(
        json_schema_extra=codes(
            f"{AREA}.invalid_amount",
            missing=f"{AREA}.missing_amount",
            non_decimal=f"{AREA}.non_decimal_amount",
            non_positive=f"{AREA}.non_positive_amount",
        )
    )
    username_or_uid: Annotated[str, NotBlank, AfterValidator(_receiver)] = Field(
        description="The receiver.",
        json_schema_extra=codes(
            f"{AREA}.missing_username_or_uid",
            missing=f"{AREA}.missing_username_or_uid",
            unknown_receiver=f"{AREA}.receiver_not_found",
        ),
    )
    otp: Any = Field(  # read by ``read_otp``: an unreadable code counts as a wrong one
        default=None,
        description="The member's TOTP code (six digits; an integer to Peatio).",
        json_schema_extra={"anyOf": [{"type": "integer"}, {"type": "string"}]},
    )


@router.post(
    "/internal_transfers",
    status_code=201,
    summary="Send funds to another member (TOTP code required)",
    responses=_ERRORS,
)
async def create_internal_transfer(
    member: AccountMember,
    request: Request,
    session: Session,
    runner: Runner,
    body: Annotated[TransferRequest, body_of(TransferRequest)],
) -> InternalTransfer:
    """The member needs 2FA enabled."""
    otp = await read_otp(request, member.id, body.otp, AREA)
    currency, amount, receiver = body.currency.strip().lower(), body.amount, body.username_or_uid
    receiver_id = await _member_named(session, receiver)
    if receiver_id is None:
        raise ApiError(422, f"{AREA}.receiver_not_found")
    if receiver_id == member.id:
        raise ApiError(422, f"{AREA}.can_not_tranfer_to_yourself")  # Peatio's spelling
    await session.rollback()  # the flow commits transactions of its own
    identity = request.app.state.identity
    async with identity.transaction() as conn:
        if not await conn.scalar(select(users.c.otp).where(users.c.id == member.id)):
            raise ApiError(422, f"{AREA}.otp_not_enabled")
        await identity.require_otp(conn, member.id, otp, client_of(request), AREA)

    async def to_engine(command: Command) -> dict[str, Any]:
        return await submit(runner, command)  # 503 when the engine is not running

    ask = transfers.Ask(member.id, receiver_id, currency, amount)
    row = await transfers.send(session, to_engine, ask)
    people = await _people(session, {member.id, receiver_id})
    return _shown(row, member.id, people)
