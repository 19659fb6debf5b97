"""Request pacing shared by the drivers: one account's requests start at least ``delay``
seconds apart (Arke's per-account ``delay``), however many strategies share the account."""

import asyncio
import time


class Pacer:
    """Spaces the starts of requests ``delay`` seconds apart, in the order they ask."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self._lock = asyncio.Lock()
        self._last = 0.0

    async def wait_turn(self) -> None:
        """Return when ``delay`` has passed since the previous turn began."""
        async with self._lock:
            wait = self._last + self.delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last = time.monotonic()
