"""The engine's metrics: commands by kind and result, batches, commit and answer latency,
the inbox, the committed sequence, and whether this runner is the active one.

The runner records them per batch, never per command through ``.labels()``: at about
20,000 commands a second a label lookup or a locked ``observe`` per command would cost
several per cent of the engine. Counters are bound to their labels once
(``command_counters``) and counted by kind with C-level tallies (``count_applied``); the
answer latencies of a batch go into their histogram with a few ``bisect`` calls, since
the commands arrived in order (``lockfree.HistogramChild.observe_since``). What the
runners of the process hold now (active, inbox, sequence) is read when Prometheus
scrapes, at no cost to the batches.

Only a process that runs an engine exports these (``watch`` registers them when a runner
starts): every ``bursa`` command imports the engine's modules, and an API replica that
showed ``bursa_engine_active 0`` would pass for a standby.
"""

import weakref
from collections import Counter as Tally
from collections.abc import Mapping, Sequence
from itertools import compress
from typing import Protocol, TypeVar

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from bursa.metrics import lockfree

K = TypeVar("K")

OK, REFUSED, DUPLICATE = "ok", "refused", "duplicate"
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
COMMAND_BUCKETS = (*COMMIT_BUCKETS, 2.5, 5.0, 10.0)


COMMANDS = Counter(
    "bursa_engine_commands_total",
    "Commands the engine answered, by kind and result (ok, refused, duplicate)",
    ["kind", "result"],
    registry=None,
)
BATCH_SIZE = Histogram(
    "bursa_engine_batch_size",
    "Commands per committed batch",
    buckets=BATCH_SIZE_BUCKETS,
    registry=None,
)
COMMIT_SECONDS = Histogram(
    "bursa_engine_commit_seconds",
    "Time to write and commit one batch",
    buckets=COMMIT_BUCKETS,
    registry=None,
)
COMMAND_SECONDS = lockfree.Histogram(
    "bursa_engine_command_seconds",
    "Time from a command's submission to its committed answer",
    buckets=COMMAND_BUCKETS,
    registry=None,
)
QUEUE_DEPTH = Gauge(
    "bursa_engine_queue_depth", "Commands waiting in the engine's inbox", registry=None
)
SEQUENCE = Gauge("bursa_engine_sequence", "The last committed command sequence", registry=None)
ACTIVE = Gauge(
    "bursa_engine_active",
    "1 while this process's runner holds the engine lock, 0 while standing by",
    registry=None,
)
LAST_COMMIT = Gauge(
    "bursa_engine_last_commit_timestamp_seconds",
    "When the last batch committed (Unix time)",
    registry=None,
)
EXPORTED = (
    COMMANDS,
    BATCH_SIZE,
    COMMIT_SECONDS,
    COMMAND_SECONDS,
    QUEUE_DEPTH,
    SEQUENCE,
    ACTIVE,
    LAST_COMMIT,
)


class Runner(Protocol):
    """What the gauges read from an engine runner when scraped."""

    @property
    def running(self) -> bool: ...  # holds the lock with its state loaded

    @property
    def queued(self) -> int: ...  # commands in its inbox

    @property
    def committed_seq(self) -> int: ...


_runners: "weakref.WeakSet[Runner]" = weakref.WeakSet()
_exported = False


def watch(runner: Runner) -> None:
    """Export the engine's metrics from now on (registered once per process), with
    ``runner``'s state among what the gauges read while it lives."""
    global _exported
    if not _exported:
        for metric in EXPORTED:
            REGISTRY.register(metric)
        _exported = True
    _runners.add(runner)


def _live() -> list[Runner]:
    return list(_runners)


ACTIVE.set_function(lambda: float(any(r.running for r in _live())))
QUEUE_DEPTH.set_function(lambda: float(sum(r.queued for r in _live())))
SEQUENCE.set_function(lambda: float(_sequence()))


def _sequence() -> int:
    """The active runner's sequence (another one in the process, stopped or standing by,
    shows its own only when none is active)."""
    runners = _live()
    active = [r for r in runners if r.running] or runners
    return max((r.committed_seq for r in active), default=0)


def command_counters(kinds: Mapping[K, str]) -> dict[tuple[K, str], Counter]:
    """``COMMANDS`` bound once to every (kind, result): the runner counts a batch's
    commands with a dictionary lookup each, never a label lookup. ``kinds`` maps what the
    runner has at hand (a command's class) to the kind's name."""
    return {
        (key, result): COMMANDS.labels(kind, result)
        for key, kind in kinds.items()
        for result in (OK, REFUSED, DUPLICATE)
    }


def count_applied(
    counters: Mapping[tuple[K, str], Counter], kinds: Sequence[K], errors: Sequence[object]
) -> None:
    """Count a batch's applied commands: ``kinds[i]`` is the i-th one's key in
    ``counters`` (its class), ``errors[i]`` its refusal (None or empty when it was ok)."""
    applied = Tally(kinds)
    refused = Tally(compress(kinds, errors))
    for kind, count in applied.items():
        ok = count - refused[kind]
        if ok:
            counters[kind, OK].inc(ok)
    for kind, count in refused.items():
        counters[kind, REFUSED].inc(count)
