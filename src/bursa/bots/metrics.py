"""The bots' metrics, per strategy: orders placed and cancelled, errors, and the figures
of the status file (open orders, inventory, realised P&L, halted) as gauges.

Kept inside ``bursa.bots`` (not ``bursa.metrics``), beside the status they mirror: the
bots stay a client of any exchange that needs nothing of Bursa's server side. Amounts are
floats for display only (Prometheus has no other number); the strategy decides on the
``Decimal`` figures of its ledger, never on these.
"""

from decimal import Decimal

from prometheus_client import Counter, Gauge

from bursa.bots.status import Status

ORDERS_PLACED = Counter(
    "bursa_bot_orders_placed_total", "Orders a strategy placed (target and venues)", ["strategy"]
)
ORDERS_CANCELLED = Counter(
    "bursa_bot_orders_cancelled_total", "Orders a strategy cancelled", ["strategy"]
)
ERRORS = Counter(
    "bursa_bot_errors_total", "Problems a strategy met (refusals, skipped ticks)", ["strategy"]
)
OPEN_ORDERS = Gauge("bursa_bot_open_orders", "A strategy's open orders on its target", ["strategy"])
INVENTORY = Gauge(
    "bursa_bot_inventory",
    "Base bought minus sold by a strategy's fills on its target",
    ["strategy"],
)
REALISED_PNL = Gauge(
    "bursa_bot_realised_pnl",
    "A strategy's realised P&L on its target (quote, average cost, fees aside)",
    ["strategy"],
)
HALTED = Gauge(
    "bursa_bot_halted",
    "1 while the daily loss limit or the kill switch stopped the strategy",
    ["strategy"],
)


def show(status: Status) -> None:
    """Set a strategy's gauges from its status (after each tick, and when it stops)."""
    OPEN_ORDERS.labels(status.id).set(status.open_orders)
    if status.inventory is not None:
        INVENTORY.labels(status.id).set(float(Decimal(status.inventory)))
    if status.realised_pnl is not None:
        REALISED_PNL.labels(status.id).set(float(Decimal(status.realised_pnl)))
    HALTED.labels(status.id).set(1 if status.state in ("halted", "killed") else 0)
