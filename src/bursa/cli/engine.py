"""``bursa engine …``: the engine as its own process, and checking its command log."""

import asyncio
import contextlib
import logging
import signal

import asyncpg
import typer
from rich.console import Console

from bursa.cli.context import configure_logging, load_settings, with_database
from bursa.cli.errors import fail
from bursa.cli.metrics_options import MetricsPort, metrics_address
from bursa.config.settings import Settings
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.amqp import EngineConsumer
from bursa.engine.replay import ReplayReport, check_replay
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.events.fanout import EventRelay
from bursa.metrics.process import serve_metrics
from bursa.trading.candles import CandleWriter
from bursa.trading.specs import load_specs

console = Console()
log = logging.getLogger("bursa.engine")
engine_app = typer.Typer(help="The matching engine process.", no_args_is_help=True)


@engine_app.command("run")
def run(metrics_port: MetricsPort = None) -> None:
    """Run the engine fed from RabbitMQ (BURSA_AMQP_URL, queue BURSA_ENGINE_QUEUE).

    Each committed batch's events go to the fanout exchange bursa.engine.events, where
    API processes follow them for their websocket streams. The active engine also counts
    committed trades into candles (the deployment's one candle writer).

    Commands are acknowledged only after the batch holding them is committed, so a killed
    engine loses nothing: the next one (a second one waits for the lock) takes over.

    With --metrics-port it serves /metrics (bursa_engine_active: 1 active, 0 standing by)
    and /health/ready (ready unless halted: a standby is ready to take over).
    """
    settings = load_settings()
    configure_logging(settings)
    if settings.amqp_url is None:
        fail(
            "BURSA_AMQP_URL is not set",
            "set it to a RabbitMQ URL, or use `bursa up`, which runs the engine in process",
        )

    host, port = metrics_address(settings, metrics_port)

    async def work(url: str) -> None:
        runner = EngineRunner(
            url,
            InProcessBus(),
            load_specs,
            max_batch=settings.engine_max_batch,
            batch_wait_ms=settings.engine_batch_wait_ms,
            idempotency_window_hours=settings.idempotency_window_hours,
        )
        async with serve_metrics("engine", host, port, lambda: runner.failure is None):
            await _run(settings, url, runner)

    with_database(settings, work)


async def _run(settings: Settings, url: str, runner: EngineRunner) -> None:
    assert settings.amqp_url is not None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    bus = runner.bus
    # A standby waits in ``start`` for the lock: a signal meanwhile ends the wait (an
    # orchestrator's SIGTERM must not have to wait out its grace period).
    starting = asyncio.create_task(runner.start())
    stop_waiting = asyncio.create_task(stopping.wait())
    await asyncio.wait({starting, stop_waiting}, return_when=asyncio.FIRST_COMPLETED)
    stop_waiting.cancel()
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        log.info("stopped while standing by")
        return
    starting.result()
    # Committed batches to the API processes (their websocket streams), from the first.
    relay = EventRelay(settings.amqp_url, bus, runner.committed_seq)
    await relay.start()
    consumer = EngineConsumer(settings.amqp_url, runner, queue=settings.engine_queue)
    await consumer.start()
    # The one candle writer of a deployment: the active engine's, woken by its own trades
    # (API processes only read candles). A standby never gets here before taking over.
    database = create_engine(url, pool_size=2)
    candles = CandleWriter(create_session_factory(database), bus)
    await candles.start()
    log.info("engine ready at seq %d", runner.committed_seq)
    try:
        while not runner.finished and not stopping.is_set():  # rides out an outage
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await stopping.wait()
    finally:
        await consumer.stop()
        await runner.stop()
        await relay.stop()
        await candles.stop()
        await database.dispose()
    if runner.failure is not None:
        fail(f"engine halted: {runner.failure}", "fix the cause in the log; restart recovers")


@engine_app.command("replay")
def replay() -> None:
    """Replay the whole command log into a fresh engine and compare it with the tables.

    Read-only. Exits 1 if balances, open orders or trades differ.
    """
    settings = load_settings()

    async def work(url: str) -> ReplayReport:
        conn = await asyncpg.connect(url)
        try:
            currencies, markets = await load_specs(conn)
            with console.status("replaying the command log…"):
                return await check_replay(
                    conn,
                    currencies,
                    markets,
                    idempotency_window_hours=settings.idempotency_window_hours,
                )
        finally:
            await conn.close()

    report = with_database(settings, work)
    if report.ok:
        console.print(f"[green]replay matches[/]: {report.commands} commands")
        return
    for difference in report.differences:
        console.print(f"[red]✗[/] {difference}")
    fail(f"replay of {report.commands} commands differs from the stored state")
