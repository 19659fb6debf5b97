"""Peatio's admin engines (``/api/v2/peatio/admin/engines``): Bursa's one matching engine,
listed and shown as Peatio's ``Engine``; ``new`` is refused on purpose and ``update``
changes nothing (``bursa.trading.matching_engines`` says why)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, BeforeValidator, Field

from bursa.api.bodies import body_of, codes
from bursa.api.deps import Runner
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import ERRORS
from bursa.api.peatio.admin.fields import MOST_ID, AdminBody, field_codes, required_text, text
from bursa.api.peatio.admin.lists import Paging, sort_by
from bursa.api.peatio.params import paginate
from bursa.plain_input import PlainInt
from bursa.trading import matching_engines as engines
from bursa.trading.audit import Actor

router = APIRouter(prefix=f"{PREFIX}/engines", tags=["peatio admin"])
AREA = "admin.engine"

Reader = Annotated[Actor, Depends(admin_gate("read", "Engine"))]
Manager = Annotated[Actor, Depends(admin_gate("manage", "Engine"))]


class Engine(BaseModel):
    """Peatio's ``Engine``."""

    id: int
    name: str
    driver: str
    uid: str | None
    url: str | None
    state: str


def present(row: engines.EngineRow) -> Engine:
    return Engine(
        id=row.id, name=row.name, driver=row.driver, uid=row.uid, url=row.url, state=row.state
    )


def _state(value: object) -> object:
    """Peatio's ``state``: 1 (online) or 0 (offline), or the words."""
    return {1: engines.ONLINE, 0: engines.OFFLINE, "1": engines.ONLINE, "0": engines.OFFLINE}.get(
        value if isinstance(value, int | str) and not isinstance(value, bool) else None,
        value,
    )


EngineState = Annotated[Literal["online", "offline"], BeforeValidator(_state)]
EngineText = Annotated[str, BeforeValidator(text(255))]


class EngineFields(AdminBody):
    """What ``new`` and ``update`` may send besides the name, driver and id."""

    uid: EngineText | None = Field(default=None, json_schema_extra=field_codes("engine", "uid"))
    url: EngineText | None = Field(default=None, json_schema_extra=field_codes("engine", "url"))
    key: EngineText | None = Field(default=None, json_schema_extra=field_codes("engine", "key"))
    secret: EngineText | None = Field(
        default=None, json_schema_extra=field_codes("engine", "secret")
    )
    state: EngineState | None = Field(
        default=None, json_schema_extra=field_codes("engine", "state")
    )


class NewEngine(EngineFields):
    name: Annotated[str, BeforeValidator(required_text(255))] = Field(
        json_schema_extra=field_codes("engine", "name")
    )
    driver: Annotated[str, BeforeValidator(required_text(255))] = Field(
        json_schema_extra=field_codes("engine", "driver")
    )
    data: EngineText | None = Field(default=None, json_schema_extra=field_codes("engine", "data"))


class EngineUpdate(EngineFields):
    id: Annotated[PlainInt, Field(ge=1, le=MOST_ID)] = Field(
        json_schema_extra=codes(f"{AREA}.non_integer_id", missing=f"{AREA}.missing_id")
    )
    name: EngineText | None = Field(default=None, json_schema_extra=field_codes("engine", "name"))
    driver: EngineText | None = Field(
        default=None, json_schema_extra=field_codes("engine", "driver")
    )


@router.get("", summary="Engines (Bursa's one)", responses=ERRORS)
async def list_engines(
    _: Reader,
    runner: Runner,
    response: Response,
    params: Paging,
    order_by: Annotated[
        Literal[engines.ORDER_COLUMNS],  # type: ignore[valid-type]
        sort_by(*engines.ORDER_COLUMNS),
    ] = "id",
) -> list[Engine]:
    found = engines.listed(runner.running)
    paginate(response, len(found), params.page, params.limit)
    start = (params.page - 1) * params.limit
    return [present(row) for row in found[start : start + params.limit]]


@router.get("/{id}", summary="One engine", responses=ERRORS)
async def get_engine(
    _: Reader,
    runner: Runner,
    id: Annotated[
        PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
    ],
) -> Engine:
    return present(engines.find(runner.running, id))


@router.post(
    "/new", status_code=201, summary="Add an engine (refused: Bursa has one)", responses=ERRORS
)
async def new_engine(_: Manager, body: Annotated[NewEngine, body_of(NewEngine)]) -> Engine:
    """A well-formed request is refused with ``admin.engine.only_one``: Bursa's one engine
    matches every market."""
    raise engines.refuse_new("admin")


@router.post(
    "/update",
    status_code=201,
    summary="Change an engine (only what is already so)",
    responses=ERRORS,
)
async def update_engine(
    _: Manager, runner: Runner, body: Annotated[EngineUpdate, body_of(EngineUpdate)]
) -> Engine:
    asked: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"id"})
    return present(engines.update(runner.running, body.id, asked, "admin"))
