"""``Transaction``: one transaction per request, committed at the boundary."""

from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from bursa.api.deps import Transaction
from bursa.api.errors import install_error_handlers
from bursa.db.session import create_engine, create_session_factory
from bursa.errors import BursaError, Refusal


def _app(factory: Any) -> FastAPI:
    app = FastAPI()
    app.state.session_factory = factory
    install_error_handlers(app)

    @app.post("/notes/{word}")
    async def note(word: str, session: Transaction) -> dict[str, str]:
        await session.execute(text("INSERT INTO notes VALUES (:word)"), {"word": word})
        if word == "refused":
            raise BursaError(Refusal.INVALID, "notes.refused")
        if word == "kept":
            raise BursaError(Refusal.FORBIDDEN, "notes.kept", keep=True)
        if word == "broken":
            raise RuntimeError("a bug")
        return {"word": word}

    return app


async def test_a_write_commits_and_a_refusal_rolls_back(fresh_database_url: str) -> None:
    engine = create_engine(fresh_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE notes (word text)"))
        transport = ASGITransport(
            app=_app(create_session_factory(engine)), raise_app_exceptions=False
        )
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.post("/notes/done")).status_code == 200
            refused = await client.post("/notes/refused")
            assert (refused.status_code, refused.json()) == (422, {"errors": ["notes.refused"]})
            assert (await client.post("/notes/kept")).status_code == 403
            assert (await client.post("/notes/broken")).status_code == 500
        async with engine.connect() as conn:
            words = (await conn.execute(text("SELECT word FROM notes ORDER BY word"))).scalars()
            assert list(words) == ["done", "kept"]
    finally:
        await engine.dispose()
