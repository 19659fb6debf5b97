"""The last ledger verification, as every process with a database exports it.

``bursa ledger verify`` (a cron job, an operator) records each run in the database
(``bursa.ledger.verifications``); each long-running process reads the last one every few
seconds and shows it here, so Prometheus sees it from whichever process it scrapes. Until
a verification has been read the two gauges are absent, not 0: "never verified" and "the
ledger broke" are different alerts.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

TIMESTAMP = "bursa_ledger_last_verify_timestamp_seconds"
OK = "bursa_ledger_last_verify_ok"


@dataclass(frozen=True, slots=True)
class LastVerification:
    at: float  # Unix time the verification ran
    ok: bool


class _LastVerificationCollector(Collector):
    def __init__(self) -> None:
        self.last: LastVerification | None = None

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(TIMESTAMP, "When the ledger was last verified (Unix time)"),
            GaugeMetricFamily(OK, "1 when the last ledger verification found no break"),
        )

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        last = self.last
        if last is None:
            return
        at, ok = self._families()
        at.add_metric([], last.at)
        ok.add_metric([], 1.0 if last.ok else 0.0)
        yield at
        yield ok


_COLLECTOR = _LastVerificationCollector()
REGISTRY.register(_COLLECTOR)


def show_last_verification(last: LastVerification | None) -> None:
    """What the gauges say from now on (None: no verification recorded)."""
    _COLLECTOR.last = last
