"""The bots end to end, as an operator runs them: a bots' YAML file, the real ``Runner``,
and real Bursa exchanges on loopback (a target, and a source where a test needs two).
Every check goes through the exchanges' public and private APIs, as a person would look.

The exchanges are shared by the module (three funded members each: alice, bob, carol);
each test leaves no order behind. A server restart gets an exchange of its own."""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bursa.bots.config import BotsConfig, read_config
from bursa.bots.drivers.opendax import ApiKey, MyTrade, OpenDaxClient, Order, decode_json
from bursa.bots.runner import Outcome, Runner
from bursa.bots.status import read_status
from bursa.cli.bots import bots_app
from tests.bots.exchange import MARKET, Bursa, bound_socket, running_bursa
from tests.conftest import DatabasePool, database_url

D = Decimal
BASE, QUOTE = "btc", "usdt"


# ---------------------------------------------------------------------- the exchanges


@asynccontextmanager
async def exchange(pool: DatabasePool) -> AsyncIterator[Bursa]:
    name = await asyncio.to_thread(pool.take)
    try:
        async with running_bursa(database_url(name), members=3) as running:
            yield running
    finally:
        pool.give_back(name)


@pytest.fixture(scope="module")
async def target(database_pool: DatabasePool) -> AsyncIterator[Bursa]:
    """The exchange the bots make markets on."""
    async with exchange(database_pool) as running:
        yield running


@pytest.fixture(scope="module")
async def source(database_pool: DatabasePool) -> AsyncIterator[Bursa]:
    """The 'bigger' exchange the bots copy, hedge and arbitrage against."""
    async with exchange(database_pool) as running:
        yield running


async def clear(*exchanges: Bursa) -> None:
    """Cancel every member's open orders on ``exchanges``."""
    for bursa in exchanges:
        for key in bursa.keys:
            async with OpenDaxClient(bursa.host, key) as client:
                await client.cancel_all()


@pytest.fixture
async def one(target: Bursa) -> AsyncIterator[Bursa]:
    """The target, left without orders after the test."""
    yield target
    await clear(target)


@pytest.fixture
async def two(target: Bursa, source: Bursa) -> AsyncIterator[tuple[Bursa, Bursa]]:
    """Source and target, both left without orders after the test."""
    yield source, target
    await clear(source, target)


# ---------------------------------------------------------------------- as the operator


def carol(bursa: Bursa) -> ApiKey:
    return bursa.keys[2]


def client(bursa: Bursa, key: ApiKey | None = None) -> OpenDaxClient:
    return OpenDaxClient(bursa.host, key)


def account(name: str, bursa: Bursa, key: ApiKey | None = None, **extra: str) -> str:
    """One ``accounts:`` entry (keys named by environment variables, see ``environ``)."""
    fields = [f"id: {name}", "driver: bursa", f'host: "{bursa.host}"', f'ws: "{bursa.ws}"']
    if key is not None:
        variable = name.upper().replace("-", "_")
        fields += [f"key_env: {variable}_KEY", f"secret_env: {variable}_SECRET"]
    fields += [f"{field}: {value}" for field, value in extra.items()]
    return "  - {" + ", ".join(fields) + "}\n"


def environ(**keys: ApiKey) -> dict[str, str]:
    """The environment holding each named account's key, as ``account`` names it."""
    found = {}
    for name, key in keys.items():
        variable = name.upper().replace("-", "_")
        found[f"{variable}_KEY"] = key.kid
        found[f"{variable}_SECRET"] = key.secret
    return found


def write_config(folder: Path, accounts: str, strategies: str, env: dict[str, str]) -> BotsConfig:
    """The bots' file written and read back as ``bursa bots run`` reads it."""
    path = folder / "bots.yml"
    path.write_text(
        f"log_level: debug\naccounts:\n{accounts}strategies:\n{strategies}"
        "kill_switch: {file: bots.stop}\n",
        encoding="utf-8",
    )
    return read_config(path, environ=env)


class Bots:
    """A ``Runner`` running as ``bursa bots run`` does, in a task of the test."""

    def __init__(self, config: BotsConfig, env: dict[str, str], folder: Path) -> None:
        self.status_path = folder / "bots.status.json"
        self.runner = Runner(config, status_path=self.status_path, environ=env)
        self.task: asyncio.Task[Outcome] | None = None

    def start(self, *, signals: bool = False) -> None:
        self.task = asyncio.create_task(self.runner.run(signals=signals))

    async def finished(self, seconds: float = 20) -> Outcome:
        assert self.task is not None
        return await asyncio.wait_for(self.task, seconds)

    async def stop(self) -> Outcome:
        self.runner.stop()
        return await self.finished()

    def ticks(self, strategy: str) -> int:
        return self.runner.strategies[strategy].status.ticks

    async def after_ticks(self, strategy: str, count: int, seconds: float = 10) -> None:
        """Until ``strategy`` has ticked ``count`` more times."""
        goal = self.ticks(strategy) + count

        async def ticked() -> bool:
            assert self.task is not None and not self.task.done(), "the runner ended"
            return self.ticks(strategy) >= goal

        await until(ticked, seconds)


@asynccontextmanager
async def bots_running(
    config: BotsConfig, env: dict[str, str], folder: Path, *, signals: bool = False
) -> AsyncIterator[Bots]:
    """The runner started; stopped (its ``on_stop``) when the block ends, unless the test
    ended it already."""
    bots = Bots(config, env, folder)
    async with bots.runner:
        bots.start(signals=signals)
        try:
            yield bots
        finally:
            assert bots.task is not None
            if not bots.task.done():
                bots.runner.stop()
            await asyncio.wait_for(asyncio.shield(bots.task), 20)


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 8) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.05)


def bot_orders(orders: list[Order], strategy: str | None = None) -> list[Order]:
    """The orders a bot placed (Bursa keeps the runner's ``bot.<strategy>.…`` client id)."""
    prefix = "bot." if strategy is None else f"bot.{strategy}."
    return [o for o in orders if (o.client_id or "").startswith(prefix)]


def ladder(orders: list[Order]) -> list[tuple[str, Decimal, Decimal]]:
    """Side, price and amount left of each order, asks first, best first."""
    asks = sorted((o for o in orders if o.side == "sell"), key=lambda o: o.price or 0)
    bids = sorted((o for o in orders if o.side == "buy"), key=lambda o: -(o.price or 0))
    return [(o.side, o.price or D(0), o.remaining_volume) for o in asks + bids]


async def base_total(bursa: Bursa, key: ApiKey) -> Decimal:
    async with client(bursa, key) as c:
        balance = (await c.balances())[BASE]
    return balance.balance + balance.locked


async def public_trades(bursa: Bursa) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=bursa.host) as http:
        answer = await http.get(f"/api/v2/peatio/public/markets/{MARKET}/trades?limit=1000")
        answer.raise_for_status()
        rows: list[dict[str, object]] = decode_json(answer.text)
    return rows


async def candle_volume(bursa: Bursa) -> Decimal:
    """The volume of the market's one-minute candles of the last half hour, as the k-line
    endpoint a chart reads tells it."""
    async with httpx.AsyncClient(base_url=bursa.host) as http:
        answer = await http.get(f"/api/v2/peatio/public/markets/{MARKET}/k-line?period=1")
        answer.raise_for_status()
        rows = decode_json(answer.text)
    return sum((D(str(row[5])) for row in rows), D(0))


# ---------------------------------------------------------------------- restart

FIXED = """  - id: ladder
    type: fixed
    period: 0.2
    params: {price: 30000, spread: 0.01, amount: 0.02, levels: 3, step: 0.001}
    target: {account_id: bot, market_id: btcusdt}
"""


@pytest.fixture
def restartable(database_pool: DatabasePool) -> Iterator[str]:
    name = database_pool.take()
    yield database_url(name)
    database_pool.give_back(name)


async def test_a_server_restart_mid_run_leaves_no_duplicated_orders(
    restartable: str, tmp_path: Path
) -> None:
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    # A port of our choosing: ``running_bursa`` binds it with SO_REUSEADDR both times, so the
    # second server gets it back despite the first one's connections in TIME_WAIT.
    with bound_socket() as probe:
        port = probe.getsockname()[1]
    bots: Bots | None = None
    try:
        async with running_bursa(restartable, port=port, keys_dir=keys_dir) as first:
            env = environ(bot=first.alice)
            config = write_config(tmp_path, account("bot", first, first.alice), FIXED, env)
            bots = Bots(config, env, tmp_path)
            await bots.runner.__aenter__()
            bots.start()
            async with client(first, first.alice) as alice:

                async def laddered() -> bool:
                    return len(bot_orders(await alice.open_orders(MARKET))) == 6

                await until(laddered)
                placed = ladder(await alice.open_orders(MARKET))
        # The exchange is down (engine, API and Ranger): ticks are skipped, the bot goes on.
        status = bots.runner.strategies["ladder"].status
        errors_before = status.last_error_at

        async def noticed() -> bool:
            return status.last_error is not None and status.last_error_at != errors_before

        await until(noticed, 10)
        assert (status.last_error or "").startswith("tick skipped")
        async with (
            running_bursa(restartable, port=port, keys_dir=keys_dir, reuse=first) as second,
            client(second, second.alice) as alice,
        ):
            await bots.after_ticks("ladder", 3)
            assert ladder(await alice.open_orders(MARKET)) == placed  # each order once
            assert status.placed == 6

            # The bot is back by itself: an order cancelled by hand is placed again, once.
            gone = bot_orders(await alice.open_orders(MARKET))[0]
            await alice.cancel(gone.id)

            async def replaced() -> bool:
                return status.placed == 7

            await until(replaced)
            await bots.after_ticks("ladder", 3)
            assert ladder(await alice.open_orders(MARKET)) == placed
            assert status.placed == 7 and status.open_orders == 6
            outcome = await bots.stop()
            assert outcome.clean
            assert await alice.open_orders(MARKET) == []
    finally:
        if bots is not None:
            if bots.task is not None and not bots.task.done():
                bots.runner.kill()
                await bots.finished()
            await bots.runner.__aexit__()


# ---------------------------------------------------------------------- kill switch


def kill_switch_config(
    source: Bursa, target: Bursa, folder: Path
) -> tuple[BotsConfig, dict[str, str]]:
    """Three strategies on three accounts of two exchanges, one of them keeping its
    orders when stopped."""
    accounts = (
        account("t-alice", target, target.alice)
        + account("t-bob", target, target.bob)
        + account("s-alice", source, source.alice)
    )
    strategies = ""
    for name, who, spread, on_stop in (  # two ladders on one book: nested, not crossed
        ("ladder-a", "t-alice", "0.01", "keep"),
        ("ladder-b", "t-bob", "0.05", "cancel"),
        ("ladder-s", "s-alice", "0.01", "keep"),
    ):
        strategies += f"""  - id: {name}
    type: fixed
    period: 0.2
    params: {{price: 30000, spread: {spread}, amount: 0.01, levels: 2, step: 0.001}}
    target: {{account_id: {who}, market_id: btcusdt}}
    on_stop: {on_stop}
"""
    env = environ(t_alice=target.alice, t_bob=target.bob, s_alice=source.alice)
    return write_config(folder, accounts, strategies, env), env


@pytest.mark.parametrize("switch", ["file", "SIGUSR1"])
async def test_the_kill_switch_cancels_every_strategys_orders_on_every_account(
    two: tuple[Bursa, Bursa], tmp_path: Path, switch: str
) -> None:
    source, target = two
    config, env = kill_switch_config(source, target, tmp_path)
    people = [(target, target.alice), (target, target.bob), (source, source.alice)]
    async with client(target, target.alice) as alice:
        by_hand = await alice.place(MARKET, "buy", D("0.5"), D("10000"))
    async with bots_running(config, env, tmp_path, signals=True) as bots:

        async def all_laddered() -> bool:
            for bursa, key in people:
                async with client(bursa, key) as c:
                    if len(bot_orders(await c.open_orders(MARKET))) != 4:
                        return False
            return True

        await until(all_laddered)
        if switch == "file":
            (tmp_path / "bots.stop").touch()
        else:
            os.kill(os.getpid(), signal.SIGUSR1)
        outcome = await bots.finished()
    assert outcome.killed and outcome.clean
    for bursa, key in people:
        async with client(bursa, key) as c:
            assert bot_orders(await c.open_orders(MARKET)) == []
    async with client(target, target.alice) as alice:  # a person's order is not the bot's
        assert [o.id for o in await alice.open_orders(MARKET)] == [by_hand.id]
    states = {s["id"]: s["state"] for s in read_status(bots.status_path)["strategies"]}
    assert states == {"ladder-a": "killed", "ladder-b": "killed", "ladder-s": "killed"}


# ---------------------------------------------------------------------- market making

MAKER = """  - id: mm
    type: market_making
    period: 0.2
    params:
      reference: source
      spread: 0.01
      amount: 0.1
      levels: {levels}
      step: 0.001
      max_position: {max_position}
      target_inventory: {inventory}
      skew: {skew}
    target: {{account_id: bot, market_id: btcusdt}}
    sources: [{{account_id: reference, market_id: btcusdt}}]
"""


async def quotes(
    source: Bursa,
    target: Bursa,
    folder: Path,
    *,
    inventory: Decimal,
    count: int = 2,
) -> list[tuple[str, Decimal, Decimal]]:
    """The quotes of a one-level market maker (maximum position 0.3) that counts
    ``inventory`` as flat, once it has placed ``count`` orders."""
    accounts = account("bot", target, target.alice) + account("reference", source)
    strategy = MAKER.format(levels=1, max_position="0.3", inventory=inventory, skew="1")
    env = environ(bot=target.alice)
    config = write_config(folder, accounts, strategy, env)
    async with bots_running(config, env, folder) as bots, client(target, target.alice) as bot:

        async def quoted() -> bool:
            return len(bot_orders(await bot.open_orders(MARKET), "mm")) == count

        await until(quoted)
        await bots.after_ticks("mm", 2)  # and it stays so
        return ladder(bot_orders(await bot.open_orders(MARKET), "mm"))


async def test_the_market_maker_skews_with_inventory_and_respects_its_maximum_position(
    two: tuple[Bursa, Bursa], tmp_path: Path
) -> None:
    source, target = two
    async with client(source, source.bob) as bob:  # the reference book: mid 30000
        await bob.place(MARKET, "sell", D("0.5"), D("30010"))
        await bob.place(MARKET, "buy", D("0.5"), D("29990"))
    held = await base_total(target, target.alice)

    flat = await quotes(source, target, tmp_path, inventory=held)
    assert flat == [("sell", D("30150"), D("0.1")), ("buy", D("29850"), D("0.1"))]

    # Long by half the maximum: both quotes lower, the bids (which would grow it) smaller.
    (ask, ask_price, ask_size), (bid, bid_price, bid_size) = await quotes(
        source, target, tmp_path, inventory=held - D("0.15")
    )
    assert (ask, bid) == ("sell", "buy")
    assert ask_price < D("30150") and bid_price < D("29850")
    assert ask_size == D("0.1") and bid_size < D("0.1")

    # Long by the maximum: no bid at all.
    at_most = await quotes(source, target, tmp_path, inventory=held - D("0.3"), count=1)
    assert [side for side, _, _ in at_most] == ["sell"]

    # Carol sells into the bot's bids again and again: the position stops at the maximum.
    accounts = account("bot", target, target.alice) + account("reference", source)
    strategy = MAKER.format(levels=2, max_position="0.25", inventory=held, skew="0")
    env = environ(bot=target.alice)
    config = write_config(tmp_path, accounts, strategy, env)
    biggest = D(0)
    async with (
        bots_running(config, env, tmp_path) as bots,
        client(target, carol(target)) as taker,
        client(target, target.alice) as bot,
    ):
        for _ in range(5):
            await bots.after_ticks("mm", 2)  # a whole tick since the last fill
            await taker.place(MARKET, "sell", D("0.2"), D("29000"), time_in_force="ioc")
            position = await base_total(target, target.alice) - held
            biggest = max(biggest, position)
            assert position <= D("0.25")
            bids = [o for o in bot_orders(await bot.open_orders(MARKET), "mm") if o.side == "buy"]
            assert position + sum(o.remaining_volume for o in bids) <= D("0.25")
    assert biggest > D("0.24")  # it did reach the limit


# ---------------------------------------------------------------------- microtrades

MICROTRADES = """  - id: candles
    type: microtrades
    period: 0.2
    params: {min_amount: 0.001, max_amount: 0.002, counterparty_account: counterparty, seed: 7}
    target: {account_id: bot, market_id: btcusdt}
"""


async def test_microtrades_move_the_candles_inside_the_spread(one: Bursa, tmp_path: Path) -> None:
    target = one
    async with client(target, carol(target)) as third:  # someone else's book
        await third.place(MARKET, "sell", D("1"), D("30100"))
        await third.place(MARKET, "buy", D("1"), D("29900"))
    seen = {row["id"] for row in await public_trades(target)}
    since = await since_now((target, target.alice), (target, target.bob))
    volume_before = await candle_volume(target)
    accounts = account("bot", target, target.alice) + account("counterparty", target, target.bob)
    env = environ(bot=target.alice, counterparty=target.bob)
    config = write_config(tmp_path, accounts, MICROTRADES, env)
    async with bots_running(config, env, tmp_path) as bots:

        async def traded() -> bool:
            return len([r for r in await public_trades(target) if r["id"] not in seen]) >= 4

        await until(traded)
        await bots.stop()
    new = [row for row in await public_trades(target) if row["id"] not in seen]
    prices = {D(str(row["price"])) for row in new}
    assert all(D(29900) < price < D(30100) for price in prices), prices
    assert len(prices) > 1  # random prices, not one
    amounts = [D(str(row["amount"])) for row in new]
    assert all(D("0.001") <= a <= D("0.002") for a in amounts), amounts

    async def charted() -> bool:
        return await candle_volume(target) - volume_before == sum(amounts)

    await until(charted)
    # Between the operator's two accounts: each trade has alice on one side, bob on the other.
    for key in (target.alice, target.bob):
        mine = await my_trades(target, key, since)
        assert sorted(t.amount for t in mine) == sorted(amounts)
    for key in (target.alice, target.bob):  # nothing left resting on either side
        async with client(target, key) as c:
            assert await c.open_orders(MARKET) == []
    async with client(target, carol(target)) as third:
        assert len(await third.open_orders(MARKET)) == 2  # the book it traded inside


# ---------------------------------------------------------------------- copy and hedge

COPY = """  - id: copy
    type: copy
    period: {period}
    {min_period}params:
      levels: 3
      ratio: 0.5
      spread_asks: 0.001
      spread_bids: 0.001
      max_total_asks: 0.6
      max_total_bids: 15000
      hedge: true
      hedge_slippage: 0.01
    target: {{account_id: bot, market_id: btcusdt}}
    sources: [{{account_id: hedge, market_id: btcusdt}}]
"""


async def source_book(source: Bursa, levels: int = 5) -> None:
    """Bob's book on the source: asks 30010, 30020…, bids 29990, 29980…, 0.5 each."""
    async with client(source, source.bob) as bob:
        for level in range(levels):
            await bob.place(MARKET, "sell", D("0.5"), D(30010 + 10 * level))
            await bob.place(MARKET, "buy", D("0.5"), D(29990 - 10 * level))


def copy_config(
    source: Bursa, target: Bursa, folder: Path, period: str, min_period: str = ""
) -> tuple[BotsConfig, dict[str, str]]:
    accounts = account("bot", target, target.alice) + account("hedge", source, source.alice)
    line = f"min_period: {min_period}\n    " if min_period else ""
    env = environ(bot=target.alice, hedge=source.alice)
    strategy = COPY.format(period=period, min_period=line)
    return write_config(folder, accounts, strategy, env), env


@dataclass(frozen=True, slots=True)
class Since:
    """A moment of the test: trades before it are not the test's (the same second may
    hold a trade of the test before, so those are told by id)."""

    at: int
    seen: frozenset[tuple[str, str]]  # (exchange, trade id)


async def since_now(*accounts: tuple[Bursa, ApiKey]) -> Since:
    at = int(time.time()) - 1
    seen = set()
    for bursa, key in accounts:
        async with client(bursa, key) as c:
            seen |= {(bursa.host, t.id) for t in await c.my_trades(MARKET, since=at)}
    return Since(at, frozenset(seen))


async def my_trades(bursa: Bursa, key: ApiKey, since: Since) -> list[MyTrade]:
    """The account's trades since ``since``, oldest first."""
    async with client(bursa, key) as c:
        found = await c.my_trades(MARKET, since=since.at)
    return [t for t in found if (bursa.host, t.id) not in since.seen]


async def test_copy_mirrors_the_source_within_its_limits_and_hedges_a_fill(
    two: tuple[Bursa, Bursa], tmp_path: Path
) -> None:
    source, target = two
    await source_book(source)
    config, env = copy_config(source, target, tmp_path, period="0.3")
    since = await since_now((source, source.alice))
    async with (
        bots_running(config, env, tmp_path) as bots,
        client(target, target.alice) as bot,
        client(target, carol(target)) as taker,
    ):

        async def mirrored() -> bool:
            return len(bot_orders(await bot.open_orders(MARKET), "copy")) == 6

        await until(mirrored)
        book = ladder(bot_orders(await bot.open_orders(MARKET), "copy"))
        asks = [(p, a) for side, p, a in book if side == "sell"]
        bids = [(p, a) for side, p, a in book if side == "buy"]
        # Three levels a side, 0.5 × ratio 0.5 each, 0.1 % outward; the third ask is cut
        # to what is left of 0.6 base, the third bid to what is left of 15,000 usdt.
        assert asks == [(D("30040.01"), D("0.25")), (D("30050.02"), D("0.25")),
                        (D("30060.03"), D("0.1"))]  # fmt: skip
        assert [p for p, _ in bids] == [D("29960.01"), D("29950.02"), D("29940.03")]
        assert sum(a for _, a in asks) <= D("0.6")
        assert sum(p * a for p, a in bids) <= D(15000)

        # Carol takes the best mirrored ask: the bot buys the same amount on the source.
        hedge_before = await base_total(source, source.alice)
        await taker.place(MARKET, "buy", D("0.25"), D("30040.01"), time_in_force="ioc")

        async def hedged() -> bool:
            bought = [t for t in await my_trades(source, source.alice, since) if t.side == "buy"]
            return sum(t.amount for t in bought) >= D("0.25")

        await until(hedged, 5)
        await bots.after_ticks("copy", 3)
        trades = await my_trades(source, source.alice, since)
        assert sum(t.amount for t in trades if t.side == "buy") == D("0.25")  # once only
        assert all(t.side == "buy" and t.price <= D("30040.01") for t in trades)
        assert await base_total(source, source.alice) > hedge_before + D("0.24")
        async with client(source, source.alice) as hedger:
            assert await hedger.open_orders(MARKET) == []  # the hedge did not rest
        (status,) = read_status(bots.status_path)["strategies"]
        assert status["last_error"] is None, status


async def test_min_period_shows_a_source_change_on_the_target_quickly(
    two: tuple[Bursa, Bursa], tmp_path: Path
) -> None:
    source, target = two
    await source_book(source, levels=1)
    config, env = copy_config(source, target, tmp_path, period="30", min_period="0.2")
    async with (
        bots_running(config, env, tmp_path),
        client(target, target.alice) as bot,
        client(source, source.bob) as bob,
    ):

        def best_ask_is(price: Decimal) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                orders = bot_orders(await bot.open_orders(MARKET))
                asks = [o.price or D(0) for o in orders if o.side == "sell"]
                return min(asks, default=None) == price

            return check

        await until(best_ask_is(D("30040.01")))
        await bob.place(MARKET, "sell", D("0.5"), D("30005"))  # a better ask on the source
        started = time.monotonic()
        await until(best_ask_is(D("30035.01")), 5)  # well before the 30 s period
        assert time.monotonic() - started < 3


# ---------------------------------------------------------------------- arbitrage

ARBITRAGE = """  - id: arb
    type: arbitrage
    period: 0.2
    params: {fee_target: 0.002, fee_source: 0.002, margin: 0.001, max_amount: 0.3}
    target: {account_id: bot, market_id: btcusdt}
    sources: [{account_id: other, market_id: btcusdt}]
"""


async def test_arbitrage_trades_when_the_spread_exceeds_fees_and_margin_only(
    two: tuple[Bursa, Bursa], tmp_path: Path
) -> None:
    source, target = two
    # The source sells at 30000; buying there and selling on the target pays only from a
    # bid above 30150.30 (bid × 0.998 > 30000 × 1.002 + 0.1 % of 30000). The other way
    # round (buy on the target at 32000, sell on the source at 28000) never pays.
    async with client(source, source.bob) as bob:
        await bob.place(MARKET, "sell", D("1"), D("30000"))
        await bob.place(MARKET, "buy", D("1"), D("28000"))
    async with client(target, carol(target)) as buyer:
        await buyer.place(MARKET, "buy", D("1"), D("30150"))  # 30150 × 0.998 = 30089.70
        await buyer.place(MARKET, "sell", D("1"), D("32000"))
    accounts = account("bot", target, target.alice) + account("other", source, source.alice)
    env = environ(bot=target.alice, other=source.alice)
    config = write_config(tmp_path, accounts, ARBITRAGE, env)
    since = await since_now((target, target.alice), (source, source.alice))
    before = [await balances(target, target.alice), await balances(source, source.alice)]
    async with bots_running(config, env, tmp_path) as bots:
        await bots.after_ticks("arb", 5)
        assert await my_trades(target, target.alice, since) == []
        assert await my_trades(source, source.alice, since) == []

        # Someone on the target now pays 30200 for 0.5: 30139.60 after fees, 0.16 % over.
        async with client(target, carol(target)) as buyer:
            await buyer.place(MARKET, "buy", D("0.5"), D("30200"))

        async def arbitraged() -> bool:
            sold = await my_trades(target, target.alice, since)
            return sum(t.amount for t in sold) >= D("0.5")

        await until(arbitraged, 5)
        await bots.after_ticks("arb", 3)  # and then nothing more: 30150 does not pay
    sold = by_order(await my_trades(target, target.alice, since))
    bought = by_order(await my_trades(source, source.alice, since))
    # 0.5 to take at 30200, at most 0.3 a trade: 0.3, then 0.2; each sell with its buy.
    assert sold == [("sell", D("30200"), D("0.3")), ("sell", D("30200"), D("0.2"))]
    assert bought == [("buy", D("30000"), D("0.3")), ("buy", D("30000"), D("0.2"))]
    after = [await balances(target, target.alice), await balances(source, source.alice)]
    assert after[0][BASE] == before[0][BASE] - D("0.5")
    assert after[0][QUOTE] == before[0][QUOTE] + D("0.5") * D("30200") * D("0.998")
    assert after[1][BASE] == before[1][BASE] + D("0.5") * D("0.998")  # the fee in base
    assert after[1][QUOTE] == before[1][QUOTE] - D("0.5") * D("30000")
    for bursa, key in ((target, target.alice), (source, source.alice)):
        async with client(bursa, key) as c:
            assert await c.open_orders(MARKET) == []  # both legs IOC: nothing rests


async def balances(bursa: Bursa, key: ApiKey) -> dict[str, Decimal]:
    """Each currency's total (available and locked)."""
    async with client(bursa, key) as c:
        return {code: b.balance + b.locked for code, b in (await c.balances()).items()}


def by_order(trades: list[MyTrade]) -> list[tuple[str, Decimal, Decimal]]:
    """Side, price and amount traded of each order, in the order they traded."""
    orders: dict[str, tuple[str, Decimal, Decimal]] = {}
    for t in trades:
        side, price, amount = orders.get(t.order_id, (t.side, t.price, D(0)))
        orders[t.order_id] = (side, price, amount + t.amount)
    return list(orders.values())


# ---------------------------------------------------------------------- ccxt


async def test_copy_and_hedge_on_a_second_bursa_through_ccxt(
    two: tuple[Bursa, Bursa], tmp_path: Path
) -> None:
    """The source account speaks ccxt (its OpenDAX exchange class): the book is read and
    the hedge placed through ccxt's own machinery, against a real second Bursa."""
    source, target = two
    await source_book(source, levels=2)
    accounts = account("bot", target, target.alice) + (
        f'  - {{id: far, driver: ccxt, exchange: opendax, host: "{source.host}", '
        "key_env: FAR_KEY, secret_env: FAR_SECRET}\n"
    )
    strategy = """  - id: copy
    type: copy
    period: 0.3
    params: {levels: 2, ratio: 0.5, spread_asks: 0.001, spread_bids: 0.001, hedge: true}
    target: {account_id: bot, market_id: btcusdt}
    sources: [{account_id: far, market_id: BTC/USDT}]
"""
    env = environ(bot=target.alice, far=source.alice)
    config = write_config(tmp_path, accounts, strategy, env)
    since = await since_now((source, source.alice))
    async with (
        bots_running(config, env, tmp_path),
        client(target, target.alice) as bot,
        client(target, carol(target)) as taker,
    ):

        async def mirrored() -> bool:
            return len(bot_orders(await bot.open_orders(MARKET), "copy")) == 4

        await until(mirrored)
        assert ladder(bot_orders(await bot.open_orders(MARKET), "copy")) == [
            ("sell", D("30040.01"), D("0.25")),
            ("sell", D("30050.02"), D("0.25")),
            ("buy", D("29960.01"), D("0.25")),
            ("buy", D("29950.02"), D("0.25")),
        ]
        await taker.place(MARKET, "sell", D("0.1"), D("29960.01"), time_in_force="ioc")

        async def hedged() -> bool:
            return bool(await my_trades(source, source.alice, since))

        await until(hedged, 5)
    # The bot bought 0.1 on the target: it sold 0.1 on the source, at bob's best bid.
    assert by_order(await my_trades(source, source.alice, since)) == [
        ("sell", D("29990"), D("0.1"))
    ]


# ---------------------------------------------------------------------- a bad file


def check(folder: Path, text: str, env: dict[str, str]) -> tuple[int, str]:
    path = folder / "bots.yml"
    path.write_text(text, encoding="utf-8")
    done = CliRunner().invoke(bots_app, ["check", str(path)], env={"COLUMNS": "200", **env})
    return done.exit_code, done.output


BAD = """accounts:
  - {id: bot, driver: bursa, host: "http://127.0.0.1:1", key_env: BOT_KEY, secret_env: BOT_SECRET}
  - {id: public, driver: bursa, host: "http://127.0.0.1:2"}
strategies:
  - id: arb
    type: arbitrage
    params: {fee_target: 1, fee_source: 0.002, margin: -0.001}
    target: {account_id: bot, market_id: btcusdt}
    sources: [{account_id: public, market_id: btcusdt}]
  - id: copy
    type: copy
    period: 1
    min_period: 2
    params: {hedge: yes, hedge_slippage: 1}
    target: {account_id: bot, market_id: ethusdt}
    sources: [{account_id: public, market_id: btcusdt}]
"""


KEYED = {"BOT_KEY": "key-id", "BOT_SECRET": "a-secret-value"}
ACCOUNTS = BAD[: BAD.index("strategies:")]


def test_bots_check_names_the_field_of_each_new_parameter(tmp_path: Path) -> None:
    code, output = check(tmp_path, BAD, KEYED)
    assert code == 1
    path = tmp_path / "bots.yml"
    for line in (
        f'{path}: strategy "arb": params.fee_target: Input should be less than 1',
        f'{path}: strategy "arb": params.margin: must not be negative',
        f'{path}: strategy "arb": params.max_amount: required',
        f'{path}: strategy "copy": min_period: must not be above period',
        f'{path}: strategy "copy": params.hedge_slippage: Input should be less than 1',
    ):
        assert line in output, output
    assert "hint: 5 problem(s); nothing was started" in output
    assert "a-secret-value" not in output


def test_bots_check_refuses_a_counterparty_it_cannot_trade_from(tmp_path: Path) -> None:
    text = (
        ACCOUNTS
        + """strategies:
  - id: candles
    type: microtrades
    params: {min_amount: 0.001, max_amount: 0.002, counterparty_account: public}
    target: {account_id: bot, market_id: ethbtc}
  - id: more-candles
    type: microtrades
    params: {min_amount: 0.001, max_amount: 0.002, counterparty_account: nobody}
    target: {account_id: bot, market_id: btcusd}
"""
    )
    code, output = check(tmp_path, text, KEYED)
    assert code == 1
    path = tmp_path / "bots.yml"
    assert (
        f'{path}: strategy "candles": params.counterparty_account (venue public/ethbtc): '
        'account "public" has no key_env/secret_env, and placing orders there needs them'
    ) in output, output
    assert (
        f'{path}: strategy "more-candles": params.counterparty_account (venue nobody/btcusd): '
        'no account "nobody"'
    ) in output
    assert "hint: 2 problem(s)" in output


def test_bots_check_refuses_trading_on_a_source_without_keys(tmp_path: Path) -> None:
    text = (
        ACCOUNTS
        + """strategies:
  - id: arb
    type: arbitrage
    params: {fee_target: 0.002, fee_source: 0.002, max_amount: 1}
    target: {account_id: bot, market_id: btcusdt}
    sources: [{account_id: public, market_id: btcusdt}]
  - id: copy
    type: copy
    params: {hedge: true}
    target: {account_id: bot, market_id: ethusdt}
    sources: [{account_id: public, market_id: ethusdt}]
"""
    )
    code, output = check(tmp_path, text, KEYED)
    assert code == 1, output
    for strategy in ("arb", "copy"):
        assert f'strategy "{strategy}"' in output and 'account "public"' in output, output
