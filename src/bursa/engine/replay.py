"""Replaying the command log from the first command, to check the committed state.

The engine is deterministic, so applying the logged commands in sequence order to an
empty engine must give exactly the balances and open orders PostgreSQL holds.
"""

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg

from bursa.engine.commands import command_from_payload
from bursa.engine.core import Engine
from bursa.engine.persistence import load_engine, load_json, to_micros
from bursa.engine.specs import CurrencySpec, MarketSpec, market_from_view


@dataclass(slots=True)
class ReplayReport:
    commands: int
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


async def genesis(
    conn: asyncpg.Connection,
    currencies: Iterable[CurrencySpec],
    markets: Iterable[MarketSpec],
) -> tuple[list[CurrencySpec], list[MarketSpec]]:
    """The configuration before the first logged command.

    That is today's, except where the log configured a currency or market: there, what its
    first configuration command found (its result's ``previous``; None: it did not exist).
    Trading fees and member groups only ever change through the log, so they start empty.
    """
    by_code = {c.code: c for c in currencies}
    by_id = {m.id: m for m in markets}
    first: dict[tuple[str, str], object] = {}
    rows = await conn.fetch(
        "SELECT kind, payload, result FROM engine_commands WHERE kind = ANY($1) ORDER BY seq",
        ["configure_currency", "configure_market"],
    )
    for row in rows:
        result = load_json(row["result"])
        if result.get("error") is None:
            payload = load_json(row["payload"])
            name = payload["code"] if row["kind"] == "configure_currency" else payload["market"]
            first.setdefault((row["kind"], name), result["previous"])
    for (kind, name), previous in first.items():
        if kind == "configure_currency" and previous is None:
            by_code.pop(name, None)
    for (kind, name), previous in first.items():
        if kind == "configure_market":
            if previous is None:
                by_id.pop(name, None)
            else:
                assert isinstance(previous, dict)
                by_id[name] = market_from_view(previous, by_code)
    return list(by_code.values()), list(by_id.values())


async def replay_log(
    conn: asyncpg.Connection,
    currencies: Iterable[CurrencySpec],
    markets: Iterable[MarketSpec],
    *,
    idempotency_window_hours: int = 24,
) -> Engine:
    """A fresh engine with every logged command applied, in sequence order, forgetting
    idempotency keys older than the window exactly as the runner does."""
    window = idempotency_window_hours * 3_600_000_000
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        currencies, markets = await genesis(conn, currencies, markets)
    engine = Engine(currencies, markets)
    seen: deque[tuple[int, str]] = deque()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = conn.cursor(
            "SELECT seq, kind, payload, created_at FROM engine_commands ORDER BY seq"
        )
        async for row in cursor:
            command = command_from_payload(row["kind"], load_json(row["payload"]))
            ts = to_micros(row["created_at"])
            while seen and seen[0][0] < ts - window:
                engine.results.pop(seen.popleft()[1], None)
            engine.apply(command, ts)
            seen.append((ts, command.key))
            if row["seq"] != engine.seq:
                raise ValueError(f"command log has a gap before seq {row['seq']}")
            if len(engine.journal.commands) >= 10_000:
                engine.end_batch()
    engine.end_batch()
    return engine


async def check_replay(
    conn: asyncpg.Connection,
    currencies: Iterable[CurrencySpec],
    markets: Iterable[MarketSpec],
    *,
    idempotency_window_hours: int = 24,
) -> ReplayReport:
    """Compare the replayed state with the state recovered from the tables."""
    currencies, markets = list(currencies), list(markets)
    replayed = await replay_log(
        conn, currencies, markets, idempotency_window_hours=idempotency_window_hours
    )
    stored = await load_engine(conn, currencies, markets)
    report = ReplayReport(commands=replayed.seq)
    if replayed.seq != stored.seq:
        report.differences.append(f"last seq: replayed {replayed.seq}, stored {stored.seq}")

    def balances(engine: Engine) -> dict[tuple[int, str], tuple[int, int]]:
        return {
            (member, currency): (account.balance, account.locked)
            for member, accounts in engine.balances.items()
            for currency, account in accounts.items()
            if account.balance or account.locked
        }

    mine, theirs = balances(replayed), balances(stored)
    for key in sorted(mine.keys() | theirs.keys()):
        if mine.get(key) != theirs.get(key):
            report.differences.append(
                f"account {key}: replayed {mine.get(key)}, stored {theirs.get(key)}"
            )

    def open_orders(engine: Engine) -> dict[int, tuple[object, ...]]:
        return {
            i: (o.volume, o.locked, o.state, o.trigger_price, o.trigger_condition, o.oco_id)
            for i, o in engine.open_orders.items()
        }

    open_replayed, open_stored = open_orders(replayed), open_orders(stored)
    if open_replayed != open_stored:
        extra = sorted(open_replayed.keys() ^ open_stored.keys())[:10]
        report.differences.append(f"open orders differ (e.g. ids {extra})")
    if replayed.next_trade_id != stored.next_trade_id:
        report.differences.append(
            f"trades: replayed {replayed.next_trade_id - 1}, stored {stored.next_trade_id - 1}"
        )
    if replayed.fees != stored.fees:
        report.differences.append(f"trading fees: replayed {replayed.fees}, stored {stored.fees}")
    if replayed.member_groups != stored.member_groups:
        report.differences.append("member groups differ")
    for code in sorted(replayed.currencies.keys() | stored.currencies.keys()):
        mine_c, theirs_c = replayed.currencies.get(code), stored.currencies.get(code)
        if mine_c != theirs_c:
            report.differences.append(f"currency {code}: replayed {mine_c}, stored {theirs_c}")
    for market in sorted(replayed.markets.keys() | stored.markets.keys()):
        if replayed.markets.get(market) != stored.markets.get(market):
            report.differences.append(f"market {market}: rules differ")
    return report
