"""A busy exchange in this process, for ``bursa bench web`` and ``scripts/screenshots``.

``busy_exchange`` runs Bursa as ``bursa up`` does (engine, candle writer, Ranger hub, the
API and the built web app in uvicorn with Ranger's direct writes) on a scratch database it
is given, after filling one market (btcusdt):

* a book of ``LEVELS`` price levels a side, a dollar apart, around a spread of ten dollars
  (best ask ``MID + SPREAD``, best bid ``MID - SPREAD``), from a market maker;
* ``PAST_TRADES`` trades between the market maker and ``trader`` along a random walk that
  ends at ``MID``. The engine stamps trades with its own clock, so they are moved back in
  time afterwards — one every ``TRADE_EVERY``, ending now — in this scratch database only,
  before the candle writer first counts them: the chart and the 24 h ticker get a day of
  history;
* for ``trader`` (the member screenshots are taken as) a few resting orders on the book,
  cancelled ones, and fiat (USD) deposits recorded as a payment gateway records them.

Members are made through the identity service (confirmed email: level 1) and funded
through the engine's ``Credit`` command. The book and the history are built by engine
commands, not over HTTP: the seeding is set-up, not what is measured.
"""

import asyncio
import random
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api import web
from bursa.bench.local_exchange import exchange_core, serve_core
from bursa.custody import management_deposits
from bursa.engine.commands import BUY, SELL, CancelOrder, Command, Credit, PlaceOrder
from bursa.engine.runner import EngineRunner
from bursa.engine.specs import MarketSpec
from bursa.engine.units import to_units
from bursa.identity.service import Identity

MARKET = "btcusdt"
MID = Decimal("30000")
SPREAD = Decimal("5")  # from the mid to each side's best level
LEVEL_STEP = Decimal("1")
LEVELS = 200  # a side
PAST_TRADES = 400
TRADE_EVERY = timedelta(minutes=3)  # 400 trades: 20 hours of candles
OPEN_BELOW = Decimal("600")  # the first past trade's price under MID
TRADER_RESTING = 6  # the trader's own orders on the book
TRADER_CANCELLED = 12
TRADER_FUNDS = ("1.5", "40000")  # BTC, USDT
PLENTY = ("10000", "1000000000")  # the market maker's and the driver's
TRADER_DEPOSITS = ("2500", "800", "12000", "150", "4200")  # USD, oldest first
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    uid: str
    email: str
    password: str


@dataclass(frozen=True, slots=True)
class Exchange:
    """The running exchange: its address, engine, market and members."""

    base_url: str
    runner: EngineRunner
    spec: MarketSpec
    maker: Member  # the book, and the trader's counterpart
    trader: Member  # a member with a history (orders, trades, deposits)
    driver: Member  # free to place and cancel orders (the web bench's updates)

    def units(self, price: Decimal) -> int:
        """``price`` in the market's ticks."""
        return to_units(price, self.spec.price_precision)

    def lots(self, volume: Decimal) -> int:
        return to_units(volume, self.spec.amount_precision)


def book_prices() -> tuple[list[Decimal], list[Decimal]]:
    """The seeded book's ask and bid prices, best first."""
    asks = [MID + SPREAD + k * LEVEL_STEP for k in range(LEVELS)]
    bids = [MID - SPREAD - k * LEVEL_STEP for k in range(LEVELS)]
    return asks, bids


def price_walk(count: int, seed: int = 7) -> list[Decimal]:
    """``count`` trade prices, in cents: a random walk (about 0.2% a step) bent to go from
    ``OPEN_BELOW`` under ``MID`` to ``MID`` (the ticker then shows a day's rise)."""
    rng = random.Random(seed)
    steps = [0.0]
    for _ in range(count - 1):
        steps.append(steps[-1] + rng.gauss(0, 60))
    last = max(count - 1, 1)
    start = -float(OPEN_BELOW)
    cent = Decimal("0.01")
    return [
        (
            MID + Decimal(str(round(value - steps[-1] * i / last + start * (1 - i / last), 2)))
        ).quantize(cent)
        for i, value in enumerate(steps)
    ]


async def _member(identity: Identity, name: str) -> Member:
    password = secrets.token_urlsafe(18) + "Aa1!"  # a fresh one per run
    user = await identity.create_user(f"{name}@demo.example.com", password, "member")
    return Member(int(user["id"]), str(user["uid"]), str(user["email"]), password)


async def _submit_all(runner: EngineRunner, commands: Sequence[Command]) -> list[dict[str, Any]]:
    """Offer ``commands`` in order (the engine applies them in that order) and wait for
    all; any refusal stops the seeding, whose book would not be the one described."""
    answers = await asyncio.gather(*(runner.offer(c) for c in commands))
    for command, answer in zip(commands, answers, strict=True):
        if answer.get("error"):
            raise RuntimeError(f"seeding: {command.key} refused: {answer['error']}")
    return list(answers)


def _funding(member: Member, spec: MarketSpec, base: str, quote: str) -> list[Command]:
    return [
        Credit(
            key=f"demo:fund:{member.id}:{currency.code}",
            member_id=member.id,
            currency=currency.code,
            amount=to_units(Decimal(amount), currency.precision),
            deposit_id=f"demo-{member.id}-{currency.code}",
        )
        for currency, amount in ((spec.base, base), (spec.quote, quote))
    ]


async def _history(exchange: Exchange, rng: random.Random) -> None:
    """The past trades, then the trader's cancelled orders. The trader buys, then sells
    what they bought (so their balances stay what a person holds), resting one time in
    three; the market maker is on the other side."""
    maker, trader = exchange.maker, exchange.trader
    commands: list[Command] = []
    volume = 0
    for n, price in enumerate(price_walk(PAST_TRADES)):
        trader_side = BUY if n % 2 == 0 else SELL
        if trader_side == BUY:
            volume = exchange.lots(Decimal(rng.randint(1, 400)) / 1000)
        resting_first = ((trader, trader_side), (maker, _other(trader_side)))
        order = resting_first if n % 3 == 0 else resting_first[::-1]
        for role, (who, side) in zip(("rest", "take"), order, strict=True):
            commands.append(
                PlaceOrder(
                    key=f"demo:past:{n}:{role}",
                    member_id=who.id,
                    market=MARKET,
                    side=side,
                    volume=volume,
                    price=exchange.units(price),
                )
            )
    await _submit_all(exchange.runner, commands)
    far = [(BUY, MID - 2000 - n * 10) for n in range(TRADER_CANCELLED)]
    placed = [
        PlaceOrder(
            key=f"demo:cancelled:{n}",
            member_id=trader.id,
            market=MARKET,
            side=side,
            volume=exchange.lots(Decimal("0.05")),
            price=exchange.units(price),
            client_id=f"demo-cancelled-{n}",
        )
        for n, (side, price) in enumerate(far)
    ]
    await _submit_all(exchange.runner, placed)
    await _submit_all(
        exchange.runner,
        [
            CancelOrder(
                key=f"demo:cancel:{n}", member_id=trader.id, client_id=f"demo-cancelled-{n}"
            )
            for n in range(TRADER_CANCELLED)
        ],
    )


def _other(side: str) -> str:
    return SELL if side == BUY else BUY


async def _book(exchange: Exchange, rng: random.Random) -> None:
    """``LEVELS`` levels a side from the maker, the trader's own orders at a few of them."""
    asks, bids = book_prices()
    commands: list[Command] = []
    for side, prices in ((SELL, asks), (BUY, bids)):
        for k, price in enumerate(prices):
            commands.append(
                PlaceOrder(
                    key=f"demo:book:{side}:{k}",
                    member_id=exchange.maker.id,
                    market=MARKET,
                    side=side,
                    volume=exchange.lots(Decimal(rng.randint(10, 2500)) / 1000),
                    price=exchange.units(price),
                )
            )
    for n in range(TRADER_RESTING):
        side, prices = (SELL, asks) if n % 2 else (BUY, bids)
        commands.append(
            PlaceOrder(
                key=f"demo:own:{n}",
                member_id=exchange.trader.id,
                market=MARKET,
                side=side,
                volume=exchange.lots(Decimal("0.25")),
                price=exchange.units(prices[1 + 3 * n]),
            )
        )
    await _submit_all(exchange.runner, commands)


async def _backdate(sessions: async_sessionmaker[AsyncSession], spec: MarketSpec) -> None:
    """Space the market's trades (and their orders) ``TRADE_EVERY`` apart, ending now."""
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                """
WITH ranked AS (
    SELECT id, row_number() OVER (ORDER BY id DESC) - 1 AS back FROM trades
    WHERE market_id = :market
)
UPDATE trades AS t SET created_at = now() - ranked.back * CAST(:every AS interval)
FROM ranked WHERE t.id = ranked.id
"""
            ),
            {"market": spec.id, "every": TRADE_EVERY},
        )
        await session.execute(
            text(
                """
UPDATE orders AS o SET created_at = t.created_at, updated_at = t.created_at
FROM trades AS t
WHERE t.market_id = :market AND o.id IN (t.maker_order_id, t.taker_order_id)
"""
            ),
            {"market": spec.id},
        )


async def _deposits(
    sessions: async_sessionmaker[AsyncSession], runner: EngineRunner, trader: Member
) -> None:
    """USD deposits recorded and accepted as a payment gateway's are (Management API)."""
    for amount in TRADER_DEPOSITS:
        async with sessions() as session:
            await management_deposits.record(
                session,
                runner.submit,
                management_deposits.Payment(
                    uid=trader.uid,
                    currency="usd",
                    amount=Decimal(amount),
                    tid=None,
                    accept=True,
                    transfer_type="fiat",
                ),
            )


@asynccontextmanager
async def busy_exchange(
    database_url: str, *, progress: Progress = lambda _: None, web_dist: Path = web.DIST
) -> AsyncIterator[Exchange]:
    """The exchange on ``database_url`` (migrated, demo-seeded, otherwise empty) with the
    busy market described in the module's doc, served on a free loopback port."""
    async with exchange_core(
        database_url, app_name="Bursa demo", session_ttl=timedelta(hours=2)
    ) as core:
        runner, sessions = core.runner, core.sessions
        progress("creating members and filling btcusdt (book, a day of trades, deposits)")
        maker = await _member(core.identity, "maker")
        trader = await _member(core.identity, "trader")
        driver = await _member(core.identity, "driver")
        spec = runner.engine.books[MARKET].spec
        funding = [
            *_funding(maker, spec, *PLENTY),
            *_funding(driver, spec, *PLENTY),
            *_funding(trader, spec, *TRADER_FUNDS),
        ]
        await _submit_all(runner, funding)
        # The port is known once the server's socket is bound, after the seeding; the
        # seeding only needs the exchange's runner and market.
        seeding = Exchange("", runner, spec, maker, trader, driver)
        rng = random.Random(11)
        await _history(seeding, rng)
        await _book(seeding, rng)
        await _backdate(sessions, spec)
        await _deposits(sessions, runner, trader)
        # Served from here: the candle writer starts and counts the backdated trades.
        async with serve_core(core, web_dist=web_dist) as served:
            yield replace(seeding, base_url=served.host)
