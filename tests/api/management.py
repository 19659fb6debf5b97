"""Signed Peatio Management API calls for the API tests: the ``exchange`` fixture's app
given a management policy (test keys ``applogic`` and ``reporter``), and a client that
signs each request's ``data`` with a fresh ``jti``."""

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from bursa.api.management_auth import ManagementPolicy
from bursa.signing import multisig
from tests.api.members import Exchange
from tests.signing.keys import rsa_pem, signer

MANAGEMENT = "/api/v2/peatio/management"
SCOPES = (
    "read_deposits",
    "write_deposits",
    "read_accounts",
    "read_orders",
    "write_orders",
    "read_trades",
    "write_members",
    "read_trading_fees",
    "write_currencies",
    "read_markets",
    "write_markets",
    "write_transfers",
    "tools",
)
POLICY = {
    "keychain": {
        name: {"algorithm": "RS256", "value": rsa_pem(name)[1]} for name in ("applogic", "reporter")
    },
    "jwt": {"leeway": 5, "max_lifetime": 120},
    "scopes": {
        name: {"permitted_signers": ["applogic"], "mandatory_signers": ["applogic"]}
        for name in SCOPES
    }
    | {
        "read_currencies": {
            "permitted_signers": ["applogic", "reporter"],
            "mandatory_signers": ["reporter"],
        },
        "read_operations": {
            "permitted_signers": ["applogic", "reporter"],
            "mandatory_signers": ["reporter"],
        },
    },
}


def envelope(data: dict[str, Any], *signers: str) -> bytes:
    now = int(time.time())
    claims = {"iat": now, "exp": now + 60, "jti": str(uuid.uuid4()), "data": data}
    return orjson.dumps(multisig.sign(claims, *(signer(n) for n in signers)))


@dataclass
class Management:
    exchange: Exchange
    client: httpx.AsyncClient

    async def call(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        method: str = "POST",
        signers: tuple[str, ...] = ("applogic",),
    ) -> httpx.Response:
        return await self.send(path, envelope(data or {}, *signers), method=method)

    async def send(self, path: str, body: bytes, *, method: str = "POST") -> httpx.Response:
        return await self.client.request(
            method,
            f"{MANAGEMENT}/{path}",
            content=body,
            headers={"content-type": "application/json"},
        )


@pytest.fixture
async def management(exchange: Exchange) -> AsyncIterator[Management]:
    exchange.app.state.management = {"peatio": ManagementPolicy.from_mapping(POLICY)}
    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://peatio") as http:
        yield Management(exchange, http)
