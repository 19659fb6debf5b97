"""Cancel-on-disconnect (a dead-man's switch): the timers of connections that dropped.

A private Ranger connection may arm the switch with a grace period. When that connection
ends (closed by either side, or found broken), a timer starts; when it runs out, every open
order of the member is cancelled (the engine's ``CancelAll``). Before it runs out, any
connection of the same member that sends ``cancel_on_disconnect`` again (arming, or
disarming with 0) claims the member's pending timers and stops them: a client that
reconnects says so explicitly, as it resumes responsibility for its orders.

The timers live in the process that held the connection and nowhere else: a restart of
that process forgets them (and cancels nothing). That is the switch's scope: it protects
against a client that goes away, not against the exchange going away.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Cancel = Callable[[], Awaitable[Any]]
ATTEMPTS = 5  # an engine briefly unavailable (a restart of its runner) gets a few tries
RETRY_S = 1.0


class DeadMan:
    """The pending cancel-on-disconnect timers of one process, by member."""

    def __init__(self) -> None:
        self._pending: dict[int, set[asyncio.Task[None]]] = {}

    def pending(self, member_id: int) -> int:
        """Timers waiting for ``member_id``."""
        return len(self._pending.get(member_id, ()))

    def schedule(self, member_id: int, grace_s: float, cancel: Cancel) -> None:
        """Run ``cancel`` in ``grace_s`` seconds unless ``claim`` stops it first."""
        task = asyncio.create_task(
            self._fire(member_id, grace_s, cancel), name=f"ranger-dead-man-{member_id}"
        )
        self._pending.setdefault(member_id, set()).add(task)
        task.add_done_callback(lambda done: self._forget(member_id, done))

    def claim(self, member_id: int) -> int:
        """Stop the member's pending timers (a connection of theirs took over): how many."""
        tasks = self._pending.pop(member_id, set())
        for task in tasks:
            task.cancel()
        return len(tasks)

    async def close(self) -> None:
        """Forget every pending timer (the process stops: see the module's note)."""
        tasks = [task for tasks in self._pending.values() for task in tasks]
        self._pending.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _forget(self, member_id: int, task: "asyncio.Task[None]") -> None:
        tasks = self._pending.get(member_id)
        if tasks is not None:
            tasks.discard(task)
            if not tasks:
                del self._pending[member_id]

    async def _fire(self, member_id: int, grace_s: float, cancel: Cancel) -> None:
        await asyncio.sleep(grace_s)
        # Past the grace: no longer claimable, whatever the cancellation takes.
        self._forget(member_id, asyncio.current_task())  # type: ignore[arg-type]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await cancel()
            except Exception:
                log.exception(
                    "cancel-on-disconnect of member %s failed (attempt %s of %s)",
                    member_id, attempt, ATTEMPTS,
                )  # fmt: skip
                await asyncio.sleep(RETRY_S)
            else:
                log.info("cancel-on-disconnect cancelled the open orders of member %s", member_id)
                return
