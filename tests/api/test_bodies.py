"""One request model per write: JSON, form and query parameters read alike, each bad field
answered with its own code, and the model documented as the operation's request body."""

from decimal import Decimal
from typing import Annotated

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from bursa.api.bodies import PositiveAmount, body_of, codes, document_bodies
from bursa.api.errors import install_error_handlers
from bursa.plain_input import PlainInt


class Deposit(BaseModel):
    currency: str = Field(
        json_schema_extra=codes("x.currency.invalid", missing="x.missing_currency")
    )
    amount: PositiveAmount = Field(
        json_schema_extra=codes(
            "x.invalid_amount",
            non_decimal="x.non_decimal_amount",
            non_positive="x.non_positive_amount",
        )
    )
    count: PlainInt = Field(default=1, json_schema_extra=codes("x.invalid_count"))


def _client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/deposits")
    async def deposit(body: Annotated[Deposit, body_of(Deposit)]) -> dict[str, str]:
        return {"currency": body.currency, "amount": str(body.amount), "count": str(body.count)}

    document_bodies(app)
    return TestClient(app)


def test_json_form_and_query_read_the_same() -> None:
    client = _client()
    expected = {"currency": "btc", "amount": "0.1", "count": "2"}
    assert client.post("/deposits", json={"currency": "btc", "amount": 0.1, "count": 2}).json() == (
        expected
    )
    assert client.post(
        "/deposits", data={"currency": "btc", "amount": "0.1", "count": "2"}
    ).json() == (expected)
    assert client.post("/deposits?currency=btc&amount=0.1&count=2").json() == expected
    # The body wins over the query string.
    answer = client.post(
        "/deposits?currency=eth&amount=5", json={"currency": "btc", "amount": "0.1", "count": 2}
    )
    assert answer.json() == expected


def test_a_json_fraction_stays_exact() -> None:
    answer = _client().post(
        "/deposits",
        content=b'{"currency": "btc", "amount": 0.30000000000000004}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.json()["amount"] == "0.30000000000000004"
    assert Decimal(answer.json()["amount"]) == Decimal("0.30000000000000004")


@pytest.mark.parametrize(
    ("sent", "errors"),
    [
        ({"amount": "1"}, ["x.missing_currency"]),
        ({"currency": "btc", "amount": "1e5"}, ["x.non_decimal_amount"]),
        ({"currency": "btc", "amount": "-1"}, ["x.non_positive_amount"]),
        ({"currency": "btc", "amount": "0"}, ["x.non_positive_amount"]),
        ({"currency": "btc", "amount": "1", "count": "٣"}, ["x.invalid_count"]),
        ({"currency": 5, "amount": True}, ["x.currency.invalid", "x.non_decimal_amount"]),
    ],
)
def test_each_bad_field_answers_its_code(sent: dict[str, object], errors: list[str]) -> None:
    answer = _client().post("/deposits", json=sent)
    assert answer.status_code == 422
    assert answer.json() == {"errors": errors}


def test_malformed_json_is_refused() -> None:
    answer = _client().post(
        "/deposits", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json() == {"errors": ["server.request.invalid_json"]}


def test_the_model_is_the_documented_request_body() -> None:
    document = _client().get("/openapi.json").json()
    body = document["paths"]["/deposits"]["post"]["requestBody"]
    assert set(body["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["required"] == ["currency", "amount"]
    assert set(schema["properties"]) == {"currency", "amount", "count"}
