"""``cancel_all_after``: a member's heartbeat deadline, and the watcher that cancels all
their open orders once it passes (Kraken's ``cancelAllOrdersAfter``, BitMEX's
``cancelAllAfter``).

A call arms (or moves) the member's one deadline ``timeout`` from now; 0 disarms it. A
client calls again before the deadline to keep its orders; if it goes silent, every open
order of the member is cancelled by the engine (``CancelAll``) shortly after the deadline
(within the watcher's period, 0.1 s by default).

The deadlines live in Redis with ``BURSA_REDIS_URL``, so any API replica may arm them and
any replica's watcher may fire them: times are Redis's own clock (``TIME``), and a Lua
script claims the due deadlines atomically, leasing each for ``lease_s`` while it fires, so
one expiry is fired by one watcher. A watcher that dies mid-fire leaves its lease to run out
and another fires again, with the same engine command key (member and deadline), which the
engine applies once. Without Redis the deadlines live in the process.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis

from bursa.engine.commands import CancelAll
from bursa.trading import orders

log = logging.getLogger(__name__)

MAX_TIMEOUT_S = 86_400  # a day, as Kraken's


@dataclass(frozen=True, slots=True)
class Armed:
    """The store's time when the call was counted, and the deadline (None: disarmed), in
    milliseconds since the epoch."""

    now_ms: int
    deadline_ms: int | None


class Deadlines(Protocol):
    async def arm(self, member_id: int, timeout_ms: int) -> Armed:
        """Set the member's deadline ``timeout_ms`` from now (0: remove it)."""
        ...

    async def claim(self, lease_ms: int, most: int) -> list[tuple[int, int]]:
        """Up to ``most`` passed deadlines as (member, deadline), each leased to the caller
        for ``lease_ms`` (due again after that, unless ``done``)."""
        ...

    async def done(self, member_id: int, deadline_ms: int) -> None:
        """The member's orders were cancelled for ``deadline_ms``: forget it (unless armed
        again since)."""
        ...

    async def close(self) -> None: ...


class InProcessDeadlines:
    """One process's deadlines (the embedded default)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._deadline: dict[int, int] = {}  # member -> armed deadline
        self._due: dict[int, int] = {}  # member -> when to fire (deadline, or lease's end)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def arm(self, member_id: int, timeout_ms: int) -> Armed:
        now = self._now_ms()
        if timeout_ms == 0:
            self._deadline.pop(member_id, None)
            self._due.pop(member_id, None)
            return Armed(now, None)
        self._deadline[member_id] = self._due[member_id] = now + timeout_ms
        return Armed(now, now + timeout_ms)

    async def claim(self, lease_ms: int, most: int) -> list[tuple[int, int]]:
        now = self._now_ms()
        due = sorted((at, member) for member, at in self._due.items() if at <= now)[:most]
        for _, member in due:
            self._due[member] = now + lease_ms
        return [(member, self._deadline[member]) for _, member in due]

    async def done(self, member_id: int, deadline_ms: int) -> None:
        if self._deadline.get(member_id) == deadline_ms:
            del self._deadline[member_id]
            del self._due[member_id]

    async def close(self) -> None:
        return None


# KEYS: the due sorted set (member -> when to fire), the deadline hash (member -> deadline).
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
_ARM = (
    _NOW
    + """
if tonumber(ARGV[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return {now, -1}
end
local deadline = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], deadline, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], string.format('%d', deadline))
return {now, deadline}
"""
)
_CLAIM = (
    _NOW
    + """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local claimed = {}
for _, member in ipairs(due) do
  local deadline = redis.call('HGET', KEYS[2], member)
  if deadline then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), member)
    table.insert(claimed, member)
    table.insert(claimed, deadline)
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return claimed
"""
)
_DONE = """
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""


class RedisDeadlines:
    """Deadlines shared by every API replica (one hash tag: one Redis Cluster slot)."""

    def __init__(self, url: str, prefix: str = "bursa:cancel_after") -> None:
        self._redis = redis.Redis.from_url(url)
        self._keys = [f"{{{prefix}}}:due", f"{{{prefix}}}:deadline"]
        self._arm = self._redis.register_script(_ARM)
        self._claim = self._redis.register_script(_CLAIM)
        self._done = self._redis.register_script(_DONE)

    async def arm(self, member_id: int, timeout_ms: int) -> Armed:
        now, deadline = await self._arm(keys=self._keys, args=[member_id, timeout_ms])
        return Armed(int(now), None if int(deadline) < 0 else int(deadline))

    async def claim(self, lease_ms: int, most: int) -> list[tuple[int, int]]:
        found = await self._claim(keys=self._keys, args=[lease_ms, most])
        return [(int(found[i]), int(found[i + 1])) for i in range(0, len(found), 2)]

    async def done(self, member_id: int, deadline_ms: int) -> None:
        await self._done(keys=self._keys, args=[member_id, deadline_ms])

    async def close(self) -> None:
        await self._redis.aclose()


def deadlines_for(redis_url: str | None) -> Deadlines:
    """Redis's when configured (replicas share them), else this process's."""
    return RedisDeadlines(redis_url) if redis_url else InProcessDeadlines()


def command_key(member_id: int, deadline_ms: int) -> str:
    """One engine command per expiry, whoever fires it and however often."""
    return f"cancel_all_after:{member_id}:{deadline_ms}"


class CancelAfterWatcher:
    """Fires the passed deadlines: every ``every_s``, claims them and cancels each
    member's open orders through ``port`` (the engine runner, or the remote engine). Safe
    to run in every API replica over one Redis."""

    def __init__(
        self,
        deadlines: Deadlines,
        port: orders.EnginePort,
        *,
        every_s: float = 0.1,
        lease_s: float = 30.0,
        most: int = 100,
    ) -> None:
        self.deadlines = deadlines
        self.port = port
        self.every_s = every_s
        self.lease_ms = int(lease_s * 1000)
        self.most = most
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="cancel-all-after")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def fire_due(self) -> list[int]:
        """One round: the members whose orders were cancelled (a failed one stays leased,
        and is fired again when its lease ends)."""
        fired = []
        for member_id, deadline_ms in await self.deadlines.claim(self.lease_ms, self.most):
            try:
                result = await orders.submit(
                    self.port,
                    CancelAll(key=command_key(member_id, deadline_ms), member_id=member_id),
                )
            except Exception:
                log.exception("cancel_all_after: member %d not cancelled yet", member_id)
                continue
            if result["error"] is not None:
                log.warning("cancel_all_after: member %d: %s", member_id, result["error"])
            else:
                log.info("cancel_all_after: member %d's orders cancelled", member_id)
            await self.deadlines.done(member_id, deadline_ms)
            fired.append(member_id)
        return fired

    async def _watch(self) -> None:
        while True:
            try:
                await self.fire_due()
            except Exception:  # Redis away for a moment: the next round tries again
                log.exception("cancel_all_after: watching failed")
            await asyncio.sleep(self.every_s)
