"""The runner's venues, fills and timing against a real Bursa in this process, driven by a
hand-written strategy that plays the plans a test gives it: orders go to the venue they
name (and only to a declared one), a ``needs_previous`` order waits for the one before it,
the strategy's fills are handed once and only its own, realised P&L and inventory reach
the status file and ``bots status``, and a source's book change ticks the strategy early.

Accounts: ``a`` is alice (the bot's target), ``b`` is bob (a venue, or a source)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from bursa.bots.config import (
    AccountConfig,
    BotsConfig,
    ConfigError,
    ConfiguredStrategy,
    MarketRef,
    Risk,
    StrategyConfig,
    parse_config,
)
from bursa.bots.drivers.opendax import OpenDaxClient, Order
from bursa.bots.ownership import ownership_problems
from bursa.bots.risk import Ledger, apply_limits
from bursa.bots.runner import Runner, StrategyRunner
from bursa.bots.status import read_status
from bursa.bots.strategy import Book, Fill, Market, NewOrder, Plan, Strategy, View
from bursa.cli.bots import bots_app
from tests.bots.exchange import MARKET, Bursa

D = Decimal
TARGET = f"a/{MARKET}"
VENUE = f"b/{MARKET}"


class ScriptParams(BaseModel):
    venues: tuple[str, ...] = ()


class Scripted(Strategy[ScriptParams]):
    """Answers each tick with the next plan of ``plans`` (none left: an empty plan) and
    keeps every view and the time of every tick."""

    Params = ScriptParams

    def __init__(self, config: StrategyConfig, params: ScriptParams) -> None:
        super().__init__(config, params)
        self.plans: list[Plan] = []
        self.views: list[View] = []
        self.ticked: list[float] = []

    def venues(self) -> tuple[str, ...]:
        return self.params.venues

    async def tick(self, view: View) -> Plan:
        self.ticked.append(time.monotonic())
        self.views.append(view)
        return self.plans.pop(0) if self.plans else Plan()

    @property
    def fills(self) -> list[Fill]:
        return [fill for view in self.views for fill in view.fills]


class Watching(Scripted):
    wants_trades = True


def bots(
    bursa: Bursa,
    *,
    venues: tuple[str, ...] = (),
    sources: tuple[MarketRef, ...] = (),
    period: str = "0.2",
    min_period: str = "0.2",
    plugin: type[Scripted] = Scripted,
) -> BotsConfig:
    def account(name: str) -> AccountConfig:
        return AccountConfig(
            id=name,
            driver="bursa",
            host=bursa.host,
            ws=bursa.ws,
            key_env=f"{name.upper()}_KEY",
            secret_env=f"{name.upper()}_SECRET",
        )

    config = StrategyConfig(
        id="s",
        type="scripted",
        period=D(period),
        min_period=D(min_period),
        target=MarketRef(account_id="a", market_id=MARKET),
        sources=sources,
    )
    return BotsConfig(
        "bots.yml",
        "debug",
        {"a": account("a"), "b": account("b")},
        (ConfiguredStrategy(config, plugin, ScriptParams(venues=venues)),),
    )


def runner(bursa: Bursa, config: BotsConfig, folder: Path, feeds: bool = False) -> Runner:
    environ = {
        "A_KEY": bursa.alice.kid,
        "A_SECRET": bursa.alice.secret,
        "B_KEY": bursa.bob.kid,
        "B_SECRET": bursa.bob.secret,
    }
    return Runner(config, status_path=folder / "s.json", environ=environ, use_feeds=feeds)


def scripted(bots: Runner) -> tuple[StrategyRunner, Scripted]:
    step = bots.strategies["s"]
    assert isinstance(step.strategy, Scripted)
    return step, step.strategy


@pytest.fixture
async def alice(bursa: Bursa) -> AsyncIterator[OpenDaxClient]:
    async with OpenDaxClient(bursa.host, bursa.alice) as client:
        yield client
        await client.cancel_all()


@pytest.fixture
async def bob(bursa: Bursa) -> AsyncIterator[OpenDaxClient]:
    async with OpenDaxClient(bursa.host, bursa.bob) as client:
        yield client
        await client.cancel_all()


def the_bots(orders: list[Order]) -> set[tuple[str, Decimal, Decimal]]:
    return {
        (o.side, o.price or D(0), o.remaining_volume)
        for o in orders
        if (o.client_id or "").startswith("bot.s.")
    }


async def fills_after(step: StrategyRunner, strategy: Scripted, count: int) -> list[Fill]:
    """Step until ``count`` fills were handed over in all, then twice more (a fill told
    twice would show there)."""
    deadline = time.monotonic() + 5
    while len(strategy.fills) < count:
        assert time.monotonic() < deadline, "no fill in time"
        await step.step()
        await asyncio.sleep(0.05)
    await step.step()
    await step.step()
    return strategy.fills


async def test_orders_go_to_their_declared_venue_in_order(
    bursa: Bursa,
    alice: OpenDaxClient,
    bob: OpenDaxClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with runner(bursa, bots(bursa, venues=(VENUE,)), tmp_path) as running:
        step, strategy = scripted(running)
        strategy.plans.append(
            Plan(
                place=(
                    NewOrder("buy", D(20000), D("0.01")),  # the target: alice
                    NewOrder("sell", D(40000), D("0.02"), venue=VENUE),  # bob
                    NewOrder("buy", D(20001), D("0.01"), venue="b/ethusdt"),  # not declared
                    NewOrder("buy", D(20002), D("0.01"), venue=VENUE, needs_previous=True),
                    NewOrder("buy", D(19000), D("0.00001")),  # below the market's minimum
                    NewOrder("sell", D(40001), D("0.01"), venue=VENUE, needs_previous=True),
                    NewOrder("sell", D(40002), D("0.01"), venue=VENUE, needs_previous=True),
                )
            )
        )
        with caplog.at_level(logging.WARNING, logger="bursa.bots.runner"):
            await step.step()
        assert the_bots(await alice.open_orders(MARKET)) == {("buy", D(20000), D("0.01"))}
        assert the_bots(await bob.open_orders(MARKET)) == {("sell", D(40000), D("0.02"))}
        assert step.status.placed == 2 and step.status.open_orders == 1
        assert "b/ethusdt: not one of the strategy's venues" in caplog.text
        assert step.status.last_error is not None and "19000" in step.status.last_error

        (view,) = strategy.views
        assert view.venues[VENUE].id == MARKET and view.venues[VENUE].min_amount == D("0.0001")
        assert view.trades == ()  # the strategy does not want them
        assert abs(view.now - time.time()) < 5
        await step.step()
        assert strategy.views[1].venue_balances[VENUE]["btc"].locked == D("0.02")  # bob's order

        # A person (alice by hand) takes the bot's order on bob's account: a fill of the
        # venue, from the bot's side; alice's own trade on the target is not the bot's.
        await alice.place(MARKET, "buy", D("0.02"), D(40000), time_in_force="ioc")
        (fill,) = await fills_after(step, strategy, 1)
        assert (fill.venue, fill.side, fill.price, fill.amount) == (
            VENUE,
            "sell",
            D(40000),
            D("0.02"),
        )
        assert step.status.venue_positions == {VENUE: {"inventory": "-0.02", "realised_pnl": "0"}}
        assert step.status.inventory == "0"


async def test_a_taker_waits_for_its_maker(
    bursa: Bursa, alice: OpenDaxClient, bob: OpenDaxClient, tmp_path: Path
) -> None:
    """A microtrade: the maker on alice, bob's IOC taker only if the maker went out."""
    async with runner(bursa, bots(bursa, venues=(VENUE,)), tmp_path) as running:
        step, strategy = scripted(running)
        refused_maker = NewOrder("buy", D(21000), D("0.00001"))  # below the minimum
        taker = NewOrder("sell", D(21000), D("0.00001"), venue=VENUE, needs_previous=True)
        strategy.plans.append(Plan(place=(refused_maker, taker)))
        await step.step()
        assert step.status.placed == 0

        maker = NewOrder("buy", D(21000), D("0.001"))
        taker = NewOrder("sell", D(21000), D("0.001"), VENUE, ioc=True, needs_previous=True)
        strategy.plans.append(Plan(place=(maker, taker)))
        await step.step()
        assert step.status.placed == 2
        assert the_bots(await alice.open_orders(MARKET)) == set()  # taken at once
        assert the_bots(await bob.open_orders(MARKET)) == set()  # IOC: rests nothing
        fills = await fills_after(step, strategy, 2)
        assert sorted((f.venue, f.side) for f in fills) == [(TARGET, "buy"), (VENUE, "sell")]


async def test_fills_are_the_strategys_own_and_told_once(
    bursa: Bursa, alice: OpenDaxClient, bob: OpenDaxClient, tmp_path: Path
) -> None:
    config = bots(bursa, plugin=Watching)
    async with runner(bursa, config, tmp_path) as running:
        step, strategy = scripted(running)
        strategy.plans.append(Plan(place=(NewOrder("buy", D(25000), D("0.01")),)))
        await step.step()
        (bots_order,) = [o for o in await alice.open_orders(MARKET) if o.client_id]
        await alice.place(MARKET, "buy", D("0.02"), D(24000))  # alice's own, by hand
        await bob.place(MARKET, "sell", D("0.01"), D(25000), time_in_force="ioc")
        await bob.place(MARKET, "sell", D("0.02"), D(24000), time_in_force="ioc")

        (fill,) = await fills_after(step, strategy, 1)
        assert fill.order_id == str(bots_order.id)
        assert (fill.venue, fill.side, fill.price, fill.amount) == (
            TARGET,
            "buy",
            D(25000),
            D("0.01"),
        )
        assert step.status.fills == 1 and step.status.inventory == "0.01"
        # The public trades, oldest first, for a strategy that wants them.
        prices = [t.price for t in strategy.views[-1].trades]
        assert prices[-2:] == [D(25000), D(24000)]


async def test_realised_pnl_and_inventory_reach_the_status(
    bursa: Bursa, alice: OpenDaxClient, bob: OpenDaxClient, tmp_path: Path
) -> None:
    async with runner(bursa, bots(bursa), tmp_path) as running:
        step, strategy = scripted(running)
        strategy.plans.append(Plan(place=(NewOrder("buy", D(25000), D("0.02")),)))
        await step.step()
        await bob.place(MARKET, "sell", D("0.02"), D(25000), time_in_force="ioc")
        await fills_after(step, strategy, 1)
        strategy.plans.append(Plan(place=(NewOrder("sell", D(25100), D("0.005")),)))
        await step.step()
        await bob.place(MARKET, "buy", D("0.005"), D(25100), time_in_force="ioc")
        await fills_after(step, strategy, 2)
        running.write_status()

    (status,) = read_status(tmp_path / "s.json")["strategies"]
    # Bought 0.02 at 25000, sold 0.005 of it at 25100: 0.005 × 100 realised, 0.015 held.
    assert (status["inventory"], status["realised_pnl"]) == ("0.015", "0.5")
    assert status["fills"] == 2  # ("position", from the balance, has the fees taken off)
    shown = CliRunner().invoke(
        bots_app, ["status", "bots.yml", "--status", str(tmp_path / "s.json")],
        env={"COLUMNS": "160"},
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "0.015 btc" in shown.output and "0.5 usdt" in shown.output


async def test_a_restart_attributes_the_fills_of_orders_open_before(
    bursa: Bursa, alice: OpenDaxClient, bob: OpenDaxClient, tmp_path: Path
) -> None:
    config = bots(bursa)
    async with runner(bursa, config, tmp_path) as first:
        step, strategy = scripted(first)
        strategy.plans.append(Plan(place=(NewOrder("sell", D(26000), D("0.01")),)))
        await step.step()
    async with runner(bursa, config, tmp_path) as again:
        step, strategy = scripted(again)
        await step.step()  # sees its order open
        await bob.place(MARKET, "buy", D("0.01"), D(26000), time_in_force="ioc")
        (fill,) = await fills_after(step, strategy, 1)
        assert (fill.side, fill.price) == ("sell", D(26000))


async def test_a_source_book_change_ticks_the_strategy_early(
    bursa: Bursa, bob: OpenDaxClient, tmp_path: Path
) -> None:
    """Period 5 s: the tick after bob changes the source's book comes within a second,
    never sooner than min_period (0.5 s) after the one before."""
    source = (MarketRef(account_id="b", market_id=MARKET),)
    config = bots(bursa, sources=source, period="5", min_period="0.5")
    async with runner(bursa, config, tmp_path, feeds=True) as running:
        _, strategy = scripted(running)
        feed = running.exchanges["b"].feed
        assert feed is not None
        task = asyncio.create_task(running.run(signals=False))
        try:
            deadline = time.monotonic() + 5
            while not (strategy.ticked and feed.books[MARKET].synced):
                assert time.monotonic() < deadline, "no tick or no book"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the snapshot's own wake is over
            before = len(strategy.ticked)
            placed = time.monotonic()
            await bob.place(MARKET, "sell", D("0.01"), D(50000))
            await bob.place(MARKET, "sell", D("0.01"), D(50001))
            while len(strategy.ticked) == before:
                assert time.monotonic() - placed < 2, "not woken by the source's book"
                await asyncio.sleep(0.01)
            assert strategy.ticked[before] - placed < 1
            await asyncio.sleep(0.5)
        finally:
            running.stop()
            await asyncio.wait_for(task, 5)
    gaps = [b - a for a, b in zip(strategy.ticked, strategy.ticked[1:], strict=False)]
    assert min(gaps) >= 0.4


# ---------------------------------------------------------------------- without an exchange

BTC = Market("btcusdt", "btc", "usdt", amount_precision=4, price_precision=2, min_amount=D("0.01"))
ETH = Market("ethusdt", "eth", "usdt", amount_precision=2, price_precision=2, min_amount=D("0.1"))


def test_risk_clips_venue_orders_to_their_own_market() -> None:
    plan = Plan(
        place=(
            NewOrder("buy", D(100), D("0.5")),
            NewOrder("sell", D(100), D("0.5"), venue="b/ethusdt", ioc=True, needs_previous=True),
            NewOrder("buy", D(99), D("0.5"), venue="b/ethusdt"),
        )
    )
    checked = apply_limits(
        plan, Risk(max_order_amount=D("0.123")), market=BTC, book=Book(), open_orders=[],
        position=D(0), venues={"b/ethusdt": ETH},
    )  # fmt: skip
    assert [(o.amount, o.venue, o.ioc) for o in checked.plan.place] == [
        (D("0.123"), None, False),
        (D("0.12"), "b/ethusdt", True),  # ETH's lot
        (D("0.12"), "b/ethusdt", False),
    ]


def test_risk_drops_what_needs_a_dropped_order() -> None:
    maker = NewOrder("buy", D(100), D("0.5"))
    taker = NewOrder("sell", D(100), D("0.5"), venue="b/btcusdt", ioc=True, needs_previous=True)
    other = NewOrder("sell", D(101), D("0.3"))
    # max_order_amount clips the maker below the minimum: the taker goes with it.
    clipped = apply_limits(
        Plan(place=(maker, taker, other)), Risk(max_order_amount=D("0.001")), market=BTC,
        book=Book(), open_orders=[], position=D(0), venues={"b/btcusdt": BTC},
    )  # fmt: skip
    assert clipped.plan.place == ()
    # max_position refuses the maker: the taker goes, the independent sell stays.
    refused = apply_limits(
        Plan(place=(maker, taker, other)), Risk(max_position=D("0.4")), market=BTC,
        book=Book(), open_orders=[], position=D(0),
    )  # fmt: skip
    assert refused.plan.place == (other,)
    assert any("needs_previous" in note for note in refused.notes)
    # An IOC or venue order rests nothing: max_open_orders counts neither.
    counted = apply_limits(
        Plan(place=(maker, taker, NewOrder("sell", D(102), D("0.1"), ioc=True))),
        Risk(max_open_orders=1), market=BTC, book=Book(), open_orders=[], position=D(0),
    )  # fmt: skip
    assert len(counted.plan.place) == 3


def test_the_ledger_realises_by_average_cost() -> None:
    ledger = Ledger()
    ledger.add("buy", D(100), D(1))
    ledger.add("buy", D(110), D(1))  # 2 held at 105
    ledger.add("sell", D(120), D("0.5"))  # 0.5 × 15
    assert (ledger.position, ledger.average, ledger.realised) == (D("1.5"), D(105), D("7.5"))
    ledger.add("sell", D(100), D(2))  # 1.5 × −5 realised, 0.5 short at 100
    assert (ledger.position, ledger.average, ledger.realised) == (D("-0.5"), D(100), D(0))
    ledger.add("buy", D(90), D("0.5"))  # a short closed lower: +5
    assert (ledger.position, ledger.realised) == (D(0), D(5))


def test_a_venue_needs_keys_and_not_anothers_opendax_target() -> None:
    accounts = {
        "a": AccountConfig(id="a", driver="bursa", host="http://127.0.0.1:1", key_env="K",
                           secret_env="S"),
        "pub": AccountConfig(id="pub", driver="bursa", host="http://127.0.0.1:1"),
        "p": AccountConfig(id="p", driver="opendax", host="http://127.0.0.1:1", key_env="K2",
                           secret_env="S2"),
    }  # fmt: skip

    public = MarketRef(account_id="pub", market_id="ethusdt")

    def entry(
        name: str, target: str, venues: tuple[str, ...], plugin: type[Strategy[Any]] = Scripted
    ) -> ConfiguredStrategy:
        config = StrategyConfig(
            id=name,
            type="scripted",
            target=MarketRef(account_id=target, market_id=MARKET),
            sources=(public,),
        )
        return ConfiguredStrategy(config, plugin, ScriptParams(venues=venues))

    config = BotsConfig(
        "bots.yml",
        "info",
        accounts,
        (
            entry("one", "a", (f"pub/{MARKET}", f"p/{MARKET}", "nobody/x", "bad")),
            entry("two", "p", ()),
            entry("declares", "pub", (str(public),)),  # trades on its public source
            entry("reads", "pub", (), plugin=Reader),  # venues() by default: may be public
        ),
    )
    assert ownership_problems(config) == [
        'strategy "reads": target pub/btcusdt is already the target of strategy "declares" '
        "(one strategy per account and market)",
        f'strategy "one": venue pub/{MARKET}: account "pub" has no key_env/secret_env, and '
        "placing orders there needs them",
        f'strategy "one": venue p/{MARKET}: is the target of strategy "two" on an opendax '
        "account (no client ids: that strategy would take these orders as its own)",
        'strategy "one": venue nobody/x: no account "nobody" in accounts',
        'strategy "one": venue bad: not of the form account_id/market_id',
        'strategy "declares": sources[0].account_id (venue pub/ethusdt): account "pub" has no '
        "key_env/secret_env, and placing orders there needs them",
    ]


class Reader(Strategy[ScriptParams]):
    """Reads its sources (the default ``venues()``), places nothing."""

    Params = ScriptParams

    async def tick(self, view: View) -> Plan:
        return Plan()


def test_min_period_is_at_most_the_period() -> None:
    text = """
accounts:
  - {id: b, driver: bursa, host: "http://127.0.0.1:1", key_env: K, secret_env: S}
strategies:
  - id: s
    type: fixed
    period: 1
    min_period: %s
    params: {price: 100, spread: 0.02, amount: 1}
    target: {account_id: b, market_id: btcusdt}
"""
    assert parse_config(text % "0.5", "bots.yml").strategies[0].config.min_period == D("0.5")
    with pytest.raises(ConfigError) as refused:
        parse_config(text % "2", "bots.yml")
    assert refused.value.lines == ['bots.yml: strategy "s": min_period: must not be above period']
    default = StrategyConfig(id="x", type="t", target=MarketRef(account_id="b", market_id="m"))
    assert default.min_period == D("0.2")
