"""Order entry's routes are tried first (FastAPI tries routes in order, and each one tried
costs CPU on the hottest path), and putting them first changes no request's route."""

import re
from typing import Any

from fastapi.routing import _IncludedRouter

from bursa.api.app import create_app

MARKET = "/api/v2/peatio/market/"
SAMPLES = {"id": ("1", "0b6b0a36-2c35-4e0c-9c7f-58e1a0e6f4a1", "x")}


def _routes() -> list[tuple[int, Any]]:
    """(position of the router it came from, route) for every HTTP route of the app."""
    app = create_app(None, None, None)  # type: ignore[arg-type]  # routes only
    found: list[tuple[int, Any]] = []
    for index, route in enumerate(app.router.routes):
        if isinstance(route, _IncludedRouter):
            found += [(index, candidate) for candidate in route.effective_candidates()]
        else:
            found.append((index, route))
    return [(i, r) for i, r in found if getattr(r, "path_regex", None) is not None]


def _concrete(template: str) -> list[str]:
    """``template`` with each ``{param}`` filled in with sample values."""
    paths = [template]
    for name in re.findall(r"{(\w+)[^}]*}", template):
        paths = [
            re.sub(r"{" + name + r"[^}]*}", value, path)
            for path in paths
            for value in SAMPLES.get(name, ("1",))
        ]
    return paths


def test_market_routers_come_before_every_other_router() -> None:
    routes = _routes()
    market = [i for i, r in routes if r.path_format.startswith(MARKET)]
    included_others = [
        i for i, r in routes if not r.path_format.startswith(MARKET) and i >= min(market)
    ]
    assert market and max(market) < min(included_others)


def test_no_other_route_matches_a_market_path() -> None:
    """So moving the market routers first cannot take a request from another route."""
    routes = _routes()
    market_paths = [
        path
        for _, route in routes
        if route.path_format.startswith(MARKET)
        for path in _concrete(route.path_format)
    ]
    assert "/api/v2/peatio/market/orders" in market_paths
    for _, route in routes:
        if route.path_format.startswith(MARKET):
            continue
        taken = [path for path in market_paths if route.path_regex.match(path)]
        assert not taken, (route.path_format, taken)
