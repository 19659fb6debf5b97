"""What the engine must know about currencies and markets, as integers.

A market trades ``lots`` of ``10**-amount_precision`` base units at prices in ``ticks`` of
``10**-price_precision`` quote units. ``amount_precision + price_precision`` never exceeds
the quote currency's precision, so every trade total is an exact number of quote subunits.
"""

from dataclasses import dataclass, field

COIN = "coin"
FIAT = "fiat"

# Peatio's chart of accounts, by currency type.
ASSET = {FIAT: 101, COIN: 102}
LIABILITY_MAIN = {FIAT: 201, COIN: 202}
LIABILITY_LOCKED = {FIAT: 211, COIN: 212}
REVENUE = {FIAT: 301, COIN: 302}
EXPENSE = {FIAT: 401, COIN: 402}

FEE_SCALE = 1_000_000  # fees are kept in millionths (Peatio allows 6 decimals)


@dataclass(frozen=True, slots=True)
class CurrencySpec:
    """A currency as the ledger counts it: ``precision`` decimals are the smallest unit."""

    code: str
    type: str
    precision: int

    @property
    def asset_code(self) -> int:
        return ASSET[self.type]

    @property
    def main_code(self) -> int:
        return LIABILITY_MAIN[self.type]

    @property
    def locked_code(self) -> int:
        return LIABILITY_LOCKED[self.type]

    @property
    def revenue_code(self) -> int:
        return REVENUE[self.type]


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """A market's rules in engine integers (ticks, lots, fee millionths)."""

    id: str
    base: CurrencySpec
    quote: CurrencySpec
    amount_precision: int
    price_precision: int
    min_price: int  # ticks
    max_price: int  # ticks; 0 means no maximum
    min_amount: int  # lots
    maker_fee: int  # millionths
    taker_fee: int  # millionths
    tradable: bool = True
    base_per_lot: int = field(init=False)
    quote_per_tick_lot: int = field(init=False)

    def __post_init__(self) -> None:
        extra_quote = self.quote.precision - self.amount_precision - self.price_precision
        extra_base = self.base.precision - self.amount_precision
        if extra_quote < 0 or extra_base < 0:
            raise ValueError(
                f"market {self.id}: amount precision {self.amount_precision} and price "
                f"precision {self.price_precision} do not fit {self.base.code} "
                f"({self.base.precision}) and {self.quote.code} ({self.quote.precision})"
            )
        object.__setattr__(self, "base_per_lot", 10**extra_base)
        object.__setattr__(self, "quote_per_tick_lot", 10**extra_quote)
