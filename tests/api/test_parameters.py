"""A query parameter a route does not take is refused with a 422 naming it, never ignored:
a client's misspelt or unsupported filter must not be answered as if it were applied."""

from typing import Annotated

from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from bursa.api.bodies import body_of
from bursa.api.errors import install_error_handlers
from bursa.api.parameters import refuse_unknown_parameters

PEATIO = "/api/v2/peatio/market"


class Cancel(BaseModel):
    market: str
    side: str | None = None


class LogIn(BaseModel):
    password: str = Field(max_length=200)


def _client() -> TestClient:
    app = FastAPI(dependencies=[Depends(refuse_unknown_parameters)])
    install_error_handlers(app)

    @app.get(f"{PEATIO}/orders")
    async def orders(
        market: str | None = None,
        search_code: Annotated[str | None, Query(alias="search[code]")] = None,
    ) -> dict[str, str | None]:
        return {"market": market, "search": search_code}

    @app.post(f"{PEATIO}/orders/cancel")
    async def cancel(body: Annotated[Cancel, body_of(Cancel)]) -> dict[str, str]:
        return {"market": body.market}

    @app.post(f"{PEATIO}/sessions")
    async def log_in(body: Annotated[LogIn, body_of(LogIn, query=False)]) -> dict[str, bool]:
        return {"ok": bool(body.password)}

    @app.get("/api/v2/barong/oauth/authorize")
    async def authorize() -> dict[str, bool]:
        return {"ok": True}

    return TestClient(app)


def test_declared_parameters_pass_and_others_are_named() -> None:
    client = _client()
    assert (
        client.get(f"{PEATIO}/orders", params={"market": "btcusdt"}).json()["market"] == "btcusdt"
    )
    bracketed = client.get(f"{PEATIO}/orders", params={"search[code]": "bt"})
    assert bracketed.json()["search"] == "bt"
    unknown = client.get(f"{PEATIO}/orders", params={"base_unit": "eth", "market": "x", "q": "1"})
    assert unknown.status_code == 422
    assert unknown.json() == {
        "errors": [
            "server.request.unknown_parameter.base_unit",
            "server.request.unknown_parameter.q",
        ]
    }


def test_a_write_takes_its_models_fields_from_the_query_string_and_nothing_else() -> None:
    client = _client()
    assert client.post(f"{PEATIO}/orders/cancel", params={"market": "btcusdt"}).status_code == 200
    extra = client.post(f"{PEATIO}/orders/cancel", params={"market": "btcusdt", "all": "1"})
    assert extra.json() == {"errors": ["server.request.unknown_parameter.all"]}
    # A write read from its body only takes nothing from the URL, a password least of all.
    in_url = client.post(f"{PEATIO}/sessions", params={"password": "secret"})
    assert in_url.json() == {"errors": ["server.request.unknown_parameter.password"]}


def test_oauth_ignores_what_it_does_not_know_as_rfc_6749_asks() -> None:
    client = _client()
    answer = client.get("/api/v2/barong/oauth/authorize", params={"prompt": "none"})
    assert answer.json() == {"ok": True}
