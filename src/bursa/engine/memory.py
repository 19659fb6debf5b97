"""Garbage-collector policy for the engine process.

The engine keeps hundreds of thousands of long-lived records (orders, accounts, levels)
that never form reference cycles; CPython's cyclic collector would nonetheless walk them
all on every full collection, which halves throughput. So: collect rarely, and move the
survivors of each collection into the permanent generation (``gc.freeze``), where they
are still freed by reference counting but no longer walked.
"""

import gc
import time


class GcPolicy:
    def __init__(self, interval_s: float = 5.0) -> None:
        self.interval_s = interval_s
        self._last = time.monotonic()

    def start(self) -> None:
        """Call once the engine's state is loaded."""
        gc.set_threshold(100_000, 50, 1000)
        gc.collect()
        gc.freeze()
        self._last = time.monotonic()

    def after_batch(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            gc.collect()
            gc.freeze()
            self._last = now
