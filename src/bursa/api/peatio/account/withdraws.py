"""The member's withdrawals and beneficiaries (``/api/v2/peatio/account``), in Peatio's
shapes: beneficiaries activated with a mailed code, coin withdrawals to an active one with
a TOTP code. The rules live in ``bursa.custody.beneficiaries`` and
``bursa.custody.withdraw_requests``; this module reads parameters (each bad one answers
its own Peatio code) and presents rows.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.bodies import (
    AccountAmount,
    CurrencyText,
    NoParameters,
    NotBlank,
    body_of,
    codes,
)
from bursa.api.deps import Runner, Session, client_of
from bursa.api.errors import ApiError, error_code
from bursa.api.peatio.account.balances import CURRENCY_NOT_FOUND, CurrencyCode
from bursa.api.peatio.auth import AccountMember, Member, WithdrawMember
from bursa.api.peatio.otp import read_otp
from bursa.api.peatio.params import MAX_TIME, moment, paginate
from bursa.api.schemas import Errors
from bursa.custody import registry, withdraw_limits, withdraw_requests
from bursa.custody.beneficiaries import (
    BLOCKCHAIN_NOT_FOUND,
    Beneficiaries,
    BeneficiaryFilter,
    NewBeneficiary,
)
from bursa.custody.beneficiaries import (
    Beneficiary as BeneficiaryRow,
)
from bursa.custody.withdraw_requests import (
    MemberFilter,
    MemberWithdraw,
    WithdrawRequests,
)
from bursa.engine.commands import Command
from bursa.engine.runner import EngineStopped
from bursa.formats import decimal_text, iso
from bursa.identity import directory
from bursa.identity.service import Identity
from bursa.plain_input import PlainInt, is_digits
from bursa.trading import history
from bursa.trading import withdrawals as flow
from bursa.trading.withdrawals import Withdrawals

router = APIRouter(prefix="/api/v2/peatio/account", tags=["account"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
BENEFICIARY_ID = "account.beneficiary.non_integer_id"
MOST_ID = 2**63 - 1
MOST_NOTE = 256
BeneficiaryId = Annotated[
    PlainInt,
    Path(
        ge=1, le=MOST_ID, json_schema_extra=error_code(BENEFICIARY_ID, non_integer=BENEFICIARY_ID)
    ),
]


class Beneficiary(BaseModel):
    """Peatio's Beneficiary, ``data`` (the address) shown to its owner only."""

    id: int
    currency: str
    blockchain_key: str | None
    name: str
    description: str
    data: dict[str, Any]
    state: str
    sent_at: str | None
    created_at: str
    updated_at: str


class Withdraw(BaseModel):
    """Peatio's Withdraw: ``amount`` leaves, ``fee`` is paid on top; ``confirmations`` is
    a coin withdrawal's, counted to the last block the scanner read (0 until its
    transaction is in a block)."""

    id: int
    currency: str
    type: str
    amount: str
    fee: str
    blockchain_txid: str | None
    rid: str
    state: str
    confirmations: int | None
    note: str | None
    created_at: str
    updated_at: str
    done_at: str | None
    transfer_type: str | None


class WithdrawSums(BaseModel):
    """Peatio's withdrawal sums: what the member withdrew in the last 24 hours and 30
    days, every currency valued in the platform currency at its last price (what counts
    against their KYC-level limits). A currency that has no price yet is left out; ``GET
    withdraws/limits`` names it."""

    last_24_hours: str
    last_1_month: str


class CurrencyWithdrawLimits(BaseModel):
    """What counts against a currency's limits now, and the limits (``0``: none); then
    the member's KYC-level limits (every currency, in ``platform_currency``): the valued
    sums of the last 24 hours and 30 days (``null`` while a withdrawn currency has no
    price) and the limits in force (``0``: none)."""

    currency: str
    last_24_hours: str
    last_72_hours: str
    limit_24_hours: str
    limit_72_hours: str
    platform_currency: str
    kyc_last_24_hours: str | None
    kyc_last_1_month: str | None
    kyc_limit_24_hour: str
    kyc_limit_1_month: str


_BENEFICIARY = "account.beneficiary"
_WITHDRAW = "account.withdraw"


def _page_size(area: str, most: int) -> Any:
    return Query(
        ge=1,
        le=most,
        json_schema_extra=error_code(
            f"{area}.invalid_limit", non_integer=f"{area}.non_integer_limit"
        ),
    )


def _page_number(area: str) -> Any:
    return Query(
        ge=1,
        le=MOST_ID,
        json_schema_extra=error_code(
            f"{area}.non_positive_page", non_integer=f"{area}.non_integer_page"
        ),
    )


def _beneficiary(found: BeneficiaryRow) -> Beneficiary:
    return Beneficiary(
        id=found.id,
        currency=found.currency,
        blockchain_key=found.blockchain_key,
        name=found.name,
        description=found.description,
        data=found.data,
        state=found.state,
        sent_at=iso(found.sent_at),
        created_at=iso(found.created_at) or "",
        updated_at=iso(found.updated_at) or "",
    )


def present_withdraw(row: Any, heights: Mapping[str, int] | None = None) -> Withdraw:
    """A row of ``withdraws``; ``heights``: the last block read on each blockchain."""
    confirmations: int | None = None
    if row["type"] == "coin":
        height = (heights or {}).get(row["blockchain_key"])
        mined = row["block_number"]
        confirmations = 0 if height is None or mined is None else max(0, height - mined + 1)
    return Withdraw(
        id=row["id"],
        currency=row["currency_id"],
        type=row["type"],
        amount=decimal_text(row["amount"]),
        fee=decimal_text(row["fee"]),
        blockchain_txid=row["txid"],
        rid=row["rid"],
        state=row["state"],
        confirmations=confirmations,
        note=row["note"],
        created_at=iso(row["created_at"]) or "",
        updated_at=iso(row["updated_at"]) or "",
        done_at=iso(row["completed_at"]),
        transfer_type=row["transfer_type"],
    )


def _beneficiaries(request: Request) -> Beneficiaries:
    identity: Identity = request.app.state.identity
    return Beneficiaries(identity.keystore, identity.mailer, identity.app_name, identity.clock)


# ---------------------------------------------------------------------- beneficiaries


@router.get(
    "/beneficiaries", summary="The member's pending and active beneficiaries", responses=_ERRORS
)
async def list_beneficiaries(
    member: AccountMember,
    session: Session,
    request: Request,
    response: Response,
    currency: CurrencyCode = None,
    state: Annotated[
        Literal["pending", "active"] | None,
        Query(json_schema_extra=error_code("account.beneficiary.invalid_state")),
    ] = None,
    blockchain_key: Annotated[
        str | None,
        Query(max_length=32, json_schema_extra=error_code(BLOCKCHAIN_NOT_FOUND)),
    ] = None,
    limit: Annotated[PlainInt, _page_size(_BENEFICIARY, 1000)] = 100,
    page: Annotated[PlainInt, _page_number(_BENEFICIARY)] = 1,
) -> list[Beneficiary]:
    """Listing needs only a signed-in member (a wallet page shows the empty list to a
    member below the withdrawal level); adding, activating and using one needs the
    withdrawal level."""
    code = currency.lower() if currency else None
    if code is not None and not await history.currency_exists(session, code):
        raise ApiError(422, CURRENCY_NOT_FOUND)
    found, total = await _beneficiaries(request).listed(
        session,
        member.id,
        BeneficiaryFilter(code, state, blockchain_key),
        limit=limit,
        page=page,
    )
    paginate(response, total, page, limit)
    return [_beneficiary(b) for b in found]


@router.get("/beneficiaries/{id}", summary="One of the member's beneficiaries", responses=_ERRORS)
async def get_beneficiary(
    member: AccountMember, session: Session, request: Request, id: BeneficiaryId
) -> Beneficiary:
    return _beneficiary(await _beneficiaries(request).one(session, member.id, id))


def _json_object(value: object) -> object:
    """Peatio's ``data``: a JSON object, or a string holding one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise PydanticCustomError("non_json", "not JSON") from None
    if value is None:
        raise PydanticCustomError("missing", "is required")
    if not isinstance(value, dict):
        raise PydanticCustomError("non_json", "not a JSON object")
    return value


def _text_codes(area: str, name: str, **by_type: str) -> dict[str, Any]:
    return codes(f"{area}.invalid_{name}", missing=f"{area}.missing_{name}", **by_type)


class NewBeneficiaryRequest(BaseModel):
    """A beneficiary to add: ``data`` holds ``address`` for a coin, ``full_name`` and bank
    details for fiat (a JSON object, or a string holding one)."""

    currency: CurrencyText = Field(
        json_schema_extra=_text_codes(_BENEFICIARY, "currency", unknown_currency=CURRENCY_NOT_FOUND)
    )
    name: Annotated[str, NotBlank] = Field(
        description="At most 64 characters.", json_schema_extra=_text_codes(_BENEFICIARY, "name")
    )
    description: str | None = Field(
        default=None,
        description="At most 255 characters.",
        json_schema_extra=codes(f"{_BENEFICIARY}.invalid_description"),
    )
    data: Annotated[dict[str, Any], BeforeValidator(_json_object)] = Field(
        json_schema_extra=codes(
            f"{_BENEFICIARY}.non_json_data",
            missing=f"{_BENEFICIARY}.missing_data",
        )
    )

    def ask(self) -> NewBeneficiary:
        description = self.description if self.description and self.description.strip() else ""
        return NewBeneficiary(
            currency=self.currency, name=self.name, description=description, data=self.data
        )


def _pin(value: object) -> str:
    """Peatio's integer ``pin``, kept as the 6 digits that were mailed."""
    if value is None:
        raise PydanticCustomError("missing", "is required")
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not is_digits(text) or len(text) > 6:
        raise PydanticCustomError("int_parsing", "six digits")
    return text.zfill(6)


class Activation(BaseModel):
    """The code mailed when the beneficiary was added."""

    pin: Annotated[str, BeforeValidator(_pin)] = Field(
        json_schema_extra=codes(
            f"{_BENEFICIARY}.non_integer_pin", missing=f"{_BENEFICIARY}.missing_pin"
        )
    )


@router.post(
    "/beneficiaries",
    status_code=201,
    summary="Add a beneficiary; its activation code is mailed to the member",
    responses=_ERRORS,
)
async def create_beneficiary(
    member: WithdrawMember,
    session: Session,
    request: Request,
    body: Annotated[NewBeneficiaryRequest, body_of(NewBeneficiaryRequest)],
) -> Beneficiary:
    found = await _beneficiaries(request).create(session, member.id, member.email, body.ask())
    return _beneficiary(found)


@router.patch(
    "/beneficiaries/{id}/activate",
    summary="Activate a pending beneficiary with the mailed code",
    responses=_ERRORS,
)
async def activate_beneficiary(
    member: WithdrawMember,
    session: Session,
    request: Request,
    id: BeneficiaryId,
    body: Annotated[Activation, body_of(Activation)],
) -> Beneficiary:
    return _beneficiary(await _beneficiaries(request).activate(session, member.id, id, body.pin))


@router.patch(
    "/beneficiaries/{id}/resend_pin",
    status_code=204,
    summary="Mail a new activation code (once a minute)",
    responses=_ERRORS,
)
async def resend_pin(
    member: WithdrawMember,
    session: Session,
    request: Request,
    id: BeneficiaryId,
    _: Annotated[NoParameters, body_of(NoParameters)],
) -> Response:
    await _beneficiaries(request).resend_pin(session, member.id, member.email, id)
    return Response(status_code=204)


@router.delete(
    "/beneficiaries/{id}", status_code=204, summary="Archive a beneficiary", responses=_ERRORS
)
async def delete_beneficiary(
    member: WithdrawMember, session: Session, request: Request, id: BeneficiaryId
) -> Response:
    await _beneficiaries(request).archive(session, member.id, id)
    return Response(status_code=204)


# ---------------------------------------------------------------------- withdraws


def _time(name: str) -> Any:
    return Query(
        ge=0, le=MAX_TIME, json_schema_extra=error_code(f"account.withdraw.invalid_{name}")
    )


@router.get("/withdraws", summary="The member's withdrawals, newest first", responses=_ERRORS)
async def list_withdraws(
    member: WithdrawMember,
    session: Session,
    response: Response,
    currency: CurrencyCode = None,
    state: Annotated[
        Literal[flow.STATES] | None,  # type: ignore[valid-type]
        Query(json_schema_extra=error_code("account.withdraw.invalid_state")),
    ] = None,
    rid: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=256,
            json_schema_extra=error_code("account.withdraw.invalid_rid"),
        ),
    ] = None,
    time_from: Annotated[PlainInt | None, _time("time_from")] = None,
    time_to: Annotated[PlainInt | None, _time("time_to")] = None,
    limit: Annotated[PlainInt, _page_size(_WITHDRAW, 100)] = 100,
    page: Annotated[PlainInt, _page_number(_WITHDRAW)] = 1,
) -> list[Withdraw]:
    code = currency.lower() if currency else None
    if code is not None and not await history.currency_exists(session, code):
        raise ApiError(422, CURRENCY_NOT_FOUND)
    found = await withdraw_requests.member_withdraws(
        session,
        MemberFilter(member.id, code, state, rid, moment(time_from), moment(time_to)),
        limit=limit,
        page=page,
    )
    heights = await registry.scanned_heights(
        session, {r["blockchain_key"] for r in found.rows if r["blockchain_key"]}
    )
    paginate(response, found.total, page, limit)
    return [present_withdraw(row, heights) for row in found.rows]


@router.get(
    "/withdraws/sums",
    summary="What the member withdrew in the last 24 hours and month, in the platform currency",
    responses=_ERRORS,
)
async def withdraw_sums(member: WithdrawMember, session: Session, request: Request) -> WithdrawSums:
    """Valued as the KYC-level withdrawal limits value them (``bursa.custody
    .withdraw_limits``): every state but canceled, rejected and failed counts."""
    platform: str = request.app.state.platform_currency
    found = await withdraw_limits.valued(session, member.id, platform, datetime.now(UTC))
    return WithdrawSums(
        last_24_hours=decimal_text(found.last_24_hours),
        last_1_month=decimal_text(found.last_1_month),
    )


@router.get(
    "/withdraws/limits",
    summary="Bursa: what the member withdrew lately, against each currency's and the KYC limits",
    responses=_ERRORS,
)
async def withdraw_limits_of(
    member: WithdrawMember, session: Session, request: Request, currency: CurrencyCode = None
) -> list[CurrencyWithdrawLimits]:
    """A Bursa extension (Peatio's ``withdraws/sums`` answers only the two valued sums):
    per currency, its 24 h / 72 h sums and limits, and the member's KYC-level limits and
    valued sums (``null`` while a withdrawn currency has no price)."""
    code = currency.lower() if currency else None
    found = await withdraw_requests.sums(session, member.id, None if code is None else [code])
    if code is not None and not found:
        raise ApiError(422, CURRENCY_NOT_FOUND)
    platform: str = request.app.state.platform_currency
    limit = await withdraw_limits.limit_of(session, member.id)
    kyc = await withdraw_limits.valued(session, member.id, platform, datetime.now(UTC))
    priced = not kyc.unpriced
    return [
        CurrencyWithdrawLimits(
            currency=s.currency,
            last_24_hours=decimal_text(s.last_24h),
            last_72_hours=decimal_text(s.last_72h),
            limit_24_hours=decimal_text(s.limit_24h),
            limit_72_hours=decimal_text(s.limit_72h),
            platform_currency=platform,
            kyc_last_24_hours=decimal_text(kyc.last_24_hours) if priced else None,
            kyc_last_1_month=decimal_text(kyc.last_1_month) if priced else None,
            kyc_limit_24_hour=decimal_text(limit.limit_24_hour),
            kyc_limit_1_month=decimal_text(limit.limit_1_month),
        )
        for s in found
    ]


def _note(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise PydanticCustomError("string_too_long", "no NUL characters")
    return (value or "").strip() or None


class WithdrawRequest(BaseModel):
    """A coin withdrawal: ``amount`` leaves, the currency's fee is paid on top."""

    currency: CurrencyText = Field(
        json_schema_extra=_text_codes(_WITHDRAW, "currency", unknown_currency=CURRENCY_NOT_FOUND)
    )
    amount: AccountAmount = Field(
        json_schema_extra=codes(
            f"{_WITHDRAW}.invalid_amount",
            missing=f"{_WITHDRAW}.missing_amount",
            non_decimal=f"{_WITHDRAW}.non_decimal_amount",
            non_positive=f"{_WITHDRAW}.non_positive_amount",
        )
    )
    beneficiary_id: Annotated[PlainInt, Field(ge=0, le=MOST_ID)] = Field(
        json_schema_extra=codes(
            f"{_WITHDRAW}.non_integer_beneficiary_id",
            missing=f"{_WITHDRAW}.missing_beneficiary_id",
            empty=f"{_WITHDRAW}.missing_beneficiary_id",
        )
    )
    otp: Any = Field(  # read by ``read_otp``: an unreadable code counts as a wrong one
        default=None,
        description="The member's TOTP code (six digits; an integer to Peatio).",
        json_schema_extra={"anyOf": [{"type": "integer"}, {"type": "string"}]},
    )
    note: Annotated[str | None, AfterValidator(_note)] = Field(
        default=None,
        max_length=MOST_NOTE,
        json_schema_extra=codes(f"{_WITHDRAW}.too_long_note"),
    )

    def ask(self, member: Member, otp: str) -> MemberWithdraw:
        return MemberWithdraw(
            member_id=member.id,
            uid=member.uid,
            currency=self.currency.strip().lower(),
            amount=self.amount,
            beneficiary_id=self.beneficiary_id,
            otp=otp,
            note=self.note,
        )


async def _email_of(session: AsyncSession, member_id: int) -> str:
    person = (await directory.people(session, [member_id])).get(member_id)
    return "" if person is None else person.email


@router.post(
    "/withdraws",
    status_code=201,
    summary="Withdraw to an active beneficiary (TOTP code required)",
    responses=_ERRORS,
)
async def create_withdraw(
    member: WithdrawMember,
    request: Request,
    runner: Runner,
    body: Annotated[WithdrawRequest, body_of(WithdrawRequest)],
) -> Withdraw:
    """``currency``, ``amount`` (what leaves; the currency's fee is paid on top),
    ``beneficiary_id``, ``otp`` and ``note``.

    Over the currency's limits: ``account.withdraw.limit_24h_exceeded`` /
    ``limit_72h_exceeded``; over the member's KYC-level limits (every currency, valued in
    the platform currency): ``account.withdraw.limit_24_hour_exceeded`` /
    ``limit_1_month_exceeded``; a currency without a price while such a limit applies:
    ``account.withdraw.limit_unpriced``."""
    otp = await read_otp(request, member.id, body.otp, _WITHDRAW)

    async def submit(command: Command) -> dict[str, Any]:
        try:
            return await runner.submit(command)
        except EngineStopped as exc:
            raise ApiError(503, "server.engine_unavailable") from exc

    sessions = request.app.state.session_factory
    requests = WithdrawRequests(
        sessions,
        request.app.state.identity,
        _beneficiaries(request),
        Withdrawals(sessions, submit, _email_of),
        request.app.state.platform_currency,
    )
    return present_withdraw(await requests.create(body.ask(member, otp), client_of(request)))
