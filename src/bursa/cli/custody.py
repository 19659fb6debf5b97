"""``bursa custody …``: blockchains, wallets, the deposit scanners and the sweepers."""

import asyncio
import contextlib
import signal
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bursa.cli.context import configure_logging, load_settings, with_database
from bursa.cli.errors import fail
from bursa.cli.users import build_keystore
from bursa.custody.addresses import Plugins
from bursa.custody.service import ScanService, SweepService
from bursa.custody.setup import NewBlockchain, NewWallet, SetupRefused, add_blockchain, add_wallet
from bursa.custody.tables import blockchains, wallets
from bursa.db.migrate import upgrade
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.amqp import EngineClient

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
    min_confirmations: Annotated[int, typer.Option(min=1)] = 6,
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
    try:
        most = Decimal(max_balance)
    except InvalidOperation:
        fail(f"--max-balance {max_balance!r} is not a number")
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
    """Blockchains (with the next block each scanner reads) and wallets."""
    settings = load_settings()

    async def work(url: str) -> tuple[list[object], list[object]]:
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
                return list(chains), list(kept)
        finally:
            await engine.dispose()

    chains, kept = with_database(settings, work)
    table = Table("blockchain", "client", "next block", "confirmations", "status")
    for row in chains:
        table.add_row(*(str(v) for v in row))  # type: ignore[attr-defined]
    console.print(table)
    table = Table("wallet", "blockchain", "kind", "address", "status")
    for row in kept:
        table.add_row(*(str(v) for v in row))  # type: ignore[attr-defined]
    console.print(table)


def _stop_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (Ctrl-C stops the workers cleanly)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    return stopping


@custody_app.command("scan")
def scan() -> None:
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

    async def work(url: str) -> None:
        engine = create_engine(url, pool_size=4)
        client = EngineClient(amqp_url, queue=settings.engine_queue)
        await client.start()
        plugins = Plugins(keystore)
        service = ScanService(engine, create_session_factory(engine), plugins, client.submit)
        stopping = _stop_signal()
        try:
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
def sweep() -> None:
    """Collect credited deposits to each blockchain's hot wallet and propose its surplus
    to the warm or cold wallet, until stopped (``bursa up`` runs this in its own process).
    No engine is needed: sweeps move Bursa's own money between its addresses."""
    settings = load_settings()
    configure_logging(settings)
    keystore = build_keystore(settings)

    async def work(url: str) -> None:
        engine = create_engine(url, pool_size=4)
        plugins = Plugins(keystore)
        service = SweepService(engine, create_session_factory(engine), plugins)
        stopping = _stop_signal()
        try:
            keys = await service.start()
            if not keys:
                fail("no active blockchain", "add one with `bursa custody blockchain add`")
            console.print(f"sweeping {', '.join(keys)} — Ctrl-C stops")
            await stopping.wait()
        finally:
            await service.stop()
            await plugins.close()
            await engine.dispose()

    with_database(settings, work)
