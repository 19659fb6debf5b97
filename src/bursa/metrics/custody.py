"""Custody's metrics: how far each scanner is behind its node, what waits in which state,
the hot wallets against their caps, and failed sweeps and sends.

Counts by state and the oldest withdrawal's age come from the database, refreshed by the
custody workers every few seconds; balances are the chain's, read by the sweeper. An
amount is a float of whole units: display only (Prometheus has no other number).
"""

from collections.abc import Mapping

from prometheus_client import Counter, Gauge

BLOCKS_BEHIND = Gauge(
    "bursa_chain_blocks_behind",
    "Blocks the node has that the scanner has not read yet",
    ["blockchain"],
)
SCANNED_HEIGHT = Gauge(
    "bursa_chain_scanned_height", "The last block the scanner recorded", ["blockchain"]
)
DEPOSITS = Gauge(
    "bursa_deposits", "Coin deposits in a state that is not final", ["blockchain", "state"]
)
WITHDRAWALS = Gauge(
    "bursa_withdrawals", "Withdrawals in a state that is not final", ["currency", "state"]
)
WITHDRAWAL_OLDEST_AGE = Gauge(
    "bursa_withdrawal_oldest_age_seconds",
    "Seconds since the oldest withdrawal in this (not final) state last changed",
    ["state"],
)
HOT_WALLET_BALANCE = Gauge(
    "bursa_hot_wallet_balance",
    "A hot wallet's balance on chain (whole units)",
    ["wallet", "currency"],
)
HOT_WALLET_MAX_BALANCE = Gauge(
    "bursa_hot_wallet_max_balance",
    "A hot wallet's configured max_balance (whole units; absent when it has no cap)",
    ["wallet", "currency"],
)
SWEEP_FAILURES = Counter(
    "bursa_sweep_failures_total",
    "Sweeps that failed on chain or waited on a node error",
    ["blockchain"],
)
SEND_FAILURES = Counter(
    "bursa_send_failures_total",
    "Withdrawal payouts that failed on chain, errored, or waited on a node error",
    ["blockchain"],
)


class LabelledFigures:
    """A labelled gauge set whole from each reading: a label set that no longer appears
    (its last withdrawal left the state) reads 0 rather than keeping its old value."""

    def __init__(self, gauge: Gauge) -> None:
        self.gauge = gauge
        self._shown: set[tuple[str, ...]] = set()

    def show(self, figures: Mapping[tuple[str, ...], float]) -> None:
        for labels in self._shown - figures.keys():
            self.gauge.labels(*labels).set(0)
        for labels, value in figures.items():
            self.gauge.labels(*labels).set(value)
        self._shown |= figures.keys()


deposits_by_state = LabelledFigures(DEPOSITS)
withdrawals_by_state = LabelledFigures(WITHDRAWALS)
oldest_withdrawal_by_state = LabelledFigures(WITHDRAWAL_OLDEST_AGE)
