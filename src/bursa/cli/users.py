"""``bursa user …``: accounts made by the operator (the first admin)."""

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.cli.context import load_settings, with_database
from bursa.cli.errors import fail
from bursa.clock import SystemClock
from bursa.config.settings import Settings
from bursa.db.migrate import upgrade
from bursa.db.session import create_engine
from bursa.identity import captcha
from bursa.identity.code_mail import MailLinks
from bursa.identity.mail import MaildirMailer, Mailer, NoMailer, SmtpMailer
from bursa.identity.rules import ROLES
from bursa.identity.service import Identity, IdentityError
from bursa.secrets.configured import keystore_from_settings
from bursa.secrets.keystore import KeyStore

console = Console()
user_app = typer.Typer(help="Users (identity).", no_args_is_help=True)


def build_keystore(settings: Settings) -> KeyStore:
    """OpenBao/Vault transit (a static token, or AppRole) if BURSA_VAULT_URL, else the
    local key file."""
    return keystore_from_settings(settings)


def build_identity(settings: Settings, engine: AsyncEngine) -> Identity:
    """The identity service as configured: SMTP mail if BURSA_SMTP_URL; else files in
    ``<data dir>/mail`` on the embedded default only, and no mail at all elsewhere."""
    mailer: Mailer
    if settings.smtp_url:
        mailer = SmtpMailer(settings.smtp_url, settings.mail_from)
    elif settings.database_url is None:
        mailer = MaildirMailer(settings.data_dir / "mail", settings.mail_from)
    else:
        mailer = NoMailer()
    return Identity(
        engine,
        mailer,
        build_keystore(settings),
        session_ttl=timedelta(seconds=settings.session_ttl_s),
        app_name=settings.app_name,
        clock=SystemClock(),  # the one place a running Bursa picks the real clock
        mail_links=MailLinks(
            settings.public_url or f"http://{settings.host}:{settings.port}",
            settings.confirmation_path,
            settings.password_reset_path,
        ),
        captcha=captcha.gate_for(settings.captcha_provider),
    )


@user_app.command("create")
def create(
    email: Annotated[str, typer.Option(help="the user's email address")],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="password"),
    ],
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(ROLES)}")] = "member",
) -> None:
    """Create a confirmed, active user (e.g. the first admin: --role superadmin).

    The password must pass the same policy as sign-up; without --password it is asked for.
    """
    settings = load_settings()

    async def work(url: str) -> dict[str, object]:
        await upgrade(url)
        engine = create_engine(url, pool_size=1)
        try:
            return await build_identity(settings, engine).create_user(email, password, role)
        finally:
            await engine.dispose()

    try:
        user = with_database(settings, work)
    except IdentityError as exc:
        fail(f"{exc.code}{': ' + exc.message if exc.message else ''}", "nothing was created")
    console.print(
        f"created [bold]{user['email']}[/] uid {user['uid']} role {user['role']} "
        f"state {user['state']} level {user['level']}"
    )
