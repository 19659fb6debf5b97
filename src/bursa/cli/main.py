"""The ``bursa`` command: every way an operator starts, inspects and measures Bursa.

Each command's module is imported when that command runs, not before: the modules behind
them (the API, the chain plugins, web3) take seconds to import, and ``bursa engine run``
should not wait for the web application it does not serve. ``bursa --help`` imports them
all, to show each one's summary.
"""

import importlib

import typer
from typer import _click as click  # the click Typer carries within it (not the click package)
from typer.core import TyperGroup

# name → (module, attribute): a Typer of subcommands, or one command's function.
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("bursa.cli.serve", "up"),
    "api": ("bursa.cli.api", "api"),
    "seed": ("bursa.cli.database", "seed"),
    "db": ("bursa.cli.database", "db_app"),
    "engine": ("bursa.cli.engine", "engine_app"),
    "ledger": ("bursa.cli.ledger", "ledger_app"),
    "bench": ("bursa.cli.bench", "bench_app"),
    "bots": ("bursa.cli.bots", "bots_app"),
    "user": ("bursa.cli.users", "user_app"),
    "mailer": ("bursa.cli.mailer", "mailer_app"),
    "events": ("bursa.cli.events", "events_app"),
    "custody": ("bursa.cli.custody", "custody_app"),
    "secrets": ("bursa.cli.secrets", "secrets_app"),
}


def load(name: str) -> click.Command | None:
    """The click command ``name`` stands for, its module imported now; None if unknown."""
    found = COMMANDS.get(name)
    if found is None:
        return None
    module, attribute = found
    target = getattr(importlib.import_module(module), attribute)
    command: click.Command
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyCommands(TyperGroup):
    """A group whose commands are imported when asked for (see the module's docstring)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load(cmd_name)


app = typer.Typer(
    name="bursa",
    cls=LazyCommands,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


@app.callback()
def bursa() -> None:
    """Bursa: a crypto-currency exchange speaking the OpenDAX API dialect."""
