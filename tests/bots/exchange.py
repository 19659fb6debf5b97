"""A real Bursa in the test's process, as ``bursa up`` runs it (engine, Ranger hub, the API
in uvicorn on a loopback port, a scratch database), shared by the bots' tests. Two of them
on two databases make a source exchange and a target exchange."""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.ranger.hub import RangerHub
from bursa.bench.local_exchange import free_socket, funded_members, serve_exchange
from bursa.bots.drivers.opendax import ApiKey
from bursa.engine.runner import EngineRunner
from bursa.identity.service import Identity

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
    return free_socket(port, reusable=True)


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
    async with serve_exchange(
        url,
        app_name="Bursa bots test",
        keys_dir=keys_dir,
        port=port,
        reusable=True,
        graceful_shutdown_s=1,
    ) as exchange:
        assert exchange.hub is not None
        if reuse is not None:
            keys, ids = reuse.keys, reuse.member_ids
        else:
            spec = exchange.runner.engine.books[MARKET].spec
            funds = {spec.base.code: 100, spec.quote.code: 10_000_000}
            made = await funded_members(exchange, members, funds, tag="bots")
            keys = tuple(ApiKey(member.kid, member.secret) for member in made)
            ids = tuple(member.id for member in made)
        yield Bursa(
            exchange.host,
            exchange.ws,
            exchange.port,
            exchange.hub,
            exchange.runner,
            exchange.identity,
            exchange.sessions,
            exchange.server,
            keys,
            ids,
        )
