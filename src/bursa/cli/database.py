"""``bursa db …`` and ``bursa seed``: the schema and the configured markets."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bursa.cli.context import load_settings, with_database
from bursa.cli.errors import fail
from bursa.cli.users import build_keystore
from bursa.config.settings import Settings
from bursa.db.migrate import current_revision, head_revision, upgrade
from bursa.db.session import create_engine
from bursa.identity.pii import has_clear_profiles, seal_clear_profiles
from bursa.secrets.keystore import KeyStoreError
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

    async def work(url: str) -> tuple[str | None, int]:
        with console.status("migrating…"):
            await upgrade(url)
            sealed = await seal_profiles(settings, url)
        return await current_revision(url), sealed

    revision, sealed = with_database(settings, work)
    console.print(f"database at revision [bold]{revision}[/]")
    if sealed:
        console.print(f"sealed the personal data of {sealed} profile(s) kept in the clear")


async def seal_profiles(settings: Settings, url: str) -> int:
    """Seal the profiles migration 0012 left in the clear: SQL cannot, the key is in the
    key store. The key store is only opened when there is something to seal."""
    engine = create_engine(url, pool_size=1)
    try:
        if not await has_clear_profiles(engine):
            return 0
        return await seal_clear_profiles(engine, build_keystore(settings))
    except KeyStoreError as exc:
        fail(
            f"profiles are still stored in the clear: {exc}",
            "check the key store (BURSA_VAULT_URL with BURSA_VAULT_TOKEN or"
            " BURSA_VAULT_ROLE_ID_FILE and BURSA_VAULT_SECRET_ID_FILE, or BURSA_KEY_FILE),"
            " then run `bursa db upgrade` again",
        )
    finally:
        await engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one this version ships."""
    settings = load_settings()
    revision = with_database(settings, current_revision)
    head = head_revision()
    console.print(f"database: {revision or 'empty'}; newest: {head}")
    if revision != head:
        console.print("run [bold]bursa db upgrade[/] to migrate")


async def apply_seed_file(url: str, seeds: Seeds, *, create_only: bool = False) -> list[Outcome]:
    """Upsert validated ``seeds`` in one transaction (checked against the database)."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            return await apply_seed_entries(conn, seeds, create_only=create_only)
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
