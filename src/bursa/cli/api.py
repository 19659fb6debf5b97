"""``bursa api``: the HTTP and websocket APIs without an engine of their own; run as
many replicas as the load needs.

Commands go to the engine (``bursa engine run``) over RabbitMQ and are answered after
they commit (``bursa.api.remote_engine``); reads come from PostgreSQL; the websocket
streams follow the batches the engine relays (``bursa.events.fanout``) and the Event API
(members' deposits and withdrawals). Nothing here must run once only: candles are
counted by the active engine, the Event API relay, the mailer, custody and the bots run
as their own commands. Rate limits and API-key nonces are shared through Redis
(``BURSA_REDIS_URL``); without it each replica counts on its own.
"""

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console

from bursa.api import access_log
from bursa.api.ranger import protocol as ws_protocol
from bursa.api.ranger.custody import custody_streams
from bursa.api.ranger.hub import RangerHub
from bursa.api.ranger.markets import StoredMarkets
from bursa.api.remote_engine import DEFAULT_TIMEOUT_S, RemoteEngine
from bursa.applogic import api as applogic_api
from bursa.applogic.listener import listener_of
from bursa.cli.context import configure_logging, load_settings, with_database
from bursa.cli.errors import fail
from bursa.cli.events import verifier
from bursa.cli.serve import _Server, app_from_settings, build_applogic, ranger_limits
from bursa.cli.users import build_identity
from bursa.config.settings import Settings
from bursa.db.session import create_engine, create_session_factory
from bursa.events.bus import InProcessBus
from bursa.events.fanout import EXCHANGE, EventFeed
from bursa.events.listener import AmqpListener
from bursa.identity.limits import InProcessLimiter, Limiter, RedisLimiter
from bursa.identity.nonces import InProcessNonces, RedisNonces
from bursa.ledger.verifications import showing_last_verification
from bursa.metrics.process import ROLE_UP
from bursa.trading.dead_man import CancelAfterWatcher, deadlines_for
from bursa.trading.demo_funds import DemoFunds, DemoFundsMisconfigured
from bursa.trading.market_data import Tickers

console = Console()
log = logging.getLogger("bursa.api")


@contextlib.asynccontextmanager
async def api_role(
    settings: Settings,
    url: str,
    *,
    public_url: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    events_exchange: str = EXCHANGE,
    limiter: Limiter | None = None,
) -> AsyncIterator[FastAPI]:
    """The API application of a process without an engine, its parts started (and
    stopped on leaving): what ``bursa api`` serves, and what its tests serve. ``limiter``
    None: the configured rate limits (Redis when ``BURSA_REDIS_URL``)."""
    amqp_url = settings.amqp_url
    if amqp_url is None:
        raise ValueError("the API role needs RabbitMQ (BURSA_AMQP_URL)")
    async with contextlib.AsyncExitStack() as stack:
        bus = InProcessBus()
        markets = StoredMarkets(url)  # the websocket's books, continued by relayed batches
        await markets.start()
        stack.push_async_callback(markets.stop)
        feed = EventFeed(amqp_url, bus, exchange=events_exchange)
        await feed.start(markets.committed_seq)
        stack.push_async_callback(feed.stop)
        remote = RemoteEngine(
            url, amqp_url, bus, feed=feed, queue=settings.engine_queue, timeout_s=timeout_s
        )
        await remote.start()
        stack.push_async_callback(remote.stop)
        # cancel_all_after: every replica watches the deadlines (shared in Redis).
        cancel_after = CancelAfterWatcher(deadlines_for(settings.redis_url), remote)
        stack.push_async_callback(cancel_after.deadlines.close)
        await cancel_after.start()
        stack.push_async_callback(cancel_after.stop)
        database = create_engine(url)
        stack.push_async_callback(database.dispose)
        await stack.enter_async_context(showing_last_verification(url))  # for /metrics
        sessions = create_session_factory(database)
        demo_funds = await DemoFunds.at_start(
            sessions, settings.demo_funds_in_effect(False), embedded=False
        )
        if limiter is None:
            limiter = RedisLimiter(settings.redis_url) if settings.redis_url else InProcessLimiter()
        nonces = RedisNonces(settings.redis_url) if settings.redis_url else InProcessNonces()
        if isinstance(limiter, RedisLimiter):
            stack.push_async_callback(limiter.close)
        if isinstance(nonces, RedisNonces):
            stack.push_async_callback(nonces.close)
        identity = build_identity(settings, database)
        stack.push_async_callback(identity.close)
        # No candle writer here (the active engine runs the one): tickers are read afresh.
        tickers = Tickers()
        hub = RangerHub(
            None,
            bus,
            ranger_limits(settings),
            tickers=(tickers, sessions),
            markets=markets,
        )
        await hub.start()
        stack.push_async_callback(hub.stop)
        app = app_from_settings(
            settings,
            remote,
            sessions,
            identity,
            limiter=limiter,
            nonces=nonces,
            cancel_after=cancel_after,
            public_url=public_url,
            tickers=tickers,
            hub=hub,
            demo_funds=demo_funds,
            demo_seeded=False,
        )
        stack.push_async_callback(app.state.custody.close)
        applogic = build_applogic(settings, sessions)
        if applogic is not None:
            applogic_api.install(app, applogic[0])
            stack.push_async_callback(applogic[1].close)
            # One durable queue shared by the replicas: each withdrawal is decided once.
            approvals = AmqpListener(amqp_url, listener_of(applogic[0]), verifier(settings))
            await approvals.start()
            stack.push_async_callback(approvals.stop)
        # Members' deposit and withdraw streams: every replica gets every event.
        streams = AmqpListener(
            amqp_url, custody_streams(hub, sessions), verifier(settings), per_process=True
        )
        await streams.start()
        stack.push_async_callback(streams.stop)
        yield app


def api(
    host: Annotated[str | None, typer.Option(help="listen address [BURSA_HOST]")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="listen port [BURSA_PORT]")
    ] = None,
    engine_timeout_ms: Annotated[
        int,
        typer.Option(
            min=100,
            envvar="BURSA_ENGINE_TIMEOUT_MS",
            help="how long a command waits for the engine's answer before 503"
            " server.engine_timeout [BURSA_ENGINE_TIMEOUT_MS]",
        ),
    ] = int(DEFAULT_TIMEOUT_S * 1000),
) -> None:
    """Serve the HTTP and websocket APIs; the engine runs as `bursa engine run`.

    Needs BURSA_AMQP_URL (commands to the engine, its committed batches back) and the
    database the engine uses. Start any number: they share nothing but PostgreSQL,
    RabbitMQ and Redis. Ctrl-C (SIGTERM) stops taking requests and finishes open ones.
    """
    settings = load_settings()
    configure_logging(settings)
    if settings.amqp_url is None:
        fail(
            "BURSA_AMQP_URL is not set",
            "set it to the RabbitMQ URL the engine (`bursa engine run`) uses, or use `bursa up`",
        )
    if settings.database_url is not None and settings.smtp_url is None:
        fail(
            "BURSA_SMTP_URL is not set",
            "set BURSA_SMTP_URL=smtp://user:password@host:port (smtps:// for TLS): members"
            " need their confirmation and reset codes",
        )
    if settings.redis_url is None:
        log.warning("BURSA_REDIS_URL is not set: each API replica rate-limits on its own")
    serve_api(settings, host or settings.host, port or settings.port, engine_timeout_ms / 1000)


def serve_api(
    settings: Settings, host: str, port: int, timeout_s: float, limiter: Limiter | None = None
) -> None:
    """Serve the API role until a signal (``limiter``: see ``api_role``)."""

    async def serve(url: str) -> None:
        await _serve(settings, url, host, port, timeout_s, limiter)

    with_database(settings, serve)


async def _serve(
    settings: Settings, url: str, host: str, port: int, timeout_s: float, limiter: Limiter | None
) -> None:
    public_url = settings.public_url or f"http://{host}:{port}"
    try:
        async with api_role(
            settings, url, public_url=public_url, timeout_s=timeout_s, limiter=limiter
        ) as app:
            await _listen(settings, app, host, port)
    except DemoFundsMisconfigured as exc:
        fail(str(exc), "set BURSA_DEMO_FUNDS to currencies of this exchange, or to off")


async def _listen(settings: Settings, app: FastAPI, host: str, port: int) -> None:
    ROLE_UP.labels("api").set(1)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        lifespan="off",
        ws=ws_protocol.PROTOCOL,
        ws_per_message_deflate=False,
    )
    server = _Server(config)
    access_log.install()
    console.print(f"[bold green]Bursa API[/] on http://{host}:{port}/ (engine over RabbitMQ)")
    try:
        await server.serve()
    finally:
        ROLE_UP.labels("api").set(0)
    if not server.started:
        fail(f"could not listen on {host}:{port}", "choose another --port or stop what uses it")
