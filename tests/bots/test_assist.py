"""Market-making assistance: estimates recovered from synthetic markets whose σ, A and k
are known, the model's formulas in the directions the paper gives, the plain fallbacks,
and ``bursa bots suggest`` against a real in-process Bursa with a day of trades."""

import asyncio
import json
import math
import random
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bursa.bench.demo_market import MARKET, MID, PAST_TRADES, SPREAD, busy_exchange
from bursa.bots.assist import (
    MIN_TRADES,
    Book,
    Estimates,
    Intensity,
    Trade,
    Volatility,
    estimate,
    fit_intensity,
    suggest,
)
from bursa.cli.bots_suggest import suggest as suggest_command

NOW = 1_700_000_000
BOOK = Book(((Decimal("99.5"), Decimal("1")),), ((Decimal("100.5"), Decimal("1")),))


def _walk(sigma: float, seconds: int, seed: int = 3, price: float = 100.0) -> list[Trade]:
    """One trade a second along an arithmetic random walk of σ price units per √s."""
    rng = random.Random(seed)
    trades = []
    for n in range(seconds):
        price += rng.gauss(0, sigma)
        trades.append(Trade(Decimal(f"{price:.4f}"), Decimal("1"), NOW - seconds + n))
    return trades


def _arrivals(a: float, k: float, seconds: int, seed: int = 5) -> list[Trade]:
    """Poisson arrivals at rate A, each a distance Exp(k) from the previous trade's price
    (the estimator's stand-in for the mid): λ(δ) = A·e^(−kδ)."""
    rng = random.Random(seed)
    trades: list[Trade] = []
    t, price = 0.0, 1000.0
    while True:
        t += rng.expovariate(a)
        if t >= seconds:
            return trades
        step = rng.expovariate(k)
        price += step if rng.random() < 0.5 else -step
        trades.append(Trade(Decimal(f"{price:.2f}"), Decimal("1"), NOW - seconds + int(t)))


def _estimates(sigma: float, k: float = 2.0, a: float = 0.5, mid: str = "100") -> Estimates:
    """Estimates as ``estimate`` would make them, with the numbers chosen."""
    return Estimates(
        trades=100,
        first_at=NOW - 3600,
        last_at=NOW,
        now=NOW,
        mid=Decimal(mid),
        mid_source="book mid",
        book_spread=Decimal("1"),
        best_bid=Decimal(mid) - Decimal("0.5"),
        best_ask=Decimal(mid) + Decimal("0.5"),
        volatility=Volatility(sigma, sigma / float(mid), 60, 60, Decimal(mid)),
        intensity=Intensity(a, k, 1.0, (), 99, 3600.0),
    )


def test_a_random_walk_gives_back_its_volatility() -> None:
    found = estimate(_walk(0.05, 4 * 3600), BOOK, NOW)
    assert found.volatility is not None
    assert found.volatility.returns == 4 * 60
    assert found.volatility.sigma == pytest.approx(0.05, rel=0.15)


def test_arrivals_give_back_their_intensity() -> None:
    trades = _arrivals(a=0.2, k=0.5, seconds=4 * 3600)
    found = estimate(trades, BOOK, NOW)
    assert found.intensity is not None and found.usable_intensity
    assert found.intensity.a == pytest.approx(0.2, rel=0.15)
    assert found.intensity.k == pytest.approx(0.5, rel=0.15)
    assert found.intensity.r2 > 0.95


def test_distances_that_do_not_decay_are_no_fit() -> None:
    level = [Trade(Decimal(100 + n % 2), Decimal(1), NOW - 3600 + 60 * n) for n in range(60)]
    found = estimate(level, BOOK, NOW)  # every trade one unit from the one before
    assert found.intensity is not None and found.intensity.k == 0
    assert not found.usable_intensity
    assert any("k = 0 ≤ 0" in note for note in found.notes)
    assert fit_intensity([], 3600.0) is None
    assert fit_intensity([0.0] * 50, 3600.0) is None


def test_the_spread_grows_with_sigma_and_with_gamma_as_the_formula_says() -> None:
    def spread(sigma: float, gamma: float) -> Decimal:
        quote = suggest(
            _estimates(sigma), gamma=gamma, horizon=600, inventory=Decimal(0), price_precision=4
        )
        assert quote.spread is not None
        expected = gamma * sigma**2 * 600 + (2 / gamma) * math.log(1 + gamma / 2.0)
        assert float(quote.spread) == pytest.approx(expected, abs=2e-4)  # outward rounding
        return quote.spread

    assert spread(0.01, 0.1) < spread(0.05, 0.1) < spread(0.1, 0.1)
    assert spread(0.05, 0.1) < spread(0.05, 1.0) < spread(0.05, 5.0)


def test_inventory_moves_the_reservation_price_against_it() -> None:
    def quote(q: str, model: str) -> tuple[Decimal, Decimal, Decimal]:
        found = suggest(
            _estimates(0.05),
            gamma=0.1,
            horizon=600,
            inventory=Decimal(q),
            price_precision=4,
            model="glft" if model == "glft" else "as",
        )
        assert found.reservation is not None and found.bid is not None and found.ask is not None
        return found.reservation, found.bid, found.ask

    for model in ("as", "glft"):
        flat, long, short = quote("0", model), quote("3", model), quote("-3", model)
        assert flat[0] == Decimal(100)
        assert long[0] < flat[0] < short[0]
        assert long[1] < flat[1] and long[2] < flat[2]  # both quotes move down: sell more
    assert quote("3", "as")[0] == Decimal("99.55")  # r = s − q·γ·σ²·τ = 100 − 3·0.1·0.0025·600


def test_quotes_are_rounded_outward_to_the_price_precision() -> None:
    found = suggest(
        _estimates(0.05), gamma=0.1, horizon=600, inventory=Decimal(0), price_precision=2
    )
    assert found.bid is not None and found.ask is not None and found.reservation is not None
    assert found.bid.as_tuple().exponent == found.ask.as_tuple().exponent == -2
    half = 0.1 * 0.05**2 * 600 / 2 + math.log(1 + 0.1 / 2.0) / 0.1
    assert float(found.bid) <= 100 - half < 100 + half <= float(found.ask)
    assert [step.name for step in found.steps] == ["s", "σ", "A, k", "r", "spread", "bid", "ask"]


def test_few_trades_fall_back_to_the_book_spread() -> None:
    trades = _walk(0.05, MIN_TRADES - 1)
    found = estimate(trades, BOOK, NOW)
    assert found.volatility is None and found.intensity is None
    assert any(f"only {MIN_TRADES - 1} trade(s)" in note for note in found.notes)
    quote = suggest(found, gamma=0.1, horizon=600, inventory=Decimal(1), price_precision=2)
    assert quote.model == "book spread (fallback)"
    assert (quote.bid, quote.ask) == (Decimal("99.50"), Decimal("100.50"))
    assert any("inventory cannot skew" in note for note in quote.notes)


def test_a_fit_without_decay_falls_back_but_keeps_the_inventory_skew() -> None:
    found = _estimates(0.05, k=-0.3)
    quote = suggest(found, gamma=0.1, horizon=600, inventory=Decimal(2), price_precision=4)
    assert quote.model == "book spread (fallback)"
    assert quote.reservation is not None and quote.reservation < Decimal(100)
    assert quote.spread == Decimal(1)


def test_no_book_and_no_trades_quote_nothing() -> None:
    found = estimate([], Book(), NOW)
    quote = suggest(found, gamma=0.1, horizon=600, inventory=Decimal(0), price_precision=2)
    assert (quote.bid, quote.ask, quote.model) == (None, None, "none")
    assert "no book and no trades" in " ".join(quote.notes)


async def test_suggest_reads_a_real_exchange(fresh_database_url: str, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    app = typer.Typer()
    app.command()(suggest_command)
    runner = CliRunner()
    async with busy_exchange(fresh_database_url, web_dist=tmp_path) as exchange:
        url = exchange.base_url
        answer = await asyncio.to_thread(
            runner.invoke, app, [MARKET, "--host", url, "--json", "--inventory", "0.5"]
        )
        shown = await asyncio.to_thread(runner.invoke, app, [MARKET, "--host", url])
        missing = await asyncio.to_thread(runner.invoke, app, ["nosuch", "--host", url])
    assert answer.exit_code == 0, answer.output
    found = json.loads(answer.output)
    assert found["trades"] == PAST_TRADES
    assert found["mid"] == str(MID) and found["book_spread"] == str(2 * SPREAD)
    assert found["model"] == "avellaneda-stoikov"
    assert found["sigma"] > 0 and found["k"] > 0 and found["a"] > 0
    bid, ask, r = Decimal(found["bid"]), Decimal(found["ask"]), Decimal(found["reservation_price"])
    assert bid < r < ask and r < MID  # long 0.5 BTC: quotes lean down
    assert bid == bid.quantize(Decimal("0.01")) and ask == ask.quantize(Decimal("0.01"))
    assert shown.exit_code == 0, shown.output
    for label in ("trades used", "reservation price", "fit R²", "spread quoted", "how"):
        assert label in shown.output
    assert missing.exit_code == 1
