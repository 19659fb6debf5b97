"""Every OpenDAX operation (docs/opendax-operations.md) is served, or refused on purpose
with its reason written beside it: the list and the application's routes cannot drift."""

import re
from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from bursa.api.app import create_app

OPERATIONS = Path(__file__).parents[2] / "docs" / "opendax-operations.md"
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| (.*) \|$")
OPENDAX_OPERATIONS = 273  # Peatio 3.1 and Barong 2.7, as their Swagger documents list them


def _operations() -> list[tuple[str, str, str]]:
    rows = []
    for line in OPERATIONS.read_text().splitlines():
        found = ROW.match(line)
        if found is not None:
            rows.append((found[1], found[2], found[3]))
    return rows


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _routes() -> set[tuple[str, str]]:
    app = create_app(None, None, None)  # type: ignore[arg-type]  # only the routes are read
    return {
        (method, _template(included.path or ""))
        for included in iter_route_contexts(app.routes)  # routers are included lazily
        if isinstance(included.original_route, APIRoute)
        for method in included.original_route.methods or ()
    }


def test_the_list_holds_every_opendax_operation_once() -> None:
    operations = _operations()
    assert len(operations) == OPENDAX_OPERATIONS
    assert len({(method, path) for method, path, _ in operations}) == OPENDAX_OPERATIONS


def test_each_operation_is_served_or_refused_with_a_reason() -> None:
    routes = _routes()
    unserved = [
        f"{method} {path}"
        for method, path, verdict in _operations()
        if verdict == "served" and (method, _template(path)) not in routes
    ]
    assert unserved == []
    for method, path, verdict in _operations():
        if verdict != "served":
            assert verdict.startswith("refused: "), f"{method} {path}: {verdict}"
            assert len(verdict) > len("refused: ") + 20, f"{method} {path}: give the reason"
