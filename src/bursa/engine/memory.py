"""Garbage-collector policy for the engine process.

The engine keeps hundreds of thousands of long-lived records (orders, accounts, levels)
that never form reference cycles; CPython's cyclic collector would nonetheless walk them
all on every full collection, which halves throughput. So: collect rarely, and move the
survivors of each collection into the permanent generation (``gc.freeze``), where they
are still freed by reference counting but no longer walked.
"""

import gc
import time

# Net allocations between two young collections. A young collection walks every live young
# object, and while a batch is applied and turned into rows most of them are that batch's:
# at 100,000 allocations that cost ~10 µs per command, a third of the engine process's CPU.
# Once per million, in practice the periodic full collection does it all.
YOUNG_COLLECTION_EVERY = 1_000_000


class GcPolicy:
    def __init__(self, interval_s: float = 5.0) -> None:
        self.interval_s = interval_s
        self._last = time.monotonic()

    def start(self) -> None:
        """Call once the engine's state is loaded."""
        gc.set_threshold(YOUNG_COLLECTION_EVERY, 50, 1000)
        gc.collect()
        gc.freeze()
        self._last = time.monotonic()

    def after_batch(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            gc.collect()
            gc.freeze()
            self._last = now
