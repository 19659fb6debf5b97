"""The engine's outbox rows: a batch stored compactly, expanded into Peatio's events by
the relay.

The batch statement (``bursa.engine.persistence``) stores in ``event_outbox.events``
an object ``{"engine": {...}}`` whose members are the JSON texts the statement already
received as parameters (new orders, changed orders, trades, accounts), the one thing only
the statement knows (each changed order's amounts before the batch) and the column names
of each: strings, which PostgreSQL stores without taking them apart, so the events cost
the commit almost nothing, and they exist if and only if the batch committed.

Here they become Peatio's market events (``market.<m>.order_created`` /
``order_updated`` / ``order_canceled`` / ``order_completed`` / ``trade_completed``) and
Bursa's ``model.account.updated``, in a fixed order (orders by id, an order's creation
before its change, then trades by id, then accounts by member and currency), so an
event's index — part of its id — is the same every time the row is expanded.

A batch is the unit: an order created and filled in one batch gives ``order_created``
then one ``order_completed`` (Peatio would also send an ``order_updated`` per trade).
Amounts are decimal strings; members are named by uid (a user's, or a service
account's for members from ``1 << 40``, as ``bursa.identity.directory`` maps them).
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

import asyncpg
import orjson

ENGINE = "engine"  # the key of an engine row's object (identity rows hold a list)
SERVICE_ACCOUNT_MEMBERS = 1 << 40  # bursa.identity.directory's mapping, restated
_EXACT = Context(prec=200)  # products of stored amounts, never rounded
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ORDER_COLUMNS = (
    "member_id, market_id, side, ord_type, price, origin_volume, origin_locked,"
    " maker_fee, taker_fee, created_at"
)

Document = dict[str, Any]


def is_engine_row(stored: Any) -> bool:
    return isinstance(stored, dict) and ENGINE in stored


def amount(value: Any) -> str:
    """A decimal as PostgreSQL's ``trim_scale(x)::text``: no exponent, no trailing zeros."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    return f"{number.normalize(_EXACT):f}"


def moment(value: int | datetime) -> str:
    """A time (microseconds since the epoch, or a datetime) as PostgreSQL writes a
    ``timestamptz`` into JSON in UTC: ``2026-01-02T03:04:05.5+00:00``."""
    if isinstance(value, datetime):
        delta = value - _EPOCH
        value = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds, micros = divmod(value, 1_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if micros:
        text += "." + f"{micros:06d}".rstrip("0")
    return text + "+00:00"


class Directory:
    """Uids by member id and units by market, cached: neither ever changes."""

    def __init__(self) -> None:
        self._uids: dict[int, str] = {}
        self._units: dict[str, tuple[str, str]] = {}

    async def uids(self, conn: asyncpg.Connection, members: Iterable[int]) -> dict[int, str]:
        missing = {m for m in members if m not in self._uids}
        if missing:
            people = [m for m in missing if m < SERVICE_ACCOUNT_MEMBERS]
            machines = [
                m - SERVICE_ACCOUNT_MEMBERS for m in missing if m >= SERVICE_ACCOUNT_MEMBERS
            ]
            for row in await conn.fetch(
                "SELECT id, uid FROM users WHERE id = ANY($1::bigint[])"
                " UNION ALL SELECT id + $3, uid FROM service_accounts"
                " WHERE id = ANY($2::bigint[])",
                people,
                machines,
                SERVICE_ACCOUNT_MEMBERS,
            ):
                self._uids[row["id"]] = row["uid"]
        return self._uids

    async def units(
        self, conn: asyncpg.Connection, markets: Iterable[str]
    ) -> dict[str, tuple[str, str]]:
        missing = {m for m in markets if m not in self._units}
        if missing:
            for row in await conn.fetch(
                "SELECT id, base_unit, quote_unit FROM markets WHERE id = ANY($1::text[])",
                list(missing),
            ):
                self._units[row["id"]] = (row["base_unit"], row["quote_unit"])
        return self._units


async def documents_of(
    conn: asyncpg.Connection, stored: Any, directory: Directory
) -> list[Mapping[str, Any]]:
    """The events of an outbox row as ``{"app", "name", "record", "changes"?}``: a list
    as stored (identity's rows), or an engine batch expanded."""
    if is_engine_row(stored):
        return await expand(conn, stored[ENGINE], directory)
    documents: list[Mapping[str, Any]] = stored
    return documents


def _table(batch: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """The rows of one parameter as dicts by column name."""
    columns: Sequence[str] = batch["columns"][name]
    return [dict(zip(columns, row, strict=True)) for row in orjson.loads(batch[name])]


async def expand(
    conn: asyncpg.Connection, batch: Mapping[str, Any], directory: Directory
) -> list[Mapping[str, Any]]:
    """Peatio's events of an engine batch (see the module's docstring)."""
    new_orders = [o for o in _table(batch, "new_orders") if o["ord_type"] == "limit"]
    previous = {row[0]: (row[1], row[2]) for row in orjson.loads(batch["previous"] or "[]")}
    changed = _table(batch, "changed_orders")
    placed: dict[int, Mapping[str, Any]] = {}
    if changed:
        for row in await conn.fetch(
            f"SELECT id, {_ORDER_COLUMNS} FROM orders WHERE id = ANY($1::bigint[])",
            [o["id"] for o in changed],
        ):
            placed[row["id"]] = row
    changed = [
        {**o, **placed[o["id"]]}
        for o in changed
        if o["id"] in placed and placed[o["id"]]["ord_type"] == "limit"
    ]
    trades = _table(batch, "trades")
    accounts = _table(batch, "accounts")
    members = [o["member_id"] for o in new_orders + changed]
    members += [t["maker_id"] for t in trades] + [t["taker_id"] for t in trades]
    members += [a["member_id"] for a in accounts]
    uids = await directory.uids(conn, members)
    units = await directory.units(
        conn, [o["market_id"] for o in new_orders + changed] + [t["market_id"] for t in trades]
    )

    order_events: list[tuple[int, int, Document]] = []
    for o in new_orders:
        unit = units[o["market_id"]]
        order_events.append((o["id"], 0, _order_event(o, unit, uids, created=True)))
        if o["state"] != "wait" or o["trades_count"] > 0:
            change = _order_event(o, unit, uids, previous=(o["origin_volume"], o["origin_locked"]))
            order_events.append((o["id"], 1, change))
    for o in changed:
        before = previous[o["id"]]
        order_events.append(
            (o["id"], 1, _order_event(o, units[o["market_id"]], uids, previous=before))
        )
    order_events.sort(key=lambda e: (e[0], e[1]))
    events: list[Mapping[str, Any]] = [e[2] for e in order_events]
    events += [
        _trade_event(t, units[t["market_id"]], uids) for t in sorted(trades, key=lambda t: t["id"])
    ]
    for a in sorted(accounts, key=lambda a: (a["member_id"], a["currency_id"])):
        record = {
            "uid": uids.get(a["member_id"]),
            "member_id": a["member_id"],
            "currency": a["currency_id"],
            "balance": amount(a["balance"]),
            "locked": amount(a["locked"]),
        }
        events.append(_event("model.account.updated", record))
    return events


def _event(name: str, record: dict[str, Any]) -> Document:
    return {
        "app": "peatio",
        "name": name,
        "record": {k: v for k, v in record.items() if v is not None},
    }


_STATES = {"done": "completed", "cancel": "canceled"}


def _order_event(
    o: Mapping[str, Any],
    unit: tuple[str, str],
    uids: Mapping[int, str],
    *,
    created: bool = False,
    previous: tuple[Any, Any] | None = None,
) -> Document:
    """Peatio's order event: as placed (``created``), or as the batch left it, with its
    amounts before (``previous``)."""
    buy = o["side"] == "buy"
    base, quote = unit
    price = Decimal(o["price"]) if o["price"] is not None else None
    origin_volume = Decimal(o["origin_volume"])
    volume = origin_volume if created else Decimal(o["volume"])
    locked = Decimal(o["origin_locked"] if created else o["locked"])

    def income(v: Decimal) -> str | None:
        if buy:
            return amount(v)
        return None if price is None else amount(_EXACT.multiply(v, price))

    state = "open" if created else _STATES.get(o["state"], "open")
    record: dict[str, Any] = {
        "id": o["id"],
        "market": o["market_id"],
        "type": o["side"],
        "trader_uid": uids.get(o["member_id"]),
        "income_unit": base if buy else quote,
        "income_fee_type": "relative",
        "income_maker_fee_value": amount(o["maker_fee"]),
        "income_taker_fee_value": amount(o["taker_fee"]),
        "outcome_unit": quote if buy else base,
        "outcome_fee_type": "relative",
        "outcome_fee_value": "0.0",
        "initial_income_amount": income(origin_volume),
        "current_income_amount": income(volume),
        "initial_outcome_amount": amount(o["origin_locked"] if buy else origin_volume),
        "current_outcome_amount": amount(locked if buy else volume),
        "strategy": o["ord_type"],
        "price": None if price is None else amount(price),
        "state": state,
        "trades_count": 0 if created else o["trades_count"],
        "created_at": moment(o["created_at"]),
    }
    if created:
        return _event(f"market.{o['market_id']}.order_created", record)
    assert previous is not None
    previous_volume = Decimal(previous[0])
    updated = moment(o["updated_at"])
    record |= {
        "previous_income_amount": income(previous_volume),
        "previous_outcome_amount": amount(previous[1] if buy else previous_volume),
        "updated_at": updated,
        "completed_at": updated if o["state"] == "done" else None,
        "canceled_at": updated if o["state"] == "cancel" else None,
    }
    name = {"done": "order_completed", "cancel": "order_canceled"}.get(o["state"], "order_updated")
    return _event(f"market.{o['market_id']}.{name}", record)


def _trade_event(t: Mapping[str, Any], unit: tuple[str, str], uids: Mapping[int, str]) -> Document:
    """``trade_completed``: the maker's and the taker's sides (the buyer pays the fee in
    base, the seller in quote; income amounts are before the fee)."""
    base, quote = unit
    record: dict[str, Any] = {
        "id": t["id"],
        "market": t["market_id"],
        "price": amount(t["price"]),
        "amount": amount(t["amount"]),
        "total": amount(t["total"]),
        "completed_at": moment(t["created_at"]),
    }
    taker_buys = t["taker_type"] == "buy"
    for who, buys in (("maker", not taker_buys), ("taker", taker_buys)):
        record |= {
            f"{who}_uid": uids.get(t[f"{who}_id"]),
            f"{who}_income_unit": base if buys else quote,
            f"{who}_income_amount": amount(t["amount"] if buys else t["total"]),
            f"{who}_income_fee": amount(t[f"{who}_fee_amount"]),
            f"{who}_outcome_unit": quote if buys else base,
            f"{who}_outcome_amount": amount(t["total"] if buys else t["amount"]),
            f"{who}_outcome_fee": "0.0",
        }
    return _event(f"market.{t['market_id']}.trade_completed", record)
