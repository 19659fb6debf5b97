"""``bursa bench scan``: how fast a chain plugin reads blocks from a node.

A deposit scanner's throughput is bounded by ``ChainPlugin.block``: one block's
transactions, receipts and token logs. This reads ``count`` consecutive blocks with up to
``concurrency`` reads in flight (a scanner catching up reads ahead the same way) and
reports blocks and transfers per second and the time one block takes (p50, p99). It is
groundwork: figures for one plugin against one node, not yet a scanner writing deposits.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from bursa.custody.chain import ChainError, ChainPlugin

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ScanFigures:
    first_height: int
    blocks: int
    transfers: int
    seconds: float
    concurrency: int
    block_ms: tuple[float, ...]  # one per block, sorted

    @property
    def blocks_per_s(self) -> float:
        return self.blocks / self.seconds if self.seconds else 0.0

    @property
    def transfers_per_s(self) -> float:
        return self.transfers / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.block_ms:
            return 0.0
        return self.block_ms[min(len(self.block_ms) - 1, int(fraction * len(self.block_ms)))]

    def as_json(self) -> dict[str, float | int]:
        return {
            "first_height": self.first_height,
            "blocks": self.blocks,
            "transfers": self.transfers,
            "seconds": round(self.seconds, 3),
            "concurrency": self.concurrency,
            "blocks_per_s": round(self.blocks_per_s, 1),
            "transfers_per_s": round(self.transfers_per_s, 1),
            "block_p50_ms": round(self.percentile_ms(0.5), 2),
            "block_p99_ms": round(self.percentile_ms(0.99), 2),
        }


async def run_scan_bench(
    plugin: ChainPlugin,
    first_height: int,
    count: int,
    *,
    concurrency: int = 4,
    watched: frozenset[str] | None = None,
    progress: Progress | None = None,
) -> ScanFigures:
    """Read blocks ``first_height`` … ``first_height + count - 1`` with ``plugin``."""
    heights = iter(range(first_height, first_height + count))
    durations: list[float] = []
    transfers = 0

    async def reader() -> None:
        nonlocal transfers
        for height in heights:  # shared iterator: each height is read once
            started = time.perf_counter()
            block = await plugin.block(height, watched)
            durations.append((time.perf_counter() - started) * 1000)
            transfers += len(block.transfers)
            if progress is not None:
                progress(len(durations), count)

    started = time.perf_counter()
    try:
        async with asyncio.TaskGroup() as readers:
            for _ in range(min(concurrency, count)):
                readers.create_task(reader())
    except* ChainError as failures:
        raise failures.exceptions[0] from None  # the node's first complaint says enough
    seconds = time.perf_counter() - started
    return ScanFigures(
        first_height, count, transfers, seconds, concurrency, tuple(sorted(durations))
    )
