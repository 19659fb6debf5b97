"""The engine's view of the configured currencies and markets, read from PostgreSQL.

Every currency is included whatever its state (balances in a disabled currency still
exist); every market too, so that open orders of a disabled or locked market are restored
to their book, but only ``enabled`` and ``hidden`` markets accept new orders.
"""

from decimal import Decimal

import asyncpg

from bursa.engine.specs import FEE_SCALE, TRADABLE_STATES, CurrencySpec, MarketSpec
from bursa.engine.units import to_units

FEE_PLACES = len(str(FEE_SCALE)) - 1  # millionths: 6 decimals


class InvalidSpec(ValueError):
    """A stored currency or market cannot be expressed in the engine's integers."""


async def load_specs(conn: asyncpg.Connection) -> tuple[list[CurrencySpec], list[MarketSpec]]:
    """All currencies and markets as engine specs, in position order."""
    currency_rows = await conn.fetch(
        "SELECT id, type, precision FROM currencies ORDER BY position, id"
    )
    currencies = [CurrencySpec(r["id"], r["type"], r["precision"]) for r in currency_rows]
    by_code = {c.code: c for c in currencies}
    market_rows = await conn.fetch(
        "SELECT id, base_unit, quote_unit, amount_precision, price_precision, min_price,"
        " max_price, min_amount, maker_fee, taker_fee, state"
        " FROM markets ORDER BY position, id"
    )
    markets = []
    for row in market_rows:
        market = row["id"]
        base, quote = by_code.get(row["base_unit"]), by_code.get(row["quote_unit"])
        if base is None or quote is None:
            raise InvalidSpec(f"market {market}: unknown base or quote currency")
        price_places, amount_places = row["price_precision"], row["amount_precision"]
        try:
            markets.append(
                MarketSpec(
                    id=market,
                    base=base,
                    quote=quote,
                    amount_precision=amount_places,
                    price_precision=price_places,
                    min_price=to_units(_decimal(row["min_price"]), price_places),
                    max_price=to_units(_decimal(row["max_price"]), price_places),
                    min_amount=to_units(_decimal(row["min_amount"]), amount_places),
                    maker_fee=to_units(_decimal(row["maker_fee"]), FEE_PLACES),
                    taker_fee=to_units(_decimal(row["taker_fee"]), FEE_PLACES),
                    tradable=row["state"] in TRADABLE_STATES,
                )
            )
        except ValueError as exc:
            raise InvalidSpec(f"market {market}: {exc}") from exc
    return currencies, markets


def _decimal(value: object) -> Decimal:
    if not isinstance(value, Decimal):
        raise InvalidSpec(f"expected a NUMERIC value, got {type(value).__name__}")
    return value
