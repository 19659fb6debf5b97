"""Demo liquidity: ``bursa up``'s demo markets get a live book, moving prices and trades.

A newcomer opening the embedded default should see something to trade against. At start
(after the server listens) two bot members are made sure of, each given a fresh API key
held only in this process's memory (handed to the bots' ``Runner`` as its ``environ``;
never written to disk or logged), funded once through the engine, and a ``Runner`` is
started in-process. It talks to the exchange over loopback HTTP like any bot:

- ``demo-liquidity@bursa.example.com`` keeps a ``fixed`` ladder on each demo market around a
  reference that drifts: each tick a seeded random walk of a few basis points, pulled back
  toward the market's demo price so it never wanders far (``Drifting``). Quotes move, so
  the book and (with trades) the candles move.
- ``demo-taker@bursa.example.com`` now and then buys or sells one minimum amount at the best
  opposite price (``Taker``): real orders, real trades, small ones.

Prices are demo data (``DEMO_PRICES``), not market data. Funding is the engine's
``Adjust`` under ``demo-liquidity:<member>:<currency>`` (reason ``demo liquidity``): read
from the command log before it is sent, so a restart never funds twice.

The maker drains on one side as newcomers and the taker trade against it. Every
``REFILL_EVERY_S`` its total (available + locked) of each funded currency is read; one
below ``REFILL_BELOW`` of its funding is topped back up to it by another ``Adjust`` under
``demo-liquidity:<member>:<currency>:refill:<n>`` (reason ``demo liquidity refill``), ``n``
one more than the highest the command log holds: a restart neither repeats a refill nor
reuses its number.

Keys: creating an API key through the API needs 2FA with a code; these members are bots
with no person behind them (random passwords, thrown away), so their keys are provisioned
here directly, as ``bursa user create`` makes an admin: 2FA is marked on with a random seed
nobody holds (keys need it on), the member's earlier keys are deleted and a new one is
stored sealed by the key store, and the act is recorded in the member's activities.
"""

import asyncio
import contextlib
import logging
import random
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from ipaddress import ip_address
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.bots.config import (
    AccountConfig,
    BotsConfig,
    ConfiguredStrategy,
    MarketRef,
    StrategyConfig,
)
from bursa.bots.runner import Runner
from bursa.bots.strategies.fixed import Fixed, FixedParams, desired_orders
from bursa.bots.strategy import NewOrder, Plan, Positive, Strategy, View, reconcile
from bursa.engine.commands import Adjust
from bursa.engine.runner import EngineRunner
from bursa.engine.tables import engine_commands
from bursa.engine.units import to_units
from bursa.formats import decimal_text
from bursa.identity import totp
from bursa.identity.api_keys import API_KEY_SEAL
from bursa.identity.service import OTP_KEY, Client, Identity
from bursa.identity.tables import api_keys, labels, users
from bursa.ledger.tables import accounts, currencies
from bursa.trading import engine_requests

log = logging.getLogger("bursa.up")

MAKER_EMAIL = "demo-liquidity@bursa.example.com"
TAKER_EMAIL = "demo-taker@bursa.example.com"
KEY_PREFIX = "demo-liquidity"
REASON = "demo liquidity"
CLIENT = Client(ip="127.0.0.1", user_agent="bursa-demo-liquidity")
D = Decimal

# Demo data: a plausible price per demo market and the size of each quote (base).
DEMO_PRICES: dict[str, tuple[Decimal, Decimal]] = {
    "btcusdt": (D("60000"), D("0.05")),
    "ethusdt": (D("3000"), D("0.5")),
    "ethbtc": (D("0.05"), D("0.5")),
    "btcusd": (D("60000"), D("0.05")),
}
# What each bot is credited once (enough for five levels a side on every demo market).
MAKER_FUNDS = {"btc": D("10"), "eth": D("100"), "usdt": D("1000000"), "usd": D("1000000")}
TAKER_FUNDS = {"btc": D("1"), "eth": D("10"), "usdt": D("100000"), "usd": D("100000")}
MAKER_PERIOD = D("2")  # seconds between the maker's ticks
TAKER_PERIOD = D("3")
DRIFT = D("0.0005")  # the walk's largest step: 5 basis points
PULL = D("0.05")  # each tick, this fraction of the way back to the demo price
REFILL_BELOW = D("0.2")  # of the maker's funding: below it, a currency is topped back up
REFILL_EVERY_S = 30.0
REFILL_REASON = "demo liquidity refill"


# ---------------------------------------------------------------------- strategies


class Drifting(Fixed):
    """``fixed`` whose price walks: each tick a random step of up to ±``DRIFT``, plus a
    ``PULL`` back toward the configured price (a mean-reverting walk; seeded per market)."""

    def __init__(self, config: StrategyConfig, params: FixedParams) -> None:
        super().__init__(config, params)
        self.anchor = params.price
        self.price = params.price
        self.random = random.Random(config.id)  # noqa: S311 - demo prices, not secrets

    def step_price(self) -> Decimal:
        move = D(self.random.randint(-1000, 1000)) / 1000 * DRIFT
        self.price = self.price * (1 + move) + (self.anchor - self.price) * PULL
        return self.price

    async def tick(self, view: View) -> Plan:
        params = self.params.model_copy(update={"price": self.step_price()})
        return reconcile(desired_orders(params, view.market), view.open_orders)


class TakerParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chance: Positive = D("0.5")  # of trading on a tick


class Taker(Strategy[TakerParams]):
    """Now and then one minimum-size order at the best opposite price (it trades at once;
    anything left is cancelled on the next tick)."""

    Params = TakerParams

    def __init__(self, config: StrategyConfig, params: TakerParams) -> None:
        super().__init__(config, params)
        self.random = random.Random(config.id)  # noqa: S311

    async def tick(self, view: View) -> Plan:
        cancel = tuple(order.id for order in view.open_orders)
        if self.random.random() >= float(self.params.chance):
            return Plan(place=(), cancel=cancel)
        buy = self.random.random() < 0.5
        price = view.book.asks.best if buy else view.book.bids.best
        if price is None:
            return Plan(place=(), cancel=cancel)
        order = NewOrder("buy" if buy else "sell", price, view.market.min_amount)
        return Plan(place=(order,), cancel=cancel)


# ---------------------------------------------------------------------- members and keys


@dataclass(frozen=True, slots=True)
class BotKey:
    member_id: int
    kid: str
    secret: str  # in memory only

    def __repr__(self) -> str:
        return f"BotKey(member_id={self.member_id}, kid={self.kid!r})"


BOT_LABEL = ("demo_bot", "liquidity")  # private: marks the members made here


class NotABot(RuntimeError):
    """The bot's email belongs to a member demo liquidity did not create: left alone."""


async def bot_member(identity: Identity, email: str) -> int:
    """The bot member's id, created (active, role member, marked ``BOT_LABEL``) if missing.
    A member with that email but without the mark is someone else's account: its keys and
    2FA are never touched (``NotABot``)."""
    async with identity.engine.connect() as conn:
        found = await conn.scalar(select(users.c.id).where(users.c.email == email))
        if found is not None:
            marked = await conn.scalar(
                select(labels.c.id).where(
                    labels.c.user_id == found,
                    labels.c.key == BOT_LABEL[0],
                    labels.c.value == BOT_LABEL[1],
                )
            )
            if marked is None:
                raise NotABot(f"{email} is a member demo liquidity did not create")
            return int(found)
    password = secrets.token_urlsafe(24) + "Aa1!"  # thrown away: nobody logs in as a bot
    user = await identity.create_user(email, password, "member")
    async with identity.transaction() as conn:
        await identity.set_label(conn, int(user["id"]), *BOT_LABEL, "private")
    return int(user["id"])


async def fresh_key(identity: Identity, member_id: int) -> BotKey:
    """Replace the member's API keys by a new read+trade one (see the module's doc)."""
    secret = secrets.token_hex(16)
    sealed = await identity.keystore.encrypt(API_KEY_SEAL, secret.encode())
    seed = await identity.keystore.encrypt(OTP_KEY, totp.new_secret().encode())
    kid = secrets.token_hex(8)
    async with identity.transaction() as conn:
        done = await conn.execute(
            update(users)
            .where(users.c.id == member_id, users.c.otp.is_(False))
            .values(otp=True, otp_secret=seed, otp_last_step=None)
        )
        if done.rowcount:
            await identity.set_label(conn, member_id, "otp", "enabled", "private")
        await conn.execute(delete(api_keys).where(api_keys.c.user_id == member_id))
        await conn.execute(
            insert(api_keys).values(
                kid=kid, user_id=member_id, algorithm="HS256", scope="read,trade", secret=sealed
            )
        )
        await identity.record(
            conn, member_id, CLIENT, "account", "demo liquidity api key", "succeed", kid
        )
    return BotKey(member_id, kid, secret)


async def fund_once(
    sessions: async_sessionmaker[AsyncSession],
    engine: EngineRunner,
    member_id: int,
    funds: dict[str, Decimal],
) -> list[str]:
    """Credit ``funds`` (the currencies this exchange has) unless their keys already ran;
    the currencies credited now."""
    async with sessions() as session:
        precisions = {
            row.id: int(row.precision)
            for row in await session.execute(select(currencies.c.id, currencies.c.precision))
        }
        commands = [
            Adjust(
                key=f"{KEY_PREFIX}:{member_id}:{code}",
                member_id=member_id,
                currency=code,
                amount=to_units(amount, precisions[code]),
                reason=REASON,
            )
            for code, amount in funds.items()
            if code in precisions
        ]
        ran = await engine_requests.logged(session, [c.key for c in commands])
        await engine_requests.submit_once(session, engine.submit, commands)
    return [c.currency for c in commands if c.key not in ran]


def refill_key(member_id: int, currency: str, n: int) -> str:
    return f"{KEY_PREFIX}:{member_id}:{currency}:refill:{n}"


async def _last_refill(session: AsyncSession, member_id: int, currency: str) -> int:
    """The highest refill number the command log holds for the member's currency (0: none)."""
    prefix = refill_key(member_id, currency, 0).removesuffix("0")
    keys = await session.scalars(
        select(engine_commands.c.idempotency_key).where(
            engine_commands.c.idempotency_key.startswith(prefix, autoescape=True)
        )
    )
    numbers = [int(tail) for key in keys if (tail := key.removeprefix(prefix)).isdigit()]
    return max(numbers, default=0)


async def refill_low(
    sessions: async_sessionmaker[AsyncSession],
    engine: EngineRunner,
    member_id: int,
    funds: dict[str, Decimal],
    below: Decimal = REFILL_BELOW,
) -> list[str]:
    """Top each currency of ``funds`` whose total (available + locked) is under ``below``
    of its funding back up to the funding; the currencies topped up now."""
    async with sessions() as session:
        rows = await session.execute(
            select(
                currencies.c.id,
                currencies.c.precision,
                accounts.c.balance,
                accounts.c.locked,
            )
            .select_from(currencies)
            .outerjoin(
                accounts,
                (accounts.c.currency_id == currencies.c.id) & (accounts.c.member_id == member_id),
            )
            .where(currencies.c.id.in_(list(funds)))
        )
        low = {
            row.id: (int(row.precision), (row.balance or D(0)) + (row.locked or D(0)))
            for row in rows
        }
        low = {code: found for code, found in low.items() if found[1] < funds[code] * below}
        commands = [
            Adjust(
                key=refill_key(member_id, code, await _last_refill(session, member_id, code) + 1),
                member_id=member_id,
                currency=code,
                amount=to_units(funds[code] - total, precision),
                reason=REFILL_REASON,
            )
            for code, (precision, total) in sorted(low.items())
        ]
        results = await engine_requests.submit_once(session, engine.submit, commands)
    done = []
    for command in commands:
        result = results.get(command.key)
        total = low[command.currency][1]
        if result is not None and not result.applied:
            log.warning(
                "demo liquidity: refilling %s of member %d refused: %s",
                command.currency,
                member_id,
                result.error,
            )
            continue
        log.info(
            "demo liquidity: the maker's %s was down to %s (under %s%% of %s): refilled (%s)",
            command.currency,
            decimal_text(total),
            decimal_text(below * 100),
            decimal_text(funds[command.currency]),
            command.key,
        )
        done.append(command.currency)
    return done


# ---------------------------------------------------------------------- the runner


class _NotTo(logging.Filter):
    """Drops httpx's info line for each request to ``base`` (the bots' own)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return record.levelno > logging.INFO or not any(
            str(arg).startswith(self.base) for arg in args
        )


BOTS_ADDRESS = "127.0.0.2"  # the bots' requests leave from here: kept out of the access log


def bots_address() -> str | None:
    """``BOTS_ADDRESS`` where the system lets a socket use it (Linux: all of 127/8 is
    loopback; elsewhere maybe not), else None (the bots' requests are then logged)."""
    with contextlib.suppress(OSError), socket.socket() as probe:
        probe.bind((BOTS_ADDRESS, 0))
        return BOTS_ADDRESS
    return None


class _NotFrom(logging.Filter):
    """Drops uvicorn's access line of each request from ``address`` (the demo bots')."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.prefix = f"{address}:"

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (args and str(args[0]).startswith(self.prefix))


def bots_config(host: str, markets: Iterable[str], source_address: str | None = None) -> BotsConfig:
    """The maker's ladder and the taker on each of ``markets`` (demo ones only)."""
    accounts = {
        name: AccountConfig(
            id=name,
            driver="bursa",
            host=host,
            key_env=f"{name}_KEY",
            secret_env=f"{name}_SECRET",
            source_address=ip_address(source_address) if source_address else None,
        )
        for name in ("maker", "taker")
    }
    entries: list[ConfiguredStrategy] = []
    for market in markets:
        price, amount = DEMO_PRICES[market]
        maker = StrategyConfig(
            id=f"demo-mm-{market}",
            type="fixed",
            period=MAKER_PERIOD,
            target=MarketRef(account_id="maker", market_id=market),
        )
        params = FixedParams(
            price=price, spread=D("0.002"), amount=amount, levels=5, step=D("0.001")
        )
        entries.append(ConfiguredStrategy(maker, Drifting, params))
        taker = StrategyConfig(
            id=f"demo-taker-{market}",
            type="taker",
            period=TAKER_PERIOD,
            period_random_delay=TAKER_PERIOD,
            target=MarketRef(account_id="taker", market_id=market),
        )
        entries.append(ConfiguredStrategy(taker, Taker, TakerParams()))
    return BotsConfig("demo liquidity", "warning", accounts, tuple(entries))


async def _refill_loop(
    sessions: async_sessionmaker[AsyncSession],
    engine: EngineRunner,
    member_id: int,
    every: float,
) -> None:
    """``refill_low`` for the maker now and every ``every`` seconds; a failed check (the
    database or the engine away a moment) is logged and tried again at the next one."""
    while True:
        try:
            await refill_low(sessions, engine, member_id, MAKER_FUNDS)
        except Exception:  # a demo nicety must never stop the exchange
            log.warning("demo liquidity: checking the maker's funds failed", exc_info=True)
        await asyncio.sleep(every)


class DemoLiquidity:
    """Started after the server listens; ``stop`` cancels the bots' orders."""

    def __init__(self, runner: Runner, ready: Callable[[], bool]) -> None:
        self.runner = runner
        self.ready = ready
        self.task: asyncio.Task[Any] | None = None
        self.refills: asyncio.Task[None] | None = None
        self.quiet: logging.Filter | None = None
        self.unlogged: logging.Filter | None = None

    @classmethod
    async def start(
        cls,
        identity: Identity,
        sessions: async_sessionmaker[AsyncSession],
        engine: EngineRunner,
        port: int,
        ready: Callable[[], bool] = lambda: True,
        *,
        refill_every: float = REFILL_EVERY_S,
    ) -> "DemoLiquidity":
        """Keys, funds, the maker's refills (checked every ``refill_every`` seconds) and the
        runner, whose first tick waits for ``ready`` (the server listening on ``port``: the
        bots reach it on loopback)."""
        markets = [m for m in DEMO_PRICES if m in engine.engine.books]
        maker = await fresh_key(identity, await bot_member(identity, MAKER_EMAIL))
        taker = await fresh_key(identity, await bot_member(identity, TAKER_EMAIL))
        await fund_once(sessions, engine, maker.member_id, MAKER_FUNDS)
        await fund_once(sessions, engine, taker.member_id, TAKER_FUNDS)
        environ = {
            "maker_KEY": maker.kid,
            "maker_SECRET": maker.secret,
            "taker_KEY": taker.kid,
            "taker_SECRET": taker.secret,
        }
        # Each tick and request logs at info: fine for `bursa bots run`, noise here.
        logging.getLogger("bursa.bots.runner").setLevel(logging.WARNING)
        quiet = _NotTo(f"http://127.0.0.1:{port}/")
        logging.getLogger("httpx").addFilter(quiet)
        source = bots_address()
        unlogged = _NotFrom(source) if source else None
        if unlogged is not None:
            logging.getLogger("uvicorn.access").addFilter(unlogged)
        runner = Runner(
            bots_config(f"http://127.0.0.1:{port}", markets, source),
            environ=environ,
            use_feeds=False,
        )
        started = cls(runner, ready)
        started.quiet = quiet
        started.unlogged = unlogged
        started.task = asyncio.create_task(started._run(), name="demo-liquidity")
        started.refills = asyncio.create_task(
            _refill_loop(sessions, engine, maker.member_id, refill_every),
            name="demo-liquidity-refills",
        )
        log.info(
            "demo liquidity: a market maker quotes %s (off with --no-demo-liquidity)",
            ", ".join(markets),
        )
        return started

    @classmethod
    async def start_if(
        cls,
        on: bool,
        identity: Identity,
        sessions: async_sessionmaker[AsyncSession],
        engine: EngineRunner,
        port: int,
        ready: Callable[[], bool],
    ) -> "DemoLiquidity | None":
        """``start`` when ``on`` (``bursa up``'s --demo-liquidity, resolved); a bot email
        taken by someone else's account turns it off with a warning."""
        if not on:
            return None
        try:
            return await cls.start(identity, sessions, engine, port, ready)
        except NotABot as exc:
            log.warning("demo liquidity is off: %s (its orders would be theirs)", exc)
            return None

    @staticmethod
    async def stop_if(bots: "DemoLiquidity | None") -> None:
        if bots is not None:
            await bots.stop()

    async def _run(self) -> None:
        while not self.ready():
            if self.runner.stop_requested.is_set():
                return
            await asyncio.sleep(0.05)
        async with self.runner:
            await self.runner.run(signals=False)

    async def stop(self) -> None:
        """End the ticks and cancel every order the bots hold (before the server stops)."""
        self.runner.stop()
        if self.refills is not None:
            self.refills.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.refills
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        if self.quiet is not None:
            logging.getLogger("httpx").removeFilter(self.quiet)
        if self.unlogged is not None:
            logging.getLogger("uvicorn.access").removeFilter(self.unlogged)
