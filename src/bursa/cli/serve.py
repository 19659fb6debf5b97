"""``bursa up``: the whole exchange in one process (database, engine, API)."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api import access_log, web
from bursa.api.app import create_app
from bursa.api.deps import EngineView
from bursa.api.management_auth import ManagementPolicy
from bursa.api.peatio.market.rate_limit import order_rule
from bursa.api.ranger import protocol as ws_protocol
from bursa.api.ranger.custody import custody_streams
from bursa.api.ranger.hub import Limits, RangerHub
from bursa.applogic import api as applogic_api
from bursa.applogic.approvals import WithdrawalApprovals
from bursa.applogic.config import AppLogicConfig
from bursa.applogic.listener import listener_of
from bursa.applogic.management import PeatioManagement
from bursa.cli.context import configure_logging, load_settings, with_database
from bursa.cli.database import apply_seed_file, seal_profiles
from bursa.cli.demo_liquidity import DemoLiquidity
from bursa.cli.errors import fail
from bursa.cli.events import build_relay, verifier
from bursa.cli.mailer import embedded_mailer
from bursa.cli.users import build_identity
from bursa.config.settings import Settings
from bursa.custody.service import ScanService, SweepService
from bursa.db.migrate import upgrade
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.events.listener import AmqpListener, BusListener
from bursa.identity import kyc_providers
from bursa.identity.authz import JwtSigner
from bursa.identity.limits import InProcessLimiter, Limiter, RedisLimiter
from bursa.identity.nonces import InProcessNonces, NonceRegistry, RedisNonces
from bursa.identity.service import Identity
from bursa.identity.sms import FileSmsSender, SmsSender, TwilioSmsSender
from bursa.ledger.verifications import showing_last_verification
from bursa.metrics.process import ROLE_UP
from bursa.signing import multisig
from bursa.signing.keyfile import rsa_private_pem
from bursa.trading.candles import CandleWriter
from bursa.trading.dead_man import CancelAfterWatcher, deadlines_for
from bursa.trading.demo_funds import DemoFunds, DemoFundsMisconfigured
from bursa.trading.market_data import Tickers
from bursa.trading.member_levels import MemberLevels
from bursa.trading.seeds import DEMO_SEEDS, SeedError, read_seed_file
from bursa.trading.specs import load_specs

console = Console()
log = logging.getLogger("bursa.up")
ROLE = "up"  # bursa_role_up{role="up"}: every role in this one process


class _Server(uvicorn.Server):
    """Uvicorn re-raises SIGINT/SIGTERM after serving, which would kill the process before
    the engine and the embedded PostgreSQL are stopped; here a signal just ends serving."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._stop_serving)
        try:
            yield
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    bots: DemoLiquidity | None = None  # stopped (orders cancelled) while the API answers

    async def on_tick(self, counter: int) -> bool:
        exiting = await super().on_tick(counter)
        if exiting and self.bots is not None:
            await self.bots.stop()
        return exiting

    def _stop_serving(self) -> None:
        if self.should_exit:
            self.force_exit = True  # a second Ctrl-C: stop waiting for open connections
        self.should_exit = True


def management_policies(settings: Settings) -> dict[str, ManagementPolicy]:
    """The Management API policies the settings name (none: every request is refused)."""
    files = {
        "peatio": settings.management_peatio_config,
        "barong": settings.management_barong_config,
    }
    policies: dict[str, ManagementPolicy] = {}
    for name, path in files.items():
        if path is not None:
            try:
                policies[name] = ManagementPolicy.from_file(path)
            except ValueError as exc:
                fail(str(exc), f"fix the file or unset BURSA_MANAGEMENT_{name.upper()}_CONFIG")
    return policies


def build_applogic(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> tuple[WithdrawalApprovals, PeatioManagement] | None:
    """AppLogic's approvals when ``BURSA_APPLOGIC_CONFIG`` names its file (its Management
    API client too, to close at the end)."""
    if settings.applogic_config is None:
        return None
    try:
        config = AppLogicConfig.from_file(settings.applogic_config)
    except ValueError as exc:
        fail(str(exc), "fix the file or unset BURSA_APPLOGIC_CONFIG")
    peatio = PeatioManagement(config.peatio_management_url, config.key, timeout_s=config.timeout_s)
    return WithdrawalApprovals(sessions, config, peatio), peatio


def barong_management_key(settings: Settings) -> multisig.SignKey:
    """The key Barong co-signs management requests with (``otp/sign``), kid ``barong``."""
    secret = settings.barong_management_key
    pem = (
        secret.get_secret_value()
        if secret is not None
        else rsa_private_pem(settings.barong_management_key_file).decode()
    )
    try:
        return multisig.sign_key("barong", "RS256", pem)
    except (ValueError, TypeError):  # the message is not shown: it is about a secret
        fail("BURSA_BARONG_MANAGEMENT_KEY is not a usable key", "give a PEM RSA private key")


def build_sms(settings: Settings) -> SmsSender | None:
    """The configured SMS sender; None when a real deployment configured none (phone
    verification then answers 503: codes are kept in files only on the embedded default)."""
    if settings.sms == "twilio":
        assert settings.twilio_account_sid is not None  # the settings refused otherwise
        assert settings.twilio_auth_token is not None
        assert settings.sms_from is not None
        return TwilioSmsSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            settings.sms_from,
            base_url=settings.twilio_url,
            timeout_s=settings.sms_timeout_s,
        )
    if settings.sms == "file":
        return FileSmsSender(settings.data_dir / "sms")
    log.warning(
        "no SMS provider: phone verification answers 503 resource.phone.sms_unavailable;"
        " set BURSA_SMS_PROVIDER=twilio, BURSA_TWILIO_ACCOUNT_SID, BURSA_TWILIO_AUTH_TOKEN"
        " and BURSA_SMS_FROM to enable it"
    )
    return None


def ranger_limits(settings: Settings) -> Limits:
    """The websocket hub's limits the settings give."""
    return Limits(
        outbox=settings.ranger_outbox,
        streams=settings.ranger_max_streams,
        per_ip=settings.ranger_max_connections_per_ip,
    )


def app_from_settings(
    settings: Settings,
    engine: EngineView,
    sessions: async_sessionmaker[AsyncSession],
    identity: Identity,
    *,
    limiter: Limiter,
    nonces: NonceRegistry,
    cancel_after: CancelAfterWatcher,
    public_url: str,
    tickers: Tickers,
    hub: RangerHub,
    demo_funds: DemoFunds | None,
    demo_seeded: bool,
) -> FastAPI:
    """The HTTP application as the settings configure it, over ``engine`` (the runner of
    ``bursa up``, or ``bursa api``'s remote engine): one place for both roles."""
    return create_app(
        engine,
        sessions,
        identity,
        limiter=limiter,
        nonces=nonces,
        order_rate_limit=order_rule(settings),
        cancel_after=cancel_after,
        jwt_signer=(
            JwtSigner(settings.jwt_private_key.get_secret_value().encode(), settings.jwt_ttl_s)
            if settings.jwt_private_key is not None
            else JwtSigner.from_file(settings.jwt_key_file, settings.jwt_ttl_s)
        ),
        country_header=settings.country_header,
        platform_currency=settings.platform_currency,
        sms=build_sms(settings),
        storage_dir=settings.storage,
        storage_titles=settings.user_storage_titles,
        secure_cookies=settings.secure_cookies,
        metrics_public=settings.metrics_public,
        public_url=public_url,
        tickers=tickers,
        member_levels=MemberLevels(
            deposit=settings.min_deposit_level,
            withdraw=settings.withdraw_level_in_effect(demo_seeded),
            trading=settings.min_trading_level,
        ),
        ranger_hub=hub,
        management=management_policies(settings),
        barong_management_key=barong_management_key(settings),
        web_dist=web.DIST,
        demo_funds=demo_funds,
        kyc_provider=kyc_providers.configured_provider(
            settings.kycaid_api_token.get_secret_value() if settings.kycaid_api_token else None
        ),
    )


def up(
    host: Annotated[str | None, typer.Option(help="listen address [BURSA_HOST]")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="listen port [BURSA_PORT]")
    ] = None,
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo",
            help="apply the demo seeds (default: only on the embedded database)",
        ),
    ] = None,
    demo_liquidity: Annotated[
        bool | None,
        typer.Option(help="run a demo market maker (default: on the embedded demo only)"),
    ] = None,
) -> None:
    """Start the exchange: migrate, seed, run the engine and serve the API.

    With BURSA_DATABASE_URL unset this runs a real PostgreSQL in BURSA_DATA_DIR (for one
    machine: it trusts local connections) and applies the demo seeds. Ctrl-C stops
    everything cleanly.
    """
    settings = load_settings()
    configure_logging(settings)
    if settings.database_url is not None and settings.smtp_url is None:
        fail(
            "BURSA_SMTP_URL is not set",
            "set BURSA_SMTP_URL=smtp://user:password@host:port (smtps:// for TLS): members"
            " need their confirmation and reset codes, and only the embedded default (one"
            " machine) keeps them as files in its data folder",
        )
    listen_host = host or settings.host
    listen_port = port or settings.port
    seed_demo = settings.database_url is None if demo is None else demo
    if demo_liquidity is None:
        demo_liquidity = seed_demo and settings.database_url is None

    async def serve(url: str) -> None:
        await _serve(settings, url, listen_host, listen_port, seed_demo, demo_liquidity)

    with_database(settings, serve)


async def _demo_funds(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], seed_demo: bool
) -> DemoFunds:
    """The demo faucet: on by default only on the embedded database with the demo seeds."""
    try:
        return await DemoFunds.at_start(
            sessions,
            settings.demo_funds_in_effect(seed_demo),
            embedded=settings.database_url is None,
        )
    except DemoFundsMisconfigured as exc:
        fail(
            str(exc),
            "set BURSA_DEMO_FUNDS to currencies of this exchange (e.g. usdt:10000,btc:1),"
            " or to off",
        )


async def _serve(
    settings: Settings, url: str, host: str, port: int, seed_demo: bool, liquidity: bool
) -> None:
    with console.status("migrating the database…"):
        await upgrade(url)
        sealed = await seal_profiles(settings, url)
    if sealed:
        log.info("sealed the personal data of %d profile(s) kept in the clear", sealed)
    if seed_demo:
        try:
            # Only what is missing: an admin's later changes to demo markets stay.
            outcomes = await apply_seed_file(
                url, read_seed_file(Path(DEMO_SEEDS)), create_only=True
            )
        except SeedError as exc:
            fail(str(exc), "the database holds markets that conflict with the demo seeds")
        created = sum(1 for o in outcomes if o.action != "unchanged")
        log.info("demo seeds applied (%d created)", created)
    bus = InProcessBus()
    runner = EngineRunner(
        url,
        bus,
        load_specs,
        max_batch=settings.engine_max_batch,
        batch_wait_ms=settings.engine_batch_wait_ms,
        idempotency_window_hours=settings.idempotency_window_hours,
    )
    await runner.start()
    database = create_engine(url)
    sessions = create_session_factory(database)
    demo_funds = await _demo_funds(settings, sessions, seed_demo)
    # Candles follow the committed trades (catching up first with any not yet counted).
    candles = CandleWriter(sessions, bus)
    await candles.start()
    limiter = RedisLimiter(settings.redis_url) if settings.redis_url else InProcessLimiter()
    nonces = RedisNonces(settings.redis_url) if settings.redis_url else InProcessNonces()
    identity = build_identity(settings, database)
    mailer = embedded_mailer(settings, bus, database)
    if mailer is not None:
        await mailer.start()
    tickers = Tickers(candles)
    hub = RangerHub(runner, bus, ranger_limits(settings), tickers=(tickers, sessions))
    await hub.start()
    cancel_after = CancelAfterWatcher(deadlines_for(settings.redis_url), runner)
    await cancel_after.start()
    app = app_from_settings(
        settings,
        runner,
        sessions,
        identity,
        limiter=limiter,
        nonces=nonces,
        cancel_after=cancel_after,
        public_url=settings.public_url or f"http://{host}:{port}",
        tickers=tickers,
        hub=hub,
        demo_funds=demo_funds,
        demo_seeded=seed_demo,
    )
    applogic = build_applogic(settings, sessions)
    applogic_listener: AmqpListener | BusListener | None = None
    if applogic is not None:
        applogic_api.install(app, applogic[0])
        # AppLogic hears withdraw.created as any Event API consumer does: verified envelopes.
        listener = listener_of(applogic[0])
        applogic_listener = (
            AmqpListener(settings.amqp_url, listener, verifier(settings))
            if settings.amqp_url is not None
            else BusListener(bus, listener, verifier(settings))
        )
        await applogic_listener.start()
    # Deposit scanners for the blockchains configured (`bursa custody blockchain add`).
    scanners = ScanService(database, sessions, app.state.custody, runner.submit)
    followed = await scanners.start()
    if followed:
        log.info("scanning %s for deposits", ", ".join(followed))
    if await scanners.start_senders():
        log.info("sending withdrawals on %s", ", ".join(followed))
    # Members' deposit and withdraw streams follow the Event API, verified as any consumer;
    # every API process gets every event, for its own clients.
    streams = custody_streams(hub, sessions)
    streams_listener = (
        AmqpListener(settings.amqp_url, streams, verifier(settings), per_process=True)
        if settings.amqp_url is not None
        else BusListener(bus, streams, verifier(settings))
    )
    await streams_listener.start()
    # Deposits to the hot wallet; their network fees are booked by the engine.
    sweepers = SweepService(database, sessions, app.state.custody, runner.submit)
    await sweepers.start()
    # The Event API: the outbox to RabbitMQ (BURSA_AMQP_URL) or to the bus's "event_api",
    # started once its in-process consumers listen.
    relay = build_relay(settings, url, bus)
    await relay.start()
    # No per-message deflate on websockets, as Rango: Ranger sends each frame to many
    # clients, and compressing it once per client costs more than the bytes it saves.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        lifespan="off",
        ws=ws_protocol.PROTOCOL,  # uvicorn's sans-io websockets, with Ranger's direct writes
        ws_per_message_deflate=False,
    )
    server = _Server(config)
    server.bots = await DemoLiquidity.start_if(
        liquidity, identity, sessions, runner, port, lambda: bool(server.started)
    )
    access_log.install()  # after uvicorn configured its loggers
    built = (web.DIST / "index.html").is_file()
    console.print(
        f"[bold green]Bursa is up[/] on http://{host}:{port}/"
        + ("" if built else " (the API only: run scripts/build-web for the web app)")
        + f" — the API under http://{host}:{port}/api/v2/ — Ctrl-C stops it"
    )
    ROLE_UP.labels(ROLE).set(1)  # the API serves /metrics on its own port
    try:
        async with showing_last_verification(url):  # bursa_ledger_last_verify_*
            await server.serve()
    finally:
        ROLE_UP.labels(ROLE).set(0)
        await DemoLiquidity.stop_if(server.bots)  # if serving never started
        if applogic_listener is not None:
            await applogic_listener.stop()
        if applogic is not None:
            await applogic[1].close()
        await relay.stop()
        await streams_listener.stop()
        await scanners.stop()
        await sweepers.stop()
        await app.state.custody.close()
        await hub.stop()
        await cancel_after.stop()
        await cancel_after.deadlines.close()
        if mailer is not None:
            await mailer.stop()
        await candles.stop()
        await runner.stop()
        await identity.close()
        await database.dispose()
        if isinstance(limiter, RedisLimiter):
            await limiter.close()
        if isinstance(nonces, RedisNonces):
            await nonces.close()
        if runner.failure is not None:
            fail(f"engine halted: {runner.failure}", "see the log above; restart recovers")
    if not server.started:
        fail(f"could not listen on {host}:{port}", "choose another --port or stop what uses it")
