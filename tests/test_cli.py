"""The ``bursa`` command as an operator runs it: a real process, real databases."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from typer.testing import CliRunner

from bursa.api import web
from bursa.cli.main import app
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.trading.specs import load_specs
from tests.engine.test_runner import buy, fund, sell


def bursa(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bursa", *args],
        env=os.environ | {"COLUMNS": "200"} | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_on_every_command() -> None:
    """The installed entry point once as a process; every command group in process (each
    process start costs seconds of imports)."""
    done = bursa("--help")
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    for command in (
        ["db"],
        ["engine"],
        ["ledger"],
        ["bench"],
        ["bench", "engine"],
        ["up"],
        ["mailer"],
        ["events"],
        ["custody"],
        ["custody", "blockchain"],
        ["custody", "wallet"],
    ):
        helped = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert helped.exit_code == 0, (command, helped.output)
        assert "Usage" in helped.output, command


def test_custody_setup_refusals_say_what_to_do(fresh_database_url: str) -> None:
    env = {"BURSA_DATABASE_URL": fresh_database_url}
    unknown = bursa(
        "custody", "blockchain", "add", "dogechain", "--client", "doge", "--server", "http://x",
        env=env,
    )  # fmt: skip
    assert unknown.returncode == 1
    assert "no blockchain plugin named 'doge'" in unknown.stderr
    assert "http://x" not in unknown.stderr + unknown.stdout
    orphan = bursa(
        "custody", "wallet", "add", "hot-1", "--blockchain", "nowhere", "--kind", "hot",
        "--currency", "eth", env=env,
    )  # fmt: skip
    assert orphan.returncode == 1
    assert "no blockchain 'nowhere': add it first" in orphan.stderr
    listed = bursa("custody", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "blockchain" in listed.stdout


@pytest.mark.parametrize("text", ["1_0", " 1 ", "١", "1e3", "-1"])
def test_an_amount_option_is_read_in_plain_notation_only(text: str) -> None:
    """In process (the option is refused before any database is opened): ``1_0`` is not
    read as 10, nor ``١`` as 1."""
    done = CliRunner().invoke(app, [
        "custody", "wallet", "add", "hot-1", "--blockchain", "b", "--kind", "hot",
        "--currency", "eth", "--max-balance", text,
    ])  # fmt: skip
    assert done.exit_code == 1
    assert f"--max-balance {text!r} is not an amount" in done.stderr


def test_custody_list_shows_the_confirmations_each_coin_needs(fresh_database_url: str) -> None:
    env = {"BURSA_DATABASE_URL": fresh_database_url, "COLUMNS": "200"}
    added = bursa(
        "custody", "blockchain", "add", "ethereum", "--client", "ethereum",
        "--server", "http://127.0.0.1:9", "--min-confirmations", "4", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = bursa("custody", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in listed.stdout.splitlines()]
    assert ["eth", "ethereum", "4", "blockchain"] in cells
    assert ["btc", "bitcoin", "-", "blockchain not set up"] in cells


def test_invalid_settings_name_the_variable() -> None:
    done = bursa("db", "current", env={"BURSA_DATABASE_URL": "mysql://x"})
    assert done.returncode == 1
    assert "BURSA_DATABASE_URL" in done.stderr


def test_seed_file_errors_name_file_entry_and_field(
    fresh_database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "currencies:\n"
        "  - {id: doge, name: Doge, type: coin, precision: 8}\n"
        "markets:\n"
        "  - {id: dogeusd, base_unit: doge, quote_unit: usd, amount_precision: 2,\n"
        "     price_precision: 4, min_price: '0.0001', max_price: '0', min_amount: '1',\n"
        "     maker_fee: '0.001', taker_fee: '0.002'}\n"
    )
    done = bursa("seed", str(bad), env={"BURSA_DATABASE_URL": fresh_database_url})
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert str(bad) in message or "bad.yaml" in message
    assert "markets[0] (dogeusd)" in message
    assert "precision" in message

    good = tmp_path / "good.yaml"
    good.write_text(bad.read_text().replace("price_precision: 4", "price_precision: 0"))
    good.write_text(good.read_text().replace("'0.0001'", "'1'"))
    done = bursa("seed", str(good), env={"BURSA_DATABASE_URL": fresh_database_url})
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout
    again = bursa("seed", str(good), env={"BURSA_DATABASE_URL": fresh_database_url})
    assert again.returncode == 0
    assert "created" not in again.stdout
    assert "unchanged" in again.stdout


async def test_ledger_verify_and_replay_pass_then_catch_tampering(
    fresh_database_url: str,
) -> None:
    runner = EngineRunner(fresh_database_url, InProcessBus(), load_specs)
    await runner.start()
    try:
        for command in fund(1) + fund(2):
            await runner.submit(command)
        await runner.submit(sell("s", 1, 300_000, 2_900_000))
        await runner.submit(buy("b", 2, 100_000, 2_900_000))
    finally:
        await runner.stop()
    env = {"BURSA_DATABASE_URL": fresh_database_url}
    done = bursa("ledger", "verify", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ledger verifies" in done.stdout
    assert "btc" in done.stdout
    done = bursa("engine", "replay", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "replay matches" in done.stdout

    conn = await asyncpg.connect(fresh_database_url)
    try:
        await conn.execute(
            "UPDATE accounts SET balance = balance + 1 WHERE member_id = 2 AND currency_id = 'btc'"
        )
    finally:
        await conn.close()
    done = bursa("ledger", "verify", env=env)
    assert done.returncode == 1
    assert "break" in done.stderr
    assert "member 2" in done.stdout


def test_user_create_makes_an_active_confirmed_admin(fresh_database_url: str) -> None:
    env = {"BURSA_DATABASE_URL": fresh_database_url}
    done = bursa(
        "user",
        "create",
        "--email",
        "Root@Example.com",
        "--password",
        "Adm1n-Strong!Key",
        "--role",
        "superadmin",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "root@example.com" in done.stdout
    assert "state active level 1" in done.stdout
    weak = bursa("user", "create", "--email", "b@example.com", "--password", "password", env=env)
    assert weak.returncode == 1
    assert "password.requirements" in weak.stderr
    role = bursa(
        "user",
        "create",
        "--email",
        "c@example.com",
        "--password",
        "Adm1n-Strong!Key",
        "--role",
        "emperor",
        env=env,
    )
    assert role.returncode == 1
    assert "invalid_role" in role.stderr


def test_bench_engine_in_memory_prints_json(tmp_path: Path) -> None:
    export = tmp_path / "stream.jsonl"
    done = bursa(
        "bench",
        "engine",
        "--commands",
        "20000",
        "--members",
        "100",
        "--json",
        "--export",
        str(export),
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["commands"] == 20000
    assert figures["commands_per_s"] > 0
    assert figures["trades_per_s"] > 0
    lines = export.read_text().splitlines()
    assert len(lines) == 20000 + 100 * 3  # funding: three currencies per member
    last = json.loads(lines[-1])
    assert {"kind", "key"} <= last.keys()


def test_bench_engine_persisted_reports_ack_latency(template_database: str) -> None:
    from tests.conftest import SERVER_URL

    done = bursa(
        "bench",
        "engine",
        "--persist",
        "--commands",
        "5000",
        "--members",
        "50",
        "--json",
        "--rate",
        "2000",
        env={"BURSA_DATABASE_URL": SERVER_URL},
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["commands"] == 5000
    assert 0 < figures["ack_p50_ms"] <= figures["ack_p99_ms"]
    assert figures["offered_rate"] == 2000


def test_bench_api_places_and_cancels_orders_over_http(template_database: str) -> None:
    from tests.conftest import SERVER_URL

    done = bursa(
        "bench", "api", "--seconds", "2", "--members", "2", "--json",
        "--database-url", SERVER_URL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["orders"] > 0
    assert figures["cancels"] > 0
    assert figures["errors"] == 0, figures["error_kinds"]
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert figures["orders_per_s"] > 0


def test_bench_ws_delivers_frames_to_real_websocket_clients(template_database: str) -> None:
    from tests.conftest import SERVER_URL

    done = bursa(
        "bench", "ws", "--clients", "5", "--seconds", "2", "--rate", "10", "--warmup", "0.5",
        "--json",
        "--database-url", SERVER_URL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert {"clients", "messages_per_s", "p50_ms", "p99_ms"} <= set(figures)
    assert figures["clients"] == figures["connected"] == 5
    # Every client follows every trade (at least one frame each) and some book moves.
    assert figures["messages"] >= 5 * figures["trades"] > 0
    assert figures["messages_per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["dropped"] == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_up_on_the_embedded_default_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"BURSA_DATA_DIR": str(tmp_path / "data")}
    env.pop("BURSA_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bursa", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/api/v2/peatio/public"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "bursa up did not become ready"
            time.sleep(0.3)
        markets = httpx.get(f"{base}/markets").json()
        assert [m["id"] for m in markets] == ["btcusdt", "ethusdt", "ethbtc", "btcusd"]
        # Demo liquidity: the demo market maker fills the book within a few ticks.
        book: dict[str, list[object]] = {"asks": [], "bids": []}
        while not (book["asks"] and book["bids"]):
            assert time.monotonic() < deadline + 30, "no demo liquidity on btcusdt"
            time.sleep(0.5)
            book = httpx.get(f"{base}/markets/btcusdt/order-book").json()
        # The web app at the root: built (scripts/test builds it first), or a page saying how.
        root = httpx.get(f"http://127.0.0.1:{port}/")
        if web.DIST.joinpath("index.html").is_file():
            assert root.status_code == 200
            assert '<div id="root">' in root.text
        else:
            assert root.status_code == 503
            assert "scripts/up" in root.text
        # another command meanwhile uses the same embedded database
        verify = bursa("ledger", "verify", env={"BURSA_DATA_DIR": str(tmp_path / "data")})
        assert verify.returncode == 0, verify.stderr
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "demo liquidity: a market maker quotes btcusdt" in output
    assert "127.0.0.2:" not in output  # the bots' own requests stay out of the access log
    assert not (tmp_path / "data" / "pg" / "postmaster.pid").exists(), "PostgreSQL left running"


def test_up_on_a_real_database_needs_an_smtp_server(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mail stays in local files only on the embedded default: elsewhere `bursa up` says
    what to set instead of starting without a way to send codes."""
    monkeypatch.delenv("BURSA_SMTP_URL", raising=False)
    env = {"BURSA_DATABASE_URL": fresh_database_url}
    done = bursa("up", "--port", "1", env=env)
    assert done.returncode == 1
    assert "BURSA_SMTP_URL is not set" in done.stderr
    assert "smtp://" in done.stderr


def test_mailer_run_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BURSA_AMQP_URL", raising=False)
    done = bursa("mailer", "run")
    assert done.returncode == 1
    assert "BURSA_AMQP_URL is not set" in done.stderr
    env = {
        "BURSA_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "BURSA_SMTP_URL": "smtp://127.0.0.1:2525",
    }
    monkeypatch.delenv("BURSA_MAILER_CONFIG", raising=False)
    done = bursa("mailer", "run", env=env)  # the built-in configuration has no keys
    assert done.returncode == 1
    assert "no public key for event signer(s) barong, peatio" in done.stderr
    assert "keychain" in done.stderr
