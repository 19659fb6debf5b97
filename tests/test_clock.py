"""The injectable clock: the system's follows the machine, a manual one moves when told."""

import time
from datetime import UTC, datetime, timedelta

from bursa.clock import ManualClock, SystemClock


def test_system_clock_is_the_machines_in_utc() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now.timestamp() - time.time()) < 5
    assert abs(clock.time() - time.time()) < 5


def test_manual_clock_stands_still_until_moved() -> None:
    start = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    clock = ManualClock(start)
    assert clock.now() == start
    assert clock.time() == start.timestamp()
    clock.advance(30)
    assert clock.now() == start + timedelta(seconds=30)
    clock.advance(timedelta(minutes=15))
    assert clock.now() == start + timedelta(minutes=15, seconds=30)
    clock.set(0.5)
    assert clock.now() == datetime(1970, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_manual_clock_starts_at_the_systems_now_by_default() -> None:
    assert abs(ManualClock().time() - time.time()) < 5
