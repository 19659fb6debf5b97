"""Writing a batch's effects to PostgreSQL in one transaction, and reading them back.

Append-only rows (commands, new orders, trades, ledger operations) go in with binary
``COPY``; changed orders, accounts and holds with one ``unnest`` statement each. Amounts
leave the engine's integers here, as exact ``Decimal`` values for NUMERIC columns.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from bursa.engine.commands import BUY, Command
from bursa.engine.core import Engine, trade_postings
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.state import WAIT, Hold, Journal, Order, Posting, Result, Trade

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ADVISORY_LOCK_KEY = 0x42_55_52_53_41  # "BURSA": only one engine may hold it


def to_datetime(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def to_micros(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def now_micros() -> int:
    return to_micros(datetime.now(UTC))


def _dec(units: int, places: int) -> str:
    """Exact decimal text for a NUMERIC parameter: ``123e-8`` is 0.00000123.

    Text is far cheaper for asyncpg to send than ``Decimal``; the SQL casts it.
    """
    return f"{units}e-{places}"


def _units(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    units = int(scaled)
    if scaled != units:
        raise ValueError(f"stored amount {value} has more than {places} decimals")
    return units


def dump_json(value: Any) -> str:
    """JSON text; orjson for speed, the standard library for integers beyond 64 bits."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))


def load_json(text: str) -> Any:
    """Parse JSON keeping big integers exact (orjson would not)."""
    return json.loads(text)


_PAYLOAD_FIELDS: dict[type, tuple[str, ...]] = {}


def command_payload(command: Command) -> dict[str, Any]:
    """The command's fields as JSON-able values (what the log stores for replay)."""
    names = _PAYLOAD_FIELDS.get(type(command))
    if names is None:
        names = _PAYLOAD_FIELDS[type(command)] = tuple(f.name for f in fields(command))
    return {name: getattr(command, name) for name in names}


@dataclass(slots=True)
class BatchRows:
    """A batch, as rows ready for PostgreSQL, and the results to hand back after commit."""

    last_seq: int
    commands: list[tuple[Any, ...]] = field(default_factory=list)
    new_orders: list[tuple[Any, ...]] = field(default_factory=list)
    changed_orders: list[tuple[Any, ...]] = field(default_factory=list)
    trades: list[tuple[Any, ...]] = field(default_factory=list)
    operations: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: list[list[Any]] = field(default_factory=list)
    holds: list[list[Any]] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    journal: Journal | None = None


class BatchWriter:
    """Turns journals into rows and rows into one committed transaction."""

    def __init__(self, currencies: Mapping[str, CurrencySpec], markets: Mapping[str, MarketSpec]):
        self.currencies = currencies
        self.markets = markets
        self.persisted_order_ids: set[int] = set()

    def rows(self, journal: Journal, persisted_below: int) -> BatchRows:
        """Everything in ``journal`` as rows; orders with id < ``persisted_below`` exist."""
        currencies, markets = self.currencies, self.markets
        moments: dict[int, datetime] = {}

        def moment(micros: int) -> datetime:
            found = moments.get(micros)
            if found is None:
                found = moments[micros] = to_datetime(micros)
            return found

        rows = BatchRows(last_seq=journal.commands[-1][0] if journal.commands else 0)
        rows.journal = journal
        for seq, command, result, ts in journal.commands:
            snapshot = result.freeze()
            rows.results.append(result)
            rows.commands.append(
                (
                    seq,
                    command.key,
                    command.kind,
                    dump_json(command_payload(command)),
                    dump_json(snapshot),
                    moment(ts),
                )
            )
        for order in journal.orders.values():
            spec = markets[order.market]
            amount_t = f"e-{spec.amount_precision}"
            locked_t, received_t = (
                (f"e-{spec.quote.precision}", f"e-{spec.base.precision}")
                if order.side == BUY
                else (f"e-{spec.base.precision}", f"e-{spec.quote.precision}")
            )
            if order.id >= persisted_below:
                rows.new_orders.append(
                    (
                        order.id,
                        order.member_id,
                        order.market,
                        order.side,
                        order.ord_type,
                        order.time_in_force,
                        order.post_only,
                        order.client_id,
                        f"{order.price}e-{spec.price_precision}" if order.price else None,
                        f"{order.origin_volume}{amount_t}",
                        f"{order.volume}{amount_t}",
                        f"{order.origin_locked}{locked_t}",
                        f"{order.locked}{locked_t}",
                        f"{order.funds_received}{received_t}",
                        f"{order.maker_fee}e-6",
                        f"{order.taker_fee}e-6",
                        order.state,
                        order.trades_count,
                        order.seq,
                        moment(order.created_at),
                        moment(order.updated_at),
                    )
                )
            else:
                rows.changed_orders.append(
                    (
                        order.id,
                        f"{order.volume}{amount_t}",
                        f"{order.locked}{locked_t}",
                        f"{order.funds_received}{received_t}",
                        order.state,
                        order.trades_count,
                        order.seq,
                        moment(order.updated_at),
                    )
                )
        postings: list[Posting] = list(journal.postings)
        for trade in journal.trades:
            spec = markets[trade.market]
            base_p, quote_p = spec.base.precision, spec.quote.precision
            buyer_fee_p = base_p if trade.taker_side == BUY else quote_p
            seller_fee_p = quote_p if trade.taker_side == BUY else base_p
            rows.trades.append(
                (
                    trade.id,
                    trade.market,
                    _dec(trade.price, spec.price_precision),
                    _dec(trade.volume, spec.amount_precision),
                    _dec(trade.total, quote_p),
                    trade.maker_order_id,
                    trade.taker_order_id,
                    trade.maker_id,
                    trade.taker_id,
                    trade.taker_side,
                    _dec(trade.maker_fee_amount, seller_fee_p),
                    _dec(trade.taker_fee_amount, buyer_fee_p),
                    trade.seq,
                    moment(trade.created_at),
                )
            )
            postings.extend(trade_postings(trade, spec))
        suffix = {code: f"e-{cur.precision}" for code, cur in currencies.items()}
        append = rows.operations.append
        for seq, code, currency, member, ref_type, ref_id, debit, credit, _ in postings:
            tail = suffix[currency]
            append(
                (
                    seq,
                    code,
                    currency,
                    member,
                    ref_type,
                    str(ref_id),
                    f"{debit}{tail}" if debit else "0",
                    f"{credit}{tail}" if credit else "0",
                )
            )
        for account in journal.accounts:
            places = currencies[account.currency].precision
            rows.accounts.append(
                [
                    account.member_id,
                    account.currency,
                    _dec(account.balance, places),
                    _dec(account.locked, places),
                ]
            )
        for hold in journal.holds.values():
            places = currencies[hold.currency].precision
            rows.holds.append(
                [
                    hold.withdrawal_id,
                    hold.member_id,
                    hold.currency,
                    _dec(hold.amount, places),
                    hold.state,
                    hold.seq,
                    moment(hold.updated_at),
                ]
            )
        return rows

    async def write(self, conn: asyncpg.Connection, rows: BatchRows) -> None:
        """Commit the batch: all of it or, on any error, none of it.

        One statement does it all (data-modifying CTEs over ``unnest``-ed arrays): a single
        round trip, atomic on its own, whatever the batch size.
        """
        await conn.execute(
            WRITE_BATCH,
            _document(rows.commands),
            _document(rows.new_orders),
            _document(rows.changed_orders),
            _document(rows.trades),
            _document(rows.operations),
            _document(rows.accounts),
            _document(rows.holds),
        )


def _document(rows: list[Any]) -> str:
    """A table's rows as one JSON array of arrays (amounts are already exact strings)."""
    return orjson.dumps(rows, option=orjson.OPT_PASSTHROUGH_DATETIME, default=_iso).decode()


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a batch document")


COMMAND_COLUMNS = ["seq", "idempotency_key", "kind", "payload", "result", "created_at"]
ORDER_COLUMNS = [
    "id",
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


def _rows_of(param: int, types: list[str]) -> str:
    """Rows of a JSON array of arrays (parameter ``$param``), cast column by column.

    Sending a batch as one JSON document per table costs the client one ``orjson`` call;
    sending arrays would make asyncpg inspect every element.
    """
    columns = ", ".join(
        f"(r->>{i})::{kind}" if kind != "text" else f"r->>{i}" for i, kind in enumerate(types)
    )
    return f"SELECT {columns} FROM jsonb_array_elements(${param}::jsonb) AS r"


def _write_batch_statement() -> str:
    commands = _rows_of(1, ["bigint", "text", "text", "json", "json", "timestamptz"])
    new_orders = _rows_of(
        2,
        ["bigint", "bigint", "text", "text", "text", "text", "bool", "text"]
        + ["numeric"] * 8
        + ["text", "int", "bigint", "timestamptz", "timestamptz"],
    )
    changed_orders = _rows_of(
        3, ["bigint", "numeric", "numeric", "numeric", "text", "int", "bigint", "timestamptz"]
    )
    trades = _rows_of(
        4,
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
        5, ["bigint", "smallint", "text", "bigint", "text", "text", "numeric", "numeric"]
    )
    accounts = _rows_of(6, ["bigint", "text", "numeric", "numeric"])
    holds = _rows_of(7, ["text", "bigint", "text", "numeric", "text", "bigint", "timestamptz"])
    return f"""
WITH new_commands AS (
    INSERT INTO engine_commands ({", ".join(COMMAND_COLUMNS)}) {commands}
), new_orders AS (
    INSERT INTO orders ({", ".join(ORDER_COLUMNS)}) {new_orders}
), changed_orders AS (
    UPDATE orders AS o SET volume = u.volume, locked = u.locked,
           funds_received = u.funds_received, state = u.state,
           trades_count = u.trades_count, seq = u.seq, updated_at = u.updated_at
    FROM ({changed_orders}) AS u(id, volume, locked, funds_received, state, trades_count,
                                 seq, updated_at)
    WHERE o.id = u.id
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
)
SELECT 1
"""


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
    engine = Engine(
        currencies, markets, seq=seq, next_order_id=next_order, next_trade_id=next_trade
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
    for row in await conn.fetch("SELECT * FROM orders WHERE state = $1 ORDER BY id", WAIT):
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
