"""The shape of a seed file's entries: currencies and markets, money as ``Decimal``.

Money must be written as a string (``"0.0001"``) or an integer: a YAML float has already
lost its exact value by the time it is read, so it is refused, never rounded.
"""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

# NUMERIC(40, 18) holds 22 digits before the point.
MAX_MONEY = Decimal(10) ** 22
MAX_FEE = Decimal("0.5")
FEE_PLACES = 6


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be a decimal number written as a string, not a boolean")
    if isinstance(value, float):
        raise ValueError(
            f'{value!r} is a YAML float, which is not exact: quote it as a string, e.g. "{value!r}"'
        )
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    else:
        raise ValueError("must be a decimal number written as a string")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(f"{value} must not be negative")
    if value >= MAX_MONEY:
        raise ValueError(f"{value} is too large")
    return value


def _fee(value: Decimal) -> Decimal:
    if value > MAX_FEE:
        raise ValueError(f"{value} is above the highest fee, {MAX_FEE}")
    if decimals(value) > FEE_PLACES:
        raise ValueError(f"{value} has more than {FEE_PLACES} decimals")
    return value


def decimals(value: Decimal) -> int:
    """How many decimals ``value`` needs (``1.50`` needs 1)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


Money = Annotated[Decimal, BeforeValidator(_decimal), AfterValidator(_non_negative)]
Fee = Annotated[Money, AfterValidator(_fee)]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,9}$")]
Count = Annotated[int, Field(strict=True, ge=0)]
Precision = Annotated[int, Field(strict=True, ge=0, le=18)]


class CurrencySeed(BaseModel):
    """A currency as the ledger and the public API know it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Code
    name: Annotated[str, Field(min_length=1, max_length=64)]
    type: Literal["coin", "fiat"]
    precision: Precision
    blockchain_key: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    deposit_fee: Money = Decimal(0)
    min_deposit_amount: Money = Decimal(0)
    withdraw_fee: Money = Decimal(0)
    min_withdraw_amount: Money = Decimal(0)
    withdraw_limit_24h: Money = Decimal(0)
    withdraw_limit_72h: Money = Decimal(0)
    deposit_enabled: StrictBool = True
    withdrawal_enabled: StrictBool = True
    # An override of the blockchain's confirmations; unset follows the chain.
    min_confirmations: Annotated[int, Field(strict=True, ge=1)] | None = None
    position: Count = 1
    state: Literal["enabled", "disabled", "hidden"] = "enabled"
    description: str = ""
    homepage: str = ""
    icon_url: str = ""


CURRENCY_MONEY_FIELDS = (
    "deposit_fee",
    "min_deposit_amount",
    "withdraw_fee",
    "min_withdraw_amount",
    "withdraw_limit_24h",
    "withdraw_limit_72h",
)


class MarketSeed(BaseModel):
    """A spot market: its pair, precisions, bounds and fees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,19}$")]
    base_unit: Code
    quote_unit: Code
    amount_precision: Precision
    price_precision: Precision
    min_price: Money
    max_price: Money = Decimal(0)
    min_amount: Money
    maker_fee: Fee
    taker_fee: Fee
    position: Count = 1
    state: Literal["enabled", "disabled", "hidden", "locked"] = "enabled"
