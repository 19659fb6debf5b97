"""Counters, gauges and histograms for the hot paths, recorded without locks.

prometheus-client takes a lock on every increment (a histogram's ``observe`` takes two or
three and walks its buckets in Python): a few microseconds, which on every HTTP request or
engine command is a few per cent of the work. What the engine and the API record happens
on the event loop's one thread, so these keep plain numbers instead: an increment is an
addition, an observation a ``bisect``. They export as the usual Prometheus types (a
collector in the default registry); a scrape from another thread reads a copy that may be
one observation behind, never a torn number.
"""

from bisect import bisect_left
from collections.abc import Iterable, Sequence

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

Labels = tuple[str, ...]


class _Family:
    """A metric's children by their label values, made on first use."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry | None,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        if registry is not None:
            registry.register(self)

    def _check(self, values: Labels) -> None:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")

    def describe(self) -> list[Metric]:
        return list(self.collect())

    def collect(self) -> Iterable[Metric]:
        raise NotImplementedError


class CounterChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1) -> None:
        self.value += amount


class Counter(_Family):
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self.children: dict[Labels, CounterChild] = {}
        super().__init__(name.removesuffix("_total"), documentation, labelnames, registry)
        if not self.labelnames:
            self.children[()] = CounterChild()

    def labels(self, *values: str) -> CounterChild:
        child = self.children.get(values)
        if child is None:
            self._check(values)
            child = self.children[values] = CounterChild()
        return child

    def inc(self, amount: float = 1) -> None:
        self.children[()].inc(amount)

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in list(self.children.items()):
            family.add_metric(values, child.value)
        return [family]


class Gauge(_Family):
    """A gauge without labels (what the hot paths need: a number going up and down)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self.value = 0.0
        super().__init__(name, documentation, (), registry)

    def inc(self, amount: float = 1) -> None:
        self.value += amount

    def dec(self, amount: float = 1) -> None:
        self.value -= amount

    def collect(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(self.name, self.documentation, value=self.value)]


class HistogramChild:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # per bucket, not cumulative; the last: +Inf
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        self.counts[bisect_left(self.bounds, amount)] += 1
        self.sum += amount

    def observe_since(self, now: float, starts: Sequence[float]) -> None:
        """Observe ``now - start`` for each of ``starts``, which are in ascending order
        (the times commands arrived in a queue): a few ``bisect`` calls for the whole
        batch, not one per value."""
        if not starts:
            return
        counts, below = self.counts, 0
        for index, bound in enumerate(self.bounds):
            # Within ``bound``: the starts at or after ``now - bound``.
            within = len(starts) - bisect_left(starts, now - bound)
            counts[index] += within - below
            below = within
        counts[-1] += len(starts) - below
        self.sum += now * len(starts) - sum(starts)

    def buckets(self) -> list[tuple[str, float]]:
        counts = list(self.counts)
        cumulative, found = 0, []
        for bound, count in zip(self.bounds, counts, strict=False):
            cumulative += count
            found.append((repr(bound), float(cumulative)))  # as prometheus-client: 0.005
        found.append(("+Inf", float(cumulative + counts[-1])))
        return found


class Histogram(_Family):
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = (),
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self.bounds = tuple(sorted(float(b) for b in buckets))
        self.children: dict[Labels, HistogramChild] = {}
        super().__init__(name, documentation, labelnames, registry)
        if not self.labelnames:
            self.children[()] = HistogramChild(self.bounds)

    def labels(self, *values: str) -> HistogramChild:
        child = self.children.get(values)
        if child is None:
            self._check(values)
            child = self.children[values] = HistogramChild(self.bounds)
        return child

    def observe(self, amount: float) -> None:
        self.children[()].observe(amount)

    def observe_since(self, now: float, starts: Sequence[float]) -> None:
        self.children[()].observe_since(now, starts)

    def collect(self) -> Iterable[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in list(self.children.items()):
            family.add_metric(list(values), child.buckets(), child.sum)
        return [family]
