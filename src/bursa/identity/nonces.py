"""Nonces seen on signed API-key requests, so that none is accepted twice (Barong accepted
any nonce within its 5-second window again and again).

A nonce is remembered for twice the window; older ones are refused by the window check
anyway. Redis (``SET NX PX``) when ``BURSA_REDIS_URL`` is set, shared by replicas; in
process otherwise.
"""

import time
from typing import Protocol

import redis.asyncio as redis


class NonceRegistry(Protocol):
    async def first_use(self, kid: str, nonce: int, ttl_ms: int) -> bool:
        """True the first time (kid, nonce) is seen, False on every replay."""
        ...


class InProcessNonces:
    def __init__(self) -> None:
        self._seen: dict[tuple[str, int], float] = {}

    async def first_use(self, kid: str, nonce: int, ttl_ms: int) -> bool:
        now = time.monotonic()
        if len(self._seen) > 100_000:
            self._seen = {k: t for k, t in self._seen.items() if t > now}
        expires = self._seen.get((kid, nonce))
        if expires is not None and expires > now:
            return False
        self._seen[(kid, nonce)] = now + ttl_ms / 1000
        return True


class RedisNonces:
    def __init__(self, url: str, prefix: str = "bursa:nonce") -> None:
        self.client = redis.Redis.from_url(url)
        self.prefix = prefix

    async def first_use(self, kid: str, nonce: int, ttl_ms: int) -> bool:
        return bool(await self.client.set(f"{self.prefix}:{kid}:{nonce}", 1, nx=True, px=ttl_ms))

    async def close(self) -> None:
        await self.client.aclose()
