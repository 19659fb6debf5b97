"""Bursa's Grafana dashboards, as code: the exchange overview, the engine, the API (with
its websockets), custody and the Event API.

Each dashboard is a list of panels, each panel a title and its PromQL queries on the
metric names of ``bursa.metrics`` (the contract every process exports). The generated JSON
in ``dashboards/`` is committed so Grafana provisions it as is (``provisioning/``);
``tests/deploy/test_dashboards.py`` checks that it matches this file and that every
panel's query returns data from a real Prometheus scraping a running Bursa.

    .venv/bin/python deploy/grafana/dashboards.py          # rewrite dashboards/*.json
    .venv/bin/python deploy/grafana/dashboards.py --check  # exit 1 when they are stale
"""

import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from grafana_foundation_sdk.builders import common, prometheus, stat, timeseries
from grafana_foundation_sdk.builders import dashboard as grafana
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "dashboards"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"  # Grafana's window for rate(): at least four scrapes
FINAL_WITHDRAWAL_STATES = "succeed|rejected|canceled|failed"
ORDER_ENTRY = 'method="POST", route="/api/v2/peatio/market/orders"'
ORDER_CANCEL = 'method="POST", route="/api/v2/peatio/market/orders/{id}/cancel"'

Kind = Literal["timeseries", "stat"]


@dataclass(frozen=True, slots=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True, slots=True)
class Panel:
    """One chart. ``red_from``: a stat turns red at or above this value (``red_below``:
    below it), for the figures an operator must see at a glance."""

    title: str
    description: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: Kind = "timeseries"
    width: int = 8
    red_from: float | None = None
    red_below: float | None = None


@dataclass(frozen=True, slots=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True, slots=True)
class Dashboard:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    tags: tuple[str, ...] = field(default=("bursa",))

    def panels(self) -> list[Panel]:
        return [panel for row in self.rows for panel in row.panels]


def rate(metric: str, selector: str = "") -> str:
    braces = "{" + selector + "}" if selector else ""
    return f"rate({metric}{braces}[{RATE}])"


def quantile(q: float, histogram: str, selector: str = "", by: str = "") -> Query:
    """The ``q`` quantile of a histogram over the rate window, per ``by`` labels."""
    labels = f"le, {by}" if by else "le"
    expr = f"histogram_quantile({q}, sum by ({labels}) ({rate(histogram + '_bucket', selector)}))"
    legend = " ".join([f"p{q * 100:g}"] + ["{{" + b.strip() + "}}" for b in by.split(",") if by])
    return Query(expr, legend)


def share_5xx() -> Query:
    """5xx answers over all answers; 0 (not "no data") while nothing failed."""
    five_hundreds = rate("bursa_http_requests_total", 'status=~"5.."')
    failed = f"sum({five_hundreds})"
    every = f"sum({rate('bursa_http_requests_total')})"
    return Query(f"({failed} or vector(0)) / {every}", "5xx share")


# ---------------------------------------------------------------- shared panels

ACTIVE_ENGINES = Panel(
    "Active engines",
    "Engines holding the advisory lock: exactly 1 (0: trading stopped).",
    (Query("sum(bursa_engine_active)", "active"),),
    kind="stat",
    width=4,
    red_below=1,
)
STANDBY_ENGINES = Panel(
    "Standby engines",
    "Engines waiting for the lock, ready to take over (0 in the all-in-one `bursa up`).",
    (Query("count(bursa_engine_active) - sum(bursa_engine_active)", "standby"),),
    kind="stat",
    width=4,
)
OLDEST_EVENT = Panel(
    "Oldest unpublished event",
    "Age of the oldest outbox row not yet confirmed by RabbitMQ; alert over 60 s.",
    (Query("max(bursa_outbox_oldest_age_seconds)", "age"),),
    unit="s",
    kind="stat",
    width=4,
    red_from=60,
)
ORDER_LATENCY = Panel(
    "Order placement latency",
    "POST /market/orders, request to answer; the target is p99 under 50 ms.",
    (
        quantile(0.5, "bursa_http_request_seconds", ORDER_ENTRY),
        quantile(0.99, "bursa_http_request_seconds", ORDER_ENTRY),
    ),
    unit="s",
)
WITHDRAWALS_WAITING = Panel(
    "Oldest waiting withdrawal, by state",
    "How long the oldest withdrawal in each non-final state has waited; alert over 1 h.",
    (
        Query(
            "max by (state) (bursa_withdrawal_oldest_age_seconds"
            f'{{state!~"{FINAL_WITHDRAWAL_STATES}"}})',
            "{{state}}",
        ),
    ),
    unit="s",
)
BLOCKS_BEHIND = Panel(
    "Blocks behind the node",
    "Node height minus the next block to scan, per blockchain; alert over 20.",
    (Query("max by (blockchain) (bursa_chain_blocks_behind)", "{{blockchain}}"),),
)
HOT_WALLET_FILL = Panel(
    "Hot wallet fill",
    "Balance over its configured max_balance: under 10% withdrawals starve, over 100% "
    "too much is online.",
    (
        Query(
            "max by (wallet, currency) (bursa_hot_wallet_balance)"
            " / max by (wallet, currency) (bursa_hot_wallet_max_balance)",
            "{{wallet}} {{currency}}",
        ),
    ),
    unit="percentunit",
)

# ---------------------------------------------------------------- the dashboards

OVERVIEW = Dashboard(
    "bursa-overview",
    "Bursa — exchange overview",
    "Is the exchange up, trading, publishing and safe: the figures the alerts watch.",
    (
        Row(
            "Health",
            (
                ACTIVE_ENGINES,
                STANDBY_ENGINES,
                Panel(
                    "Ledger verified",
                    "1 when the last `bursa ledger verify` balanced, 0 when it found a break.",
                    (Query("min(bursa_ledger_last_verify_ok)", "ok"),),
                    kind="stat",
                    width=4,
                    red_below=1,
                ),
                Panel(
                    "Since the last ledger verification",
                    "Alert past 26 hours.",
                    (
                        Query(
                            "time() - max(bursa_ledger_last_verify_timestamp_seconds)",
                            "since",
                        ),
                    ),
                    unit="s",
                    kind="stat",
                    width=4,
                    red_from=26 * 3600,
                ),
                OLDEST_EVENT,
                Panel(
                    "Processes up, by role",
                    "Processes running each role (bursa_role_up).",
                    (Query("sum by (role) (bursa_role_up)", "{{role}}"),),
                    kind="stat",
                    width=4,
                ),
            ),
        ),
        Row(
            "Traffic",
            (
                Panel(
                    "Engine commands, by result",
                    "Commands the engine committed per second: ok, refused, duplicate.",
                    (
                        Query(
                            f"sum by (result) ({rate('bursa_engine_commands_total')})",
                            "{{result}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "API requests, by status",
                    "Requests per second answered with each HTTP status.",
                    (
                        Query(
                            f"sum by (status) ({rate('bursa_http_requests_total')})",
                            "{{status}}",
                        ),
                    ),
                    unit="reqps",
                ),
                Panel(
                    "API 5xx share",
                    "Share of requests answered 5xx; alert over 1%.",
                    (share_5xx(),),
                    unit="percentunit",
                ),
                ORDER_LATENCY,
                Panel(
                    "Websocket connections",
                    "Open Ranger connections, public and private.",
                    (Query("sum by (kind) (bursa_ws_connections)", "{{kind}}"),),
                ),
            ),
        ),
        Row(
            "Custody",
            (BLOCKS_BEHIND, HOT_WALLET_FILL, WITHDRAWALS_WAITING),
        ),
        Row(
            "Workers",
            (
                Panel(
                    "Mails sent and failed",
                    "The event mailer's deliveries per second.",
                    (
                        Query(f"sum({rate('bursa_mails_sent_total')})", "sent"),
                        Query(f"sum({rate('bursa_mail_failures_total')})", "failed"),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Bots halted",
                    "1 for each strategy stopped by its daily loss limit or kill switch.",
                    (Query("max by (strategy) (bursa_bot_halted)", "{{strategy}}"),),
                ),
                Panel(
                    "Bot errors",
                    "Errors per second of each running strategy.",
                    (
                        Query(
                            f"sum by (strategy) ({rate('bursa_bot_errors_total')})",
                            "{{strategy}}",
                        ),
                    ),
                    unit="ops",
                ),
            ),
        ),
    ),
)

ENGINE = Dashboard(
    "bursa-engine",
    "Bursa — matching engine",
    "The one writer of money: its lock, throughput, batches and latencies.",
    (
        Row(
            "State",
            (
                ACTIVE_ENGINES,
                STANDBY_ENGINES,
                Panel(
                    "Last committed sequence",
                    "The engine's sequence after its last committed batch.",
                    (Query("max(bursa_engine_sequence)", "sequence"),),
                    kind="stat",
                    width=4,
                ),
                Panel(
                    "Since the last commit",
                    "Seconds since the active engine last committed a batch.",
                    (
                        Query(
                            "time() - max(bursa_engine_last_commit_timestamp_seconds)",
                            "since",
                        ),
                    ),
                    unit="s",
                    kind="stat",
                    width=4,
                ),
                Panel(
                    "Inbox queue depth",
                    "Commands waiting for the next batch.",
                    (Query("max(bursa_engine_queue_depth)", "waiting"),),
                    kind="stat",
                    width=4,
                ),
                Panel(
                    "Lock, per process",
                    "1 for the process holding the lock, 0 for standbys.",
                    (Query("max by (instance) (bursa_engine_active)", "{{instance}}"),),
                    kind="stat",
                    width=4,
                ),
            ),
        ),
        Row(
            "Throughput",
            (
                Panel(
                    "Commands, by kind",
                    "Commands committed per second, by kind.",
                    (
                        Query(
                            f"sum by (kind) ({rate('bursa_engine_commands_total')})",
                            "{{kind}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Commands, by result",
                    "ok, refused (an engine error answer), duplicate (an idempotent replay).",
                    (
                        Query(
                            f"sum by (result) ({rate('bursa_engine_commands_total')})",
                            "{{result}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Batches committed",
                    "Batches written and committed per second.",
                    (Query(f"sum({rate('bursa_engine_batch_size_count')})", "batches"),),
                    unit="ops",
                ),
                Panel(
                    "Batch size",
                    "Commands per committed batch: bigger batches under load.",
                    (
                        quantile(0.5, "bursa_engine_batch_size"),
                        quantile(0.99, "bursa_engine_batch_size"),
                        Query(
                            f"sum({rate('bursa_engine_batch_size_sum')})"
                            f" / sum({rate('bursa_engine_batch_size_count')})",
                            "mean",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Latency",
            (
                Panel(
                    "Commit latency",
                    "Time to write and commit one batch.",
                    (
                        quantile(0.5, "bursa_engine_commit_seconds"),
                        quantile(0.99, "bursa_engine_commit_seconds"),
                    ),
                    unit="s",
                ),
                Panel(
                    "Command latency",
                    "Submit to committed answer, per command (queueing included).",
                    (
                        quantile(0.5, "bursa_engine_command_seconds"),
                        quantile(0.99, "bursa_engine_command_seconds"),
                    ),
                    unit="s",
                ),
                Panel(
                    "API commands timed out",
                    "Commands the API sent and got no answer for in time (answered 503).",
                    (Query(f"sum({rate('bursa_engine_client_timeouts_total')})", "timeouts"),),
                    unit="ops",
                ),
            ),
        ),
    ),
)

API = Dashboard(
    "bursa-api",
    "Bursa — API and websockets",
    "HTTP by route template and status, latency, rate limits, and Ranger's websockets.",
    (
        Row(
            "HTTP",
            (
                Panel(
                    "Requests, by route",
                    "Requests per second by method and route template.",
                    (
                        Query(
                            f"sum by (method, route) ({rate('bursa_http_requests_total')})",
                            "{{method}} {{route}}",
                        ),
                    ),
                    unit="reqps",
                    width=12,
                ),
                Panel(
                    "Requests, by status",
                    "Requests per second by HTTP status.",
                    (
                        Query(
                            f"sum by (status) ({rate('bursa_http_requests_total')})",
                            "{{status}}",
                        ),
                    ),
                    unit="reqps",
                    width=12,
                ),
                Panel(
                    "5xx share",
                    "Share of requests answered 5xx; alert over 1%.",
                    (share_5xx(),),
                    unit="percentunit",
                ),
                Panel(
                    "In-flight requests",
                    "Requests being served right now, all replicas.",
                    (Query("sum(bursa_http_in_flight)", "in flight"),),
                ),
                Panel(
                    "Rate-limit refusals, by scope",
                    "Requests refused by a rate limit, per second, by limiter.",
                    (
                        Query(
                            f"sum by (scope) ({rate('bursa_rate_limit_refusals_total')})",
                            "{{scope}}",
                        ),
                    ),
                    unit="reqps",
                ),
            ),
        ),
        Row(
            "Latency",
            (
                ORDER_LATENCY,
                Panel(
                    "Order cancellation latency",
                    "POST /market/orders/{id}/cancel, request to answer.",
                    (
                        quantile(0.5, "bursa_http_request_seconds", ORDER_CANCEL),
                        quantile(0.99, "bursa_http_request_seconds", ORDER_CANCEL),
                    ),
                    unit="s",
                ),
                Panel(
                    "p99 latency, by route",
                    "The slowest 1% of each route template.",
                    (quantile(0.99, "bursa_http_request_seconds", by="method, route"),),
                    unit="s",
                ),
                Panel(
                    "Engine timeouts",
                    "Commands the engine did not answer in time (answered 503).",
                    (Query(f"sum({rate('bursa_engine_client_timeouts_total')})", "timeouts"),),
                    unit="ops",
                ),
            ),
        ),
        Row(
            "Websockets",
            (
                Panel(
                    "Connections, by kind",
                    "Open Ranger connections, public and private.",
                    (Query("sum by (kind) (bursa_ws_connections)", "{{kind}}"),),
                ),
                Panel(
                    "Subscriptions",
                    "Streams subscribed over all connections.",
                    (Query("sum(bursa_ws_subscriptions)", "streams"),),
                ),
                Panel(
                    "Messages sent",
                    "Websocket messages sent per second.",
                    (Query(f"sum({rate('bursa_ws_messages_sent_total')})", "messages"),),
                    unit="ops",
                ),
                Panel(
                    "Slow clients dropped and resyncs",
                    "Clients cut off for not reading, and order-book resyncs sent.",
                    (
                        Query(f"sum({rate('bursa_ws_slow_client_drops_total')})", "dropped"),
                        Query(f"sum({rate('bursa_ws_resyncs_total')})", "resyncs"),
                    ),
                    unit="ops",
                ),
            ),
        ),
    ),
)

CUSTODY = Dashboard(
    "bursa-custody",
    "Bursa — custody",
    "Scanners, deposits, withdrawals and hot wallets, per blockchain.",
    (
        Row(
            "Chains",
            (
                BLOCKS_BEHIND,
                Panel(
                    "Scanned height",
                    "The last block each scanner read.",
                    (Query("max by (blockchain) (bursa_chain_scanned_height)", "{{blockchain}}"),),
                ),
                Panel(
                    "Sweep and send failures",
                    "Failed sweeps and withdrawal sends, per blockchain, per second.",
                    (
                        Query(
                            f"sum by (blockchain) ({rate('bursa_sweep_failures_total')})",
                            "sweep {{blockchain}}",
                        ),
                        Query(
                            f"sum by (blockchain) ({rate('bursa_send_failures_total')})",
                            "send {{blockchain}}",
                        ),
                    ),
                    unit="ops",
                ),
            ),
        ),
        Row(
            "Deposits and withdrawals",
            (
                Panel(
                    "Deposits, by state",
                    "Deposits per blockchain and state, from the database.",
                    (
                        Query(
                            "max by (blockchain, state) (bursa_deposits)",
                            "{{blockchain}} {{state}}",
                        ),
                    ),
                ),
                Panel(
                    "Withdrawals, by state",
                    "Withdrawals per currency and state, from the database.",
                    (
                        Query(
                            "max by (currency, state) (bursa_withdrawals)",
                            "{{currency}} {{state}}",
                        ),
                    ),
                ),
                WITHDRAWALS_WAITING,
            ),
        ),
        Row(
            "Hot wallets",
            (
                Panel(
                    "Hot wallet balance",
                    "Balance against its configured maximum, in whole units (display only).",
                    (
                        Query(
                            "max by (wallet, currency) (bursa_hot_wallet_balance)",
                            "{{wallet}} {{currency}}",
                        ),
                        Query(
                            "max by (wallet, currency) (bursa_hot_wallet_max_balance)",
                            "max {{wallet}} {{currency}}",
                        ),
                    ),
                    width=12,
                ),
                HOT_WALLET_FILL,
            ),
        ),
    ),
)

EVENT_API = Dashboard(
    "bursa-event-api",
    "Bursa — Event API",
    "The outbox, the relay publishing it to RabbitMQ, and the event mailer.",
    (
        Row(
            "Relay",
            (
                Panel(
                    "Active relays",
                    "Relays holding the lock: exactly 1 (0: events wait in the outbox).",
                    (Query("sum(bursa_relay_active)", "active"),),
                    kind="stat",
                    width=4,
                    red_below=1,
                ),
                Panel(
                    "Outbox backlog",
                    "Outbox rows not yet published.",
                    (Query("max(bursa_outbox_backlog)", "rows"),),
                    kind="stat",
                    width=4,
                ),
                OLDEST_EVENT,
                Panel(
                    "Backlog and age",
                    "Unpublished rows and the age of the oldest one.",
                    (
                        Query("max(bursa_outbox_backlog)", "rows"),
                        Query("max(bursa_outbox_oldest_age_seconds)", "oldest (s)"),
                    ),
                    width=12,
                ),
            ),
        ),
        Row(
            "Publishing",
            (
                Panel(
                    "Events published, by exchange",
                    "Events confirmed by RabbitMQ per second, by exchange.",
                    (
                        Query(
                            f"sum by (exchange) ({rate('bursa_events_published_total')})",
                            "{{exchange}}",
                        ),
                    ),
                    unit="ops",
                    width=12,
                ),
                Panel(
                    "Publish failures",
                    "Publishes refused or unconfirmed per second (the relay retries).",
                    (Query(f"sum({rate('bursa_events_publish_failures_total')})", "failed"),),
                    unit="ops",
                    width=12,
                ),
            ),
        ),
        Row(
            "Mailer",
            (
                Panel(
                    "Mails sent, by template",
                    "Mails the event mailer delivered per second.",
                    (
                        Query(
                            f"sum by (template) ({rate('bursa_mails_sent_total')})",
                            "{{template}}",
                        ),
                    ),
                    unit="ops",
                    width=12,
                ),
                Panel(
                    "Mail failures",
                    "Deliveries that failed, per second.",
                    (Query(f"sum({rate('bursa_mail_failures_total')})", "failed"),),
                    unit="ops",
                    width=12,
                ),
            ),
        ),
    ),
)

DASHBOARDS = (OVERVIEW, ENGINE, API, CUSTODY, EVENT_API)

# ---------------------------------------------------------------- building


def _thresholds(panel: Panel) -> grafana.ThresholdsConfig:
    steps = [model.Threshold(None, "green")]
    if panel.red_below is not None:
        steps = [model.Threshold(None, "red"), model.Threshold(panel.red_below, "green")]
    elif panel.red_from is not None:
        steps.append(model.Threshold(panel.red_from, "red"))
    return grafana.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(steps)


def _targets(panel: Panel) -> list[prometheus.Dataquery]:
    return [
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend)
        .ref_id(ref)
        .datasource(DATASOURCE)
        for ref, query in zip("ABCDEFGH", panel.queries, strict=False)
    ]


def _stat(panel: Panel, panel_id: int) -> stat.Panel:
    """A big number: the last value, coloured by the panel's threshold."""
    return (
        stat.Panel()
        .id(panel_id)
        .title(panel.title)
        .description(panel.description)
        .datasource(DATASOURCE)
        .targets(list(_targets(panel)))
        .unit(panel.unit)
        .span(panel.width)
        .height(4)
        .thresholds(_thresholds(panel))
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .graph_mode(common_model.BigValueGraphMode.AREA)
        .color_mode(common_model.BigValueColorMode.VALUE)
    )


def _timeseries(panel: Panel, panel_id: int) -> timeseries.Panel:
    """A chart over time, its series named in a legend below it."""
    return (
        timeseries.Panel()
        .id(panel_id)
        .title(panel.title)
        .description(panel.description)
        .datasource(DATASOURCE)
        .targets(list(_targets(panel)))
        .unit(panel.unit)
        .span(panel.width)
        .height(8)
        .thresholds(_thresholds(panel))
        .legend(
            common.VizLegendOptions()
            .display_mode(common_model.LegendDisplayMode.LIST)
            .placement(common_model.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
    )


def build(board: Dashboard) -> model.Dashboard:
    built = (
        grafana.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags(list(board.tags))
        .refresh("30s")
        .time("now-3h", "now")
        .timezone("browser")
        .with_variable(
            grafana.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
        )
    )
    ids = itertools.count(1)
    for row in board.rows:
        built = built.with_row(grafana.Row(row.title).id(next(ids)))
        for panel in row.panels:
            make = _stat if panel.kind == "stat" else _timeseries
            built = built.with_panel(make(panel, next(ids)))
    return built.build()


def render(board: Dashboard) -> str:
    """The dashboard's JSON as committed: sorted keys, two-space indents, a final newline."""
    return json.dumps(build(board), cls=JSONEncoder, sort_keys=True, indent=2) + "\n"


def expected_files() -> dict[Path, str]:
    return {OUTPUT / f"{board.uid}.json": render(board) for board in DASHBOARDS}


def main(arguments: Sequence[str]) -> int:
    """Writes the JSON files, or with ``--check`` names the stale ones and returns 1."""
    stale = [
        path
        for path, text in expected_files().items()
        if not path.exists() or path.read_text() != text
    ]
    if "--check" in arguments:
        for path in stale:
            print(f"stale: {path.relative_to(HERE)} (run deploy/grafana/dashboards.py)")
        return 1 if stale else 0
    OUTPUT.mkdir(exist_ok=True)
    for path, text in expected_files().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
