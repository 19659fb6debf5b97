"""The exchange of ``tests.api.members`` served by a real uvicorn server, its Peatio
Management API trusting AppLogic's key for withdrawals, and AppLogic's own API mounted:
AppLogic's httpx client reaches the Management API over the network."""

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from bursa.api.management_auth import ManagementPolicy
from bursa.applogic import api as applogic_api
from bursa.applogic.approvals import WithdrawalApprovals
from bursa.applogic.config import AppLogicConfig
from bursa.applogic.management import PeatioManagement
from bursa.ledger.verify import verify_ledger
from bursa.signing import multisig
from tests.api.members import ACCOUNT, Caller, Exchange, exchange  # noqa: F401
from tests.signing.keys import rsa_pem, signer

MANAGEMENT = "/api/v2/peatio/management"
APPLOGIC = "/api/v2/applogic/withdraws"
SIGNERS = {"permitted_signers": ["applogic"], "mandatory_signers": ["applogic"]}
POLICY = {
    "keychain": {
        "applogic": {"algorithm": "RS256", "value": rsa_pem("applogic")[1]},
        "intruder": {"algorithm": "RS256", "value": rsa_pem("intruder")[1]},
    },
    "scopes": {"read_withdraws": SIGNERS, "write_withdraws": SIGNERS},
}


@dataclass
class Served:
    exchange: Exchange
    url: str  # the server's base URL
    http: httpx.AsyncClient

    async def management(
        self, method: str, path: str, signed_by: str = "applogic", **data: Any
    ) -> httpx.Response:
        """A Management API request, signed as ``signed_by``."""
        now = int(time.time())
        claims = {"iat": now, "exp": now + 60, "jti": str(uuid.uuid4()), "data": data}
        body = multisig.sign(claims, signer(signed_by))
        return await self.http.request(method, f"{MANAGEMENT}/{path}", json=body)

    async def withdraw(self, **data: Any) -> httpx.Response:
        return await self.management("POST", "withdraws/new", **data)

    async def state(self, tid: str) -> str:
        found = await self.management("POST", "withdraws/get", tid=tid)
        assert found.status_code == 201, found.text
        state: str = found.json()["state"]
        return state

    async def events(self, tid: str) -> list[dict[str, Any]]:
        """The withdrawal's events in the outbox, decoded as a listener gets them."""
        found = []
        for event in await self.exchange.outbox():
            if event["name"].startswith("model.withdraw.") and event["record"]["tid"] == tid:
                body = {"name": event["name"], "record": event["record"]}
                if "changes" in event:
                    body["changes"] = event["changes"]
                found.append(body)
        return found

    async def ledger_ok(self) -> None:
        conn = await asyncpg.connect(self.exchange.database_url)
        try:
            report = await verify_ledger(conn)
        finally:
            await conn.close()
        assert report.ok, [b.describe() for b in report.breaks[:5]]


async def balance(member: Caller, currency: str) -> tuple[Decimal, Decimal]:
    """(balance, locked) as the member sees them."""
    found = await member.get(f"{ACCOUNT}/balances/{currency}")
    assert found.status_code == 200, found.text
    return Decimal(found.json()["balance"]), Decimal(found.json()["locked"])


@pytest.fixture
async def served(exchange: Exchange) -> AsyncIterator[Served]:
    exchange.app.state.management = {"peatio": ManagementPolicy.from_mapping(POLICY)}
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            exchange.app, lifespan="off", log_level="warning", timeout_graceful_shutdown=1
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            yield Served(exchange, url, http)
    finally:
        server.should_exit = True
        await task
        sock.close()


def applogic_config(served: Served, rules: dict[str, Any]) -> AppLogicConfig:
    return AppLogicConfig.from_mapping(
        {
            "peatio_management_url": served.url + MANAGEMENT,
            "signing_key": {"kid": "applogic", "pem": rsa_pem("applogic")[0]},
            "withdrawals": rules,
        }
    )


@pytest.fixture
async def applogic(served: Served) -> AsyncIterator[WithdrawalApprovals]:
    """AppLogic, its rules set by the test (``service.config = applogic_config(...)``)."""
    config = applogic_config(served, {})
    peatio = PeatioManagement(config.peatio_management_url, config.key)
    service = WithdrawalApprovals(served.exchange.app.state.session_factory, config, peatio)
    applogic_api.install(served.exchange.app, service)
    try:
        yield service
    finally:
        await peatio.close()
