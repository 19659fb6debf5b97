"""A real Bursa in the test's process, as ``bursa up`` runs it (engine, Ranger hub, the API
in uvicorn on a loopback port, a scratch database), shared by the bots' tests. Two of them
on two databases make a source exchange and a target exchange."""

import asyncio
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.app import create_app
from bursa.api.ranger import protocol as ws_protocol
from bursa.api.ranger.hub import Limits, RangerHub
from bursa.bench.api import UnlimitedLimiter, member_with_key
from bursa.bots.drivers.opendax import ApiKey
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.commands import Credit
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.identity.mail import NoMailer
from bursa.identity.service import Identity
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.candles import CandleWriter
from bursa.trading.market_data import Tickers
from bursa.trading.specs import load_specs

MARKET = "btcusdt"


@dataclass(frozen=True, slots=True)
class Bursa:
    host: str  # http://127.0.0.1:<port>
    ws: str  # the Ranger endpoint
    port: int
    hub: RangerHub
    engine: EngineRunner
    identity: Identity
    sessions: async_sessionmaker[AsyncSession]
    server: uvicorn.Server
    keys: tuple[ApiKey, ...]  # one per funded member, in order
    member_ids: tuple[int, ...]

    @property
    def alice(self) -> ApiKey:
        return self.keys[0]

    @property
    def bob(self) -> ApiKey:
        return self.keys[1]

    @property
    def ids(self) -> dict[str, int]:
        return dict(zip(("alice", "bob", "carol", "dave"), self.member_ids, strict=False))


def bound_socket(port: int = 0) -> socket.socket:
    """A loopback socket on ``port`` (0: a free one); reusable at once after a restart (a
    closed server's connections in TIME_WAIT do not hold the port)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@asynccontextmanager
async def running_bursa(
    url: str,
    *,
    members: int = 2,
    port: int = 0,
    keys_dir: Path | None = None,
    reuse: "Bursa | None" = None,
) -> AsyncIterator[Bursa]:
    """Bursa on the database ``url`` with ``members`` funded members holding API keys
    (100 BTC and 10,000,000 USDT each). ``reuse``: a ``Bursa`` that ran on the same
    database and ``keys_dir`` before (a restart): its members and keys are kept, nobody
    is funded again."""
    bus = InProcessBus()
    runner = EngineRunner(url, bus, load_specs)
    await runner.start()
    database = create_engine(url)
    sessions = create_session_factory(database)
    temporary = None
    if keys_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="bursa-bots-")
        keys_dir = Path(temporary.name)
    identity = Identity(
        database,
        NoMailer(),
        LocalKeyStore(keys_dir / "master.key"),
        session_ttl=timedelta(hours=1),
        app_name="Bursa bots test",
    )
    candles = CandleWriter(sessions, bus)
    await candles.start()
    hub = RangerHub(runner, bus, Limits(per_ip=1000), tickers=(Tickers(candles), sessions))
    await hub.start()
    sock = bound_socket(port)
    port = sock.getsockname()[1]
    app = create_app(
        runner,
        sessions,
        identity,
        limiter=UnlimitedLimiter(),
        secure_cookies=False,
        public_url=f"http://127.0.0.1:{port}",
        tickers=Tickers(candles),
        ranger_hub=hub,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            ws=ws_protocol.PROTOCOL,
            ws_per_message_deflate=False,
            timeout_graceful_shutdown=1,
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        if reuse is not None:
            keys, ids = reuse.keys, reuse.member_ids
        else:
            made = [await member_with_key(identity, app, i) for i in range(members)]
            spec = runner.engine.books[MARKET].spec
            for key in made:
                for currency, whole in ((spec.base, 100), (spec.quote, 10_000_000)):
                    await runner.submit(
                        Credit(
                            key=f"bots:credit:{key['id']}:{currency.code}",
                            member_id=key["id"],
                            currency=currency.code,
                            amount=whole * 10**currency.precision,
                            deposit_id=f"bots-{key['id']}-{currency.code}",
                        )
                    )
            keys = tuple(ApiKey(k["kid"], k["secret"]) for k in made)
            ids = tuple(int(k["id"]) for k in made)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.02)
        yield Bursa(
            f"http://127.0.0.1:{port}",
            f"ws://127.0.0.1:{port}/api/v2/ranger",
            port,
            hub,
            runner,
            identity,
            sessions,
            server,
            keys,
            ids,
        )
    finally:
        server.should_exit = True
        await serving
        sock.close()
        await hub.stop()
        await candles.stop()
        await runner.stop()
        await identity.close()
        await database.dispose()
        if temporary is not None:
            temporary.cleanup()
