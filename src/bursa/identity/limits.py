"""Rate limits on the endpoints people try to brute-force (login, sign-up, code checks)
and on API-key requests (per IP, per key, and failed signatures per IP).

Fixed windows counted per rule and per subject (an IP, an email address) by the ``limits``
library: a window opens with a subject's first request and lasts ``window_s``. With
``BURSA_REDIS_URL`` the counters live in Redis (``async+redis://``), so every API replica
shares them; the embedded default counts in process (``async+memory://``: one machine, one
process). Callers see one interface, ``allow`` and ``over``, answering the seconds to wait.
Each time a subject is found over a rule, ``bursa_rate_limit_refusals_total{scope=<rule>}``
counts it (for failure-counting rules also the failure that reaches the limit).

Order entry needs more than the seconds to wait: its answers show the window's state
(``take``: limit, remaining, reset), and a bulk request costs its items. ``take`` counts in
one step (one Lua script in Redis) and a refused request spends nothing.
"""

import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import redis.asyncio as redis
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from bursa.metrics.api import RATE_LIMIT_REFUSALS


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int  # requests per window and subject
    window_s: int = 60
    item: RateLimitItem = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        item = RateLimitItemPerSecond(self.limit, self.window_s, namespace="bursa")
        object.__setattr__(self, "item", item)


LOGIN_PER_IP = Rule("login-ip", 20)
LOGIN_PER_EMAIL = Rule("login-email", 10)
SIGN_UP_PER_IP = Rule("signup-ip", 10)
CODE_CHECK_PER_IP = Rule("code-ip", 20)
CODE_CHECK_PER_EMAIL = Rule("code-email", 10)
CODE_SEND_PER_IP = Rule("send-ip", 10)
# Strength checks (``password/validate``, public): zxcvbn costs up to ~70 ms of CPU each.
STRENGTH_CHECK_PER_IP = Rule("strength-ip", 30)
# Password checks of a signed-in member (closing the account): per address and per user.
PASSWORD_CHECK_PER_IP = Rule("password-ip", 20)
PASSWORD_CHECK_PER_USER = Rule("password-user", 5)
# Failed logins from one address, whatever the accounts: 20 in 15 minutes block the address.
LOGIN_FAILURES_PER_IP = Rule("login-fail-ip", 20, window_s=900)
# Signed API-key requests: a bot gets 200 a second per key (market makers read and write
# fast; order entry has its own, tighter rule below); an address 500 a second over all keys;
# 30 refused signatures (unknown key, bad signature, stale or replayed nonce) from one
# address in a minute stop it for the rest of that minute.
API_KEY_PER_KEY = Rule("apikey-kid", 12_000)
API_KEY_PER_IP = Rule("apikey-ip", 30_000)
API_KEY_FAILURES_PER_IP = Rule("apikey-fail-ip", 30)
# Order entry (place, cancel, cancel all, amend; a bulk counts its items), per API key, or
# per member without one: 100 a second by default (``BURSA_ORDER_RATE_LIMIT``).
ORDER_ENTRY = Rule("order-entry", 100, window_s=1)


@dataclass(frozen=True, slots=True)
class Quota:
    """A subject's window after ``take``: whether the request was counted, what is left,
    and the whole seconds until the window ends (rounded up: at least 1)."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int


@runtime_checkable
class QuotaLimiter(Protocol):
    async def take(self, rule: Rule, subject: str, cost: int = 1) -> Quota:
        """Count ``cost`` requests (at most the rule's limit) if they fit in the window,
        else nothing; the window's state either way."""
        ...


class Limiter(Protocol):
    async def allow(self, rule: Rule, subject: str) -> int:
        """Count one request; 0 if allowed, else the seconds until the window ends."""
        ...

    async def over(self, rule: Rule, subject: str) -> int:
        """Without counting: 0 if under the limit, else the seconds until the window ends."""
        ...


class _WindowLimiter:
    """``Limiter`` over a ``limits`` storage with its fixed-window strategy."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._windows = FixedWindowRateLimiter(storage)

    async def allow(self, rule: Rule, subject: str) -> int:
        if await self._windows.hit(rule.item, rule.name, subject):
            return 0
        return await self._wait(rule, subject)

    async def over(self, rule: Rule, subject: str) -> int:
        if await self._windows.test(rule.item, rule.name, subject):
            return 0
        return await self._wait(rule, subject)

    async def _wait(self, rule: Rule, subject: str) -> int:
        """The seconds until ``rule``'s window ends for ``subject``, which is over it."""
        RATE_LIMIT_REFUSALS.labels(rule.name).inc()
        stats = await self._windows.get_window_stats(rule.item, rule.name, subject)
        return max(1, int(stats.reset_time - time.time()) + 1)


def _cost(rule: Rule, cost: int) -> int:
    """A request never costs more than the whole window: the largest bulk can pass."""
    return min(max(cost, 0), rule.limit)


def _refused(rule: Rule) -> None:
    RATE_LIMIT_REFUSALS.labels(rule.name).inc()


class InProcessLimiter(_WindowLimiter):
    PRUNE_AT = 10_000  # windows kept before the ended ones are dropped

    def __init__(self) -> None:
        super().__init__(MemoryStorage())
        self._spent: dict[tuple[str, str], tuple[float, int]] = {}  # -> (end, spent)

    async def take(self, rule: Rule, subject: str, cost: int = 1) -> Quota:
        cost, now = _cost(rule, cost), time.monotonic()
        end, spent = self._spent.get((rule.name, subject), (0.0, 0))
        if end <= now:
            if len(self._spent) >= self.PRUNE_AT:
                self._spent = {k: v for k, v in self._spent.items() if v[0] > now}
            end, spent = now + rule.window_s, 0
        allowed = spent + cost <= rule.limit
        if allowed:
            spent += cost
        else:
            _refused(rule)
        self._spent[(rule.name, subject)] = (end, spent)
        return Quota(allowed, rule.limit, rule.limit - spent, max(1, math.ceil(end - now)))


class RedisLimiter(_WindowLimiter):
    def __init__(self, url: str, prefix: str = "bursa:limit") -> None:
        # Our own pool (redis-py, already a dependency), so that ``close`` can end it.
        self._pool = redis.ConnectionPool.from_url(url)
        options: dict[str, Any] = {"connection_pool": self._pool}
        scheme = url if url.startswith("redis") else f"redis+{url}"  # unix:// sockets too
        storage = RedisStorage(
            f"async+{scheme}", implementation="redispy", key_prefix=prefix, **options
        )
        super().__init__(storage)
        self._prefix = prefix
        self._take = redis.Redis(connection_pool=self._pool).register_script(_TAKE)

    async def take(self, rule: Rule, subject: str, cost: int = 1) -> Quota:
        cost = _cost(rule, cost)
        key = f"{self._prefix}:take:{rule.name}:{subject}"
        allowed, spent, ttl_ms = await self._take(
            keys=[key], args=[cost, rule.limit, rule.window_s * 1000]
        )
        if not allowed:
            _refused(rule)
        reset_s = max(1, math.ceil(int(ttl_ms) / 1000))
        return Quota(bool(allowed), rule.limit, max(0, rule.limit - int(spent)), reset_s)

    async def close(self) -> None:
        await self._pool.aclose()


# Fixed window in one round trip: count ``cost`` (ARGV[1]) unless that passes the limit
# (ARGV[2]), the window (ARGV[3] ms) opening with the first request; -> allowed, spent, ttl.
_TAKE = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  ttl = tonumber(ARGV[3])
end
if n > tonumber(ARGV[2]) then
  n = redis.call('DECRBY', KEYS[1], ARGV[1])
  return {0, n, ttl}
end
return {1, n, ttl}
"""
