"""A batch's effects as rows ready for PostgreSQL, and the JSON and time helpers they use.

Pure (no I/O), so it is compiled with mypyc with the rest of the engine. Amounts leave the
engine's integers here as exact decimal text (``123e-8``) that the SQL casts to NUMERIC.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from bursa.engine.commands import BUY, Command, ConfigureCurrency
from bursa.engine.core import trade_postings
from bursa.engine.order_uuids import order_uuid
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.state import Journal, Posting, Result

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    """A batch, as rows ready for PostgreSQL, and the results to hand back after commit.

    The command log goes column by column (``seqs``, ``keys``… one list each: PostgreSQL
    reads arrays of its large JSON texts cheaper than strings inside a JSON document);
    every other table is a list of rows."""

    last_seq: int
    seqs: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    new_orders: list[tuple[Any, ...]] = field(default_factory=list)
    changed_orders: list[tuple[Any, ...]] = field(default_factory=list)
    trades: list[tuple[Any, ...]] = field(default_factory=list)
    operations: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: list[list[Any]] = field(default_factory=list)
    holds: list[list[Any]] = field(default_factory=list)
    currencies: list[list[Any]] = field(default_factory=list)
    markets: list[list[Any]] = field(default_factory=list)
    fees: list[list[Any]] = field(default_factory=list)
    removed_fees: list[list[Any]] = field(default_factory=list)
    groups: list[list[Any]] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    journal: Journal | None = None


@dataclass(slots=True)
class _OrderTails:
    """The exponent suffixes of one market's order amounts (``e-8``…), by side: made once
    per market rather than for every order of every batch."""

    spec: MarketSpec
    price: str
    amount: str
    buy_locked: str
    buy_received: str
    sell_locked: str
    sell_received: str


def _order_tails(spec: MarketSpec) -> _OrderTails:
    base, quote = f"e-{spec.base.precision}", f"e-{spec.quote.precision}"
    return _OrderTails(
        spec, f"e-{spec.price_precision}", f"e-{spec.amount_precision}", quote, base, base, quote
    )


class RowBuilder:
    """Turns a batch's journal into rows for PostgreSQL (compiled with mypyc: at full
    load this is the engine process's largest cost after matching)."""

    def __init__(
        self, currencies: Mapping[str, CurrencySpec], markets: Mapping[str, MarketSpec]
    ) -> None:
        self.currencies = currencies
        self.markets = markets
        self._tails: dict[str, _OrderTails] = {}

    def _tails_of(self, market: str) -> _OrderTails:
        """The market's suffixes, made again when the market's spec was replaced."""
        spec = self.markets[market]
        tails = self._tails.get(market)
        if tails is None or tails.spec is not spec:
            tails = self._tails[market] = _order_tails(spec)
        return tails

    def rows(self, journal: Journal, persisted_below: int) -> BatchRows:
        """Everything in ``journal`` as rows; orders with id < ``persisted_below`` exist."""
        currencies, markets = self.currencies, self.markets
        rows = BatchRows(last_seq=journal.commands[-1][0] if journal.commands else 0)
        rows.journal = journal
        seqs, keys, kinds = rows.seqs, rows.keys, rows.kinds
        payloads, snapshots, times, results = (
            rows.payloads,
            rows.snapshots,
            rows.times,
            rows.results,
        )
        for seq, command, result, ts in journal.commands:
            snapshot = result.freeze()
            results.append(result)
            seqs.append(seq)
            keys.append(command.key)
            kinds.append(command.kind)
            payloads.append(dump_json(command_payload(command)))
            snapshots.append(dump_json(snapshot))
            times.append(ts)
        tails_of = self._tails_of
        for order in journal.orders.values():
            tails = tails_of(order.market)
            amount_t = tails.amount
            if order.side == BUY:
                locked_t, received_t = tails.buy_locked, tails.buy_received
            else:
                locked_t, received_t = tails.sell_locked, tails.sell_received
            if order.id >= persisted_below:
                price_t = tails.price
                rows.new_orders.append(
                    (
                        order.id,
                        order_uuid(order.id),
                        order.member_id,
                        order.market,
                        order.side,
                        order.ord_type,
                        order.time_in_force,
                        order.post_only,
                        order.client_id,
                        f"{order.price}{price_t}" if order.price else None,
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
                        order.created_at,
                        order.updated_at,
                        f"{order.trigger_price}{price_t}" if order.trigger_price else None,
                        order.trigger_condition or None,
                        order.oco_id,
                        order.stp or None,
                        order.priority or None,
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
                        order.updated_at,
                        f"{order.origin_volume}{amount_t}",
                        f"{order.origin_locked}{locked_t}",
                        order.priority or None,
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
                    trade.created_at,
                )
            )
            postings.extend(trade_postings(trade, spec))
        suffix = {code: f"e-{cur.precision}" for code, cur in currencies.items()}
        append = rows.operations.append
        # Postings come in runs on one reference (an order's lock and unlock, a trade's
        # legs): its text is made once per run.
        last_ref: int | str = ""
        ref_text = ""
        for seq, code, currency, member, ref_type, ref_id, debit, credit, _ in postings:
            tail = suffix[currency]
            if ref_id != last_ref:
                last_ref, ref_text = ref_id, str(ref_id)
            append(
                (
                    seq,
                    code,
                    currency,
                    member,
                    ref_type,
                    ref_text,
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
                    hold.updated_at,
                ]
            )
        self._configuration(journal, rows)
        return rows

    def _configuration(self, journal: Journal, rows: BatchRows) -> None:
        """Currencies, markets, trading fees and member groups the batch configured."""
        for command, ts in journal.currencies.values():
            rows.currencies.append(currency_row(command, ts))
        for command, ts in journal.markets.values():
            price_t, amount_t = f"e-{command.price_precision}", f"e-{command.amount_precision}"
            rows.markets.append(
                [
                    command.market,
                    command.type,
                    command.base,
                    command.quote,
                    command.amount_precision,
                    command.price_precision,
                    f"{command.min_price}{price_t}",
                    f"{command.max_price}{price_t}",
                    f"{command.min_amount}{amount_t}",
                    f"{command.maker_fee}e-6",
                    f"{command.taker_fee}e-6",
                    command.position,
                    command.state,
                    ts,
                ]
            )
        ts = journal.commands[-1][3] if journal.commands else 0
        for (market, group), fee in journal.fees.items():
            if fee is None:
                rows.removed_fees.append([market, group])
            else:
                rows.fees.append([market, group, f"{fee[0]}e-6", f"{fee[1]}e-6", ts])
        for member_id, group in journal.groups.items():
            rows.groups.append([member_id, group, ts])


# The ``currencies`` columns a ``ConfigureCurrency`` writes, in ``currency_row``'s order.
CURRENCY_COLUMNS = (
    "id",
    "type",
    "precision",
    "name",
    "description",
    "homepage",
    "icon_url",
    "state",
    "position",
    "blockchain_key",
    "deposit_fee",
    "min_deposit_amount",
    "withdraw_fee",
    "min_withdraw_amount",
    "withdraw_limit_24h",
    "withdraw_limit_72h",
    "deposit_enabled",
    "withdrawal_enabled",
    "min_confirmations",
    "options",
    "created_at",
    "updated_at",
)


def currency_row(command: ConfigureCurrency, ts: int) -> list[Any]:
    """A ``ConfigureCurrency``'s whole ``currencies`` row (``CURRENCY_COLUMNS``)."""
    places = command.precision
    return [
        command.code,
        command.type,
        places,
        command.name or command.code.upper(),
        command.description,
        command.homepage,
        command.icon_url,
        command.state,
        command.position,
        command.blockchain_key,
        _dec(command.deposit_fee, places),
        _dec(command.min_deposit_amount, places),
        _dec(command.withdraw_fee, places),
        _dec(command.min_withdraw_amount, places),
        _dec(command.withdraw_limit_24h, places),
        _dec(command.withdraw_limit_72h, places),
        command.deposit_enabled,
        command.withdrawal_enabled,
        command.min_confirmations,
        dump_json(command.options),  # as text, as the log's payloads: any integer
        ts,  # kept only when the row is new
        ts,
    ]


def document(rows: list[Any]) -> str:
    """A table's rows as one JSON array of arrays: amounts are exact strings, times integer
    microseconds, nested JSON already text, so every number fits orjson's 64 bits."""
    return orjson.dumps(rows).decode()
