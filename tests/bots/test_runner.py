"""The bots' runner against a real Bursa in this process: the ``fixed`` ladder is placed
once (a second tick and a restarted runner place nothing more), risk limits hold, a
person's own orders on the account are left alone, stopping and the kill switch cancel;
and the risk limits, status file and ``bots status`` on their own."""

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bursa.bots.config import BotsConfig, Risk, parse_config
from bursa.bots.drivers.opendax import OpenDaxClient, Order
from bursa.bots.ownership import RunnerError, ownership_problems
from bursa.bots.risk import apply_limits, day_pnl
from bursa.bots.runner import Outcome, Runner
from bursa.bots.status import read_status
from bursa.bots.strategy import Book, Market, NewOrder, OpenOrder, Plan
from bursa.cli.bots import bots_app
from tests.bots.exchange import MARKET, Bursa

D = Decimal
LADDER = {D("30150"), D("30180"), D("30210"), D("29850"), D("29820"), D("29790")}


@pytest.fixture
async def alice(bursa: Bursa) -> AsyncIterator[OpenDaxClient]:
    """Alice's client, for looking at what the bot did; her orders are cleared after."""
    async with OpenDaxClient(bursa.host, bursa.alice) as client:
        yield client
        await client.cancel_all(MARKET)


def config(
    bursa: Bursa,
    folder: Path,
    *,
    risk: str = "{}",
    on_stop: str = "cancel",
    host: str | None = None,
) -> BotsConfig:
    text = f"""
accounts:
  - {{id: b, driver: bursa, host: "{host or bursa.host}", ws: "{bursa.ws}",
      key_env: BOT_KEY, secret_env: BOT_SECRET}}
strategies:
  - id: ladder
    type: fixed
    period: 0.2
    params: {{price: 30000, spread: 0.01, amount: 0.02, levels: 3, step: 0.001}}
    target: {{account_id: b, market_id: {MARKET}}}
    risk: {risk}
    on_stop: {on_stop}
kill_switch: {{file: stop.now}}
"""
    return parse_config(text, "bots.yml", base=folder)


def runner(bursa: Bursa, bots: BotsConfig, folder: Path, feeds: bool = False) -> Runner:
    environ = {"BOT_KEY": bursa.alice.kid, "BOT_SECRET": bursa.alice.secret}
    return Runner(bots, status_path=folder / "s.json", environ=environ, use_feeds=feeds)


def bots_orders(orders: list[Order]) -> dict[int | str, tuple[str, Decimal, Decimal]]:
    return {
        o.id: (o.side, o.price or D(0), o.remaining_volume)
        for o in orders
        if (o.client_id or "").startswith("bot.ladder.")
    }


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def test_the_ladder_once_across_ticks_and_restarts(
    bursa: Bursa, alice: OpenDaxClient, tmp_path: Path
) -> None:
    mine = await alice.place(MARKET, "buy", D("0.5"), D("20000"))  # by hand: not the bot's
    bots = config(bursa, tmp_path)
    async with runner(bursa, bots, tmp_path) as first:
        step = first.strategies["ladder"]
        await step.step()
        placed = bots_orders(await alice.open_orders(MARKET))
        assert {price for _, price, _ in placed.values()} == LADDER
        assert {amount for _, _, amount in placed.values()} == {D("0.02")}
        await step.step()  # nothing to change
        assert bots_orders(await alice.open_orders(MARKET)) == placed
        assert (step.status.placed, step.status.cancelled, step.status.open_orders) == (6, 0, 6)
        assert step.status.position == "0"
    async with runner(bursa, bots, tmp_path) as again:  # a restart: reads what is open
        await again.strategies["ladder"].step()
        assert bots_orders(await alice.open_orders(MARKET)) == placed
        assert again.strategies["ladder"].status.placed == 0

        outcome = await stop_soon(again)  # on_stop: cancel
    assert outcome.clean and not outcome.killed
    left = await alice.open_orders(MARKET)
    assert [o.id for o in left] == [mine.id]  # the person's order stays
    (status,) = read_status(tmp_path / "s.json")["strategies"]
    assert status["state"] == "stopped" and status["open_orders"] == 0


async def test_a_skipped_tick_tells_the_drivers_code_and_what_happens_next(
    bursa: Bursa, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    down = config(bursa, tmp_path, host="http://127.0.0.1:1")  # a port nobody serves
    with caplog.at_level(logging.WARNING, logger="bursa.bots.runner"):
        async with runner(bursa, down, tmp_path) as bots:
            step = bots.strategies["ladder"]
            await step.step()
    expected = (
        "tick skipped: bots.exchange_unreachable (http://127.0.0.1:1: ConnectError) "
        "— retrying next tick"
    )
    assert step.status.last_error == expected
    assert f"ladder: {expected}" in caplog.text

    environ = {"BOT_KEY": bursa.alice.kid, "BOT_SECRET": "not-the-secret"}
    async with Runner(config(bursa, tmp_path), environ=environ, use_feeds=False) as forged:
        step = forged.strategies["ladder"]
        await step.step()
    assert step.status.last_error == (
        "tick skipped: authz.invalid_signature — check the account's API key; retrying next tick"
    )


async def stop_soon(bots: Runner) -> Outcome:
    running = asyncio.create_task(bots.run(signals=False))
    await asyncio.sleep(0.3)
    bots.stop()
    return await asyncio.wait_for(running, 5)


async def test_risk_limits_hold_without_churn(
    bursa: Bursa, alice: OpenDaxClient, tmp_path: Path
) -> None:
    bots = config(bursa, tmp_path, risk="{max_open_orders: 4, max_order_amount: 0.015}")
    async with runner(bursa, bots, tmp_path) as limited:
        step = limited.strategies["ladder"]
        await step.step()
        placed = bots_orders(await alice.open_orders(MARKET))
        # The four nearest the middle, each clipped to 0.015.
        assert sorted(p for _, p, _ in placed.values()) == [
            D("29820"),
            D("29850"),
            D("30150"),
            D("30180"),
        ]
        assert {a for _, _, a in placed.values()} == {D("0.015")}
        await step.step()  # the clipped orders are the ladder's now: nothing changes
        assert bots_orders(await alice.open_orders(MARKET)) == placed
        assert (step.status.placed, step.status.cancelled) == (4, 0)


async def test_the_kill_switch_file_cancels_everything(
    bursa: Bursa, alice: OpenDaxClient, tmp_path: Path
) -> None:
    bots = config(bursa, tmp_path, on_stop="keep")
    async with runner(bursa, bots, tmp_path, feeds=True) as killable:
        running = asyncio.create_task(killable.run(signals=False))

        async def laddered() -> bool:
            return len(bots_orders(await alice.open_orders(MARKET))) == 6

        await until(laddered)
        (tmp_path / "stop.now").touch()
        outcome = await asyncio.wait_for(running, 5)
        assert outcome.killed and outcome.clean
        assert bots_orders(await alice.open_orders(MARKET)) == {}
        with pytest.raises(RunnerError, match="kill switch"):
            await killable.run(signals=False)  # the file is still there
    (status,) = read_status(tmp_path / "s.json")["strategies"]
    assert status["state"] == "killed" and status["ticks"] >= 1


async def test_sigterm_stops_and_cancels(
    bursa: Bursa, alice: OpenDaxClient, tmp_path: Path
) -> None:
    async with runner(bursa, config(bursa, tmp_path), tmp_path) as bots:
        running = asyncio.create_task(bots.run())

        async def laddered() -> bool:
            return len(bots_orders(await alice.open_orders(MARKET))) == 6

        await until(laddered)
        os.kill(os.getpid(), signal.SIGTERM)
        outcome = await asyncio.wait_for(running, 5)
    assert outcome.clean and not outcome.killed
    assert bots_orders(await alice.open_orders(MARKET)) == {}


async def test_on_stop_keep_leaves_the_orders(
    bursa: Bursa, alice: OpenDaxClient, tmp_path: Path
) -> None:
    bots = config(bursa, tmp_path, on_stop="keep")
    async with runner(bursa, bots, tmp_path) as keeper:
        await stop_soon(keeper)
    assert len(bots_orders(await alice.open_orders(MARKET))) == 6


# ---------------------------------------------------------------------- without an exchange

BTC = Market("btcusdt", "btc", "usdt", amount_precision=4, price_precision=2)


def test_max_position_refuses_what_would_go_beyond() -> None:
    plan = Plan(place=(NewOrder("buy", D(99), D(1)), NewOrder("sell", D(101), D(1))))
    resting = [OpenOrder("1", "buy", D(98), D(1))]
    checked = apply_limits(
        plan, Risk(max_position=D("1.5")), market=BTC, book=Book(), open_orders=resting,
        position=D(0),
    )  # fmt: skip
    # A second buy could reach +2 if both fill; the sell brings it to −1: allowed.
    assert checked.plan.place == (NewOrder("sell", D(101), D(1)),)
    assert "max_position" in checked.notes[0]
    back = apply_limits(
        plan, Risk(max_position=D("1.5")), market=BTC, book=Book(), open_orders=[],
        position=D(2),
    )  # fmt: skip
    # Already beyond: orders that bring it back are still allowed.
    assert back.plan.place == (NewOrder("sell", D(101), D(1)),)


def test_max_order_amount_drops_what_clips_below_the_minimum() -> None:
    market = Market("btcusdt", "btc", "usdt", 4, 2, min_amount=D("0.1"))
    plan = Plan(place=(NewOrder("buy", D(99), D(1)),))
    risk = Risk(max_order_amount=D("0.05"))
    checked = apply_limits(plan, risk, market=market, book=Book(), open_orders=[], position=D(0))
    assert checked.plan.place == ()


def test_the_days_pnl_values_the_base_at_the_mid() -> None:
    # Bought 1 btc for 100 usdt; the mid is now 90: 10 lost.
    assert day_pnl(D(5), D(1000), D(6), D(900), D(90)) == D(-10)


def test_one_strategy_per_account_and_market(bursa_free_config: str) -> None:
    bots = parse_config(bursa_free_config, "bots.yml")
    assert ownership_problems(bots) == [
        'strategy "two": target b/btcusdt is already the target of strategy "one" '
        "(one strategy per account and market)"
    ]
    with pytest.raises(RunnerError):
        Runner(bots, environ={"K": "k", "S": "s"})


@pytest.fixture
def bursa_free_config() -> str:
    entry = """
  - id: {name}
    type: fixed
    params: {{price: 100, spread: 0.02, amount: 1}}
    target: {{account_id: b, market_id: btcusdt}}"""
    return (
        "accounts:\n  - {id: b, driver: bursa, host: http://127.0.0.1:1, key_env: K, "
        "secret_env: S}\nstrategies:" + entry.format(name="one") + entry.format(name="two")
    )


def test_bots_status_prints_the_status_file(tmp_path: Path) -> None:
    status = {
        "config": "bots.yml",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "pid": 1,
        "strategies": [
            {"id": "ladder", "target": "b/btcusdt", "state": "running", "ticks": 3,
             "open_orders": 6, "placed": 6, "cancelled": 0, "position": "0.5",
             "inventory": "0.25", "realised_pnl": "12.5", "base_unit": "btc",
             "quote_unit": "usdt", "venue_positions": {"c/btcusdt": {"inventory": "-0.25",
             "realised_pnl": "0"}}, "day_pnl": "-3", "last_tick": "2026-01-01T00:00:00+00:00",
             "last_error": "place buy: refused"}
        ],
    }  # fmt: skip
    path = tmp_path / "bots.status.json"
    path.write_text(json.dumps(status))
    result = CliRunner().invoke(
        bots_app, ["status", str(tmp_path / "bots.yml")], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    for shown in ("ladder", "running", "inventory", "realised P&L", "day P&L", "0.25 btc",
                  "12.5 usdt", "c/btcusdt: -0.25", "-3", "6 / 0", "refused"):  # fmt: skip
        assert shown in result.output, shown
    missing = CliRunner().invoke(bots_app, ["status", str(tmp_path / "other.yml")])
    assert missing.exit_code == 1


def test_bots_run_refuses_before_trading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bots.yml"
    path.write_text(
        "accounts:\n  - {id: b, driver: bursa, host: http://127.0.0.1:9, key_env: K, "
        "secret_env: S}\nstrategies:\n  - id: one\n    type: fixed\n"
        "    params: {price: 100, spread: 0.02, amount: 1}\n"
        "    target: {account_id: b, market_id: btcusdt}\nkill_switch: {file: stop.now}\n"
    )
    unset = CliRunner().invoke(bots_app, ["run", str(path)])
    assert unset.exit_code == 1 and "K" in unset.output
    monkeypatch.setenv("K", "key-id")
    monkeypatch.setenv("S", "a-secret-value")
    (tmp_path / "stop.now").touch()
    stopped = CliRunner().invoke(bots_app, ["run", str(path)])
    assert stopped.exit_code == 1 and "kill switch" in stopped.output
    assert "a-secret-value" not in stopped.output


def test_microtrades_takes_from_a_counterparty_with_keys(tmp_path: Path) -> None:
    """The counterparty's taker is a venue order: its account must hold keys."""
    text = """
accounts:
  - {id: maker, driver: bursa, host: "http://127.0.0.1:1", key_env: K1, secret_env: S1}
  - {id: taker, driver: bursa, host: "http://127.0.0.1:1"%s}
strategies:
  - id: candles
    type: microtrades
    params: {min_amount: "0.001", max_amount: "0.002", counterparty_account: taker}
    target: {account_id: maker, market_id: btcusdt}
"""
    keyed = parse_config(text % ", key_env: K2, secret_env: S2", "bots.yml")
    assert ownership_problems(keyed) == []
    public = parse_config(text % "", "bots.yml")
    assert ownership_problems(public) == [
        'strategy "candles": params.counterparty_account (venue taker/btcusdt): account "taker" '
        "has no key_env/secret_env, and placing orders there needs them"
    ]
