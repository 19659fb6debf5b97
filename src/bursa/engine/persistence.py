"""Writing a batch's effects to PostgreSQL in one transaction, and reading them back.

A batch is one SQL statement: data-modifying CTEs, one per table, each reading its rows
from one JSON document (``jsonb_array_elements``) — a single round trip, atomic on its
own, whatever the batch size. The rows themselves are built in ``bursa.engine.rows``.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import asyncpg

from bursa.engine.commands import BUY
from bursa.engine.core import Engine
from bursa.engine.rows import (
    CURRENCY_COLUMNS,
    BatchRows,
    RowBuilder,
    command_payload,
    document,
    dump_json,
    load_json,
    now_micros,
    to_datetime,
    to_micros,
)
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.state import TRIGGER_WAIT, WAIT, Hold, Order, Result, Trade
from bursa.engine.vocabulary import OrderState
from bursa.events.engine_batch import ENGINE

__all__ = [
    "ADVISORY_LOCK_KEY",
    "BatchRows",
    "BatchWriter",
    "command_payload",
    "dump_json",
    "load_engine",
    "load_json",
    "now_micros",
    "prepare_connection",
    "to_datetime",
    "to_micros",
]

ADVISORY_LOCK_KEY = 0x42_55_52_53_41  # "BURSA": only one engine may hold it


def _units(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    units = int(scaled)
    if scaled != units:
        raise ValueError(f"stored amount {value} has more than {places} decimals")
    return units


class BatchWriter:
    """Turns journals into rows (``RowBuilder``) and rows into one committed transaction."""

    def __init__(
        self, currencies: Mapping[str, CurrencySpec], markets: Mapping[str, MarketSpec]
    ) -> None:
        self.rows = RowBuilder(currencies, markets).rows

    async def write(self, conn: asyncpg.Connection, rows: BatchRows) -> None:
        """Commit the batch: all of it or, on any error, none of it."""
        await self.send(conn, self.encode(rows))

    @staticmethod
    def encode(rows: BatchRows) -> tuple[Any, ...]:
        """The statement's parameters: the command log as arrays, each other table's rows
        as one JSON document (the runner encodes a batch while the previous one commits)."""
        return (
            rows.seqs,
            rows.keys,
            rows.kinds,
            rows.payloads,
            rows.snapshots,
            rows.times,
            document(rows.new_orders),
            document(rows.changed_orders),
            document(rows.trades),
            document(rows.operations),
            document(rows.accounts),
            document(rows.holds),
            document(rows.markets),
            document(rows.fees),
            document(rows.removed_fees),
            document(rows.groups),
            document(rows.currencies),
        )

    @staticmethod
    async def send(conn: asyncpg.Connection, parameters: tuple[Any, ...]) -> None:
        """Commit encoded rows (``encode``) in one statement (data-modifying CTEs over JSON
        documents): a single round trip, atomic on its own, whatever the batch size."""
        await conn.execute(WRITE_BATCH, *parameters)


async def prepare_connection(conn: asyncpg.Connection) -> None:
    """Session settings of the connection that runs the batch statement.

    The statement touches a few rows of large tables by primary key; with stale statistics
    the planner may hash a whole table instead, which makes every small batch slower as the
    tables grow. The outbox row is a large value: lz4 compresses it (TOAST) several times
    faster than the default pglz, where the server has it; what is stored reads the same.
    The commands' document is larger than the default ``work_mem``: more of it keeps it off
    temporary files. Durability is untouched (``synchronous_commit`` stays as configured).
    """
    await conn.execute(
        "SET enable_hashjoin = off; SET enable_mergejoin = off; SET work_mem = '64MB'"
    )
    lz4 = await conn.fetchval(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    if lz4:
        await conn.execute("SET default_toast_compression = lz4")


COMMAND_COLUMNS = ["seq", "idempotency_key", "kind", "payload", "result", "created_at"]
ORDER_COLUMNS = [
    "id",
    "uuid",
    "member_id",
    "market_id",
    "side",
    "ord_type",
    "time_in_force",
    "post_only",
    "client_id",
    "price",
    "origin_volume",
    "volume",
    "origin_locked",
    "locked",
    "funds_received",
    "maker_fee",
    "taker_fee",
    "state",
    "trades_count",
    "seq",
    "created_at",
    "updated_at",
    "trigger_price",
    "trigger_condition",
    "oco_id",
    "stp",
    "priority",
]
TRADE_COLUMNS = [
    "id",
    "market_id",
    "price",
    "amount",
    "total",
    "maker_order_id",
    "taker_order_id",
    "maker_id",
    "taker_id",
    "taker_type",
    "maker_fee_amount",
    "taker_fee_amount",
    "seq",
    "created_at",
]
OPERATION_COLUMNS = [
    "seq",
    "code",
    "currency_id",
    "member_id",
    "reference_type",
    "reference_id",
    "debit",
    "credit",
]


CHANGED_ORDER_COLUMNS = [
    "id",
    "volume",
    "locked",
    "funds_received",
    "state",
    "trades_count",
    "seq",
    "updated_at",
    "origin_volume",
    "origin_locked",
    "priority",
]
ACCOUNT_COLUMNS = ["member_id", "currency_id", "balance", "locked"]
# The parameters the Event API's relay expands into events (``bursa.events.engine_batch``):
# each is typed ``text`` so that the outbox row can keep it as sent.
EVENT_PARAMETERS = {
    "new_orders": (7, ORDER_COLUMNS),
    "changed_orders": (8, CHANGED_ORDER_COLUMNS),
    "trades": (9, TRADE_COLUMNS),
    "accounts": (11, ACCOUNT_COLUMNS),
}
_TEXT_PARAMETERS = {param for param, _ in EVENT_PARAMETERS.values()}


def _rows_of(param: int, types: list[str]) -> str:
    """Rows of a JSON array of arrays (parameter ``$param``), cast column by column.

    Sending a batch as one JSON document per table costs the client one ``orjson`` call;
    sending arrays would make asyncpg inspect every element.
    """
    columns = ", ".join(_column(i, kind) for i, kind in enumerate(types))
    typed = f"${param}::text::jsonb" if param in _TEXT_PARAMETERS else f"${param}::jsonb"
    return f"SELECT {columns} FROM jsonb_array_elements({typed}) AS r"


def _column(index: int, kind: str) -> str:
    if kind == "text":
        return f"r->>{index}"
    if kind == "timestamptz":  # sent as integer microseconds since the epoch: exact
        return f"timestamptz 'epoch' + (r->>{index})::bigint * interval '1 microsecond'"
    return f"(r->>{index})::{kind}"


def _write_batch_statement() -> str:
    # The command log's columns arrive as arrays: its payloads and results are JSON texts
    # that PostgreSQL would otherwise unescape out of a document (~25 % of this table's cost).
    commands = (
        "SELECT s, k, d, p::json, r::json, timestamptz 'epoch' + t * interval '1 microsecond'"
        " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],"
        " $6::bigint[]) AS c(s, k, d, p, r, t)"
    )
    new_orders = _rows_of(
        7,
        ["bigint", "uuid", "bigint", "text", "text", "text", "text", "bool", "text"]
        + ["numeric"] * 8
        + ["text", "int", "bigint", "timestamptz", "timestamptz"]
        + ["numeric", "text", "bigint", "text", "bigint"],
    )
    changed_orders = _rows_of(
        8,
        ["bigint", "numeric", "numeric", "numeric", "text", "int", "bigint", "timestamptz"]
        + ["numeric"] * 2
        + ["bigint"],
    )
    trades = _rows_of(
        9,
        [
            "bigint",
            "text",
            "numeric",
            "numeric",
            "numeric",
            "bigint",
            "bigint",
            "bigint",
            "bigint",
            "text",
            "numeric",
            "numeric",
            "bigint",
            "timestamptz",
        ],
    )
    operations = _rows_of(
        10, ["bigint", "smallint", "text", "bigint", "text", "text", "numeric", "numeric"]
    )
    accounts = _rows_of(11, ["bigint", "text", "numeric", "numeric"])
    holds = _rows_of(12, ["text", "bigint", "text", "numeric", "text", "bigint", "timestamptz"])
    markets = _rows_of(
        13,
        ["text", "text", "text", "text", "smallint", "smallint"]
        + ["numeric"] * 5
        + ["int", "text", "timestamptz"],
    )
    fees = _rows_of(14, ["text", "text", "numeric", "numeric", "timestamptz"])
    removed_fees = _rows_of(15, ["text", "text"])
    groups = _rows_of(16, ["bigint", "text", "timestamptz"])
    currencies = _rows_of(
        17,
        ["text", "text", "smallint", "text", "text", "text", "text", "text", "int", "text"]
        + ["numeric"] * 6
        + ["bool", "bool", "int", "jsonb", "timestamptz", "timestamptz"],
    )
    # Every column but the key, what the engine keeps (type, precision) and created_at.
    currency_changes = ", ".join(
        f"{name} = EXCLUDED.{name}" for name in CURRENCY_COLUMNS[3:] if name != "created_at"
    )
    return f"""
WITH new_commands AS (
    INSERT INTO engine_commands ({", ".join(COMMAND_COLUMNS)}) {commands}
), new_orders AS (
    INSERT INTO orders ({", ".join(ORDER_COLUMNS)}) {new_orders}
), changed_orders AS (
    UPDATE orders AS o SET volume = u.volume, locked = u.locked,
           funds_received = u.funds_received, state = u.state,
           trades_count = u.trades_count, seq = u.seq, updated_at = u.updated_at,
           origin_volume = u.origin_volume, origin_locked = u.origin_locked,
           priority = u.priority
    FROM ({changed_orders}) AS u(id, volume, locked, funds_received, state, trades_count,
                                 seq, updated_at, origin_volume, origin_locked, priority)
    JOIN orders AS p ON p.id = u.id
    WHERE o.id = u.id
    RETURNING o.id, p.volume AS previous_volume, p.locked AS previous_locked
), new_trades AS (
    INSERT INTO trades ({", ".join(TRADE_COLUMNS)}) {trades}
), new_operations AS (
    INSERT INTO operations ({", ".join(OPERATION_COLUMNS)}) {operations}
), changed_accounts AS (
    INSERT INTO accounts (member_id, currency_id, balance, locked)
    {accounts}
    ON CONFLICT (member_id, currency_id)
    DO UPDATE SET balance = EXCLUDED.balance, locked = EXCLUDED.locked, updated_at = now()
), changed_holds AS (
    INSERT INTO withdrawal_holds (withdrawal_id, member_id, currency_id, amount, state, seq,
                                  updated_at)
    {holds}
    ON CONFLICT (withdrawal_id)
    DO UPDATE SET state = EXCLUDED.state, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
), configured_currencies AS (
    INSERT INTO currencies ({", ".join(CURRENCY_COLUMNS)}) {currencies}
    ON CONFLICT (id) DO UPDATE SET {currency_changes}
), configured_markets AS (
    INSERT INTO markets (id, type, base_unit, quote_unit, amount_precision, price_precision,
                         min_price, max_price, min_amount, maker_fee, taker_fee, position,
                         state, updated_at)
    {markets}
    ON CONFLICT (id)
    DO UPDATE SET min_price = EXCLUDED.min_price, max_price = EXCLUDED.max_price,
                  min_amount = EXCLUDED.min_amount, maker_fee = EXCLUDED.maker_fee,
                  taker_fee = EXCLUDED.taker_fee, position = EXCLUDED.position,
                  state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
), configured_fees AS (
    INSERT INTO trading_fees (market_id, "group", maker, taker, updated_at) {fees}
    ON CONFLICT (market_id, "group")
    DO UPDATE SET maker = EXCLUDED.maker, taker = EXCLUDED.taker,
                  updated_at = EXCLUDED.updated_at
), removed_fees AS (
    DELETE FROM trading_fees AS f USING ({removed_fees}) AS d(market_id, "group")
    WHERE f.market_id = d.market_id AND f."group" = d."group"
), configured_groups AS (
    INSERT INTO member_groups (member_id, "group", updated_at) {groups}
    ON CONFLICT (member_id)
    DO UPDATE SET "group" = EXCLUDED."group", updated_at = EXCLUDED.updated_at
), {_events_cte()}
SELECT 1
"""


def _events_cte() -> str:
    """The batch's Event API events, as one ``event_outbox`` row written by the statement
    itself (so they exist if and only if the batch committed), in the compact form
    ``bursa.events.engine_batch`` expands: the event parameters as sent, each a JSON
    string, plus each changed order's amounts before the batch. Strings are stored as they
    are, where building the events or parsing them into ``jsonb`` cost the commit ~35 %."""
    columns = {name: names for name, (_, names) in EVENT_PARAMETERS.items()}
    members = ", ".join(
        f"'{name}', ${param}::text" for name, (param, _) in EVENT_PARAMETERS.items()
    )
    sent = " OR ".join(f"${param}::text <> '[]'" for param, _ in EVENT_PARAMETERS.values())
    return f"""batch_events AS (
    INSERT INTO event_outbox (events)
    SELECT jsonb_build_object('{ENGINE}', jsonb_build_object(
        {members},
        'previous', (SELECT json_agg(json_build_array(
                         c.id, c.previous_volume::text, c.previous_locked::text))::text
                     FROM changed_orders AS c),
        'columns', '{dump_json(columns)}'::jsonb))
    WHERE {sent}
)"""


WRITE_BATCH = _write_batch_statement()


# ---------------------------------------------------------------------- recovery


async def load_engine(
    conn: asyncpg.Connection,
    currencies: Iterable[CurrencySpec],
    markets: Iterable[MarketSpec],
    *,
    idempotency_window_hours: int = 24,
    recent_trades: int = 1000,
) -> Engine:
    """Rebuild the engine from what was committed: balances, open orders, holds, the last
    sequence number, recent idempotency keys and each market's latest trades."""
    currencies = list(currencies)
    markets = list(markets)
    seq = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM engine_commands")
    next_order = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM orders")
    next_trade = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM trades")
    next_priority = await conn.fetchval("SELECT coalesce(max(priority), 0) + 1 FROM orders")
    engine = Engine(
        currencies,
        markets,
        seq=seq,
        next_order_id=next_order,
        next_trade_id=next_trade,
        next_priority=next_priority,
    )
    precision = {c.code: c.precision for c in currencies}
    for row in await conn.fetch("SELECT member_id, currency_id, balance, locked FROM accounts"):
        places = precision[row["currency_id"]]
        engine.restore_account(
            row["member_id"],
            row["currency_id"],
            _units(row["balance"], places),
            _units(row["locked"], places),
        )
    # Resting orders in their queue order; waiting trigger orders (no place yet) after.
    for row in await conn.fetch(
        "SELECT * FROM orders WHERE state = ANY($1::text[]) ORDER BY priority NULLS LAST, id",
        [WAIT, TRIGGER_WAIT],
    ):
        engine.restore_order(_order_from_row(row, engine.books[row["market_id"]].spec))
    for row in await conn.fetch("SELECT * FROM withdrawal_holds ORDER BY seq"):
        hold = Hold(
            row["withdrawal_id"],
            row["member_id"],
            row["currency_id"],
            _units(row["amount"], precision[row["currency_id"]]),
            row["seq"],
            to_micros(row["updated_at"]),
        )
        hold.state = row["state"]  # closed ones too: a withdrawal id is never held twice
        engine.restore_hold(hold)
    for row in await conn.fetch('SELECT market_id, "group", maker, taker FROM trading_fees'):
        engine.restore_fee(
            row["market_id"], row["group"], _units(row["maker"], 6), _units(row["taker"], 6)
        )
    for row in await conn.fetch('SELECT member_id, "group" FROM member_groups'):
        engine.restore_group(row["member_id"], row["group"])
    keys = await conn.fetch(
        "SELECT idempotency_key, seq, kind, result FROM engine_commands "
        "WHERE created_at > now() - make_interval(hours => $1) ORDER BY seq",
        idempotency_window_hours,
    )
    for row in keys:
        result = Result(row["seq"], row["kind"])
        result.snapshot = load_json(row["result"])
        result.error = result.snapshot.get("error")
        engine.remember(row["idempotency_key"], result)
    for spec in markets:
        rows = await conn.fetch(
            "SELECT * FROM trades WHERE market_id = $1 ORDER BY id DESC LIMIT $2",
            spec.id,
            recent_trades,
        )
        book = engine.books[spec.id]
        for row in reversed(rows):
            book.recent_trades.append(_trade_from_row(row, spec))
    return engine


def _order_from_row(row: asyncpg.Record, spec: MarketSpec) -> Order:
    base_p, quote_p = spec.base.precision, spec.quote.precision
    locked_p = quote_p if row["side"] == BUY else base_p
    received_p = base_p if row["side"] == BUY else quote_p
    order = Order(
        row["id"],
        row["member_id"],
        row["market_id"],
        row["side"],
        row["ord_type"],
        row["time_in_force"],
        row["post_only"],
        row["client_id"],
        _units(row["price"], spec.price_precision) if row["price"] is not None else 0,
        _units(row["origin_volume"], spec.amount_precision),
        _units(row["maker_fee"], 6),
        _units(row["taker_fee"], 6),
        row["seq"],
        to_micros(row["created_at"]),
    )
    order.volume = _units(row["volume"], spec.amount_precision)
    order.origin_locked = _units(row["origin_locked"], locked_p)
    order.locked = _units(row["locked"], locked_p)
    order.funds_received = _units(row["funds_received"], received_p)
    order.trades_count = row["trades_count"]
    order.updated_at = to_micros(row["updated_at"])
    order.state = OrderState(row["state"])
    if row["trigger_price"] is not None:
        order.trigger_price = _units(row["trigger_price"], spec.price_precision)
        order.trigger_condition = row["trigger_condition"]
        order.stp = row["stp"] or ""
    order.oco_id = row["oco_id"]
    order.priority = row["priority"] or 0
    return order


def _trade_from_row(row: asyncpg.Record, spec: MarketSpec) -> Trade:
    base_p, quote_p = spec.base.precision, spec.quote.precision
    buy_taker = row["taker_type"] == BUY
    return Trade(
        row["id"],
        row["market_id"],
        _units(row["price"], spec.price_precision),
        _units(row["amount"], spec.amount_precision),
        _units(row["total"], quote_p),
        row["maker_order_id"],
        row["taker_order_id"],
        row["maker_id"],
        row["taker_id"],
        row["taker_type"],
        _units(row["maker_fee_amount"], quote_p if buy_taker else base_p),
        _units(row["taker_fee_amount"], base_p if buy_taker else quote_p),
        row["seq"],
        to_micros(row["created_at"]),
    )
