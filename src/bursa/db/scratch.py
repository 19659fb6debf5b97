"""Throw-away databases on the configured server, for benchmarks and checks that must not
touch the exchange's own data."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bursa.config.settings import asyncpg_url


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server (socket or TCP)."""
    parts = urlsplit(asyncpg_url(url))
    return urlunsplit(parts._replace(path="/" + name))


@asynccontextmanager
async def scratch_database(url: str, prefix: str = "bursa_scratch") -> AsyncIterator[str]:
    """Create an empty database next to ``url``'s, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(asyncpg_url(url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(url, name)
    finally:
        admin = await asyncpg.connect(asyncpg_url(url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
