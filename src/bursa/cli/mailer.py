"""``bursa mailer run``: the event mailer as its own process (Barong's postmaster)."""

import asyncio
import contextlib
import logging
import signal

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.cli.context import configure_logging, load_settings, with_database
from bursa.cli.errors import fail
from bursa.cli.events import event_keys
from bursa.cli.metrics_options import MetricsPort, metrics_address
from bursa.config.settings import Settings
from bursa.db.session import create_engine
from bursa.events.bus import InProcessBus
from bursa.identity.mail import SmtpMailer
from bursa.ledger.verifications import showing_last_verification
from bursa.mailer import config as mailer_config
from bursa.mailer.amqp import AmqpMailer
from bursa.mailer.inprocess import InProcessMailer
from bursa.mailer.postmaster import Postmaster
from bursa.metrics.process import serve_metrics

log = logging.getLogger("bursa.mailer")
mailer_app = typer.Typer(help="The event mailer (notification mail).", no_args_is_help=True)


def load_mailer_config(settings: Settings) -> mailer_config.MailerConfig:
    """BURSA_MAILER_CONFIG over the built-in configuration, or a clear exit."""
    try:
        return mailer_config.load(settings.mailer_config)
    except mailer_config.ConfigError as exc:
        fail(f"mailer configuration: {exc}", "fix the file named by BURSA_MAILER_CONFIG")


@mailer_app.command("run")
def run(metrics_port: MetricsPort = None) -> None:
    """Mail members what the Event API says happened (from RabbitMQ, BURSA_AMQP_URL).

    Events are verified against the keychain of BURSA_MAILER_CONFIG; a failed send waits
    in the retry queue and is tried again a bounded number of times.
    """
    settings = load_settings()
    configure_logging(settings)
    if settings.amqp_url is None:
        fail(
            "BURSA_AMQP_URL is not set",
            "set it to the RabbitMQ the Event API publishes to; `bursa up` mails in process",
        )
    if settings.smtp_url is None:
        fail("BURSA_SMTP_URL is not set", "set it to smtp://user:password@host:port")
    config = load_mailer_config(settings)
    missing = config.missing_signers()
    if missing:
        fail(
            f"no public key for event signer(s) {', '.join(missing)} ({config.source})",
            "set BURSA_MAILER_CONFIG to a YAML file with a keychain: entry for each, e.g."
            " keychain: {peatio: {algorithm: RS256, value: <public key PEM>}}",
        )

    host, port = metrics_address(settings, metrics_port)

    async def work(url: str) -> None:
        await _run(settings, config, url, host, port)

    with_database(settings, work)


async def _run(
    settings: Settings,
    config: mailer_config.MailerConfig,
    url: str,
    metrics_host: str,
    metrics_port: int | None,
) -> None:
    assert settings.amqp_url is not None
    assert settings.smtp_url is not None
    database = create_engine(url)
    postmaster = Postmaster(
        config,
        database,
        SmtpMailer(settings.smtp_url, settings.mail_from),
        app_name=settings.app_name,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    consumer = AmqpMailer(settings.amqp_url, postmaster)
    try:
        forgotten = await postmaster.forget_old()
        log.info(
            "mailer using %s configuration (%d old delivery records dropped)",
            config.source,
            forgotten,
        )
        await consumer.start()
        async with (
            serve_metrics("mailer", metrics_host, metrics_port, lambda: consumer.connected),
            showing_last_verification(url),
        ):
            while not stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(3600):
                        await stopping.wait()
                await postmaster.forget_old()
    finally:
        await consumer.stop()
        await database.dispose()


def embedded_mailer(
    settings: Settings, bus: InProcessBus, database: AsyncEngine
) -> InProcessMailer | None:
    """The mailer ``bursa up`` runs on its own bus: only with an SMTP server (without
    one, notifications are not written to the log) and without RabbitMQ (then
    ``bursa mailer run`` is the mailer)."""
    if settings.smtp_url is None or settings.amqp_url is not None:
        return None
    # The relay beside it signs with this deployment's event keys: verify with their halves.
    own = event_keys(settings).keychain()
    config = load_mailer_config(settings).with_keys(own)
    postmaster = Postmaster(
        config,
        database,
        SmtpMailer(settings.smtp_url, settings.mail_from),
        app_name=settings.app_name,
    )
    return InProcessMailer(bus, postmaster)
