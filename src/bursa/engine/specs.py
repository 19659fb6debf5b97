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

MEMBER_CODES = frozenset(LIABILITY_MAIN.values()) | frozenset(LIABILITY_LOCKED.values())


def equation_weight(code: int) -> int:
    """How an account's balance (credits - debits) counts in the accounting equation
    assets - liabilities - revenues + expenses = 0: +1 for assets and expenses, -1 else."""
    return 1 if code // 100 in (1, 4) else -1


FEE_SCALE = 1_000_000  # fees are kept in millionths (Peatio allows 6 decimals)
MAX_FEE = 500_000  # 50%: Peatio's bound on a trading fee
MAX_PRECISION = 18  # the most decimals a currency may count in (ETH's wei)

# Peatio's market states; only enabled and hidden markets accept orders.
MARKET_STATES = ("enabled", "disabled", "hidden", "locked", "sale", "presale")
TRADABLE_STATES = frozenset({"enabled", "hidden"})

CURRENCY_STATES = ("enabled", "disabled", "hidden")  # Peatio's currency states

# What the configuration tables can hold. The engine writes a currency's or market's row in
# the batch that applied its command, and a batch that cannot commit halts the engine, so
# it refuses beforehand what a row could not hold: amounts are NUMERIC(40, 18) (22 integer
# digits), positions and confirmations INTEGER.
STORED_AMOUNT_DIGITS = 22
MAX_STORED_INT = 2**31 - 1
MAX_CURRENCY_CODE = 10
MAX_MARKET_ID = 20

ANY = "any"  # a trading fee for every market, or every group
DEFAULT_GROUP = "vip-0"  # Peatio's default member group


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

    @property
    def codes(self) -> tuple[int, ...]:
        """Every account code of the chart that counts this currency's type."""
        t = self.type
        return (ASSET[t], LIABILITY_MAIN[t], LIABILITY_LOCKED[t], REVENUE[t], EXPENSE[t])


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


def currency_view(spec: CurrencySpec) -> dict[str, object]:
    """A currency spec as JSON (a configuration result's ``previous``/``current``)."""
    return {"code": spec.code, "type": spec.type, "precision": spec.precision}


def market_view(spec: MarketSpec) -> dict[str, object]:
    """A market spec as JSON; ``market_from_view`` reads it back (replay needs the rules a
    market had before its first logged change)."""
    return {
        "market": spec.id,
        "base": spec.base.code,
        "quote": spec.quote.code,
        "amount_precision": spec.amount_precision,
        "price_precision": spec.price_precision,
        "min_price": spec.min_price,
        "max_price": spec.max_price,
        "min_amount": spec.min_amount,
        "maker_fee": spec.maker_fee,
        "taker_fee": spec.taker_fee,
        "tradable": spec.tradable,
    }


def market_from_view(view: dict[str, object], currencies: dict[str, CurrencySpec]) -> MarketSpec:
    def number(name: str) -> int:
        value = view[name]
        assert isinstance(value, int)
        return value

    return MarketSpec(
        id=str(view["market"]),
        base=currencies[str(view["base"])],
        quote=currencies[str(view["quote"])],
        amount_precision=number("amount_precision"),
        price_precision=number("price_precision"),
        min_price=number("min_price"),
        max_price=number("max_price"),
        min_amount=number("min_amount"),
        maker_fee=number("maker_fee"),
        taker_fee=number("taker_fee"),
        tradable=bool(view["tradable"]),
    )
