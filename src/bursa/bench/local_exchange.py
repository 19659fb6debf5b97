"""Bursa served in this process on a loopback port, as ``bursa up`` serves it: the engine
runner, the database sessions, the identity service (its key file in a scratch folder), the
candle writer and tickers, the Ranger hub, and the API in uvicorn with Ranger's direct
writes. The benches and the bots' tests run their exchanges through here, so they all
measure and test the same thing.

``serve_exchange`` does it in one step. A caller that must work on the database before
anything serves or counts candles (``demo_market`` backdates trades) opens
``exchange_core`` and then ``serve_core`` on it. ``funded_members`` makes members with
2FA, a read+trade API key and balances, the path a member takes.
"""

import asyncio
import secrets
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import pyotp
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bursa.api.app import create_app
from bursa.api.ranger import protocol as ws_protocol
from bursa.api.ranger.hub import Limits, RangerHub
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.commands import Credit
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.identity.limits import Limiter, Rule
from bursa.identity.mail import NoMailer
from bursa.identity.service import Client, Identity
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.candles import CandleWriter
from bursa.trading.market_data import Tickers
from bursa.trading.specs import load_specs

BENCH_CLIENT = Client(ip="127.0.0.1", user_agent="bursa-bench")
HUB_LIMITS = Limits(per_ip=1000)  # every client of a bench or a test comes from 127.0.0.1
STARTED_POLL_S = 0.02


class UnlimitedLimiter:
    """Allows everything: benches and tests lift rate limits to measure the exchange itself,
    not the limits an operator sets for one client."""

    async def allow(self, rule: Rule, subject: str) -> int:
        return 0

    async def over(self, rule: Rule, subject: str) -> int:
        return 0


def free_socket(port: int = 0, *, reusable: bool = False) -> socket.socket:
    """A loopback socket bound to ``port`` (0: a free one). ``reusable``: bindable again at
    once after a restart (a closed server's connections in TIME_WAIT do not hold it)."""
    sock = socket.socket()
    if reusable:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@asynccontextmanager
async def serving(
    app: FastAPI,
    sock: socket.socket,
    *,
    backlog: int = 2048,  # uvicorn's own default
    graceful_shutdown_s: int | None = None,
) -> AsyncIterator[uvicorn.Server]:
    """``app`` served by uvicorn on ``sock`` as ``bursa up`` serves it (Ranger's direct
    writes, no per-message deflate, as Rango), started when this yields; stopped (and
    ``sock`` closed) on the way out. ``graceful_shutdown_s``: the most seconds open
    connections may take to finish (None: as long as they need)."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            ws=ws_protocol.PROTOCOL,
            ws_per_message_deflate=False,
            timeout_graceful_shutdown=graceful_shutdown_s,
            backlog=backlog,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # uvicorn offers a flag, not an event
            if task.done():
                task.result()  # raises what stopped it
            await asyncio.sleep(STARTED_POLL_S)
        yield server
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True, slots=True)
class Core:
    """The exchange before it serves: its engine, database and identity service."""

    bus: InProcessBus
    runner: EngineRunner
    database: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    identity: Identity


@asynccontextmanager
async def exchange_core(
    database_url: str,
    *,
    app_name: str,
    session_ttl: timedelta = timedelta(hours=1),
    keys_dir: Path | None = None,
) -> AsyncIterator[Core]:
    """The engine runner (started) and the identity service on ``database_url``; the
    identity's key file in ``keys_dir``, or in a scratch folder removed on the way out."""
    async with AsyncExitStack() as stack:
        if keys_dir is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="bursa-local-"))
            keys_dir = Path(scratch)
        bus = InProcessBus()
        runner = EngineRunner(database_url, bus, load_specs)
        await runner.start()
        stack.push_async_callback(runner.stop)
        database = create_engine(database_url)
        stack.push_async_callback(database.dispose)
        identity = Identity(
            database,
            NoMailer(),
            LocalKeyStore(keys_dir / "master.key"),
            session_ttl=session_ttl,
            app_name=app_name,
        )
        stack.push_async_callback(identity.close)
        yield Core(bus, runner, database, create_session_factory(database), identity)


@dataclass(frozen=True, slots=True)
class LocalExchange:
    """A served exchange: its addresses and its parts."""

    host: str  # http://127.0.0.1:<port>
    ws: str  # the Ranger endpoint
    port: int
    runner: EngineRunner
    sessions: async_sessionmaker[AsyncSession]
    identity: Identity
    hub: RangerHub | None
    app: FastAPI
    server: uvicorn.Server


@asynccontextmanager
async def serve_core(
    core: Core,
    *,
    port: int = 0,
    reusable: bool = False,
    limiter: Limiter | None = None,
    hub_limits: Limits | None = HUB_LIMITS,
    web_dist: Path | None = None,
    graceful_shutdown_s: int | None = None,
    prepare: Callable[[FastAPI], None] | None = None,
) -> AsyncIterator[LocalExchange]:
    """``core`` served on loopback ``port`` (0: a free one; ``reusable``: see
    ``free_socket``): the candle writer started (it counts the trades already there), the
    Ranger hub with ``hub_limits`` (None: no hub, the websocket endpoints answer 503), the
    API with ``limiter`` (None: an ``UnlimitedLimiter``) and the web app in ``web_dist``
    when given. ``prepare`` may change the app before it serves (a bench's own routes)."""
    async with AsyncExitStack() as stack:
        candles = CandleWriter(core.sessions, core.bus)
        await candles.start()
        stack.push_async_callback(candles.stop)
        tickers = Tickers(candles)
        hub = None
        if hub_limits is not None:
            hub = RangerHub(core.runner, core.bus, hub_limits, tickers=(tickers, core.sessions))
            await hub.start()
            stack.push_async_callback(hub.stop)
        sock = free_socket(port, reusable=reusable)
        port = int(sock.getsockname()[1])
        host = f"http://127.0.0.1:{port}"
        app = create_app(
            core.runner,
            core.sessions,
            core.identity,
            limiter=limiter or UnlimitedLimiter(),
            secure_cookies=False,
            public_url=host,
            tickers=tickers,
            ranger_hub=hub,
            web_dist=web_dist,
        )
        if prepare is not None:
            prepare(app)
        server = await stack.enter_async_context(
            serving(app, sock, graceful_shutdown_s=graceful_shutdown_s)
        )
        yield LocalExchange(
            host,
            f"ws://127.0.0.1:{port}/api/v2/ranger",
            port,
            core.runner,
            core.sessions,
            core.identity,
            hub,
            app,
            server,
        )


@asynccontextmanager
async def serve_exchange(
    database_url: str,
    *,
    app_name: str,
    session_ttl: timedelta = timedelta(hours=1),
    keys_dir: Path | None = None,
    port: int = 0,
    reusable: bool = False,
    limiter: Limiter | None = None,
    hub_limits: Limits | None = HUB_LIMITS,
    web_dist: Path | None = None,
    graceful_shutdown_s: int | None = None,
    prepare: Callable[[FastAPI], None] | None = None,
) -> AsyncIterator[LocalExchange]:
    """Bursa on ``database_url`` served on a loopback port, stopped in reverse order on
    the way out (see ``exchange_core`` and ``serve_core`` for the parameters)."""
    async with (
        exchange_core(
            database_url, app_name=app_name, session_ttl=session_ttl, keys_dir=keys_dir
        ) as core,
        serve_core(
            core,
            port=port,
            reusable=reusable,
            limiter=limiter,
            hub_limits=hub_limits,
            web_dist=web_dist,
            graceful_shutdown_s=graceful_shutdown_s,
            prepare=prepare,
        ) as exchange,
    ):
        yield exchange


# ---------------------------------------------------------------------- members


class MemberKey(NamedTuple):
    """A member and their API key (a tuple: it crosses to spawned processes)."""

    id: int
    kid: str
    secret: str


async def member_with_key(identity: Identity, app: FastAPI, index: int) -> MemberKey:
    """A confirmed member with 2FA and a read+trade API key (the path a member takes)."""
    password = secrets.token_urlsafe(18) + "Aa1!"  # a fresh one per member and run
    user = await identity.create_user(f"bench{index}@bench.example.com", password, "member")
    _, opened = await identity.log_in(user["email"], password, BENCH_CLIENT, None)
    session = await identity.authenticate(opened.token, BENCH_CLIENT)
    url, _ = await identity.generate_otp(session)
    totp = pyotp.TOTP(parse_qs(urlsplit(url).query)["secret"][0])
    step = int(time.time() // 30)
    await identity.enable_otp(session, totp.at((step - 1) * 30), BENCH_CLIENT)
    async with identity.engine.connect() as conn:
        fresh = await identity.load_user(conn, user["id"])
    key = await app.state.api_keys.create(
        fresh, "HS256", "read,trade", totp.at(step * 30), BENCH_CLIENT
    )
    return MemberKey(int(user["id"]), str(key["kid"]), str(key["secret"]))


async def funded_members(
    exchange: LocalExchange, count: int, funds: Mapping[str, int], *, tag: str
) -> tuple[MemberKey, ...]:
    """``count`` members with API keys, each credited ``funds`` (whole units by currency
    code) through the engine; deposits keyed ``tag:credit:<member>:<currency>``. Raises
    ``RuntimeError`` when the engine refuses one."""
    precisions: dict[str, int] = {}
    for book in exchange.runner.engine.books.values():
        for currency in (book.spec.base, book.spec.quote):
            precisions[currency.code] = currency.precision
    made = [await member_with_key(exchange.identity, exchange.app, i) for i in range(count)]
    for member in made:
        for code, whole in funds.items():
            credit = Credit(
                key=f"{tag}:credit:{member.id}:{code}",
                member_id=member.id,
                currency=code,
                amount=whole * 10 ** precisions[code],
                deposit_id=f"{tag}-{member.id}-{code}",
            )
            answer = await exchange.runner.submit(credit)
            if answer.get("error"):
                raise RuntimeError(f"funding {credit.key} refused: {answer['error']}")
    return tuple(made)
