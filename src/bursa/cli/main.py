"""The ``bursa`` command: every way an operator starts, inspects and measures Bursa."""

import typer

from bursa.cli.bench import bench_app
from bursa.cli.custody import custody_app
from bursa.cli.database import db_app, seed
from bursa.cli.engine import engine_app
from bursa.cli.events import events_app
from bursa.cli.ledger import verify
from bursa.cli.mailer import mailer_app
from bursa.cli.serve import up
from bursa.cli.users import user_app

app = typer.Typer(
    name="bursa",
    help="Bursa: a crypto-currency exchange speaking the OpenDAX API dialect.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
ledger_app.command("verify")(verify)

app.command("up")(up)
app.command("seed")(seed)
app.add_typer(db_app, name="db")
app.add_typer(engine_app, name="engine")
app.add_typer(ledger_app, name="ledger")
app.add_typer(bench_app, name="bench")
app.add_typer(user_app, name="user")
app.add_typer(mailer_app, name="mailer")
app.add_typer(events_app, name="events")
app.add_typer(custody_app, name="custody")
