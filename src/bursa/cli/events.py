"""``bursa events …``: the Event API's relay, listeners and public keys."""

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console

from bursa.cli.context import configure_logging, load_settings, with_database
from bursa.cli.errors import fail
from bursa.cli.metrics_options import MetricsPort, metrics_address
from bursa.config.settings import Settings
from bursa.events.bus import InProcessBus
from bursa.events.keys import APPS, EventKeys
from bursa.events.listener import AmqpListener, Verifier, installed, keychain_of
from bursa.events.relay import AmqpSink, BusSink, Relay, Sink
from bursa.ledger.verifications import showing_last_verification
from bursa.metrics.process import serve_metrics
from bursa.signing.keyfile import rsa_private_pem

console = Console()
log = logging.getLogger("bursa.events")
events_app = typer.Typer(help="The Event API (RabbitMQ).", no_args_is_help=True)


def event_keys(settings: Settings) -> EventKeys:
    """Peatio's and Barong's signing keys: configured, or key files in the data folder."""
    configured = {
        "peatio": settings.event_api_peatio_private_key,
        "barong": settings.event_api_barong_private_key,
    }
    pems: dict[str, bytes | str] = {}
    for app, secret in configured.items():
        if secret is not None:
            pems[app] = secret.get_secret_value()
        else:
            # Like the gateway's JWT key: a file made on first use. Every host that may run
            # the relay must hold the same files (or set the variables), or consumers
            # holding the first host's public keys will drop the events of another.
            pems[app] = rsa_private_pem(settings.event_key_file(app))
    try:
        return EventKeys.of_pems(pems)
    except ValueError as exc:
        fail(f"event keys: {exc}", "give Peatio and Barong one RSA private key each")


def verifier(settings: Settings) -> Verifier:
    """Public keys to verify events with: configured, or those of this deployment."""
    configured = {
        "peatio": settings.event_api_peatio_public_key,
        "barong": settings.event_api_barong_public_key,
    }
    if all(value is not None for value in configured.values()):
        pems = [(app, value) for app, value in configured.items() if value is not None]
    else:
        own = event_keys(settings).public_pems()
        pems = [(app, configured[app] or own[app]) for app in APPS]
    try:
        return Verifier(keychain_of(pems))
    except ValueError as exc:
        fail(f"event public keys: {exc}", "set BURSA_EVENT_API_*_PUBLIC_KEY to public PEMs")


def build_relay(settings: Settings, url: str, bus: InProcessBus | None) -> Relay:
    """Over RabbitMQ when BURSA_AMQP_URL is set, else to ``bus`` (in process)."""
    sink: Sink
    if settings.amqp_url is not None:
        sink = AmqpSink(settings.amqp_url)
    elif bus is not None:
        sink = BusSink(bus)
    else:
        fail("BURSA_AMQP_URL is not set", "the separate relay publishes to RabbitMQ only")
    return Relay(
        url,
        sink,
        event_keys(settings),
        ttl_s=settings.event_api_ttl_s,
        keep=timedelta(hours=settings.event_outbox_keep_hours),
    )


async def _until_signal() -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()


@events_app.command("relay")
def relay(metrics_port: MetricsPort = None) -> None:
    """Publish the event outbox to RabbitMQ (BURSA_AMQP_URL), for deployments that run it
    apart from `bursa up`. A second relay stands by until the first one stops."""
    settings = load_settings()
    configure_logging(settings)
    if settings.amqp_url is None:
        fail("BURSA_AMQP_URL is not set", "`bursa up` relays in process without RabbitMQ")

    host, port = metrics_address(settings, metrics_port)

    async def work(url: str) -> None:
        relay = build_relay(settings, url, None)
        # Ready while connected to PostgreSQL: publishing, or standing by to take over.
        async with (
            serve_metrics("relay", host, port, lambda: relay.connected),
            showing_last_verification(url),
        ):
            await relay.start()
            try:
                await _until_signal()
            finally:
                await relay.stop()

    with_database(settings, work)


@events_app.command("listen")
def listen(
    name: Annotated[str | None, typer.Argument(help="one listener (default: all)")] = None,
    metrics_port: MetricsPort = None,
) -> None:
    """Run the installed listeners (entry points in group bursa.event_listeners), AppLogic's
    among them. With --metrics-port: /metrics, and /health/ready while every listener is
    connected to RabbitMQ."""
    settings = load_settings()
    configure_logging(settings)
    if settings.amqp_url is None:
        fail("BURSA_AMQP_URL is not set", "listeners consume the Event API from RabbitMQ")
    listeners = installed(name)
    if not listeners:
        fail(
            f"no listener {'named ' + name if name else 'installed'}",
            'register one under [project.entry-points."bursa.event_listeners"]',
        )
    check = verifier(settings)
    host, port = metrics_address(settings, metrics_port)

    async def work() -> None:
        assert settings.amqp_url is not None
        running = [
            AmqpListener(settings.amqp_url, item, check, retries=settings.event_listener_retries)
            for item in listeners
        ]
        for item in running:
            await item.start()
        log.info("listening: %s", ", ".join(item.dispatcher.listener.name for item in running))
        try:
            async with serve_metrics(
                "listener", host, port, lambda: all(item.connected for item in running)
            ):
                await _until_signal()
        finally:
            for item in running:
                with contextlib.suppress(Exception):
                    await item.stop()

    asyncio.run(work())


@events_app.command("keys")
def keys() -> None:
    """Print the public keys consumers verify events with (kid peatio and barong)."""
    settings = load_settings()
    for app, pem in event_keys(settings).public_pems().items():
        console.print(f"# kid {app} (RS256)", highlight=False)
        console.print(pem, end="", highlight=False, soft_wrap=True)
