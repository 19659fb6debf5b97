"""A seeded, reproducible trading workload for the engine benchmark.

Members trade two markets around a drifting mid price: about 60% limit orders near the
mid, 30% cancels of recent orders (by client order id) and 10% market orders. The same
seed always gives the same command stream, so other engines can be fed it too
(``export_jsonl``).
"""

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from bursa.engine.commands import (
    BUY,
    LIMIT,
    MARKET,
    SELL,
    CancelOrder,
    Command,
    Credit,
    PlaceOrder,
)
from bursa.engine.specs import COIN, CurrencySpec, MarketSpec

BTC = CurrencySpec("btc", COIN, 8)
ETH = CurrencySpec("eth", COIN, 18)
USDT = CurrencySpec("usdt", COIN, 8)

# The demo seeds' rules for the two benchmark markets (trading/seeds/demo.yaml): minimum
# price 0.01, no maximum, minimum amount 0.0001 BTC / 0.001 ETH, fees 0.1% / 0.2%.
BENCH_MARKETS = (
    MarketSpec("btcusdt", BTC, USDT, 6, 2, 1, 0, 100, 1000, 2000),
    MarketSpec("ethusdt", ETH, USDT, 4, 2, 1, 0, 10, 1000, 2000),
)
BENCH_CURRENCIES = (BTC, ETH, USDT)
MID_PRICE = {"btcusdt": 30_000_00, "ethusdt": 2_000_00}  # in ticks (cents)


def funding(members: int, markets: tuple[MarketSpec, ...] = BENCH_MARKETS) -> list[Command]:
    """Deposits that give every member plenty of each currency."""
    currencies = {m.base.code: m.base for m in markets} | {m.quote.code: m.quote for m in markets}
    commands: list[Command] = []
    for member in range(1, members + 1):
        for cur in currencies.values():
            commands.append(
                Credit(
                    key=f"fund:{member}:{cur.code}",
                    member_id=member,
                    currency=cur.code,
                    amount=10_000_000 * 10**cur.precision,
                    deposit_id=f"bench-{member}-{cur.code}",
                )
            )
    return commands


def commands(
    count: int,
    *,
    members: int = 1000,
    seed: int = 1,
    markets: tuple[MarketSpec, ...] = BENCH_MARKETS,
    prefix: str = "",
) -> Iterator[Command]:
    """``count`` trading commands; keys are unique per ``prefix``."""
    rng = random.Random(seed)
    mids = {m.id: MID_PRICE.get(m.id, 100_00) for m in markets}
    recent: list[tuple[int, str]] = []  # limit orders placed and not yet picked for a cancel
    for n in range(count):
        market = markets[n & 1]
        member = rng.randint(1, members)
        roll = rng.random()
        key = f"{prefix}{n}"
        if roll < 0.30 and recent:
            pick = rng.randrange(len(recent))
            recent[pick], recent[-1] = recent[-1], recent[pick]
            owner, client_id = recent.pop()
            yield CancelOrder(key=key, member_id=owner, client_id=client_id)
            continue
        mid = mids[market.id]
        mids[market.id] = mid = max(mid + rng.randint(-2, 2), 100)
        side = BUY if rng.random() < 0.5 else SELL
        volume = rng.randint(1, 50) * max(market.min_amount, 1) * 10
        if roll < 0.40:
            yield PlaceOrder(
                key=key,
                member_id=member,
                market=market.id,
                side=side,
                volume=volume,
                ord_type=MARKET,
            )
            continue
        # Most orders rest within a few dozen ticks of the mid; about one in six crosses it.
        offset = int(rng.expovariate(1 / 40)) - 8
        price = mid - offset if side == BUY else mid + offset
        client_id = f"{prefix}c{n}"
        recent.append((member, client_id))
        yield PlaceOrder(
            key=key,
            member_id=member,
            market=market.id,
            side=side,
            volume=volume,
            price=price,
            ord_type=LIMIT,
            client_id=client_id,
        )


def export_jsonl(stream: list[Command], out: IO[str] | Path) -> None:
    """Write commands as JSON lines: ``{"kind": ..., **payload}``."""
    if isinstance(out, Path):
        with out.open("w") as fh:
            export_jsonl(stream, fh)
        return
    for command in stream:
        out.write(json.dumps({"kind": command.kind, **command.payload()}) + "\n")
