"""Peatio's ``engines`` as Bursa has them: one.

Peatio kept a table of matching engines (its built-in one, or remote ones such as Finex
reached with a key and secret) and gave each market one. Bursa has a single engine, in
process, matching every market, so there is nothing to add and nothing to point elsewhere:
the admin and Management APIs list one honest row describing it (its ``state`` is whether
the engine runs now), answer it by id, and refuse ``new`` on purpose
(``<area>.engine.only_one``). ``update`` answers the row when it changes nothing (every
field sent is what the row already says) and otherwise is refused
(``<area>.engine.not_changeable``): its name, driver, owner and address are Bursa's own,
it holds no remote credentials, and it is stopped and started with the process, not by a
flag.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from bursa.errors import BursaError, Refusal

ENGINE_ID = 1
NAME = "bursa"
DRIVER = "bursa"
ONLINE, OFFLINE = "online", "offline"
NOT_FOUND = "record.not_found"
ORDER_COLUMNS = ("id", "name", "driver", "state")


@dataclass(frozen=True, slots=True)
class EngineRow:
    """Peatio's ``Engine``: ``uid`` (an owner) and ``url`` (a remote engine's) are null."""

    id: int
    name: str
    driver: str
    uid: str | None
    url: str | None
    state: str


def the_engine(running: bool) -> EngineRow:
    return EngineRow(ENGINE_ID, NAME, DRIVER, None, None, ONLINE if running else OFFLINE)


def listed(running: bool, name: str | None = None) -> list[EngineRow]:
    """The engines (one) whose ``name`` is ``name`` (any case), if given."""
    engine = the_engine(running)
    return [engine] if name is None or name.strip().lower() == engine.name else []


def find(running: bool, engine_id: int) -> EngineRow:
    if engine_id != ENGINE_ID:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return the_engine(running)


def refuse_new(area: str) -> BursaError:
    """Why no engine can be added: Bursa's one engine matches every market."""
    return BursaError(
        Refusal.INVALID,
        f"{area}.engine.only_one",
        message="Bursa has one matching engine, in process, for every market",
    )


def update(running: bool, engine_id: int, asked: Mapping[str, object], area: str) -> EngineRow:
    """The engine, if ``asked`` (the fields sent, ``state`` as ``online``/``offline``)
    changes nothing; a change, or remote credentials (``key``, ``secret``, ``data``),
    is refused."""
    engine = find(running, engine_id)
    now = asdict(engine)
    for field, value in asked.items():
        if field not in now or now[field] != value:
            raise BursaError(
                Refusal.INVALID,
                f"{area}.engine.not_changeable",
                message=f"Bursa's engine {field} is not changeable",
            )
    return engine
