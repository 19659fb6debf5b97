"""The Event API events of an engine batch, built in SQL inside the batch's statement.

The batch statement (``persistence.WRITE_BATCH``) ends with one more data-modifying CTE
that turns what the other CTEs wrote (their ``RETURNING`` rows) into Peatio's market
events and Bursa's ``model.account.updated``, and inserts them as ONE ``event_outbox`` row
(a JSON array): the events exist if and only if the batch committed, and the engine's
Python side does no extra work per order or trade.

A batch is the unit: an order created and filled in one batch gives ``order_created``
then one ``order_completed`` (Peatio would also send an ``order_updated`` per trade).
Amounts are decimal strings; members are named by uid (a user's, or a service
account's for members from ``1 << 40``, as ``bursa.identity.directory`` maps them).
"""

SERVICE_ACCOUNT_MEMBERS = 1 << 40  # bursa.identity.directory's mapping, restated in SQL


def uid_of(member: str) -> str:
    return (
        f"CASE WHEN {member} < {SERVICE_ACCOUNT_MEMBERS}"
        f" THEN (SELECT uid FROM users WHERE id = {member})"
        f" ELSE (SELECT uid FROM service_accounts"
        f" WHERE id = {member} - {SERVICE_ACCOUNT_MEMBERS}) END"
    )


def _amount(value: str) -> str:
    return f"trim_scale({value})::text"


def _order_fields(o: str, m: str, *, created: bool) -> list[tuple[str, str]]:
    """Peatio's order event fields of row ``o`` (market row ``m``); ``created`` shows the
    order as placed (current amounts = initial ones)."""
    buy = f"{o}.side = 'buy'"
    volume = f"{o}.origin_volume" if created else f"{o}.volume"
    locked = f"{o}.origin_locked" if created else f"{o}.locked"
    state = (
        "'open'"
        if created
        else f"CASE {o}.state WHEN 'done' THEN 'completed' WHEN 'cancel' THEN 'canceled'"
        " ELSE 'open' END"
    )
    return [
        ("id", f"{o}.id"),
        ("market", f"{o}.market_id"),
        ("type", f"{o}.side"),
        ("trader_uid", uid_of(f"{o}.member_id")),
        ("income_unit", f"CASE WHEN {buy} THEN {m}.base_unit ELSE {m}.quote_unit END"),
        ("income_fee_type", "'relative'"),
        ("income_maker_fee_value", _amount(f"{o}.maker_fee")),
        ("income_taker_fee_value", _amount(f"{o}.taker_fee")),
        ("outcome_unit", f"CASE WHEN {buy} THEN {m}.quote_unit ELSE {m}.base_unit END"),
        ("outcome_fee_type", "'relative'"),
        ("outcome_fee_value", "'0.0'"),
        (
            "initial_income_amount",
            _amount(
                f"CASE WHEN {buy} THEN {o}.origin_volume ELSE {o}.origin_volume * {o}.price END"
            ),
        ),
        (
            "current_income_amount",
            _amount(f"CASE WHEN {buy} THEN {volume} ELSE {volume} * {o}.price END"),
        ),
        (
            "initial_outcome_amount",
            _amount(f"CASE WHEN {buy} THEN {o}.origin_locked ELSE {o}.origin_volume END"),
        ),
        ("current_outcome_amount", _amount(f"CASE WHEN {buy} THEN {locked} ELSE {volume} END")),
        ("strategy", f"{o}.ord_type"),
        ("price", _amount(f"{o}.price")),
        ("state", state),
        ("trades_count", "0" if created else f"{o}.trades_count"),
        ("created_at", f"{o}.created_at"),
    ]


def _change_fields(o: str, previous_volume: str, previous_locked: str) -> list[tuple[str, str]]:
    """What ``order_updated`` / ``completed`` / ``canceled`` add: previous amounts, time."""
    buy = f"{o}.side = 'buy'"
    return [
        (
            "previous_income_amount",
            _amount(
                f"CASE WHEN {buy} THEN {previous_volume} ELSE {previous_volume} * {o}.price END"
            ),
        ),
        (
            "previous_outcome_amount",
            _amount(f"CASE WHEN {buy} THEN {previous_locked} ELSE {previous_volume} END"),
        ),
        ("updated_at", f"{o}.updated_at"),
        ("completed_at", f"CASE WHEN {o}.state = 'done' THEN {o}.updated_at END"),
        ("canceled_at", f"CASE WHEN {o}.state = 'cancel' THEN {o}.updated_at END"),
    ]


# ``json`` (text) rather than ``jsonb`` while building: only the batch's one array is
# parsed into the column, which halved what the events cost the engine.
def _object(fields: list[tuple[str, str]]) -> str:
    pairs = ", ".join(f"'{name}', {value}" for name, value in fields)
    return f"json_strip_nulls(json_build_object({pairs}))"


def _event(name: str, record: str) -> str:
    return f"json_build_object('app', 'peatio', 'name', {name}, 'record', {record})"


def _change_name(o: str) -> str:
    return (
        f"'market.' || {o}.market_id || CASE {o}.state WHEN 'done' THEN '.order_completed'"
        " WHEN 'cancel' THEN '.order_canceled' ELSE '.order_updated' END"
    )


def _trade_fields(t: str, m: str) -> list[tuple[str, str]]:
    """``trade_completed``: the maker's and the taker's sides (the buyer pays the fee in
    base, the seller in quote; income amounts are before the fee)."""
    fields = [
        ("id", f"{t}.id"),
        ("market", f"{t}.market_id"),
        ("price", _amount(f"{t}.price")),
        ("amount", _amount(f"{t}.amount")),
        ("total", _amount(f"{t}.total")),
        ("completed_at", f"{t}.created_at"),
    ]
    for who, member, fee, buys in (
        ("maker", f"{t}.maker_id", f"{t}.maker_fee_amount", f"{t}.taker_type <> 'buy'"),
        ("taker", f"{t}.taker_id", f"{t}.taker_fee_amount", f"{t}.taker_type = 'buy'"),
    ):
        fields += [
            (f"{who}_uid", uid_of(member)),
            (f"{who}_income_unit", f"CASE WHEN {buys} THEN {m}.base_unit ELSE {m}.quote_unit END"),
            (
                f"{who}_income_amount",
                _amount(f"CASE WHEN {buys} THEN {t}.amount ELSE {t}.total END"),
            ),
            (f"{who}_income_fee", _amount(fee)),
            (
                f"{who}_outcome_unit",
                f"CASE WHEN {buys} THEN {m}.quote_unit ELSE {m}.base_unit END",
            ),
            (
                f"{who}_outcome_amount",
                _amount(f"CASE WHEN {buys} THEN {t}.total ELSE {t}.amount END"),
            ),
            (f"{who}_outcome_fee", "'0.0'"),
        ]
    return fields


def events_cte() -> str:
    """The CTE (``batch_events``) that writes the batch's events; it reads the CTEs
    ``new_orders``, ``changed_orders`` (with ``previous_volume``, ``previous_locked``),
    ``new_trades`` and ``changed_accounts`` of the batch statement."""
    created = _event(
        "'market.' || n.market_id || '.order_created'",
        _object(_order_fields("n", "m", created=True)),
    )
    new_changed = _event(
        _change_name("n"),
        _object(
            _order_fields("n", "m", created=False)
            + _change_fields("n", "n.origin_volume", "n.origin_locked")
        ),
    )
    changed = _event(
        _change_name("c"),
        _object(
            _order_fields("c", "m", created=False)
            + _change_fields("c", "c.previous_volume", "c.previous_locked")
        ),
    )
    trade = _event(
        "'market.' || t.market_id || '.trade_completed'", _object(_trade_fields("t", "m"))
    )
    account = _event(
        "'model.account.updated'",
        _object(
            [
                ("uid", uid_of("a.member_id")),
                ("member_id", "a.member_id"),
                ("currency", "a.currency_id"),
                ("balance", _amount("a.balance")),
                ("locked", _amount("a.locked")),
            ]
        ),
    )
    return f"""batch_events AS (
    INSERT INTO event_outbox (events)
    SELECT json_agg(e.event ORDER BY e.part, e.id, e.step)::jsonb FROM (
        SELECT 1 AS part, n.id, 0 AS step, {created} AS event
        FROM new_orders AS n JOIN markets AS m ON m.id = n.market_id
        WHERE n.ord_type = 'limit'
        UNION ALL
        SELECT 1, n.id, 1, {new_changed}
        FROM new_orders AS n JOIN markets AS m ON m.id = n.market_id
        WHERE n.ord_type = 'limit' AND (n.state <> 'wait' OR n.trades_count > 0)
        UNION ALL
        SELECT 1, c.id, 1, {changed}
        FROM changed_orders AS c JOIN markets AS m ON m.id = c.market_id
        WHERE c.ord_type = 'limit'
        UNION ALL
        SELECT 2, t.id, 0, {trade}
        FROM new_trades AS t JOIN markets AS m ON m.id = t.market_id
        UNION ALL
        SELECT 3, a.member_id, 0, {account}
        FROM changed_accounts AS a
    ) AS e
    HAVING count(*) > 0
)"""
