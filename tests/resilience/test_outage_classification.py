"""What counts as "the database is unavailable": a refused or broken connection to
PostgreSQL, through asyncpg or SQLAlchemy; not a refused connection to another server
(Redis, RabbitMQ, a node), nor a value PostgreSQL refuses. Real sockets and a real server."""

import logging
import socket

import asyncpg
import pytest
from sqlalchemy import text

from bursa.db.outage import OutageLog, is_database_unavailable
from bursa.db.session import create_engine
from tests.resilience.servers import free_port


async def test_a_refused_database_connection_is_an_outage() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/bursa"
    with pytest.raises(ConnectionRefusedError) as direct:
        await asyncpg.connect(url)
    assert is_database_unavailable(direct.value)
    engine = create_engine(url)
    try:
        with pytest.raises(ConnectionRefusedError) as through_sqlalchemy:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert is_database_unavailable(through_sqlalchemy.value)


async def test_another_server_refusing_is_not_the_database() -> None:
    with pytest.raises(ConnectionRefusedError) as refused:
        socket.create_connection(("127.0.0.1", free_port()), 1)
    assert not is_database_unavailable(refused.value)


async def test_a_refused_value_is_not_an_outage(fresh_database_url: str) -> None:
    conn = await asyncpg.connect(fresh_database_url)
    try:
        with pytest.raises(asyncpg.PostgresError) as refused:
            await conn.execute("SELECT 1 / 0")
    finally:
        await conn.close()
    assert not is_database_unavailable(refused.value)


async def test_an_outage_is_told_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog("worker", logging.getLogger("tests.outage"))
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/bursa"
    with caplog.at_level(logging.INFO, "tests.outage"):
        for _ in range(5):
            with pytest.raises(ConnectionRefusedError) as refused:
                await asyncpg.connect(url)
            assert outage.failed(refused.value)
        assert not outage.failed(ValueError("not the database"))
        outage.succeeded()
        outage.succeeded()
    lines = [r.getMessage() for r in caplog.records if r.name == "tests.outage"]
    assert len(lines) == 2, lines
    assert "unavailable (ConnectionRefusedError)" in lines[0]
    assert "back after" in lines[1]
