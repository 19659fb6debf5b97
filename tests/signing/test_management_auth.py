"""The Management API's gate: scopes, mandatory signers, replays, refusals logged."""

import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import orjson
import pytest
from fastapi import Depends, FastAPI

from bursa.api.management_auth import ManagementPolicy, ManagementRefused, scope
from bursa.db.session import create_engine, create_session_factory
from bursa.signing import multisig
from tests.signing.keys import rsa_pem, signer

POLICY = {
    "keychain": {
        "applogic": {"algorithm": "RS256", "value": rsa_pem("applogic")[1]},
        "barong": {"algorithm": "RS256", "value": rsa_pem("barong")[1]},
    },
    "jwt": {"leeway": 5, "max_lifetime": 120},
    "scopes": {
        "read_things": {"permitted_signers": ["applogic"], "mandatory_signers": ["applogic"]},
        "write_things": {
            "permitted_signers": ["applogic", "barong"],
            "mandatory_signers": ["applogic", "barong"],
        },
    },
}


@pytest.fixture
async def client(fresh_database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(fresh_database_url, pool_size=2)
    app = FastAPI()
    app.state.session_factory = create_session_factory(engine)
    app.state.management = {"peatio": ManagementPolicy.from_mapping(POLICY)}

    async def refused(_: Any, exc: Exception) -> Any:
        assert isinstance(exc, ManagementRefused)
        return exc.response()

    app.add_exception_handler(ManagementRefused, refused)

    @app.api_route("/read", methods=["GET", "POST", "PUT", "DELETE"])
    async def read(data: Annotated[dict[str, Any], Depends(scope("peatio", "read_things"))]) -> Any:
        return {"got": data}

    @app.post("/write")
    async def write(
        data: Annotated[dict[str, Any], Depends(scope("peatio", "write_things"))],
    ) -> Any:
        return {"got": data}

    @app.post("/nothing")
    async def nothing(data: Annotated[dict[str, Any], Depends(scope("peatio", "unknown"))]) -> Any:
        return data

    @app.post("/barong")
    async def barong(
        data: Annotated[dict[str, Any], Depends(scope("barong", "read_things"))],
    ) -> Any:
        return data

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mgmt") as http:
        yield http
    await engine.dispose()


def envelope(*names: str, lifetime: int = 60, **data: Any) -> bytes:
    now = int(time.time())
    claims = {"iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4()), "data": data}
    return orjson.dumps(multisig.sign(claims, *(signer(n) for n in names)))


JSON = {"content-type": "application/json"}


async def test_a_signed_request_passes_once(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = envelope("applogic", uid="U1")
    answer = await client.post("/read", content=body, headers=JSON)
    assert answer.status_code == 200
    assert answer.json() == {"got": {"uid": "U1"}}
    with caplog.at_level(logging.WARNING):
        replay = await client.post("/read", content=body, headers=JSON)
    assert replay.status_code == 401
    assert replay.json() == {"error": "JWT has already been used."}
    assert "reason=replayed" in caplog.text
    assert orjson.loads(body)["payload"] not in caplog.text


async def test_mandatory_signers(client: httpx.AsyncClient) -> None:
    alone = await client.post("/write", content=envelope("applogic"), headers=JSON)
    assert alone.status_code == 401
    assert alone.json() == {"error": "Not enough signatures for the action."}
    both = await client.post("/write", content=envelope("applogic", "barong"), headers=JSON)
    assert both.status_code == 200


async def test_a_signer_outside_the_scope_does_not_count(client: httpx.AsyncClient) -> None:
    answer = await client.post("/read", content=envelope("barong"), headers=JSON)
    assert answer.status_code == 401
    assert answer.json() == {"error": "Not enough signatures for the action."}


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("GET", "/read", JSON, None, 405),
        ("POST", "/read?uid=1", JSON, None, 400),
        ("POST", "/read", {"content-type": "text/plain"}, None, 400),
        ("POST", "/read", JSON, b"not json", 401),
        ("POST", "/nothing", JSON, None, 401),
        ("POST", "/barong", JSON, None, 401),
    ],
)
async def test_refusals(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
) -> None:
    content = envelope("applogic") if body is None else body
    answer = await client.request(method, path, content=content, headers=headers)
    assert answer.status_code == status
    assert set(answer.json()) == {"error"}


async def test_long_lived_and_expired_tokens(client: httpx.AsyncClient) -> None:
    long = await client.post("/read", content=envelope("applogic", lifetime=3600), headers=JSON)
    assert long.status_code == 401
    expired = await client.post("/read", content=envelope("applogic", lifetime=-60), headers=JSON)
    assert expired.status_code == 401
    assert expired.json() == {"error": "Failed to verify JWT."}


def test_a_policy_naming_an_unknown_signer_is_refused() -> None:
    bad = POLICY | {
        "scopes": {"x": {"permitted_signers": ["ghost"], "mandatory_signers": ["ghost"]}}
    }
    with pytest.raises(ValueError, match="ghost"):
        ManagementPolicy.from_mapping(bad)
    worse = POLICY | {
        "scopes": {"x": {"permitted_signers": ["applogic"], "mandatory_signers": ["barong"]}}
    }
    with pytest.raises(ValueError, match="mandatory"):
        ManagementPolicy.from_mapping(worse)
