"""How a command reports a failure: one red line saying what went wrong and what to do."""

from typing import NoReturn

import typer
from rich.console import Console

stderr = Console(stderr=True)


def fail(message: str, hint: str | None = None, *, code: int = 1) -> NoReturn:
    """Print ``message`` (and the next step, ``hint``) to stderr and exit with ``code``."""
    stderr.print(f"[bold red]error:[/] {message}", highlight=False)
    if hint:
        stderr.print(f"[yellow]hint:[/] {hint}", highlight=False)
    raise typer.Exit(code)
