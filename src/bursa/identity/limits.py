"""Rate limits on the endpoints people try to brute-force (login, sign-up, code checks)
and on API-key requests (per IP, per key, and failed signatures per IP).

Fixed windows counted per rule and per subject (an IP, an email address) by the ``limits``
library: a window opens with a subject's first request and lasts ``window_s``. With
``BURSA_REDIS_URL`` the counters live in Redis (``async+redis://``), so every API replica
shares them; the embedded default counts in process (``async+memory://``: one machine, one
process). Callers see one interface, ``allow`` and ``over``, answering the seconds to wait.
Each time a subject is found over a rule, ``bursa_rate_limit_refusals_total{scope=<rule>}``
counts it (for failure-counting rules also the failure that reaches the limit).
"""

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

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
# Signed API-key requests: a bot gets 20 a second per key; an address 50 a second over all
# keys; 30 refused signatures (unknown key, bad signature, stale or replayed nonce) from one
# address in a minute stop it for the rest of that minute.
API_KEY_PER_KEY = Rule("apikey-kid", 1200)
API_KEY_PER_IP = Rule("apikey-ip", 3000)
API_KEY_FAILURES_PER_IP = Rule("apikey-fail-ip", 30)


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


class InProcessLimiter(_WindowLimiter):
    def __init__(self) -> None:
        super().__init__(MemoryStorage())


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

    async def close(self) -> None:
        await self._pool.aclose()
