"""Market-making assistance: the volatility and fill rate a market's own recent trades
show, and the quotes a published model draws from them. Pure: no I/O, no clock (the caller
passes ``now``), so a market maker recomputes it on every refresh from a fresh window and
``bursa bots suggest`` prints the same numbers with their arithmetic.

The model is Avellaneda & Stoikov (2008), "High-frequency trading in a limit order book",
Quantitative Finance 8(3), with the paper's names:

* the mid price ``s`` follows ``ds = σ dW``: σ in **price units per √second** (quote
  currency per base unit, per √s). It is measured as the standard deviation of log returns
  of the last trade price sampled every ``interval`` seconds (forward-filled: an interval
  without a trade returns 0), divided by √interval (σ_rel, per √s) and multiplied by the
  reference price (the book's mid, else the last trade) to put it in price units;
* market orders reach a quote at distance δ from the mid at rate ``λ(δ) = A·exp(−k·δ)``
  (A per second, k per price unit). Bursa's trade history keeps no book of the time, so the
  mid when a trade happened is approximated by **the previous trade's price**: each trade
  after the first gives one distance δ_i = |p_i − p_{i−1}|. A quote at δ is filled by every
  arrival that reaches δ or beyond, so λ(δ_j) = #{δ_i ≥ δ_j} / span at bucket edges δ_j
  (span: the first trade to ``now``), and ln λ = ln A − k·δ is fitted by least squares over
  the edges with at least ``MIN_BUCKET_COUNT`` arrivals; R² says how well it fits;
* with risk aversion γ (per unit of quote currency; the paper's orders are of one unit,
  and inventory q is counted in base units), horizon τ = T − t in seconds (kept constant: a
  rolling horizon, recomputed at each refresh):
  reservation price ``r = s − q·γ·σ²·τ``, total spread
  ``δa + δb = γ·σ²·τ + (2/γ)·ln(1 + γ/k)``, quotes ``r ± spread/2``.

Optionally (``model="glft"``), the infinite-horizon closed-form approximation of Guéant,
Lehalle & Fernandez-Tapia (2013), "Dealing with the inventory risk: a solution to the market
making problem", Mathematics and Financial Economics 7(4): with
``c = √(σ²·γ / (2·k·A) · (1 + γ/k)^(1 + k/γ))``,
``δb = (1/γ)·ln(1 + γ/k) + (2q + 1)/2 · c`` and ``δa = (1/γ)·ln(1 + γ/k) − (2q − 1)/2 · c``:
spread ``(2/γ)·ln(1 + γ/k) + c`` around ``r = s − q·c``. It uses A, where A–S does not.

Statistics (σ, A, k, R², the model's offsets) are floats: they are estimates, not money.
Prices at the edges are ``Decimal``: the mid, the book and the trades come in as decimals,
offsets are added to the decimal mid, and every price shown is rounded to the market's
price precision (the bid down and the ask up: outward, never narrower than the model).

Too few trades (fewer than ``MIN_TRADES``), or a fit that does not give a decay (k ≤ 0,
fewer than three usable buckets), is said plainly in ``notes`` and the quotes fall back to
the book's own spread (joined at its best bid and ask, around ``r`` when σ is known); with
no book either, nothing is quoted. Nothing is made up.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Literal

MIN_TRADES = 30
MIN_BUCKET_COUNT = 5  # fewer arrivals past an edge are too noisy for ln λ
BUCKETS = 12
INTERVAL = 60  # seconds between σ's samples
Model = Literal["as", "glft"]


@dataclass(frozen=True, slots=True)
class Trade:
    """A public trade: price and amount as decimals, ``at`` in Unix seconds."""

    price: Decimal
    amount: Decimal
    at: int
    taker_type: str = ""


@dataclass(frozen=True, slots=True)
class Book:
    """Price levels (price, volume), best first."""

    bids: tuple[tuple[Decimal, Decimal], ...] = ()
    asks: tuple[tuple[Decimal, Decimal], ...] = ()

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return (self.best_bid + self.best_ask) / 2

    @property
    def spread(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_ask - self.best_bid


@dataclass(frozen=True, slots=True)
class Volatility:
    sigma: float  # price units per √s
    relative: float  # σ_rel: log-return standard deviation per √s
    returns: int  # number of interval returns
    interval: int  # seconds
    reference: Decimal  # the price σ_rel is scaled by


@dataclass(frozen=True, slots=True)
class Intensity:
    """``λ(δ) = A·exp(−k·δ)`` fitted on ``points`` (δ_j, λ_j)."""

    a: float  # per second
    k: float  # per price unit
    r2: float
    points: tuple[tuple[float, float], ...]
    arrivals: int  # distances measured (trades after the first)
    span: float  # seconds the arrivals were counted over


@dataclass(frozen=True, slots=True)
class Estimates:
    trades: int
    first_at: int | None
    last_at: int | None
    now: int
    mid: Decimal | None  # the price the model centres on (book mid, else last trade)
    mid_source: str  # "book mid", "last trade" or "none"
    book_spread: Decimal | None
    best_bid: Decimal | None
    best_ask: Decimal | None
    volatility: Volatility | None
    intensity: Intensity | None
    notes: tuple[str, ...] = ()

    @property
    def usable_intensity(self) -> bool:
        return self.intensity is not None and self.intensity.k > 0 and self.intensity.a > 0


@dataclass(frozen=True, slots=True)
class Step:
    """One line of arithmetic: what was computed, how, and the result."""

    name: str
    formula: str
    value: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    model: str  # "avellaneda-stoikov", "glft" or "book spread (fallback)" / "none"
    gamma: float
    horizon: float
    inventory: Decimal
    reservation: Decimal | None
    spread: Decimal | None  # as quoted: ask − bid after rounding
    bid: Decimal | None
    ask: Decimal | None
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def _g(x: float) -> str:
    return f"{x:.6g}"


def volatility(
    trades: Sequence[Trade], now: int, reference: Decimal, interval: int = INTERVAL
) -> Volatility | None:
    """σ from ``trades`` (oldest first) sampled every ``interval`` seconds up to ``now``
    (see the module's doc); None with fewer than two returns or a non-positive price."""
    if not trades or reference <= 0 or any(t.price <= 0 for t in trades):
        return None
    start = trades[0].at
    samples = (now - start) // interval
    if samples < 2:
        return None
    prices: list[float] = []
    index, last = 0, float(trades[0].price)
    for n in range(samples + 1):
        edge = start + n * interval
        while index < len(trades) and trades[index].at <= edge:
            last = float(trades[index].price)
            index += 1
        prices.append(last)
    returns = [math.log(b / a) for a, b in itertools.pairwise(prices)]
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    relative = math.sqrt(variance / interval)
    return Volatility(relative * float(reference), relative, len(returns), interval, reference)


def distances(trades: Sequence[Trade]) -> list[float]:
    """δ_i = |p_i − p_{i−1}|: each trade's distance from the mid it met, the mid taken to
    be the previous trade's price (the module's doc says why)."""
    return [float(abs(b.price - a.price)) for a, b in itertools.pairwise(trades)]


def fit_intensity(found: Sequence[float], span: float, buckets: int = BUCKETS) -> Intensity | None:
    """A and k by least squares of ln λ(δ_j) on δ_j, edges evenly spaced from 0 to the
    90th percentile of the distances; None when fewer than three edges are usable."""
    if span <= 0 or len(found) < MIN_BUCKET_COUNT:
        return None
    ordered = sorted(found)
    top = ordered[int(0.9 * (len(ordered) - 1))]
    if top <= 0:
        return None
    points: list[tuple[float, float]] = []
    for j in range(buckets):
        edge = top * j / (buckets - 1)
        count = sum(1 for d in ordered if d >= edge)
        if count >= MIN_BUCKET_COUNT:
            points.append((edge, count / span))
    if len(points) < 3:
        return None
    xs = [x for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    total = sum((y - my) ** 2 for y in ys)
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1 - residual / total if total > 0 else 0.0
    return Intensity(math.exp(intercept), 0.0 - slope, r2, tuple(points), len(found), span)


def estimate(
    trades: Sequence[Trade],
    book: Book,
    now: int,
    *,
    interval: int = INTERVAL,
    min_trades: int = MIN_TRADES,
) -> Estimates:
    """σ, A and k from ``trades`` (any order) and the book at ``now`` (Unix seconds)."""
    ordered = sorted(trades, key=lambda t: t.at)
    notes: list[str] = []
    mid, source = book.mid, "book mid"
    if mid is None and ordered:
        mid, source = ordered[-1].price, "last trade"
        notes.append("the book has no bid or no ask: the last trade's price stands for the mid")
    elif mid is None:
        source = "none"
        notes.append("no book and no trades: there is no price to quote around")
    sigma: Volatility | None = None
    intensity: Intensity | None = None
    if len(ordered) < min_trades:
        notes.append(
            f"only {len(ordered)} trade(s), fewer than {min_trades}: σ and λ(δ) are not estimated"
        )
    elif mid is not None:
        sigma = volatility(ordered, now, mid, interval)
        if sigma is None:
            notes.append(
                f"the trades span less than two {interval} s intervals: σ is not estimated"
            )
        intensity = fit_intensity(distances(ordered), float(now - ordered[0].at))
        if intensity is None:
            notes.append(
                "trade distances do not spread over three buckets of"
                f" {MIN_BUCKET_COUNT}+ arrivals: λ(δ) is not fitted"
            )
        elif intensity.k <= 0:
            notes.append(
                f"the fit gives k = {_g(intensity.k)} ≤ 0 (fills do not thin out with"
                " distance): the model's spread is not used"
            )
    return Estimates(
        trades=len(ordered),
        first_at=ordered[0].at if ordered else None,
        last_at=ordered[-1].at if ordered else None,
        now=now,
        mid=mid,
        mid_source=source,
        book_spread=book.spread,
        best_bid=book.best_bid,
        best_ask=book.best_ask,
        volatility=sigma,
        intensity=intensity,
        notes=tuple(notes),
    )


def _decimal(x: float) -> Decimal:
    """A statistic as a decimal to 12 significant digits (``0.1 + 0.2`` is ``0.3``): more
    than any estimate here is worth, and no binary noise to round outward by a tick."""
    return Decimal(f"{x:.12g}")


@dataclass(slots=True)
class _Working:
    """What ``suggest`` builds up: the quantum to show prices at, the steps, the notes."""

    quantum: Decimal
    steps: list[Step]
    notes: list[str]

    def price(self, x: Decimal) -> str:
        return f"{x.quantize(self.quantum, ROUND_HALF_EVEN):f}"

    def step(self, name: str, formula: str, value: str) -> None:
        self.steps.append(Step(name, formula, value))


def _glft_c(vol: Volatility, lam: Intensity, gamma: float, w: _Working) -> float:
    """GLFT's ``c = √(σ²γ/(2kA)·(1+γ/k)^(1+k/γ))``, the power taken in logs."""
    power = math.exp((1 + lam.k / gamma) * math.log1p(gamma / lam.k))
    c = math.sqrt(vol.sigma**2 * gamma / (2 * lam.k * lam.a) * power)
    w.step(
        "c",
        f"√(σ²·γ/(2·k·A)·(1+γ/k)^(1+k/γ)) = √({_g(vol.sigma**2)}·{_g(gamma)}"
        f"/(2·{_g(lam.k)}·{_g(lam.a)})·{_g(1 + gamma / lam.k)}^{_g(1 + lam.k / gamma)})",
        _g(c),
    )
    return c


def _reservation(
    s: Decimal,
    vol: Volatility | None,
    c: float | None,
    gamma: float,
    horizon: float,
    inventory: Decimal,
    w: _Working,
) -> Decimal:
    """``r = s − q·γ·σ²·τ`` (A–S) or ``s − q·c`` (GLFT); ``s`` without σ."""
    q = float(inventory)
    if vol is None:
        if inventory:
            w.notes.append("without σ the inventory cannot skew the quotes: r = s")
        return s
    if c is not None:
        r = s - _decimal(q * c)
        w.step("r", f"s − q·c = {w.price(s)} − {q:g}·{_g(c)}", w.price(r))
        return r
    var = vol.sigma**2
    r = s - _decimal(q * gamma * var * horizon)
    w.step(
        "r",
        f"s − q·γ·σ²·τ = {w.price(s)} − {q:g}·{_g(gamma)}·{_g(var)}·{horizon:g}",
        w.price(r),
    )
    return r


def _model_spread(
    vol: Volatility, lam: Intensity, c: float | None, gamma: float, horizon: float, w: _Working
) -> tuple[str, float]:
    """The model's total spread δa + δb, and the model's name."""
    fill = (2 / gamma) * math.log1p(gamma / lam.k)
    fill_text = f"(2/{_g(gamma)})·ln(1+{_g(gamma)}/{_g(lam.k)})"
    if c is not None:
        spread = fill + c
        w.step(
            "spread",
            f"(2/γ)·ln(1+γ/k) + c = {fill_text} + {_g(c)} = {_g(fill)} + {_g(c)}",
            _g(spread),
        )
        return "glft", spread
    risk = gamma * vol.sigma**2 * horizon
    spread = risk + fill
    w.step(
        "spread",
        f"γ·σ²·τ + (2/γ)·ln(1+γ/k) = {_g(gamma)}·{_g(vol.sigma**2)}·{horizon:g}"
        f" + {fill_text} = {_g(risk)} + {_g(fill)}",
        _g(spread),
    )
    return "avellaneda-stoikov", spread


def suggest(
    found: Estimates,
    *,
    gamma: float,
    horizon: float,
    inventory: Decimal,
    price_precision: int,
    model: Model = "as",
) -> Suggestion:
    """The quotes ``model`` gives for ``found``, with each step's arithmetic (see the
    module's doc for the formulas and the fallbacks)."""
    if not (gamma > 0 and horizon > 0):
        raise ValueError("γ and the horizon must be positive")
    w = _Working(Decimal(1).scaleb(-price_precision), [], list(found.notes))

    def nothing(why: str, name: str = "none") -> Suggestion:
        w.notes.append(why)
        return Suggestion(
            name,
            gamma,
            horizon,
            inventory,
            None,
            None,
            None,
            None,
            tuple(w.steps),
            tuple(w.notes),
        )

    s = found.mid
    if s is None:
        return nothing("nothing is quoted")
    w.step("s", found.mid_source, w.price(s))
    vol, lam = found.volatility, found.intensity
    if vol is not None:
        w.step(
            "σ",
            f"std of {vol.returns} log returns per {vol.interval} s / √{vol.interval}"
            f" = {_g(vol.relative)} /√s; × {w.price(vol.reference)}",
            f"{_g(vol.sigma)} per √s",
        )
    if lam is not None:
        w.step(
            "A, k",
            f"ln λ(δ) = ln A − k·δ, least squares on {len(lam.points)} edges,"
            f" {lam.arrivals} arrivals over {lam.span:.0f} s (R² = {lam.r2:.3f})",
            f"A = {_g(lam.a)} /s, k = {_g(lam.k)} per price unit",
        )
    fitted = lam if found.usable_intensity else None
    c = _glft_c(vol, fitted, gamma, w) if vol and fitted and model == "glft" else None
    r = _reservation(s, vol, c, gamma, horizon, inventory, w)
    if vol is not None and fitted is not None:
        name, spread = _model_spread(vol, fitted, c, gamma, horizon, w)
        half, half_text = _decimal(spread / 2), _g(spread / 2)
    elif found.book_spread is not None and found.book_spread > 0:
        name = "book spread (fallback)"
        w.notes.append("the model's spread is not available: the book's own spread is used")
        half = found.book_spread / 2
        half_text = f"{half:f}"
        w.step("spread", "best ask − best bid (fallback)", w.price(found.book_spread))
    else:
        return nothing("no model spread and no two-sided book: nothing is quoted")
    bid = (r - half).quantize(w.quantum, ROUND_FLOOR)
    ask = (r + half).quantize(w.quantum, ROUND_CEILING)
    w.step("bid", f"r − spread/2 = {w.price(r)} − {half_text}, rounded down", f"{bid:f}")
    w.step("ask", f"r + spread/2 = {w.price(r)} + {half_text}, rounded up", f"{ask:f}")
    if bid <= 0:
        return nothing(f"the bid would be {bid:f} ≤ 0: nothing is quoted", name)
    if found.best_ask is not None and bid >= found.best_ask:
        w.notes.append(f"the bid {bid:f} reaches the best ask {found.best_ask:f}: it would take")
    if found.best_bid is not None and ask <= found.best_bid:
        w.notes.append(f"the ask {ask:f} reaches the best bid {found.best_bid:f}: it would take")
    return Suggestion(
        name,
        gamma,
        horizon,
        inventory,
        r.quantize(w.quantum, ROUND_HALF_EVEN),
        ask - bid,
        bid,
        ask,
        tuple(w.steps),
        tuple(w.notes),
    )
