"""``bursa bots …``: the bots that trade on an exchange through its public API."""

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bursa.bots.config import BotsConfig, ConfigError, MissingSecret, read_config
from bursa.bots.ownership import RunnerError, ownership_problems
from bursa.bots.runner import Outcome, Runner
from bursa.bots.status import default_status_path, read_status
from bursa.cli.bots_suggest import suggest
from bursa.cli.metrics_options import MetricsHost, MetricsPort
from bursa.formats import decimal_text
from bursa.metrics.process import serve_metrics

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
    problems = [f"{config}: {problem}" for problem in ownership_problems(bots)]
    if problems:
        for line in problems:
            errors.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True)
        errors.print(f"[yellow]hint:[/] {len(problems)} problem(s); nothing was started")
        raise typer.Exit(1)
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


@bots_app.command()
def run(
    config: Annotated[Path, typer.Argument(help="the bots' YAML file", show_default=False)],
    status: Annotated[
        Path | None,
        typer.Option(help="the status file (default: <config>.status.json next to it)"),
    ] = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run the file's enabled strategies until Ctrl-C (or SIGTERM): then each cancels its
    open orders unless its on_stop is keep. The kill switch (its file appearing, or
    SIGUSR1) cancels every strategy's orders. Exit 1 if orders may have been left open."""
    errors = Console(stderr=True, highlight=False)
    try:
        bots = read_config(config, environ=os.environ)
        runner = Runner(bots, status_path=status or default_status_path(config))
    except ConfigError as exc:
        for line in exc.lines:
            errors.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True)
        raise typer.Exit(1) from None
    except (RunnerError, MissingSecret) as exc:
        for line in str(exc).splitlines():
            errors.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True)
        raise typer.Exit(1) from None
    logging.basicConfig(
        level=bots.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        outcome = asyncio.run(_run(runner, metrics_host, metrics_port or None))
    except RunnerError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    for problem in outcome.problems:
        errors.print(f"[bold red]error:[/] {escape(problem)}")
    if outcome.killed:
        errors.print("[yellow]stopped by the kill switch[/]")
    raise typer.Exit(0 if outcome.clean else 1)


async def _run(runner: Runner, metrics_host: str, metrics_port: int | None) -> Outcome:

    def ready() -> bool:
        """Ticking: not once stopping (its orders are being cancelled)."""
        return not runner.stop_requested.is_set()

    async with serve_metrics("bots", metrics_host, metrics_port, ready), runner:
        return await runner.run()


@bots_app.command("status")
def status_command(
    config: Annotated[Path, typer.Argument(help="the bots' YAML file", show_default=False)],
    status: Annotated[
        Path | None,
        typer.Option(help="the status file (default: <config>.status.json next to it)"),
    ] = None,
) -> None:
    """Show what ``bursa bots run`` last wrote to the status file: each strategy's state,
    open orders, inventory and realised P&L from its fills (on the target; on each venue
    below it), the day's P&L, orders placed and cancelled, and its last error."""
    errors = Console(stderr=True, highlight=False)
    path = status or default_status_path(config)
    try:
        found = read_status(path)
    except FileNotFoundError:
        errors.print(f"[bold red]error:[/] {escape(str(path))}: no status yet (is the bot run?)")
        raise typer.Exit(1) from None
    except (OSError, ValueError) as exc:
        errors.print(f"[bold red]error:[/] {escape(str(path))}: unreadable ({exc})")
        raise typer.Exit(1) from None
    table = Table()
    table.add_column("strategy", overflow="fold")
    for name in ("state", "open", "inventory", "realised P&L", "day P&L", "placed / cancelled"):
        table.add_column(name, overflow="fold")
    table.add_column("last error", overflow="fold")
    for row in found["strategies"]:
        table.add_row(*_status_cells(row))
    console = Console(highlight=False)
    console.print(table)
    console.print(f"updated {escape(str(found.get('updated_at')))} (pid {found.get('pid')})")


def _status_cells(row: dict[str, Any]) -> list[str]:
    """One strategy's row of ``bots status``; a venue's inventory and P&L go on lines of
    their own under the target's."""

    def cell(key: str) -> str:
        value = row.get(key)
        return "-" if value is None else escape(str(value))

    def unit(key: str) -> str:
        value = row.get(key)
        return f" {escape(str(value))}" if value else ""

    inventory = cell("inventory") + unit("base_unit") * (row.get("inventory") is not None)
    pnl = cell("realised_pnl") + unit("quote_unit") * (row.get("realised_pnl") is not None)
    venues = row.get("venue_positions") or {}
    if isinstance(venues, dict):
        for venue, position in venues.items():
            if isinstance(position, dict):
                inventory += (
                    f"\n[dim]{escape(str(venue))}: {escape(str(position.get('inventory')))}[/]"
                )
                pnl += (
                    f"\n[dim]{escape(str(venue))}: {escape(str(position.get('realised_pnl')))}[/]"
                )
    state = cell("state")
    if row.get("last_tick"):
        state += f"\n[dim]{cell('last_tick').rpartition('T')[2].removesuffix('+00:00')}[/]"
    return [
        f"{cell('id')}\n[dim]{cell('target')}[/]",
        state,
        cell("open_orders"),
        inventory,
        pnl,
        cell("day_pnl"),
        f"{cell('placed')} / {cell('cancelled')}",
        cell("last_error"),
    ]
