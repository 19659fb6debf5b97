"""``bursa bots …``: the bots that trade on an exchange through its public API."""

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bursa.bots.config import BotsConfig, ConfigError, read_config
from bursa.cli.bots_suggest import suggest
from bursa.formats import decimal_text

bots_app = typer.Typer(
    help="Bots: market making and liquidity through an exchange's API.", no_args_is_help=True
)


@bots_app.callback()
def bots() -> None:
    """Bots: market making and liquidity through an exchange's API."""


@bots_app.command()
def check(
    config: Annotated[Path, typer.Argument(help="the bots' YAML file", show_default=False)],
) -> None:
    """Check a bots' file: its fields, strategies' params, accounts and the environment
    variables holding their API keys (named, never shown). Exit 1 listing every problem."""
    errors = Console(stderr=True, highlight=False)
    if not config.is_file():
        errors.print(f"[bold red]error:[/] {escape(str(config))}: no such file")
        raise typer.Exit(1)
    try:
        bots = read_config(config, environ=os.environ)
    except ConfigError as exc:
        for line in exc.lines:
            errors.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True)
        errors.print(f"[yellow]hint:[/] {len(exc.problems)} problem(s); nothing was started")
        raise typer.Exit(1) from None
    _summary(Console(highlight=False), bots)


def _summary(console: Console, bots: BotsConfig) -> None:
    accounts = Table("account", "driver", "keys from", "delay (s)")
    accounts.add_column("host / exchange", overflow="fold")
    for account in bots.accounts.values():
        keys = f"{account.key_env}, {account.secret_env}" if account.has_keys else "(public)"
        low, high = (decimal_text(d) for d in account.delay)
        accounts.add_row(
            account.id,
            account.driver,
            keys,
            low if low == high else f"{low}–{high}",
            escape(account.host or account.exchange or ""),
        )
    strategies = Table("strategy", "type", "period (s)", "target", "sources", "on stop")
    for entry in bots.strategies:
        strategy = entry.config
        period = decimal_text(strategy.period)
        if strategy.period_random_delay:
            period += f" +≤{decimal_text(strategy.period_random_delay)}"
        strategies.add_row(
            strategy.id + ("" if strategy.enabled else " [dim](disabled)[/]"),
            strategy.type,
            period,
            str(strategy.target),
            ", ".join(map(str, strategy.sources)) or "-",
            strategy.on_stop,
        )
    console.print(accounts)
    console.print(strategies)
    if bots.kill_switch is not None:
        console.print(f"kill switch file: {escape(str(bots.kill_switch))}")
    console.print(f"[green]ok:[/] {escape(bots.source)} (log level {bots.log_level})")


bots_app.command("suggest")(suggest)
