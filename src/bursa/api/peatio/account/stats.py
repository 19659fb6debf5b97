"""The member's statistics (``/api/v2/peatio/account/stats``): profit and loss per
currency, valued in one currency (``bursa.trading.pnl`` says what counts and how)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from bursa.api.deps import Session
from bursa.api.errors import error_code
from bursa.api.peatio.auth import AccountMember
from bursa.api.schemas import Errors
from bursa.formats import decimal_text
from bursa.trading import pnl

router = APIRouter(prefix="/api/v2/peatio/account", tags=["account"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Errors} for code in (401, 403, 422)}


class Pnl(BaseModel):
    """One currency's totals (Peatio's ``Pnl`` entity, plus the two fee totals). Amounts are
    in ``currency``; ``*_value`` and ``*_price`` fields in ``pnl_currency``. The realised
    PnL is ``total_debit_value - total_debit * average_buy_price``."""

    currency: str
    pnl_currency: str
    total_credit: str = Field(description="Received, net of fees.")
    total_credit_fees: str = Field(description="Fees paid on what was received.")
    total_credit_value: str
    total_debit: str = Field(description="Given away, without fees.")
    total_debit_fees: str = Field(description="Fees paid on what was given away.")
    total_debit_value: str
    average_buy_price: str | None = Field(description="None before any credit.")
    average_sell_price: str | None = Field(description="None before any debit.")
    average_balance_price: str
    total_balance_value: str


def _present(row: pnl.Pnl) -> Pnl:
    return Pnl(
        currency=row.currency,
        pnl_currency=row.pnl_currency,
        total_credit=decimal_text(row.total_credit),
        total_credit_fees=decimal_text(row.total_credit_fees),
        total_credit_value=decimal_text(row.total_credit_value),
        total_debit=decimal_text(row.total_debit),
        total_debit_fees=decimal_text(row.total_debit_fees),
        total_debit_value=decimal_text(row.total_debit_value),
        average_buy_price=decimal_text(row.average_buy_price),
        average_sell_price=decimal_text(row.average_sell_price),
        average_balance_price=decimal_text(row.average_balance_price),
        total_balance_value=decimal_text(row.total_balance_value),
    )


@router.get(
    "/stats/pnl",
    summary="Profit and loss per currency, valued in one currency",
    responses=_ERRORS,
)
async def member_pnl(
    member: AccountMember,
    session: Session,
    request: Request,
    pnl_currency: Annotated[
        str | None,
        Query(
            max_length=10,
            pattern=r"^[a-zA-Z0-9_]+$",
            description="The currency values are given in; the platform currency if none.",
            json_schema_extra=error_code(pnl.CURRENCY_NOT_FOUND),
        ),
    ] = None,
) -> list[Pnl]:
    """Every currency the member has traded, deposited, withdrawn or been credited or
    debited (adjustments, transfers), that can be valued in ``pnl_currency``."""
    wanted = pnl_currency or request.app.state.platform_currency
    return [_present(row) for row in await pnl.member_pnl(session, member.id, wanted)]
