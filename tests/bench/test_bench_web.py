"""``bursa bench web`` and ``scripts/screenshots``: the busy market they seed, the driver's
book updates, and the in-page measurement read back from a real browser.

The browser check serves a small stand-in page (a book drawn from Ranger's stream, with
the DOM contract of the trade page) instead of the built web app, so it checks the
measuring code, not the app's speed: no figure here is compared with a target.
"""

import os
import zlib
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from bursa.bench import demo_market
from bursa.bench.demo_market import LEVELS, MARKET, MID, SPREAD, busy_exchange
from bursa.bench.web import RESTING, chromium_path, driver_updates, run_web_bench
from bursa.cli.screenshots import smaller_png
from bursa.engine.commands import BUY, CancelOrder, PlaceOrder
from tests.conftest import IN_CI

STAND_IN_PAGE = """<!doctype html>
<html><body>
<section data-testid="trade-page" data-ready="false">
  <div data-testid="order-book"><div id="asks"></div><div id="bids"></div></div>
</section>
<script type="module" src="/assets/book.js"></script>
</body></html>
"""
STAND_IN_SCRIPT = """
const stream = 'btcusdt.ob-inc';
const sides = { asks: document.getElementById('asks'), bids: document.getElementById('bids') };
const testid = { asks: 'book-ask', bids: 'book-bid' };
function put(side, [price, volume]) {
  const old = sides[side].querySelector(`[data-price="${price}"]`);
  if (volume === '') { old?.remove(); return; }
  if (old) { old.querySelector('[data-testid=book-volume]').textContent = volume; return; }
  const row = document.createElement('div');
  row.dataset.testid = testid[side];
  row.dataset.price = price;
  const cell = document.createElement('span');
  cell.dataset.testid = 'book-volume';
  cell.textContent = volume;
  row.append(cell);
  sides[side].prepend(row);
}
const socket = new WebSocket(`ws://${location.host}/api/v2/ranger/public?stream=${stream}`);
socket.onmessage = (event) => {
  const frame = JSON.parse(event.data);
  const snapshot = frame['btcusdt.ob-snap'];
  if (snapshot) {
    for (const side of ['asks', 'bids']) for (const level of snapshot[side]) put(side, level);
    document.querySelector('[data-testid=trade-page]').dataset.ready = 'true';
  }
  const increment = frame[stream];
  if (increment) {
    for (const side of ['asks', 'bids']) if (increment[side]) put(side, increment[side]);
  }
};
"""


def _browser_or_skip() -> None:
    """Skip without Playwright or Chromium, fail in CI (where both must be there)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "Playwright is not installed (scripts/bootstrap dev)"
    else:
        path = chromium_path()
        missing = "" if os.access(path, os.X_OK) else f"no Chromium at {path}"
    if missing:
        if IN_CI:
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture
def stand_in_dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(STAND_IN_PAGE)
    (tmp_path / "assets" / "book.js").write_text(STAND_IN_SCRIPT)
    return tmp_path


async def test_the_busy_market_has_a_deep_book_and_a_day_of_trades(
    fresh_database_url: str, stand_in_dist: Path
) -> None:
    async with busy_exchange(fresh_database_url, web_dist=stand_in_dist) as exchange:
        committed = exchange.runner.committed_book(MARKET)
        assert committed is not None
        book = committed[0]
        ask_levels = {price for price, _ in book.asks}
        bid_levels = {price for price, _ in book.bids}
        assert len(ask_levels) == len(bid_levels) == LEVELS
        assert min(ask_levels) == exchange.units(MID + SPREAD)
        assert max(bid_levels) == exchange.units(MID - SPREAD)
    conn = await asyncpg.connect(fresh_database_url)
    try:
        trades = await conn.fetchrow(
            "SELECT count(*) AS n, max(created_at) - min(created_at) AS span FROM trades"
        )
        trader_orders = await conn.fetch(
            "SELECT state, count(*) AS n FROM orders WHERE member_id = $1 GROUP BY state",
            exchange.trader.id,
        )
        deposits = await conn.fetchval(
            "SELECT count(*) FROM deposits WHERE member_id = $1 AND state = 'accepted'",
            exchange.trader.id,
        )
    finally:
        await conn.close()
    assert trades["n"] == demo_market.PAST_TRADES
    assert trades["span"] == demo_market.TRADE_EVERY * (demo_market.PAST_TRADES - 1)
    states = {row["state"]: row["n"] for row in trader_orders}
    assert states["wait"] == demo_market.TRADER_RESTING
    assert states["cancel"] == demo_market.TRADER_CANCELLED
    assert states["done"] == demo_market.PAST_TRADES
    assert deposits == len(demo_market.TRADER_DEPOSITS)


def test_the_driver_changes_one_fresh_level_inside_the_spread_at_a_time() -> None:
    class Stub:
        driver = demo_market.Member(3, "ID3", "driver@demo.example.com", "x")

        def units(self, price: Decimal) -> int:
            return int(price * 100)

        def lots(self, volume: Decimal) -> int:
            return int(volume * 10**6)

    updates = driver_updates(Stub())  # type: ignore[arg-type]
    seen = [next(updates) for _ in range(2000)]
    places = [u for u in seen if isinstance(u, PlaceOrder)]
    cancels = [u for u in seen if isinstance(u, CancelOrder)]
    assert all(isinstance(u, PlaceOrder) for u in seen[:RESTING])
    assert len(cancels) == len(seen) // 2 - RESTING // 2
    best_ask, best_bid = Stub().units(MID + SPREAD), Stub().units(MID - SPREAD)
    resting: dict[str, int] = {}
    for update in seen:
        if isinstance(update, CancelOrder):
            assert update.client_id is not None
            del resting[update.client_id]
            continue
        assert isinstance(update, PlaceOrder)
        assert best_bid < update.price < best_ask  # inside the seeded spread
        assert update.price not in resting.values()  # a fresh level
        assert update.client_id is not None
        resting[update.client_id] = update.price
        bids = [p for p in resting.values() if p < Stub().units(MID)]
        asks = [p for p in resting.values() if p > Stub().units(MID)]
        assert not bids or not asks or max(bids) < min(asks)  # nothing crosses
    assert {u.side for u in places} == {BUY, "sell"}


async def test_the_bench_reads_its_figures_from_the_page(
    fresh_database_url: str, stand_in_dist: Path
) -> None:
    _browser_or_skip()

    figures = await run_web_bench(
        fresh_database_url, loads=1, seconds=2, rate=50, web_dist=stand_in_dist
    )

    numbers = figures.as_json()
    assert [c.url.rsplit("/", 1)[-1] for c in figures.chunks] == ["book.js"]
    assert figures.chunks[0].size == len(STAND_IN_SCRIPT.encode())
    assert 0 < figures.chunks[0].gzipped < figures.chunks[0].size
    assert len(figures.cold_ms) == len(figures.warm_ms) == 1
    assert numbers["cold_ms"] > 0 and numbers["warm_ms"] > 0
    assert figures.updates >= 50  # 50/s for 2 s, less when the machine is busy
    # Each update moves one level; the page is told of (nearly) every one, and draws it.
    assert figures.updates * 0.9 <= figures.increments <= figures.updates
    assert numbers["matched"] >= figures.increments * 0.9
    assert 0 <= numbers["p50_ms"] <= numbers["p99_ms"] <= numbers["max_ms"]


def test_smaller_png_keeps_the_pixels() -> None:
    width, height = 64, 32
    rows = b"".join(
        b"\x00" + bytes((x * 4 + y) % 256 for x in range(width * 3)) for y in range(height)
    )
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    packed = zlib.compress(rows, 1)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    png += chunk(b"IDAT", packed[:100]) + chunk(b"IDAT", packed[100:]) + chunk(b"IEND", b"")

    smaller = smaller_png(png)

    assert len(smaller) <= len(png)
    assert smaller.startswith(png[:8] + chunk(b"IHDR", header))
    assert smaller.endswith(chunk(b"IEND", b""))
    idat = smaller.index(b"IDAT")
    length = int.from_bytes(smaller[idat - 4 : idat], "big")
    assert zlib.decompress(smaller[idat + 4 : idat + 4 + length]) == rows
