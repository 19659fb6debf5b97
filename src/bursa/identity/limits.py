"""Rate limits on the endpoints people try to brute-force (login, sign-up, code checks)
and on API-key requests (per IP, per key, and failed signatures per IP).

Fixed one-minute windows counted per rule and per subject (an IP, an email address). With
``BURSA_REDIS_URL`` the counters live in Redis, so every API replica shares them; the
embedded default counts in process (one machine, one process).
"""

import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int  # requests per window and subject
    window_s: int = 60


LOGIN_PER_IP = Rule("login-ip", 20)
LOGIN_PER_EMAIL = Rule("login-email", 10)
SIGN_UP_PER_IP = Rule("signup-ip", 10)
CODE_CHECK_PER_IP = Rule("code-ip", 20)
CODE_CHECK_PER_EMAIL = Rule("code-email", 10)
CODE_SEND_PER_IP = Rule("send-ip", 10)
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


class InProcessLimiter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}

    async def allow(self, rule: Rule, subject: str) -> int:
        now = time.time()
        window = int(now // rule.window_s)
        key = (rule.name, subject, window)
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if len(self._counts) > 100_000:  # drop finished windows now and then
            self._counts = {k: v for k, v in self._counts.items() if k[2] >= window}
        return 0 if count <= rule.limit else _remaining(now, rule)

    async def over(self, rule: Rule, subject: str) -> int:
        now = time.time()
        count = self._counts.get((rule.name, subject, int(now // rule.window_s)), 0)
        return 0 if count < rule.limit else _remaining(now, rule)


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "bursa:limit") -> None:
        self.client = redis.Redis.from_url(url)
        self.prefix = prefix

    async def allow(self, rule: Rule, subject: str) -> int:
        now = time.time()
        window = int(now // rule.window_s)
        key = f"{self.prefix}:{rule.name}:{subject}:{window}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, rule.window_s + 1)
            count, _ = await pipe.execute()
        return 0 if int(count) <= rule.limit else _remaining(now, rule)

    async def over(self, rule: Rule, subject: str) -> int:
        now = time.time()
        key = f"{self.prefix}:{rule.name}:{subject}:{int(now // rule.window_s)}"
        count = int(await self.client.get(key) or 0)
        return 0 if count < rule.limit else _remaining(now, rule)

    async def close(self) -> None:
        await self.client.aclose()


def _remaining(now: float, rule: Rule) -> int:
    return max(1, int(rule.window_s - now % rule.window_s) + 1)
