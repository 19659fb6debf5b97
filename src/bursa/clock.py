"""The time services read, injected so that tests can move it instead of sleeping.

A service takes a ``Clock`` at construction (``SystemClock`` unless told otherwise) and
asks it whenever a rule depends on the time: session and code expiry, lock-outs, TOTP
steps, API-key nonce windows, resend intervals. Tests hand it a ``ManualClock`` and
``advance`` it past a step or a deadline in no time at all.

Durations measured for the process's own housekeeping (caches, timeouts) stay on
``time.monotonic``: no rule a member sees depends on them.
"""

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def time(self) -> float:
        """The current time in seconds since the epoch (``now()``, as a number)."""
        ...


class SystemClock:
    """The machine's clock: what every service uses outside tests."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()


class ManualClock:
    """A clock that stands still until told to move: ``advance`` (or ``set``) it."""

    def __init__(self, start: datetime | float | None = None) -> None:
        """Starts at ``start`` (a datetime or epoch seconds), else at the system's now."""
        if start is None:
            start = time.time()
        self._seconds = start.timestamp() if isinstance(start, datetime) else float(start)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._seconds, UTC)

    def time(self) -> float:
        return self._seconds

    def advance(self, seconds: float | timedelta) -> None:
        """Move forward (a negative amount moves back, as a corrected clock may)."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else seconds
        self._seconds += step

    def set(self, moment: datetime | float) -> None:
        self._seconds = moment.timestamp() if isinstance(moment, datetime) else float(moment)


SYSTEM_CLOCK: Clock = SystemClock()  # stateless: one instance serves every default
