"""What the Peatio admin API's writes and lists share: the error answers they document,
the list parameters, and what a service needs from the process besides the request's
transaction (the engine, custody's chain plugins, and the session factory for a
workflow's own transactions)."""

from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.deps import EngineView
from bursa.api.errors import error_code
from bursa.api.schemas import Errors
from bursa.custody.addresses import Plugins
from bursa.plain_input import PlainInt
from bursa.trading import orders
from bursa.trading.withdrawals import Submit

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422, 503)
}
Limit = Annotated[
    PlainInt, Query(ge=1, le=1000, json_schema_extra=error_code("admin.pagination.invalid_limit"))
]
PageNumber = Annotated[
    PlainInt, Query(ge=1, json_schema_extra=error_code("admin.pagination.invalid_page"))
]


def engine(runner: EngineView) -> Submit:
    """The runner's ``submit`` for a money workflow: a stopped engine is refused as
    unavailable (``bursa.trading.orders.submit``)."""
    return partial(orders.submit, runner)


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return factory


Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
"""The session factory, for a workflow that runs transactions of its own around the
engine (crediting a deposit, moving a withdrawal) besides the request's."""


async def _plugins(request: Request) -> Plugins:
    plugins: Plugins = request.app.state.custody
    return plugins


Custody = Annotated[Plugins, Depends(_plugins)]
"""Custody's chain plugins (and the keystore that seals nodes' URLs and wallets' keys)."""
