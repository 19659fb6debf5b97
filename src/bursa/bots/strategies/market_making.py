"""``market_making``: a ladder around a moving reference, skewed by inventory.

The reference is the mid ``(best bid + best ask) / 2`` of the first source's book
(``reference: source``, the default) or of the target's own book without this strategy's
own orders (``reference: target``: centred on its own quotes, it would chase its own price).
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

**model: avellaneda_stoikov** (or **glft**). The centre and ``h`` come from a published
model (see ``bursa.bots.assist`` for the models and units), with ``gamma`` (and, for A–S,
``horizon`` in s):

- A–S: the reservation price ``r = ref − q·γ·σ²·τ`` and
  ``h = (γ·σ²·τ + (2/γ)·ln(1 + γ/k)) / 2``;
- GLFT: ``c = √(σ²·γ/(2·k·A)·(1 + γ/k)^(1 + k/γ))``, ``r = ref − q·c`` and
  ``h = ((2/γ)·ln(1 + γ/k) + c) / 2``.

The linear price skew is then not added (the model skews already); the size skew and the
limit still apply. σ (price units per √s), k (per price unit) and, for GLFT, A (per s) are
either **static** — ``sigma``, ``k`` (and ``a``) in params, e.g. read off ``bursa bots
suggest`` — or, when they are not given, **live**: the strategy asks the runner for the
target market's recent public trades (``wants_trades``) and every ``refresh`` seconds
(default 60) estimates them with ``bursa.bots.assist.estimate`` from those trades and the
target's book. Until an estimate is usable (σ measured, a fit with k > 0: it takes at
least ``assist.MIN_TRADES`` trades over two minutes) it quotes with ``spread`` and the
linear skew, and says why once at info; afterwards it keeps the last usable estimate (a
later unusable one changes nothing) and logs σ, k and the resulting spread at info
whenever they change.

Prices are rounded outward (asks up, bids down) to the market's tick, amounts down to its
lot, and an order below the market's minimum (or at a price ≤ 0) is dropped.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bursa.bots import assist
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
    without_own,
)
from bursa.plain_input import PlainInt

if TYPE_CHECKING:
    from bursa.bots.config import StrategyConfig

log = logging.getLogger(__name__)


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
    model: Literal["spread", "avellaneda_stoikov", "glft"] = "spread"
    gamma: Positive | None = None  # the models' risk aversion
    horizon: Positive | None = None  # A–S τ, seconds
    sigma: Positive | None = None  # σ, price units per √s (static; live when not given)
    k: Positive | None = None  # k, per price unit (static; live when not given)
    a: Positive | None = None  # GLFT's A, per second (static; live when not given)
    refresh: Positive = Decimal(60)  # seconds between live estimates

    @model_validator(mode="after")
    def _consistent(self) -> MarketMakingParams:
        if self.levels > 1 and self.step == 0:
            raise ValueError("step must be positive when there is more than one level")
        if self.spread / 2 + (self.levels - 1) * self.step >= 1:
            raise ValueError("spread/2 + (levels - 1) × step must stay below 1 (bids above 0)")
        if self.model == "avellaneda_stoikov" and (self.gamma is None or self.horizon is None):
            raise ValueError("model avellaneda_stoikov needs gamma and horizon")
        if self.model == "glft" and self.gamma is None:
            raise ValueError("model glft needs gamma")
        if (self.sigma is None) != (self.k is None):
            raise ValueError("give both sigma and k, or neither")
        if self.a is not None and self.model != "glft":
            raise ValueError("a is GLFT's A: give it with model glft only")
        if self.model == "glft" and (self.sigma is None) != (self.a is None):
            raise ValueError("model glft needs sigma, k and a, or none of them (live)")
        return self

    @property
    def live(self) -> bool:
        """A model without static estimates: σ and k (and A) come from the market."""
        return self.model != "spread" and self.sigma is None


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """What a model needs from the market: σ (price units per √s), k (per price unit) and,
    for GLFT, A (per second). Floats: they are estimates, not money."""

    sigma: float
    k: float
    a: float | None = None


def static_inputs(params: MarketMakingParams) -> ModelInputs | None:
    """The estimates ``params`` give, if any."""
    if params.sigma is None or params.k is None:
        return None
    a = float(params.a) if params.a is not None else None
    return ModelInputs(float(params.sigma), float(params.k), a)


def live_inputs(found: assist.Estimates) -> ModelInputs | None:
    """The estimates of ``found`` if a model can use them: σ measured and λ(δ) fitted with
    a decay (k > 0, A > 0)."""
    if found.volatility is None or found.intensity is None or not found.usable_intensity:
        return None
    return ModelInputs(found.volatility.sigma, found.intensity.k, found.intensity.a)


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


def _model(params: MarketMakingParams, inputs: ModelInputs | None) -> tuple[float, float] | None:
    """The model's ``(shift per unit of q, total spread)`` in price units, None when the
    model is off or lacks what it needs."""
    gamma_ = params.gamma
    if inputs is None or gamma_ is None or params.model == "spread":
        return None
    gamma, var, k = float(gamma_), inputs.sigma**2, inputs.k
    fill = (2 / gamma) * math.log1p(gamma / k)
    if params.model == "glft":
        if inputs.a is None:
            return None
        power = math.exp((1 + k / gamma) * math.log1p(gamma / k))
        c = math.sqrt(var * gamma / (2 * k * inputs.a) * power)
        return c, fill + c
    if params.horizon is None:
        return None
    risk = gamma * var * float(params.horizon)
    return risk, risk + fill


def centre_and_half(
    params: MarketMakingParams, ref: Decimal, q: Decimal, inputs: ModelInputs | None = None
) -> tuple[Decimal, Decimal]:
    """The price the ladder centres on and its half-spread ``h`` (see the module's doc);
    ``inputs`` (default: the params' own) feed the model."""
    model = _model(params, inputs if inputs is not None else static_inputs(params))
    if model is not None:
        shift, spread = model
        return ref - _decimal(float(q) * shift), _decimal(spread / 2)
    half = params.spread / 2 * ref
    u = max(Decimal(-1), min(Decimal(1), q / params.max_position))
    return ref - params.skew * u * half, half


def desired_orders(
    params: MarketMakingParams,
    market: Market,
    ref: Decimal,
    base_total: Decimal,
    quote_total: Decimal | None = None,
    inputs: ModelInputs | None = None,
) -> tuple[NewOrder, ...]:
    """The skewed ladder around ``ref`` for balances of ``base_total`` and ``quote_total``
    (None: not limited by quote): asks first, each side best first. ``inputs``: live
    estimates for the model (default: the params')."""
    q = base_total - params.target_inventory
    u = min(Decimal(1), abs(q) / params.max_position)
    centre, half = centre_and_half(params, ref, q, inputs)
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


def _assist_book(book: Book) -> assist.Book:
    return assist.Book(
        bids=tuple((level.price, level.amount) for level in book.bids.levels),
        asks=tuple((level.price, level.amount) for level in book.asks.levels),
    )


class MarketMaking(Strategy[MarketMakingParams]):
    """Keeps ``desired_orders`` around the reference mid on the target market; with a
    model and no static estimates, estimates σ and k from the target's trades (live)."""

    Params = MarketMakingParams

    def __init__(self, config: StrategyConfig, params: MarketMakingParams) -> None:
        super().__init__(config, params)
        if params.reference == "source" and not config.sources:
            raise ValueError("market_making with reference: source needs one entry in sources")
        self.wants_trades = params.live  # only a live estimate needs the public trades
        self.estimate: ModelInputs | None = None  # the last usable live estimate
        self._estimated_at: float | None = None
        self._said_why = False

    def _refresh(self, view: View, ref: Decimal) -> None:
        """A new live estimate, at most every ``refresh`` seconds (see the module's doc)."""
        if self._estimated_at is not None and view.now - self._estimated_at < self.params.refresh:
            return
        self._estimated_at = view.now
        found = assist.estimate(view.trades, _assist_book(view.book), now=int(view.now))
        inputs = live_inputs(found)
        name = self.config.id
        if inputs is None:
            why = "; ".join(found.notes) or "no usable estimate"
            if self.estimate is not None:
                log.debug("%s: the new estimate is not usable (%s): the last one stays", name, why)
            elif not self._said_why:
                log.info(
                    "%s: no usable estimate of σ and k yet (%s): quoting with spread %s and"
                    " the linear skew",
                    name,
                    why,
                    self.params.spread,
                )
                self._said_why = True
            return
        if inputs == self.estimate:
            return
        self.estimate = inputs
        model = _model(self.params, inputs)
        spread = model[1] if model is not None else float("nan")
        a = f", A = {inputs.a:.6g} /s" if self.params.model == "glft" else ""
        log.info(
            "%s: live estimate from %d trades: σ = %.6g per √s, k = %.6g per price unit%s:"
            " spread %.6g (%.4g%% of %s)",
            name,
            found.trades,
            inputs.sigma,
            inputs.k,
            a,
            spread,
            100 * spread / float(ref),
            ref,
        )

    async def tick(self, view: View) -> Plan:
        if self.params.reference == "target":
            book: Book | None = without_own(view.book, view.open_orders)
        else:
            key = source_key(self)
            book = view.sources.get(key) if key is not None else None
        ref = mid(book)
        if ref is None or ref <= 0:
            return reconcile((), view.open_orders)
        if self.params.live:
            self._refresh(view, ref)
        base, quote = (
            view.balances.get(unit) for unit in (view.market.base_unit, view.market.quote_unit)
        )
        base_total = base.available + base.locked if base is not None else Decimal(0)
        quote_total = quote.available + quote.locked if quote is not None else Decimal(0)
        orders = desired_orders(
            self.params, view.market, ref, base_total, quote_total, self.estimate
        )
        return reconcile(orders, view.open_orders)
