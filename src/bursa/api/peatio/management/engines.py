"""Peatio's Management API for engines: ``engines/get`` (scope ``read_engines``),
``engines/new`` and ``engines/update`` (``write_engines``). Bursa's one matching engine is
listed as Peatio's ``Engine``; ``new`` is refused on purpose and ``update`` changes nothing
(``bursa.trading.matching_engines`` says why)."""

from typing import Annotated, Any, Literal

from fastapi import Response
from pydantic import BaseModel, BeforeValidator, Field

from bursa.api.deps import Runner
from bursa.api.peatio.management.common import Paged, Params, peatio_router, signed
from bursa.api.peatio.params import paginate
from bursa.plain_input import PlainInt
from bursa.trading import matching_engines as engines

router = peatio_router()
Text = Annotated[str, Field(min_length=1, max_length=255)]


class Engine(BaseModel):
    """Peatio's management ``Engine`` (``null`` fields are left out)."""

    id: int
    name: str
    driver: str
    uid: str | None = None
    url: str | None = None
    state: str


def present(row: engines.EngineRow) -> Engine:
    return Engine(
        id=row.id, name=row.name, driver=row.driver, uid=row.uid, url=row.url, state=row.state
    )


def _state(value: object) -> object:
    """Peatio's ``state``: 1 (online) or 0 (offline), or the words."""
    if isinstance(value, bool):
        return value
    return {1: engines.ONLINE, 0: engines.OFFLINE, "1": engines.ONLINE, "0": engines.OFFLINE}.get(
        value if isinstance(value, int | str) else None, value
    )


EngineState = Annotated[Literal["online", "offline"], BeforeValidator(_state)]


class EngineList(Paged):
    name: Text | None = None
    ordering: Literal["asc", "desc"] = "asc"
    order_by: Literal[engines.ORDER_COLUMNS] = "id"  # type: ignore[valid-type]


class EngineFields(Params):
    uid: Text | None = None
    url: Text | None = None
    key: Text | None = None
    secret: Text | None = None
    state: EngineState | None = None


class NewEngine(EngineFields):
    name: Text
    driver: Text
    data: Text | None = None


class EngineUpdate(EngineFields):
    id: PlainInt = Field(ge=1, le=2**63 - 1)
    name: Text | None = None
    driver: Text | None = None


@router.post("/engines/get", status_code=201, summary="Engines (Bursa's one)")
async def list_engines(
    body: Annotated[EngineList, signed("read_engines", EngineList)],
    runner: Runner,
    response: Response,
) -> list[Engine]:
    found = engines.listed(runner.running, body.name)
    paginate(response, len(found), body.page, body.limit)
    start = (body.page - 1) * body.limit
    return [present(row) for row in found[start : start + body.limit]]


@router.post("/engines/new", status_code=201, summary="Add an engine (refused: Bursa has one)")
async def new_engine(body: Annotated[NewEngine, signed("write_engines", NewEngine)]) -> Engine:
    """A well-formed request is refused (422 ``management.engine.only_one``)."""
    raise engines.refuse_new("management")


@router.post("/engines/update", status_code=201, summary="Change an engine (only what is so)")
async def update_engine(
    body: Annotated[EngineUpdate, signed("write_engines", EngineUpdate)], runner: Runner
) -> Engine:
    asked: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"id"})
    return present(engines.update(runner.running, body.id, asked, "management"))
