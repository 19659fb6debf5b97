"""Fixtures of the bots' tests: a real Bursa per test module (see ``tests.bots.exchange``)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.bots.exchange import Bursa, running_bursa
from tests.conftest import DatabasePool, database_url


@pytest.fixture(scope="module")
async def bursa(database_pool: DatabasePool) -> AsyncIterator[Bursa]:
    """One exchange for the module, two funded members with keys (each test cleans up its
    own orders)."""
    name = await asyncio.to_thread(database_pool.take)
    try:
        async with running_bursa(database_url(name)) as running:
            yield running
    finally:
        database_pool.give_back(name)
