"""``bursa custody …``: blockchains, wallets, the deposit scanners and the sweepers."""

import asyncio
import contextlib
import signal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bursa.cli.context import configure_logging, load_settings, with_database
from bursa.cli.errors import fail
from bursa.cli.metrics_options import MetricsPort, metrics_address
from bursa.cli.users import build_keystore
from bursa.custody.addresses import Plugins
from bursa.custody.service import ScanService, SweepService
from bursa.custody.setup import NewBlockchain, NewWallet, SetupRefused, add_blockchain, add_wallet
from bursa.custody.tables import blockchains, wallets
from bursa.db.migrate import upgrade
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.amqp import EngineClient
from bursa.ledger.tables import currencies
from bursa.ledger.verifications import showing_last_verification
from bursa.metrics.process import serve_metrics
from bursa.plain_input import NotPlain, parse_amount
from bursa.trading.confirmations import required_confirmations

console = Console()
custody_app = typer.Typer(
    help="Custody: blockchains, wallets, scanners, sweepers.", no_args_is_help=True
)
blockchain_app = typer.Typer(help="Blockchains and their nodes.", no_args_is_help=True)
wallet_app = typer.Typer(help="Wallets.", no_args_is_help=True)
custody_app.add_typer(blockchain_app, name="blockchain")
custody_app.add_typer(wallet_app, name="wallet")


@blockchain_app.command("add")
def blockchain_add(
    key: Annotated[str, typer.Argument(help="e.g. ethereum, bitcoin")],
    client: Annotated[str, typer.Option(help="the plugin (entry point of bursa.blockchains)")],
    server: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            help="the node's RPC URL (asked for when not given: it may hold credentials)",
        ),
    ],
    name: Annotated[str | None, typer.Option(help="shown to members")] = None,
    min_confirmations: Annotated[
        int,
        typer.Option(
            min=1,
            help="deposits of its coins are credited at this depth (a currency may override it)",
        ),
    ] = 6,
    height: Annotated[int, typer.Option(min=0, help="the first block to read")] = 0,
) -> None:
    """Add a blockchain, or change its node and confirmations (the URL is sealed)."""
    settings = load_settings()
    keystore = build_keystore(settings)

    async def work(url: str) -> None:
        await upgrade(url)
        engine = create_engine(url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                new = NewBlockchain(key, name or key, client, server, min_confirmations, height)
                await add_blockchain(session, keystore, new)
        finally:
            await engine.dispose()

    try:
        with_database(settings, work)
    except SetupRefused as exc:
        fail(str(exc))
    console.print(f"[green]blockchain {key}[/] ({client}) from height {height}")


@wallet_app.command("add")
def wallet_add(
    name: Annotated[str, typer.Argument()],
    blockchain: Annotated[str, typer.Option(help="its blockchain key")],
    kind: Annotated[str, typer.Option(help="deposit, fee, hot, warm or cold")],
    currency: Annotated[list[str], typer.Option(help="a currency it holds (repeatable)")],
    address: Annotated[
        str | None, typer.Option(help="warm and cold wallets only: Bursa makes the others")
    ] = None,
    max_balance: Annotated[str, typer.Option(help="hot wallets: the most they keep")] = "0",
) -> None:
    """Add a wallet; for deposit, fee and hot wallets Bursa makes the key and seals it."""
    settings = load_settings()
    try:  # plain notation only, as every amount from outside
        most = parse_amount(max_balance)
    except NotPlain:
        fail(f"--max-balance {max_balance!r} is not an amount", "write digits, e.g. 2.5")
    plugins = Plugins(build_keystore(settings))

    async def work(url: str) -> str:
        await upgrade(url)
        engine = create_engine(url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                new = NewWallet(name, blockchain, kind, tuple(currency), address, most)
                row = await add_wallet(session, plugins, new)
                return str(row["address"])
        finally:
            await plugins.close()
            await engine.dispose()

    try:
        made = with_database(settings, work)
    except SetupRefused as exc:
        fail(str(exc))
    console.print(f"[green]wallet {name}[/] ({kind} on {blockchain}): {made}")


@custody_app.command("list")
def listing() -> None:
    """Blockchains (with the next block each scanner reads), the coins on them with the
    confirmations their deposits need, and wallets."""
    settings = load_settings()

    async def work(url: str) -> tuple[list[Any], list[Any], list[Any]]:
        engine = create_engine(url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session:
                chains = (
                    await session.execute(
                        select(
                            blockchains.c.key,
                            blockchains.c.client,
                            blockchains.c.height,
                            blockchains.c.min_confirmations,
                            blockchains.c.status,
                        ).order_by(blockchains.c.key)
                    )
                ).all()
                kept = (
                    await session.execute(
                        select(
                            wallets.c.name,
                            wallets.c.blockchain_key,
                            wallets.c.kind,
                            wallets.c.address,
                            wallets.c.status,
                        ).order_by(wallets.c.id)
                    )
                ).all()
                coins = (
                    await session.execute(
                        select(
                            currencies.c.id,
                            currencies.c.blockchain_key,
                            required_confirmations(),
                            currencies.c.min_confirmations,
                        )
                        .where(
                            currencies.c.type == "coin", currencies.c.blockchain_key.is_not(None)
                        )
                        .order_by(currencies.c.blockchain_key, currencies.c.position)
                    )
                ).all()
                return list(chains), list(coins), list(kept)
        finally:
            await engine.dispose()

    chains, coins, kept = with_database(settings, work)
    table = Table("blockchain", "client", "next block", "confirmations", "status")
    for row in chains:
        table.add_row(*(str(v) for v in row))
    console.print(table)
    # A deposit is credited at its blockchain's confirmations unless its currency overrides
    # them; a coin whose blockchain is not set up is not scanned at all.
    table = Table("currency", "blockchain", "confirmations needed", "from")
    for code, chain, needed, override in coins:
        source = "currency override" if override is not None else "blockchain"
        if needed is None:
            source = "blockchain not set up"
        table.add_row(code, chain, "-" if needed is None else str(needed), source)
    console.print(table)
    table = Table("wallet", "blockchain", "kind", "address", "status")
    for row in kept:
        table.add_row(*(str(v) for v in row))
    console.print(table)


def _stop_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (Ctrl-C stops the workers cleanly)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    return stopping


@custody_app.command("scan")
def scan(metrics_port: MetricsPort = None) -> None:
    """Follow every active blockchain, recording and crediting deposits and sending
    withdrawals, until stopped.

    The engine runs elsewhere (``bursa engine run``): credits go to it over RabbitMQ
    (BURSA_AMQP_URL). ``bursa up`` runs the scanners in its own process.
    """
    settings = load_settings()
    configure_logging(settings)
    if settings.amqp_url is None:
        fail(
            "BURSA_AMQP_URL is not set",
            "set it to the engine's RabbitMQ, or use `bursa up`, which scans in process",
        )
    amqp_url = settings.amqp_url
    keystore = build_keystore(settings)
    host, port = metrics_address(settings, metrics_port)

    async def work(url: str) -> None:
        engine = create_engine(url, pool_size=4)
        client = EngineClient(amqp_url, queue=settings.engine_queue)
        await client.start()
        plugins = Plugins(keystore)
        service = ScanService(engine, create_session_factory(engine), plugins, client.submit)
        stopping = _stop_signal()
        try:
            async with (
                serve_metrics("scanner", host, port, service.healthy),
                serve_metrics("sender", host, None),  # this process sends withdrawals too
                showing_last_verification(url),
            ):
                keys = await service.start()
                await service.start_senders()  # and the withdrawals of the same chains
                if not keys:
                    fail("no active blockchain", "add one with `bursa custody blockchain add`")
                console.print(f"scanning {', '.join(keys)} — Ctrl-C stops")
                await stopping.wait()
        finally:
            await service.stop()
            await plugins.close()
            with contextlib.suppress(Exception):
                await client.stop()
            await engine.dispose()

    with_database(settings, work)


@custody_app.command("sweep")
def sweep(metrics_port: MetricsPort = None) -> None:
    """Collect credited deposits to each blockchain's hot wallet and propose its surplus
    to the warm or cold wallet, until stopped (``bursa up`` runs this in its own process).

    The network fees sweeps pay are booked by the engine, which runs elsewhere (``bursa
    engine run``): over RabbitMQ (BURSA_AMQP_URL)."""
    settings = load_settings()
    configure_logging(settings)
    if settings.amqp_url is None:
        fail(
            "BURSA_AMQP_URL is not set",
            "set it to the engine's RabbitMQ (sweeps book their network fees there),"
            " or use `bursa up`, which sweeps in process",
        )
    amqp_url = settings.amqp_url
    keystore = build_keystore(settings)
    host, port = metrics_address(settings, metrics_port)

    async def work(url: str) -> None:
        engine = create_engine(url, pool_size=4)
        client = EngineClient(amqp_url, queue=settings.engine_queue)
        await client.start()
        plugins = Plugins(keystore)
        service = SweepService(engine, create_session_factory(engine), plugins, client.submit)
        stopping = _stop_signal()
        try:
            async with (
                serve_metrics("sweeper", host, port, service.healthy),
                showing_last_verification(url),
            ):
                keys = await service.start()
                if not keys:
                    fail("no active blockchain", "add one with `bursa custody blockchain add`")
                console.print(f"sweeping {', '.join(keys)} — Ctrl-C stops")
                await stopping.wait()
        finally:
            await service.stop()
            await plugins.close()
            with contextlib.suppress(Exception):
                await client.stop()
            await engine.dispose()

    with_database(settings, work)
