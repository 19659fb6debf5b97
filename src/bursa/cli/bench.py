"""``bursa bench …``: reproducible performance figures, printed with the targets and
Peatio's published figures for comparison."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from bursa.bench.anvil import AnvilMissing
from bursa.bench.api import ApiFigures, run_api_bench
from bursa.bench.bots import BenchError, BotsFigures, run_bots_bench
from bursa.bench.engine import EngineFigures, run_in_memory, run_persisted, workload
from bursa.bench.engine import Progress as ProgressFn
from bursa.bench.scan import DepositFigures, ScanFigures, run_deposit_bench, run_scan_bench
from bursa.bench.ws import WsFigures, run_ws_bench
from bursa.bench.ws_orders import WsOrderFigures, run_ws_orders_bench
from bursa.cli.context import configure_logging, load_settings, with_database
from bursa.cli.database import apply_seed_file
from bursa.cli.errors import fail
from bursa.config.settings import Settings
from bursa.custody.chain import ChainCurrency, ChainError, UnknownClient, plugin_factory
from bursa.db.migrate import upgrade
from bursa.db.scratch import scratch_database
from bursa.engine.commands import Command
from bursa.ledger.verify import verify_ledger
from bursa.trading.seeds import DEMO_SEEDS, read_seed_file
from bursa.trading.specs import load_specs

bench_app = typer.Typer(help="Benchmarks (figures, not pass/fail tests).", no_args_is_help=True)

# Targets from the issue tracker, on a 2-core machine; Peatio's figures are its own
# published benchmark (4 cores): about 125 orders/s created and 30 trades/s.
TARGETS = {
    "commands_per_s (in memory)": 200_000,
    "commands_per_s (persisted)": 20_000,
    "ack_p99_ms at 5,000/s": 20,
}
PEATIO = {"commands_per_s": 125, "trades_per_s": 30}


@bench_app.command("engine")
def engine(
    commands: Annotated[
        int | None,
        typer.Option(
            min=1, help="commands to run (default 500,000; 200,000 with --persist; 20 s at --rate)"
        ),
    ] = None,
    members: Annotated[int, typer.Option(min=2, help="members trading")] = 1000,
    seed: Annotated[int, typer.Option(help="workload seed (same seed, same stream)")] = 1,
    persist: Annotated[
        bool, typer.Option(help="commit in batches to PostgreSQL and measure ack latency")
    ] = False,
    rate: Annotated[
        int | None, typer.Option(min=1, help="offer this many commands/s (with --persist)")
    ] = None,
    in_flight: Annotated[
        int, typer.Option(min=1, help="most unanswered commands at once (with --persist)")
    ] = 20_000,
    export: Annotated[
        Path | None, typer.Option(help="write the command stream (with funding) as JSON lines")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Seeded workload on btcusdt and ethusdt: 60% limit orders near the mid price, 30%
    cancels, 10% market orders, by 1,000 funded members.

    In memory it measures the state machine alone. With --persist it runs the real runner
    against a scratch database on BURSA_DATABASE_URL's server (else the embedded one),
    which it creates, verifies with the ledger check, and drops.
    """
    if rate is not None and not persist:
        fail("--rate needs --persist", "add --persist")
    count = commands or (rate * 20 if rate else 200_000 if persist else 500_000)
    console = Console(stderr=as_json)
    with console.status(f"generating {count:,} commands…"):
        stream = workload(count, members, seed, export)
    if export is not None:
        console.print(f"command stream written to {export}")
    with _progress(console) as bar:
        task = bar.add_task("commands", total=count)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done)

        if persist:
            figures = _persisted(stream, members, rate, in_flight, progress)
        else:
            figures = run_in_memory(stream, members, progress)
    if as_json:
        print(json.dumps(figures.as_json()))
        return
    _report(console, figures, persist)


def _persisted(
    stream: list[Command], members: int, rate: int | None, in_flight: int, progress: ProgressFn
) -> EngineFigures:
    settings = load_settings()

    async def work(url: str) -> EngineFigures:
        async with scratch_database(url, "bursa_bench") as bench_url:
            await upgrade(bench_url)
            await apply_seed_file(bench_url, read_seed_file(DEMO_SEEDS))
            figures = await run_persisted(
                bench_url,
                stream,
                members,
                rate=rate,
                in_flight=in_flight,
                progress=progress,
                max_batch=settings.engine_max_batch,
                load_specs=load_specs,
            )
            conn = await asyncpg.connect(bench_url)
            try:
                report = await verify_ledger(conn)
            finally:
                await conn.close()
            if not report.ok:
                fail(f"ledger does not verify after the run: {report.breaks[0].describe()}")
            return figures

    return with_database(settings, work)


def _progress(console: Console) -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _report(console: Console, figures: EngineFigures, persist: bool) -> None:
    mode = "persisted" if persist else "in memory"
    table = Table("figure", "measured", "target", "Peatio", title=f"engine, {mode}")
    table.add_row(
        "commands/s",
        f"{figures.commands_per_s:,.0f}",
        f"{TARGETS[f'commands_per_s ({mode})']:,}" if figures.offered_rate is None else "—",
        f"~{PEATIO['commands_per_s']} orders/s",
    )
    table.add_row("trades/s", f"{figures.trades_per_s:,.0f}", "—", f"~{PEATIO['trades_per_s']}")
    if figures.ack_p50_ms is not None:
        target = f"< {TARGETS['ack_p99_ms at 5,000/s']}" if figures.offered_rate == 5000 else "—"
        table.add_row("ack p50 ms", f"{figures.ack_p50_ms:.2f}", "—", "—")
        table.add_row("ack p99 ms", f"{figures.ack_p99_ms or 0:.2f}", target, "—")
        table.add_row("batches", f"{figures.batches:,}", "—", "—")
    console.print(table)
    console.print(
        f"{figures.commands:,} commands, {figures.trades:,} trades in {figures.seconds:.2f} s"
        + (f" (offered {figures.offered_rate:,}/s)" if figures.offered_rate else "")
    )


ScratchServer = Annotated[
    str | None,
    typer.Option(help="PostgreSQL server to run on (default: BURSA_DATABASE_URL, else embedded)"),
]


def _on_server(database_url: str | None) -> Settings:
    """The settings, with ``--database-url`` (when given) as the server to run on."""
    settings = load_settings()
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


@asynccontextmanager
async def _seeded_scratch(url: str, prefix: str, console: Console) -> AsyncIterator[str]:
    """A scratch database on ``url``'s server, migrated and demo-seeded, dropped after."""
    async with scratch_database(url, prefix) as bench_url:
        with console.status("migrating and seeding the scratch database…"):
            await upgrade(bench_url)
            await apply_seed_file(bench_url, read_seed_file(DEMO_SEEDS))
        yield bench_url


API_TARGETS = {"orders_per_s": 3_000, "p99_ms": 50}
API_RATIO_TARGET = 1 / 3  # orders/s over the hello-world requests/s of the same run


@bench_app.command("api")
def api(
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="how long to drive load")] = 20,
    members: Annotated[
        int, typer.Option(min=1, max=500, help="members, each with one API key and connection")
    ] = 32,
    database_url: ScratchServer = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Authenticated orders over real HTTP: the exchange runs here (engine, API, on a
    scratch database it creates and drops), a separate process signs requests with the
    members' API keys and places and cancels orders on btcusdt for --seconds, after the
    same load on a hello-world endpoint for --seconds (the baseline of the ratio)."""
    settings = _on_server(database_url)
    console = Console(stderr=True)

    async def work(url: str) -> ApiFigures:
        async with _seeded_scratch(url, "bursa_bench_api", console) as bench_url:
            return await run_api_bench(
                bench_url, members=members, seconds=seconds, progress=console.print
            )

    figures = with_database(settings, work)
    if as_json:
        print(json.dumps(figures.as_json()))
        return
    numbers = figures.as_json()
    table = Table("figure", "measured", "target", "Peatio", title="API, authenticated orders")
    table.add_row(
        "orders/s", f"{numbers['orders_per_s']:,.0f}", f"≥ {API_TARGETS['orders_per_s']:,}",
        f"{PEATIO['commands_per_s']} (4 cores)",
    )  # fmt: skip
    table.add_row("cancels", f"{numbers['cancels']:,}", "", "")
    table.add_row("errors", f"{numbers['errors']:,}", "0", "")
    for kind, count in sorted(figures.error_kinds.items(), key=lambda item: -item[1]):
        table.add_row(f"  {kind}", f"{count:,}", "", "")
    for name in ("p50_ms", "p95_ms", "p99_ms"):
        target = f"< {API_TARGETS['p99_ms']}" if name == "p99_ms" else ""
        table.add_row(f"latency {name[:3]} (ms)", f"{numbers[name]:.1f}", target, "")
    table.add_row("hello-world requests/s", f"{numbers['hello_per_s']:,.0f}", "", "")
    table.add_row("hello-world errors", f"{numbers['hello_errors']:,}", "0", "")
    for name in ("p50_ms", "p95_ms", "p99_ms"):
        value = numbers[f"hello_{name}"]
        table.add_row(f"hello-world {name[:3]} (ms)", f"{value:.1f}", "", "")
    table.add_row("exchange CPU per request (µs)", f"{numbers['cpu_us_per_request']:,.0f}", "", "")
    table.add_row(
        "  per hello-world request (µs)", f"{numbers['hello_cpu_us_per_request']:,.0f}", "", ""
    )
    table.add_row(
        "orders/s ÷ hello-world/s", f"{numbers['ratio']:.2f}", f"≥ {API_RATIO_TARGET:.2f}", ""
    )
    Console().print(table)


WS_TARGETS = {"p99_ms": 100}


@bench_app.command("ws")
def ws(
    clients: Annotated[int, typer.Option(min=1, max=20_000, help="websocket clients")] = 1000,
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="how long to trade")] = 10,
    rate: Annotated[
        int, typer.Option(min=1, max=10_000, help="crossing order pairs (trades) a second")
    ] = 5,
    warmup: Annotated[
        float, typer.Option(min=0, max=600, help="seconds of load before counting starts")
    ] = 5,
    database_url: ScratchServer = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Websocket fan-out: the engine and Ranger run here (on a scratch database it creates
    and drops), a separate process holds --clients connections on btcusdt.trades and
    btcusdt.ob-inc while crossing orders trade --rate times a second for --seconds.
    Reports frames delivered per second across all clients and the delay from the
    batch's commit to a client's receipt of the trade (p50, p99)."""
    settings = _on_server(database_url)
    console = Console(stderr=True)

    async def work(url: str) -> WsFigures:
        async with _seeded_scratch(url, "bursa_bench_ws", console) as bench_url:
            console.print(f"{clients:,} clients, {rate} trades/s for {seconds:g} s")
            return await run_ws_bench(
                bench_url,
                clients=clients,
                seconds=seconds,
                rate=rate,
                warmup=warmup,
                outbox=settings.ranger_outbox,
            )

    figures = with_database(settings, work)
    numbers = figures.as_json()
    if as_json:
        print(json.dumps(numbers))
        return
    table = Table("figure", "measured", "target", title="Ranger websocket fan-out")
    table.add_row("clients connected", f"{numbers['connected']:,} / {clients:,}", "")
    table.add_row("trades", f"{numbers['trades']:,}", "")
    table.add_row("messages/s (all clients)", f"{numbers['messages_per_s']:,.0f}", "")
    table.add_row("commit → client p50 ms", f"{numbers['p50_ms']:.1f}", "")
    table.add_row("commit → client p99 ms", f"{numbers['p99_ms']:.1f}", f"< {WS_TARGETS['p99_ms']}")
    table.add_row("dropped (too slow)", f"{numbers['dropped']:,}", "0")
    Console().print(table)


WS_ORDER_TARGETS = {"orders_per_s": 10_000, "p99_ms": 10}


@bench_app.command("ws-orders")
def ws_orders(
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="how long to drive load")] = 10,
    connections: Annotated[
        int, typer.Option(min=1, max=500, help="private websockets, one member and key each")
    ] = 16,
    pipeline: Annotated[
        int, typer.Option(min=1, max=256, help="order requests in flight per connection")
    ] = 32,
    bulk: Annotated[
        int, typer.Option(min=0, max=100, help="placements per bulk request (0: single orders)")
    ] = 0,
    database_url: ScratchServer = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Orders placed over the private Ranger websocket: the exchange runs here (as for
    ``bench api``, on a scratch database it creates and drops), a separate process holds
    --connections connections authorized by API keys and keeps --pipeline orders in
    flight on each (single orders, or --bulk placements per request). Reports orders/s
    and the time from sending a request to its answer after the engine's commit (p50,
    p99)."""
    settings = _on_server(database_url)
    console = Console(stderr=True)

    async def work(url: str) -> WsOrderFigures:
        async with _seeded_scratch(url, "bursa_bench_ws_orders", console) as bench_url:
            return await run_ws_orders_bench(
                bench_url,
                connections=connections,
                pipeline=pipeline,
                seconds=seconds,
                progress=console.print,
                bulk=bulk,
            )

    figures = with_database(settings, work)
    numbers = figures.as_json()
    if as_json:
        print(json.dumps(numbers))
        return
    table = Table("figure", "measured", "target", title="Orders over the private websocket")
    table.add_row(
        "orders/s", f"{numbers['orders_per_s']:,.0f}", f"≥ {WS_ORDER_TARGETS['orders_per_s']:,}"
    )
    table.add_row("errors", f"{numbers['errors']:,}", "0")
    for kind, count in sorted(figures.error_kinds.items(), key=lambda item: -item[1]):
        table.add_row(f"  {kind}", f"{count:,}", "")
    for name in ("p50_ms", "p95_ms", "p99_ms"):
        target = f"< {WS_ORDER_TARGETS['p99_ms']}" if name == "p99_ms" else ""
        table.add_row(f"send → answer {name[:3]} (ms)", f"{numbers[name]:.2f}", target)
    table.add_row("server CPU per order (µs)", f"{numbers['server_cpu_us_per_order']:,.0f}", "")
    table.add_row("client CPU per order (µs)", f"{numbers['client_cpu_us_per_order']:,.0f}", "")
    Console().print(table)
    per = f", bulks of {bulk}" if bulk else ""
    console.print(f"{connections} connections × {pipeline} in flight{per}, {numbers['seconds']} s")


# ``bursa bench api`` on this machine (README): the exchange's own REST ceiling, from a
# load process with 32 connections that does nothing else.
API_CEILING = "bench api: 644–785 orders/s, 1,000–1,150 requests/s with cancels"


@bench_app.command("bots")
def bots(
    seconds: Annotated[
        float, typer.Option(min=1, max=3600, help="how long each of the two measurements runs")
    ] = 15,
    accounts: Annotated[
        int,
        typer.Option(
            min=1, max=50, help="target accounts, each with a market maker on three markets"
        ),
    ] = 4,
    levels: Annotated[
        int, typer.Option(min=1, max=50, help="orders a side each market maker keeps")
    ] = 5,
    rate: Annotated[
        float, typer.Option(min=0.5, max=100, help="source book changes a second (the delay)")
    ] = 10,
    warmup: Annotated[
        float, typer.Option(min=0, max=600, help="seconds of bots before counting starts")
    ] = 3,
    database_url: ScratchServer = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """The bots against Bursa: a source and a target exchange, each in its own process on a
    scratch database it creates and drops, and one bot process running ``bursa bots run``'s
    runner on a generated bots' file. First, --accounts x 3 market makers on the target
    (btcusdt, ethusdt, btcusd) quote --levels levels a side around the source's mids,
    which move all the time, so every tick replaces their orders: orders placed +
    cancelled a second over --seconds. Then a copy strategy mirrors the source's btcusdt
    onto the target while a driver puts a new best level on the source --rate times a
    second: the delay from the source's 201 to the price appearing in the target's Ranger
    book (p50, p99, max). Exit 1 on errors."""
    settings = _on_server(database_url)
    console = Console(stderr=True)

    async def work(url: str) -> BotsFigures:
        async with (
            _seeded_scratch(url, "bursa_bench_bots_source", console) as source_url,
            _seeded_scratch(url, "bursa_bench_bots_target", console) as target_url,
        ):
            with _progress(console) as bar:
                task = bar.add_task("starting", total=None)

                def phase(text: str) -> None:
                    bar.update(task, description=text, total=None, completed=0)

                def tick(done: float, total: float) -> None:
                    bar.update(task, completed=round(done), total=round(total))

                return await run_bots_bench(
                    source_url,
                    target_url,
                    seconds=seconds,
                    warmup=warmup,
                    accounts=accounts,
                    levels=levels,
                    rate=rate,
                    phase=phase,
                    tick=tick,
                )

    try:
        figures = with_database(settings, work)
    except BenchError as error:
        fail(str(error), "see `bursa bench bots --help`")
    numbers = figures.as_json()
    if as_json:
        print(json.dumps(numbers))
    else:
        _bots_report(figures, numbers)
    if figures.errors or not figures.throughput.placed or not figures.delays.delays_ms:
        raise typer.Exit(1)


def _bots_report(figures: BotsFigures, numbers: dict[str, Any]) -> None:
    table = Table("figure", "measured", "for comparison", title="bots: one bot process")
    table.add_row("orders placed + cancelled /s", f"{numbers['orders_per_s']:,.0f}", API_CEILING)
    table.add_row("  placed / cancelled", f"{numbers['placed']:,} / {numbers['cancelled']:,}", "")
    table.add_row(
        "  market makers x levels a side",
        f"{numbers['strategies']} x {numbers['levels']}",
        f"{numbers['ticks'] / numbers['seconds']:,.1f} ticks/s",
    )
    per_tick = (numbers["placed"] + numbers["cancelled"]) / max(numbers["ticks"], 1)
    table.add_row(
        "  orders placed + cancelled a tick",
        f"{per_tick:.1f}",
        f"{4 * numbers['levels']} when a tick replaces every order",
    )
    table.add_row(
        "  CPU of one core: bot / target / source",
        f"{numbers['bot_cpu']:.2f} / {numbers['target_cpu']:.2f} / {numbers['source_cpu']:.2f}",
        "",
    )
    per_order = numbers["bot_cpu_ms_per_order"]
    table.add_row(
        "  bot CPU per order (ms)",
        f"{per_order:.2f}",
        f"≈ {1000 / per_order:,.0f} orders/s with a core of its own" if per_order else "",
    )
    if numbers["machine_busy"] is not None:
        table.add_row("  machine busy (all cores)", f"{numbers['machine_busy']:.0%}", "")
    wake = (
        f"copy woken by the source's feed, min_period {numbers['min_period']} s"
        if numbers["min_period"] is not None
        else f"copy ticks every {numbers['period']} s (this runner has no min_period)"
    )
    table.add_row("source change → target book p50 ms", f"{numbers['delay_p50_ms']:.1f}", wake)
    table.add_row("source change → target book p99 ms", f"{numbers['delay_p99_ms']:.1f}", "")
    table.add_row("source change → target book max ms", f"{numbers['delay_max_ms']:.1f}", "")
    table.add_row(
        "  changes mirrored / made (missed)",
        f"{numbers['mirrored']:,} / {numbers['changes']:,} ({numbers['missed']:,})",
        f"{numbers['rate']:g} a second",
    )
    table.add_row("errors", f"{numbers['errors']:,}", "0")
    for kind, count in sorted(numbers["error_kinds"].items(), key=lambda item: -item[1]):
        table.add_row(f"  {kind}", f"{count:,}", "")
    Console().print(table)
    Console().print(
        f"{figures.cores} cores, load average {figures.load_average:.1f} when the bench"
        " started (both exchanges, the bot, PostgreSQL and anything else running share them)"
    )


WEB_TARGETS = {"js_gzip_kb": 250, "ready_ms": 1000, "p99_ms": 50}


@bench_app.command("web")
def web(
    loads: Annotated[
        int, typer.Option(min=1, max=50, help="cold loads and warm loads to time, each")
    ] = 5,
    seconds: Annotated[
        float, typer.Option(min=1, max=600, help="how long to update the book")
    ] = 20,
    rate: Annotated[int, typer.Option(min=1, max=1000, help="book updates a second")] = 50,
    database_url: ScratchServer = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """The trade page in headless Chromium (Debian's, or BURSA_CHROMIUM) against a busy
    btcusdt (200 levels a side, a day of trades), served here as ``bursa up`` serves it on
    a scratch database it creates and drops: JavaScript shipped (gzip), time to a usable
    page (cold and warm, median of --loads) and the delay from a websocket book update to
    the DOM at --rate updates a second for --seconds. Needs the built web app
    (scripts/build-web) and Playwright (scripts/bootstrap dev)."""
    # Imported when the command runs: Playwright is imported later still, by the bench.
    from bursa.api.web import DIST
    from bursa.bench import web as web_bench

    if web_bench.web_dist_missing(DIST):
        fail("the web app is not built", "run scripts/build-web")
    try:
        web_bench.check_browser()
    except web_bench.BrowserMissing as error:
        fail(str(error))
    settings = _on_server(database_url)
    console = Console(stderr=True)

    async def work(url: str) -> web_bench.WebFigures:
        async with _seeded_scratch(url, "bursa_bench_web", console) as bench_url:
            with _progress(console) as bar:
                task = bar.add_task("starting", total=None)

                def phase(text: str) -> None:
                    bar.update(task, description=text, total=None, completed=0)

                def tick(done: float, total: float) -> None:
                    bar.update(task, completed=round(done), total=round(total))

                return await web_bench.run_web_bench(
                    bench_url, loads=loads, seconds=seconds, rate=rate, phase=phase, tick=tick
                )

    try:
        figures = with_database(settings, work)
    except (web_bench.BrowserMissing, web_bench.PageNotReady) as error:
        fail(str(error), "see `bursa bench web --help`")
    numbers = figures.as_json()
    if as_json:
        print(json.dumps(numbers))
        return
    _web_report(figures, numbers, rate)


def _web_report(figures: Any, numbers: dict[str, Any], rate: int) -> None:
    def row(label: str, measured: str, target: float | None = None, value: float = 0) -> None:
        if target is None:
            table.add_row(label, measured, "", "")
            return
        verdict = "[green]met[/]" if value < target else "[red]not met[/]"
        table.add_row(label, measured, f"< {target:,}", verdict)

    chunks = Table("JavaScript chunk", "KB", "gzip KB", title="scripts the trade page loads")
    for chunk in figures.chunks:
        name = chunk.url.rsplit("/", 1)[-1]
        chunks.add_row(name, f"{chunk.size / 1024:,.1f}", f"{chunk.gzipped / 1024:,.1f}")
    Console().print(chunks)
    table = Table("figure", "measured", "target", "", title="trade page, headless Chromium")
    shipped = numbers["js_gzip_kb"]
    row(
        "JavaScript shipped (gzip KB)",
        f"{shipped:,.1f} ({numbers['js_kb']:,.0f} raw)",
        WEB_TARGETS["js_gzip_kb"],
        shipped,
    )
    for label in ("cold", "warm"):
        median = numbers[f"{label}_ms"]
        each = ", ".join(f"{x:.0f}" for x in numbers[f"{label}_loads_ms"])
        row(f"usable page, {label} load (ms, median)", f"{median:,.0f} ({each})",
            WEB_TARGETS["ready_ms"], median)  # fmt: skip
    row(f"book update → DOM p50 (ms, {rate}/s)", f"{numbers['p50_ms']:.1f}")
    row(f"book update → DOM p99 (ms, {rate}/s)", f"{numbers['p99_ms']:.1f}",
        WEB_TARGETS["p99_ms"], numbers["p99_ms"])  # fmt: skip
    row("book update → DOM max (ms)", f"{numbers['max_ms']:.1f}")
    row("updates drawn / received / made",
        f"{numbers['matched']:,} / {numbers['increments']:,} / {numbers['updates']:,}")  # fmt: skip
    Console().print(table)
    Console().print(
        f"{numbers['cores']} cores, load average {numbers['load_average']:.1f} when the browser"
        " started (Chromium, the exchange and anything else running share them)"
    )


def _chain_currency(spec: str) -> ChainCurrency:
    """``ID:DECIMALS`` (the native coin) or ``ID:DECIMALS:CONTRACT`` (a token)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        raise typer.BadParameter(f"{spec!r}: write ID:DECIMALS or ID:DECIMALS:CONTRACT")
    return ChainCurrency(parts[0], int(parts[1]), parts[2] if len(parts) == 3 else None)


@bench_app.command("scan")
def scan(
    server: Annotated[
        str | None,
        typer.Option(
            help="read blocks from this node's JSON-RPC URL; without it, the whole scanner"
            " runs on a local anvil it fills with payments"
        ),
    ] = None,
    per_block: Annotated[
        int, typer.Option(min=1, max=2000, help="without --server: payments per block")
    ] = 100,
    members: Annotated[
        int, typer.Option(min=1, max=100_000, help="without --server: deposit addresses")
    ] = 500,
    database_url: ScratchServer = None,
    client: Annotated[str, typer.Option(help="chain plugin (bursa.blockchains)")] = "ethereum",
    currency: Annotated[
        list[str] | None,
        typer.Option(help="ID:DECIMALS[:CONTRACT], repeatable (default: eth:18)"),
    ] = None,
    blocks: Annotated[int, typer.Option(min=1, help="blocks to read")] = 100,
    start: Annotated[
        int | None, typer.Option(min=0, help="first height (default: the last --blocks blocks)")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="reads in flight")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Deposit scanning. Without --server: a local anvil (tools/anvil) gets --blocks blocks
    of --per-block ETH payments to --members deposit addresses, and the real scanner reads,
    records and credits them all through an in-process engine on a scratch database;
    reports blocks/s and deposits/s. With --server: read --blocks consecutive blocks of
    that node through a chain plugin (reads only) and report blocks/s, transfers/s and the
    time one block takes."""
    if server is None:
        _scan_deposits(blocks, per_block, members, database_url, as_json)
        return
    currencies = [_chain_currency(spec) for spec in currency or ["eth:18"]]
    try:
        factory = plugin_factory(client)
    except UnknownClient as error:
        fail(str(error), "install the plugin's package or pick another --client")
    console = Console(stderr=True)

    async def work() -> ScanFigures:
        plugin = factory(server, currencies)
        try:
            first = start
            if first is None:
                first = max(await plugin.latest_height() - blocks + 1, 0)
            with _progress(console) as bar:
                task = bar.add_task("blocks", total=blocks)
                return await run_scan_bench(
                    plugin,
                    first,
                    blocks,
                    concurrency=concurrency,
                    progress=lambda done, _total: bar.update(task, completed=done),
                )
        finally:
            await plugin.close()

    try:
        figures = asyncio.run(work())
    except ChainError as error:
        fail(str(error), "check --server, and that the node has the blocks asked for")
    numbers = figures.as_json()
    if as_json:
        print(json.dumps(numbers))
        return
    table = Table("figure", "measured", title=f"{client} scan, {concurrency} reads in flight")
    table.add_row("blocks", f"{figures.first_height:,} … +{figures.blocks:,}")
    table.add_row("transfers found", f"{figures.transfers:,}")
    table.add_row("blocks/s", f"{numbers['blocks_per_s']:,.1f}")
    table.add_row("transfers/s", f"{numbers['transfers_per_s']:,.1f}")
    table.add_row("one block p50 ms", f"{numbers['block_p50_ms']:.1f}")
    table.add_row("one block p99 ms", f"{numbers['block_p99_ms']:.1f}")
    Console().print(table)


def _scan_deposits(
    blocks: int, per_block: int, members: int, database_url: str | None, as_json: bool
) -> None:
    settings = _on_server(database_url)
    console = Console(stderr=True)

    async def work(url: str) -> DepositFigures:
        async with _seeded_scratch(url, "bursa_bench_scan", console) as bench_url:
            console.print(
                f"{blocks} blocks x {per_block} payments to {members} addresses"
                " (building the chain first)"
            )
            with _progress(console) as bar:
                task = bar.add_task("blocks scanned", total=blocks)
                return await run_deposit_bench(
                    bench_url,
                    blocks=blocks,
                    per_block=per_block,
                    members=members,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )

    try:
        figures = with_database(settings, work)
    except AnvilMissing as error:
        fail(str(error), "or give --server to read blocks from a node of yours")
    numbers = figures.as_json()
    if as_json:
        print(json.dumps(numbers))
        return
    table = Table("figure", "measured", title="deposit scanner on a busy chain (anvil)")
    table.add_row("blocks", f"{figures.blocks:,}")
    table.add_row("deposits recorded / credited", f"{figures.deposits:,} / {figures.credited:,}")
    table.add_row("blocks/s", f"{numbers['blocks_per_s']:,.1f}")
    table.add_row("deposits/s (read, recorded, credited)", f"{numbers['deposits_per_s']:,.1f}")
    table.add_row("building the chain (not measured) s", f"{figures.prepare_seconds:,.1f}")
    Console().print(table)


@bench_app.command("deployment")
def deployment(
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="how long to drive load")] = 20,
    members: Annotated[
        int, typer.Option(min=2, max=500, help="members, each with one API key and connection")
    ] = 32,
    takeover_seconds: Annotated[
        float, typer.Option(min=3, max=600, help="load around the engine's SIGKILL")
    ] = 8,
    database_url: ScratchServer = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """The multi-process deployment on loopback (`bursa engine run` twice: active and
    standby; `bursa api` twice, one port each) under `bench api`'s load, next to the
    single process (`bench api`'s exchange, as `bursa up`) in the same run, each on a
    scratch database it creates and drops; then the active engine is killed under load
    and the time to the first order answered 201 is the takeover time. Needs
    BURSA_AMQP_URL and BURSA_REDIS_URL (default redis://127.0.0.1:6379/0)."""
    from bursa.bench.deployment import DeploymentFigures, run_deployment_bench

    settings = _on_server(database_url)
    if settings.database_url is None:
        fail("the deployment needs a PostgreSQL server", "give --database-url")
    amqp_url = settings.amqp_url or "amqp://guest:guest@127.0.0.1:5672/"
    redis_url = settings.redis_url or "redis://127.0.0.1:6379/0"
    console = Console(stderr=True)

    async def work(url: str) -> DeploymentFigures:
        async with (
            _seeded_scratch(url, "bursa_bench_deployment", console) as deployment_url,
            _seeded_scratch(url, "bursa_bench_single", console) as single_url,
        ):
            return await run_deployment_bench(
                deployment_url,
                single_url,
                amqp_url=amqp_url,
                redis_url=redis_url,
                members=members,
                seconds=seconds,
                takeover_seconds=takeover_seconds,
                progress=console.print,
            )

    try:
        figures = with_database(settings, work)
    except RuntimeError as error:
        fail(str(error), "see `bursa bench deployment --help`")
    numbers = figures.as_json()
    if as_json:
        print(json.dumps(numbers))
        return
    table = Table("", "orders/s", "requests/s", "p50 ms", "p99 ms", "errors", title="API load")
    rows = (
        (f"{figures.replicas} API, engine, standby", numbers["deployment"]),
        ("bursa up (one process)", numbers["single"]),
        ("active engine SIGKILLed", numbers["takeover_load"]),
    )
    for label, row in rows:
        table.add_row(
            label,
            f"{row['orders_per_s']:,.0f}",
            f"{row['requests_per_s']:,.0f}",
            f"{row['p50_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            f"{row['errors']:,}",
        )
    Console().print(table)
    for label, row in rows:
        for kind, count in row["error_kinds"].items():
            Console().print(f"{label}: {count:,} answered {kind}")
    takeover = numbers["takeover_s"]
    Console().print(
        "engine takeover (SIGKILL → first order answered 201): "
        + ("none within 60 s" if takeover is None else f"{takeover:.2f} s")
    )
    if not figures.ledger_ok:
        Console().print("[red]the deployment's ledger does not verify after the takeover[/]")
    Console().print(
        f"{figures.members} members, {seconds:g} s each, {figures.cores} cores shared by"
        " every process, PostgreSQL, RabbitMQ and Redis; API-key rate limits lifted"
    )
    if takeover is None or not figures.ledger_ok:
        raise typer.Exit(1)


@bench_app.command("api-replica", hidden=True)
def api_replica(port: Annotated[int, typer.Option(min=1, max=65535)]) -> None:
    """`bursa api` on loopback ``port`` with API-key rate limits lifted: the replicas of
    `bursa bench deployment`."""
    from bursa.bench.local_exchange import UnlimitedLimiter
    from bursa.cli.api import serve_api

    settings = load_settings()
    configure_logging(settings)
    serve_api(settings, "127.0.0.1", port, 5.0, limiter=UnlimitedLimiter())
