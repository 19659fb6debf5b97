"""``bursa ledger verify``: the accounting invariants, checked in one snapshot."""

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from bursa.cli.context import load_settings, with_database
from bursa.cli.errors import fail
from bursa.ledger.verifications import record
from bursa.ledger.verify import LedgerReport, verify_ledger

console = Console()
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


@ledger_app.command("verify")
def verify() -> None:
    """Check the ledger: per currency assets = liabilities + revenues − expenses; every
    account equals its operations; locked equals open orders and held withdrawals; nothing
    negative. Prints a table; exits 1 on any break. The outcome is recorded in the
    database: every Bursa process exports the last one to Prometheus."""
    settings = load_settings()

    async def work(url: str) -> LedgerReport:
        conn = await asyncpg.connect(url)
        try:
            with console.status("verifying the ledger…"):
                report = await verify_ledger(conn)
            try:
                await record(conn, report, "cli")
            except asyncpg.UndefinedTableError:
                console.print(
                    "[yellow]not recorded: the database predates ledger_verifications"
                    " (bursa db upgrade)[/]"
                )
            return report
        finally:
            await conn.close()

    report = with_database(settings, work)
    table = Table(
        "currency", "assets", "liabilities", "revenues", "expenses", "breaks", title="ledger"
    )
    for totals in report.totals:
        breaks = report.breaks_for(totals.currency)
        table.add_row(
            totals.currency,
            f"{totals.assets:f}",
            f"{totals.liabilities:f}",
            f"{totals.revenues:f}",
            f"{totals.expenses:f}",
            f"[red]{breaks}[/]" if breaks else "[green]0[/]",
        )
    console.print(table)
    console.print(f"{report.accounts_checked} accounts checked")
    if report.ok:
        console.print("[bold green]ledger verifies[/]")
        return
    for broken in report.breaks[:50]:
        console.print(f"[red]✗[/] {broken.describe()}")
    fail(f"{len(report.breaks)} break(s) in the ledger", "investigate before trading resumes")
