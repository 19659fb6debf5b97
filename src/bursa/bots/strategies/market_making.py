"""``market_making``: a ladder around a moving reference, skewed by inventory.

The reference is the mid ``(best bid + best ask) / 2`` of the first source's book
(``reference: source``, the default) or of the target's own book (``reference: target``).
Without a two-sided reference book nothing is quoted and every open order is cancelled:
a market maker never quotes around a price it does not have.

**Spread and levels** (as ``fixed``): with ``h = spread/2 × ref`` (half the gap, in price
units), level ``i`` (from 0) sits at ``centre + h + i·step·ref`` (asks) and
``centre − h − i·step·ref`` (bids), ``amount`` base per level.

**Inventory skew.** ``q`` = the target account's base balance (available + locked) minus
``target_inventory``; ``u = clamp(q / max_position, −1, 1)``.

- Prices: ``centre = ref − skew × u × h``. Long (``q > 0``) lowers both quotes, short
  raises them; with ``skew ≤ 1`` the ask never goes below ``ref`` nor the bid above it.
- Sizes: the side that would grow ``|q|`` (bids when long, asks when short) quotes
  ``amount × (1 − skew × |u|)`` per level; the other side keeps ``amount``.
- Limit: orders never take the position past ``max_position``: bids in total fit in
  ``max_position − q``, asks in ``max_position + q`` (levels best first; the last one is cut
  to the room left, the rest dropped). At ``|q| ≥ max_position`` that side is not quoted.

``skew: 0`` turns price and size skew off (the limit stays).

**Funds.** Asks never sell more base than the account holds, bids never cost more quote
than it holds (available + locked: the locked part is mostly these very orders, about to
be replaced). A spot account cannot go short: to quote asks from a flat start, hold base
and say so with ``target_inventory``.

**model: avellaneda_stoikov.** With ``sigma`` (price units per √s), ``k`` (per price unit),
``gamma`` and ``horizon`` (s) given — e.g. read off ``bursa bots suggest``, see
``bursa.bots.assist`` for the model and units — the centre is the model's reservation price
``r = ref − q·γ·σ²·τ`` and ``h = (γ·σ²·τ + (2/γ)·ln(1 + γ/k)) / 2``; the linear price skew is
then not added (the model skews already), the size skew and the limit still apply. Without
``sigma`` and ``k`` it falls back to ``spread`` and the linear skew. The estimate is static
(from params): a ``View`` carrying live estimates is not in this slice.

Prices are rounded outward (asks up, bids down) to the market's tick, amounts down to its
lot, and an order below the market's minimum (or at a price ≤ 0) is dropped.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bursa.bots.strategies.fixed import MAX_LEVELS
from bursa.bots.strategy import (
    Book,
    Market,
    NewOrder,
    NotNegative,
    Plan,
    Positive,
    Side,
    Strategy,
    View,
    reconcile,
    round_amount,
    round_price,
)
from bursa.plain_input import PlainInt

if TYPE_CHECKING:
    from bursa.bots.config import StrategyConfig


class MarketMakingParams(BaseModel):
    """``params:`` of a ``market_making`` strategy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: Literal["source", "target"] = "source"
    spread: Positive  # best ask − best bid, a fraction of the reference
    amount: Positive  # per level, base
    levels: Annotated[PlainInt, Field(ge=1, le=MAX_LEVELS)] = 1
    step: NotNegative = Decimal(0)  # between levels, a fraction of the reference
    max_position: Positive  # |q| never grows past this, base
    target_inventory: NotNegative = Decimal(0)  # the base balance counted as flat
    skew: Annotated[NotNegative, Field(le=1)] = Decimal(1)
    model: Literal["spread", "avellaneda_stoikov"] = "spread"
    gamma: Positive | None = None  # A–S risk aversion
    horizon: Positive | None = None  # A–S τ, seconds
    sigma: Positive | None = None  # A–S σ, price units per √s
    k: Positive | None = None  # A–S k, per price unit

    @model_validator(mode="after")
    def _consistent(self) -> MarketMakingParams:
        if self.levels > 1 and self.step == 0:
            raise ValueError("step must be positive when there is more than one level")
        if self.spread / 2 + (self.levels - 1) * self.step >= 1:
            raise ValueError("spread/2 + (levels - 1) × step must stay below 1 (bids above 0)")
        if self.model == "avellaneda_stoikov" and (self.gamma is None or self.horizon is None):
            raise ValueError("model avellaneda_stoikov needs gamma and horizon")
        if (self.sigma is None) != (self.k is None):
            raise ValueError("give both sigma and k, or neither")
        return self


def source_key(strategy: Strategy[Any]) -> str | None:
    """The ``View.sources`` key of the strategy's first source, if it has one."""
    sources = strategy.config.sources
    return str(sources[0]) if sources else None


def mid(book: Book | None) -> Decimal | None:
    """The book's mid, None unless it has both a bid and an ask."""
    if book is None or book.bids.best is None or book.asks.best is None:
        return None
    return (book.bids.best + book.asks.best) / 2


def _decimal(x: float) -> Decimal:
    """A model's float as a decimal of 12 significant digits (no binary noise)."""
    return Decimal(f"{x:.12g}")


def centre_and_half(
    params: MarketMakingParams, ref: Decimal, q: Decimal
) -> tuple[Decimal, Decimal]:
    """The price the ladder centres on and its half-spread ``h`` (see the module's doc)."""
    p = params
    sigma, k, gamma_, tau_ = p.sigma, p.k, p.gamma, p.horizon
    if p.model == "avellaneda_stoikov" and sigma and k and gamma_ and tau_:
        gamma, var, tau = float(gamma_), float(sigma) ** 2, float(tau_)
        r = ref - _decimal(float(q) * gamma * var * tau)
        return r, _decimal((gamma * var * tau + (2 / gamma) * math.log1p(gamma / float(k))) / 2)
    half = p.spread / 2 * ref
    u = max(Decimal(-1), min(Decimal(1), q / p.max_position))
    return ref - p.skew * u * half, half


def desired_orders(
    params: MarketMakingParams,
    market: Market,
    ref: Decimal,
    base_total: Decimal,
    quote_total: Decimal | None = None,
) -> tuple[NewOrder, ...]:
    """The skewed ladder around ``ref`` for balances of ``base_total`` and ``quote_total``
    (None: not limited by quote): asks first, each side best first."""
    q = base_total - params.target_inventory
    u = min(Decimal(1), abs(q) / params.max_position)
    centre, half = centre_and_half(params, ref, q)
    grown: Side | None = "buy" if q > 0 else "sell" if q < 0 else None
    orders: list[NewOrder] = []
    sides: tuple[tuple[Side, int, Decimal], ...] = (
        ("sell", 1, min(params.max_position + q, base_total)),
        ("buy", -1, params.max_position - q),
    )
    for side, sign, room in sides:
        size = params.amount * (1 - params.skew * u) if side == grown else params.amount
        for level in range(params.levels):
            amount = round_amount(min(size, room), market.amount_precision)
            if amount <= 0 or amount < market.min_amount:
                break
            offset = half + level * params.step * ref
            price = round_price(centre + sign * offset, side, market.price_precision)
            if price <= 0:
                break
            if side == "buy" and quote_total is not None:
                amount = round_amount(min(amount, quote_total / price), market.amount_precision)
                if amount <= 0 or amount < market.min_amount:
                    break
                quote_total -= amount * price
            orders.append(NewOrder(side, price, amount))
            room -= amount
    return tuple(orders)


class MarketMaking(Strategy[MarketMakingParams]):
    """Keeps ``desired_orders`` around the reference mid on the target market."""

    Params = MarketMakingParams

    def __init__(self, config: StrategyConfig, params: MarketMakingParams) -> None:
        super().__init__(config, params)
        if params.reference == "source" and not config.sources:
            raise ValueError("market_making with reference: source needs one entry in sources")

    async def tick(self, view: View) -> Plan:
        if self.params.reference == "target":
            book: Book | None = view.book
        else:
            key = source_key(self)
            book = view.sources.get(key) if key is not None else None
        ref = mid(book)
        if ref is None or ref <= 0:
            return reconcile((), view.open_orders)
        base, quote = (
            view.balances.get(unit) for unit in (view.market.base_unit, view.market.quote_unit)
        )
        base_total = base.available + base.locked if base is not None else Decimal(0)
        quote_total = quote.available + quote.locked if quote is not None else Decimal(0)
        orders = desired_orders(self.params, view.market, ref, base_total, quote_total)
        return reconcile(orders, view.open_orders)
