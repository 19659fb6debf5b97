"""``bursa db …`` and ``bursa seed``: the schema and the configured markets."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bursa.cli.context import load_settings, with_database
from bursa.cli.errors import fail
from bursa.db.migrate import current_revision, head_revision, upgrade
from bursa.db.session import create_engine
from bursa.trading.seeds import (
    DEMO_SEEDS,
    UNCHANGED,
    Outcome,
    SeedError,
    Seeds,
    read_seed_file,
)
from bursa.trading.seeds import apply_seeds as apply_seed_entries

console = Console()
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (safe to run again)."""
    settings = load_settings()

    async def work(url: str) -> str | None:
        with console.status("migrating…"):
            await upgrade(url)
        return await current_revision(url)

    revision = with_database(settings, work)
    console.print(f"database at revision [bold]{revision}[/]")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one this version ships."""
    settings = load_settings()
    revision = with_database(settings, current_revision)
    head = head_revision()
    console.print(f"database: {revision or 'empty'}; newest: {head}")
    if revision != head:
        console.print("run [bold]bursa db upgrade[/] to migrate")


async def apply_seed_file(url: str, seeds: Seeds) -> list[Outcome]:
    """Upsert validated ``seeds`` in one transaction (checked against the database)."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            return await apply_seed_entries(conn, seeds)
    finally:
        await engine.dispose()


def seed(
    file: Annotated[
        Path,
        typer.Argument(help="YAML seed file with currencies: and markets: lists"),
    ] = DEMO_SEEDS,
) -> None:
    """Create or update currencies and markets from a seed file (default: the demo seeds).

    Everything is validated before anything is written; running it again changes nothing.
    Restart the engine (``bursa up``) for new markets to trade.
    """
    settings = load_settings()
    if not file.is_file():
        fail(f"seed file not found: {file}", "give the path of a YAML seed file")
    try:
        seeds = read_seed_file(file)
    except SeedError as exc:
        fail(f"{exc}", "fix the entries named above; nothing was written")

    async def work(url: str) -> list[Outcome]:
        await upgrade(url)
        return await apply_seed_file(url, seeds)

    try:
        outcomes = with_database(settings, work)
    except SeedError as exc:
        fail(f"{exc}", "fix the entries named above; nothing was written")
    table = Table("kind", "id", "action", title=f"seeded {file.name}")
    for outcome in outcomes:
        style = "dim" if outcome.action == UNCHANGED else "green"
        table.add_row(outcome.kind, outcome.id, f"[{style}]{outcome.action}[/]")
    console.print(table)
