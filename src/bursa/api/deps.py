"""What the endpoints need from the process: the engine's state and database sessions."""

from collections.abc import AsyncIterator
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.db.hot import HotReads
from bursa.engine.commands import Command
from bursa.engine.core import Engine
from bursa.engine.snapshots import BookSnapshot
from bursa.errors import BursaError
from bursa.identity.service import Client


class EngineView(Protocol):
    """The part of ``EngineRunner`` the API uses. The API never mutates ``engine``, shows
    books only as committed (``committed_book``: the live ones may hold a batch that is
    still being written), and changes anything only through ``submit``."""

    @property
    def engine(self) -> Engine: ...

    @property
    def committed_seq(self) -> int: ...

    @property
    def running(self) -> bool: ...

    def committed_book(self, market: str) -> tuple[BookSnapshot, int] | None: ...

    def committed_books(self) -> list[BookSnapshot]: ...

    async def submit(self, command: Command, *, facts: bool = False) -> dict[str, Any]: ...


def client_of(request: Request) -> Client:
    """Who is calling, as activities record it: the peer's address and its user agent."""
    host = request.client.host if request.client else "unknown"
    return Client(ip=host, user_agent=request.headers.get("user-agent", "")[:1000])


async def get_runner(request: Request) -> EngineView:
    runner: EngineView = request.app.state.runner
    return runner


async def get_reads(request: Request) -> HotReads:
    """One-round-trip reads without a session (``bursa.db.hot``), the identity service's."""
    reads: HotReads = request.app.state.identity.reads
    return reads


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    async with factory() as session:
        yield session


async def get_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction, committed at the boundary: after the handler returns
    (before the answer is sent), or when a refusal says to ``keep`` what it recorded;
    rolled back on any other error. Services never commit."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    async with factory() as session:
        try:
            yield session
        except BursaError as exc:
            if exc.keep:
                await session.commit()
            raise
        await session.commit()


Runner = Annotated[EngineView, Depends(get_runner)]
Session = Annotated[AsyncSession, Depends(get_session)]
Transaction = Annotated[AsyncSession, Depends(get_transaction, scope="function")]
Reads = Annotated[HotReads, Depends(get_reads)]
