"""``bursa bots suggest MARKET``: the volatility and fill rate a market's recent trades
show, and the quotes Avellaneda–Stoikov (or GLFT) would draw from them, with the arithmetic
of each step, so an operator sees why before a market maker quotes so
(``bursa.bots.assist`` has the formulas, ``bursa.bots.market_data`` the reading)."""

import asyncio
import json as json_module
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bursa.bots import assist
from bursa.bots.market_data import MarketDataError, Observation, observe
from bursa.cli.errors import fail
from bursa.formats import decimal_text
from bursa.plain_input import NotPlain, parse_amount

console = Console()


def _when(at: int | None) -> str:
    return "—" if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _text(value: Decimal | None, precision: int | None = None) -> str:
    if value is None:
        return "—"
    if precision is not None:
        value = value.quantize(Decimal(1).scaleb(-precision))
    return f"{value:f}"


def _as_json(
    seen: Observation, found: assist.Estimates, quote: assist.Suggestion
) -> dict[str, Any]:
    vol, lam = found.volatility, found.intensity
    return {
        "market": seen.market.id,
        "now": seen.now,
        "trades": found.trades,
        "first_trade_at": found.first_at,
        "last_trade_at": found.last_at,
        "mid": decimal_text(found.mid),
        "mid_source": found.mid_source,
        "book_spread": decimal_text(found.book_spread),
        "sigma": None if vol is None else vol.sigma,
        "sigma_relative": None if vol is None else vol.relative,
        "sigma_returns": None if vol is None else vol.returns,
        "interval": None if vol is None else vol.interval,
        "a": None if lam is None else lam.a,
        "k": None if lam is None else lam.k,
        "r2": None if lam is None else lam.r2,
        "model": quote.model,
        "gamma": quote.gamma,
        "horizon": quote.horizon,
        "inventory": decimal_text(quote.inventory),
        "reservation_price": decimal_text(quote.reservation),
        "spread": decimal_text(quote.spread),
        "bid": decimal_text(quote.bid),
        "ask": decimal_text(quote.ask),
        "steps": [{"name": s.name, "formula": s.formula, "value": s.value} for s in quote.steps],
        "notes": list(quote.notes),
    }


def _print(seen: Observation, found: assist.Estimates, quote: assist.Suggestion) -> None:
    vol, lam = found.volatility, found.intensity
    unit = seen.market.quote_unit.upper()
    precision = seen.market.price_precision
    span = "—"
    if found.first_at is not None and found.last_at is not None:
        span = f"{_when(found.first_at)} → {_when(found.last_at)}"
    table = Table("estimate", "value", title=f"{seen.market.id}: {quote.model}")
    rows = [
        ("trades used", str(found.trades)),
        ("time span", span),
        ("σ", "—" if vol is None else f"{vol.sigma:.6g} {unit} per √s"),
        ("A", "—" if lam is None else f"{lam.a:.6g} fills per s at δ = 0"),
        ("k", "—" if lam is None else f"{lam.k:.6g} per {unit}"),
        ("fit R²", "—" if lam is None else f"{lam.r2:.3f}"),
        (f"mid ({found.mid_source})", _text(found.mid, precision)),
        ("book spread", _text(found.book_spread, precision)),
        ("γ, τ, q", f"{quote.gamma:g}, {quote.horizon:g} s, {quote.inventory:f}"),
        ("reservation price", _text(quote.reservation)),
        ("spread quoted", _text(quote.spread)),
        ("bid", _text(quote.bid)),
        ("ask", _text(quote.ask)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    steps = Table(title="how")
    steps.add_column("step", no_wrap=True)
    steps.add_column("arithmetic", overflow="fold")  # wrapped, never cut: the point of it
    steps.add_column("result", overflow="fold")
    for step in quote.steps:
        steps.add_row(step.name, step.formula, step.value)
    console.print(steps)
    for note in quote.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def suggest(
    market: Annotated[str, typer.Argument(help="Market id, e.g. btcusdt")],
    host: Annotated[str, typer.Option(help="The exchange's base URL")] = "http://127.0.0.1:8000",
    gamma: Annotated[
        float, typer.Option(help="Risk aversion γ, per unit of quote currency", min=1e-12)
    ] = 0.1,
    horizon: Annotated[
        float, typer.Option(help="Horizon τ = T − t in seconds (A–S; rolling)", min=1e-9)
    ] = 3600.0,
    inventory: Annotated[
        str, typer.Option(help="Inventory q in base units (negative: short)")
    ] = "0",
    model: Annotated[
        str, typer.Option(help="as: Avellaneda–Stoikov; glft: Guéant–Lehalle–Fernandez-Tapia")
    ] = "as",
    window: Annotated[
        int, typer.Option(help="Seconds of trades to estimate from", min=60)
    ] = 86_400,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Estimate σ and the fill rate λ(δ) = A·e^(−kδ) from MARKET's recent trades and book,
    and print the quotes the model would use, with the arithmetic of each step."""
    try:
        q = parse_amount(inventory, signed=True)
    except NotPlain:
        fail(f"--inventory {inventory!r} is not a plain decimal", "e.g. --inventory -0.5")
    if model not in ("as", "glft"):
        fail(f"--model {model!r} is not a model", "as or glft")
    try:
        seen = asyncio.run(observe(host, market, window=window))
    except MarketDataError as exc:
        fail(f"cannot read {market} from {host}: {exc}", "check --host and the market id")
    found = assist.estimate(seen.trades, seen.book, seen.now)
    quote = assist.suggest(
        found,
        gamma=gamma,
        horizon=horizon,
        inventory=q,
        price_precision=seen.market.price_precision,
        model="glft" if model == "glft" else "as",
    )
    if json:
        typer.echo(json_module.dumps(_as_json(seen, found, quote)))
    else:
        _print(seen, found, quote)
