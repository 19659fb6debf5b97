"""The OpenAPI documents every write's request body, so a client (or a generated one)
learns every parameter it may send."""

from typing import Any

from bursa.api.app import create_app
from bursa.applogic import api as applogic_api


def _document() -> dict[str, Any]:
    app = create_app(None, None, None)  # type: ignore[arg-type]  # only the schema is read
    applogic_api.install(app, None)  # type: ignore[arg-type]
    return app.openapi()


def test_every_write_documents_its_request_body() -> None:
    document = _document()
    writes = [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch")
    ]
    assert len(writes) > 100
    assert [f"{method} {path}" for method, path, op in writes if "requestBody" not in op] == []


def test_each_documented_body_names_a_schema_the_document_holds() -> None:
    document = _document()
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref")
                if ref is not None:
                    assert ref.rsplit("/", 1)[-1] in schemas, f"{method} {path}: {ref}"


def test_an_order_body_is_documented_field_by_field() -> None:
    document = _document()
    body = document["paths"]["/api/v2/peatio/market/orders"]["post"]["requestBody"]
    ref = body["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"]
    order = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(order["required"]) == {"market", "side", "volume"}
    assert {"price", "ord_type", "time_in_force", "post_only", "client_id", "stp"} <= set(
        order["properties"]
    )
