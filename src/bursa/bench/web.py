"""``bursa bench web``: the trade page in headless Chromium against a busy market.

The exchange runs in this process (``demo_market.busy_exchange``: engine, Ranger, the API
and the built web app, on a scratch database); Debian's Chromium, driven by Playwright
from a worker thread, loads ``/trading/btcusdt`` over loopback. Three figures:

* **JavaScript shipped**: every ``.js`` response the page receives until it is ready and
  the network is idle, each body gzipped here at level 9 (the server sends them
  uncompressed; a reverse proxy or CDN would compress), summed in KB of 1,024 bytes.
* **Time to a usable trade page**: from navigation start (the document's time origin) to
  the moment ``[data-testid=trade-page][data-ready=true]`` is in the DOM (the page sets it
  once the market is known and the first book snapshot is drawn), seen by a
  ``MutationObserver`` the page gets before its own scripts. Cold loads each use a new
  browser context (empty cache); warm loads reuse one context after a first load. Median
  of ``loads`` each.
* **Book update → DOM**: with the page open, the engine takes one book change every
  ``1/rate`` s for ``seconds`` (a driver member alternately places an order at a fresh
  price level inside the spread — a new best ask or bid — and cancels its oldest resting
  one, so each command adds or removes exactly one level). In the page, a wrapped
  ``WebSocket`` stamps each ``btcusdt.ob-inc`` increment when its ``message`` event is
  dispatched (before the app's handler), and a ``MutationObserver`` on the page stamps
  when the row ``[data-testid=book-ask|book-bid][data-price=<price as sent>]`` appears, is
  removed (a level gone), or changes inside (its volume). Both stamps are
  ``performance.now()`` in the page, so no clocks are compared. The delay therefore covers
  the app's handling and its rendering (throttled to animation frames), not the server
  nor the network (``bursa bench ws`` measures those); the DOM stamp is when the change is
  in the DOM, before the browser paints it.

Chromium, the exchange and the driver share the machine's cores.
"""

import asyncio
import contextlib
import gzip
import json
import os
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bursa.api import web
from bursa.bench.demo_market import MARKET, MID, SPREAD, Exchange, busy_exchange
from bursa.engine.commands import BUY, SELL, CancelOrder, Command, PlaceOrder

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = "/usr/bin/chromium"  # Debian's; BURSA_CHROMIUM names another
READY = '[data-testid="trade-page"][data-ready="true"]'
READY_TIMEOUT_MS = 30_000
RESTING = 20  # the driver's orders on the book at once (an order's cancel: 40 updates later)
DRAIN_S = 2.0  # after the drive, time for the last updates to be drawn
Phase = Callable[[str], None]
Tick = Callable[[float, float], None]  # seconds driven, of how many


class BrowserMissing(Exception):
    """Playwright or Chromium is not there; the message says which and what to do."""


class PageNotReady(Exception):
    """The trade page never said it was ready."""


@dataclass(frozen=True, slots=True)
class Chunk:
    url: str
    size: int  # bytes as served
    gzipped: int  # bytes gzipped at level 9


@dataclass(frozen=True, slots=True)
class WebFigures:
    chunks: list[Chunk]
    cold_ms: list[float]
    warm_ms: list[float]
    delays_ms: list[float]  # book update → DOM, sorted
    increments: int  # ob-inc levels the page received during the drive
    updates: int  # book changes the driver made
    seconds: float
    load_average: float  # the machine's (1 min) as the browser started: others' work

    @property
    def js_gzip_kb(self) -> float:
        return sum(c.gzipped for c in self.chunks) / 1024

    @property
    def js_kb(self) -> float:
        return sum(c.size for c in self.chunks) / 1024

    def percentile(self, share: float) -> float:
        if not self.delays_ms:
            return 0.0
        return self.delays_ms[min(len(self.delays_ms) - 1, int(len(self.delays_ms) * share))]

    def as_json(self) -> dict[str, Any]:
        return {
            "js_gzip_kb": round(self.js_gzip_kb, 1),
            "js_kb": round(self.js_kb, 1),
            "chunks": [
                {"url": c.url, "bytes": c.size, "gzip_bytes": c.gzipped} for c in self.chunks
            ],
            "cold_ms": round(statistics.median(self.cold_ms), 1) if self.cold_ms else None,
            "warm_ms": round(statistics.median(self.warm_ms), 1) if self.warm_ms else None,
            "cold_loads_ms": [round(x, 1) for x in self.cold_ms],
            "warm_loads_ms": [round(x, 1) for x in self.warm_ms],
            "p50_ms": round(self.percentile(0.50), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "max_ms": round(self.delays_ms[-1], 2) if self.delays_ms else 0.0,
            "matched": len(self.delays_ms),
            "increments": self.increments,
            "updates": self.updates,
            "seconds": round(self.seconds, 2),
            "cores": os.cpu_count(),
            "load_average": round(self.load_average, 2),
        }


def chromium_path() -> str:
    return os.environ.get("BURSA_CHROMIUM") or CHROMIUM


def check_browser() -> None:
    """Raise ``BrowserMissing`` unless Playwright and Chromium are both there (checked
    before a scratch database is made for nothing)."""
    sync_playwright_module()
    path = chromium_path()
    if not os.access(path, os.X_OK):
        raise BrowserMissing(
            f"no Chromium at {path}: install Debian's (apt install chromium)"
            " or name one with BURSA_CHROMIUM"
        )


def launch(playwright: Any) -> "Browser":
    """Debian's Chromium (never a downloaded one), headless."""
    check_browser()
    browser: Browser = playwright.chromium.launch(
        executable_path=chromium_path(), args=["--no-sandbox"]
    )
    return browser


def sync_playwright_module() -> Any:
    """Playwright's sync API, imported here: a dev dependency the exchange never needs."""
    try:
        from playwright import sync_api
    except ImportError as exc:
        raise BrowserMissing(
            "Playwright is not installed: run scripts/bootstrap dev (it drives Debian's"
            " Chromium; never run `playwright install`)"
        ) from exc
    return sync_api


def sync_playwright() -> Any:
    """Playwright's sync API's context manager."""
    return sync_playwright_module().sync_playwright()


# ----------------------------------------------------------------- in the page

# Stamps when the page says it is ready (ms since navigation start).
READY_SCRIPT = """
(() => {
  const selector = SELECTOR;
  const observer = new MutationObserver(() => {
    if (window.__bursaReadyAt === undefined && document.querySelector(selector)) {
      window.__bursaReadyAt = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'],
  });
})();
""".replace("SELECTOR", json.dumps(READY))

# Stamps each book increment as the page receives it and each book row as it changes.
BOOK_SCRIPT = """
(() => {
  const stream = STREAM;
  const ROW = '[data-testid="book-ask"],[data-testid="book-bid"]';
  const SIDE = { 'book-ask': 'asks', 'book-bid': 'bids' };
  const pending = new Map();  // "asks|30004.99" -> {at, gone}
  const rec = { received: 0, delays: [], counting: false };
  window.__bursaBook = rec;

  const rowSelector = (side, price) =>
    `[data-testid="${side === 'asks' ? 'book-ask' : 'book-bid'}"][data-price="${price}"]`;

  const Native = window.WebSocket;
  class Recording extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (!rec.counting || typeof event.data !== 'string' || !event.data.includes(stream)) {
          return;
        }
        const at = performance.now();
        let increment;
        try { increment = JSON.parse(event.data)[stream]; } catch { return; }
        if (!increment) return;
        for (const side of ['asks', 'bids']) {
          const levels = increment[side];
          if (!Array.isArray(levels) || levels.length === 0) continue;
          for (const [price, volume] of Array.isArray(levels[0]) ? levels : [levels]) {
            rec.received += 1;
            const gone = volume === '';
            // A level that goes while not drawn changes nothing on the page.
            if (gone && !document.querySelector(rowSelector(side, price))) continue;
            pending.set(side + '|' + price, { at, gone });
          }
        }
      });
    }
  }
  window.WebSocket = Recording;

  const seen = (row, at, removed) => {
    const side = SIDE[row.getAttribute('data-testid')];
    const price = row.getAttribute('data-price');
    if (!side || price === null) return;
    const key = side + '|' + price;
    const waiting = pending.get(key);
    if (!waiting || waiting.gone !== removed) return;
    if (removed && document.querySelector(rowSelector(side, price))) return;
    rec.delays.push(at - waiting.at);
    pending.delete(key);
  };
  const rowsIn = (node) => {
    if (node.nodeType !== 1) return [];
    return node.matches(ROW) ? [node] : Array.from(node.querySelectorAll(ROW));
  };
  const observer = new MutationObserver((records) => {
    if (pending.size === 0) return;
    const at = performance.now();
    for (const record of records) {
      for (const node of record.addedNodes) for (const row of rowsIn(node)) seen(row, at, false);
      for (const node of record.removedNodes) for (const row of rowsIn(node)) seen(row, at, true);
      const element = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      const row = element && element.closest(ROW);
      if (row && row.isConnected) seen(row, at, false);
    }
  });
  const watch = () => observer.observe(document.body, {
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ['data-price'],
  });
  if (document.body) watch(); else document.addEventListener('DOMContentLoaded', watch);
})();
""".replace("STREAM", json.dumps(f"{MARKET}.ob-inc"))


def _open_ready(context: "BrowserContext", url: str) -> tuple["Page", float]:
    """A new page at ``url`` once the trade page is ready; ms from navigation start."""
    page = context.new_page()
    page.goto(url, wait_until="commit")
    return page, _ready_ms(page)


def _ready_ms(page: "Page") -> float:
    try:
        page.wait_for_function(
            "window.__bursaReadyAt !== undefined", timeout=READY_TIMEOUT_MS, polling=50
        )
    except Exception as exc:  # Playwright's TimeoutError, imported lazily
        raise PageNotReady(
            f"{page.url} did not show {READY} within {READY_TIMEOUT_MS // 1000} s"
        ) from exc
    ready: float = page.evaluate("window.__bursaReadyAt")
    return ready


def _scripts(browser: "Browser", url: str) -> tuple[list[Chunk], float]:
    """The JavaScript one cold load of ``url`` fetches, and that load's time to ready."""
    context = browser.new_context()
    try:
        context.add_init_script(READY_SCRIPT)
        seen: dict[str, Any] = {}

        def on_response(response: Any) -> None:
            path = response.url.split("?", 1)[0]
            if path.endswith((".js", ".mjs")) or response.request.resource_type == "script":
                seen.setdefault(response.url, response)

        context.on("response", on_response)
        page, ready = _open_ready(context, url)
        # Later chunks (the chart's) come once the page is up; a page that never idles
        # is measured as it stands after the wait.
        with contextlib.suppress(Exception):
            page.wait_for_load_state("networkidle", timeout=10_000)
        chunks = []
        for address, response in seen.items():
            body: bytes = response.body()
            encoding = (response.headers.get("content-encoding") or "").lower()
            gzipped = len(body) if encoding == "gzip" else len(gzip.compress(body, 9))
            chunks.append(Chunk(address, len(body), gzipped))
        return sorted(chunks, key=lambda c: -c.gzipped), ready
    finally:
        context.close()


def _loads(
    browser: "Browser", url: str, loads: int, phase: Phase
) -> tuple[list[float], list[float]]:
    """Cold loads (a new context each) and warm loads (one context, after a first load)."""
    cold = []
    for n in range(loads):
        phase(f"cold load {n + 1} of {loads}")
        context = browser.new_context()
        try:
            context.add_init_script(READY_SCRIPT)
            cold.append(_open_ready(context, url)[1])
        finally:
            context.close()
    warm = []
    context = browser.new_context()
    try:
        context.add_init_script(READY_SCRIPT)
        page, _ = _open_ready(context, url)  # fills the cache
        for n in range(loads):
            phase(f"warm load {n + 1} of {loads}")
            page.goto(url, wait_until="commit")
            warm.append(_ready_ms(page))
    finally:
        context.close()
    return cold, warm


def _book_delays(
    browser: "Browser", url: str, drive: Callable[[], "Future[int]"], seconds: float, tick: Tick
) -> tuple[list[float], int, int, float]:
    """Delays of the book updates ``drive`` makes, the increments the page received, the
    updates made and the seconds driven."""
    context = browser.new_context()
    try:
        context.add_init_script(READY_SCRIPT)
        context.add_init_script(BOOK_SCRIPT)
        page, _ = _open_ready(context, url)
        page.wait_for_timeout(1000)  # the first draws settle
        page.evaluate("window.__bursaBook.counting = true")
        started = time.monotonic()
        driving = drive()
        while not driving.done():  # Playwright keeps serving the page meanwhile
            page.wait_for_timeout(250)
            tick(min(time.monotonic() - started, seconds), seconds)
        updates = driving.result()
        elapsed = time.monotonic() - started
        page.wait_for_timeout(DRAIN_S * 1000)
        found: dict[str, Any] = page.evaluate(
            """() => {
                const rec = window.__bursaBook;
                rec.counting = false;
                return { received: rec.received, delays: rec.delays };
            }"""
        )
        return sorted(float(d) for d in found["delays"]), int(found["received"]), updates, elapsed
    finally:
        context.close()


# ----------------------------------------------------------------- the driver


def driver_updates(exchange: Exchange) -> Iterator[Command]:
    """Endless book changes by the driver member, one level each: a new best ask or bid
    at a price no order holds (stepping a cent into the spread, alternating sides, and
    starting again from the spread's edges when the middle is reached), and once
    ``RESTING`` orders rest, the oldest one's cancellation before each placement."""
    member = exchange.driver.id
    cent = Decimal("0.01")
    room = int(SPREAD / cent) - 1  # fresh cents a side before the middle
    resting: deque[str] = deque()
    n = 0
    while True:
        if len(resting) >= RESTING:
            client_id = resting.popleft()
            yield CancelOrder(key=f"web:cancel:{client_id}", member_id=member, client_id=client_id)
        step = (n // 2) % room + 1
        side = SELL if n % 2 == 0 else BUY
        price = MID + SPREAD - step * cent if side == SELL else MID - SPREAD + step * cent
        client_id = f"web-{n}"
        yield PlaceOrder(
            key=f"web:place:{n}",
            member_id=member,
            market=MARKET,
            side=side,
            volume=exchange.lots(Decimal("0.01")),
            price=exchange.units(price),
            client_id=client_id,
        )
        resting.append(client_id)
        n += 1


async def drive(exchange: Exchange, rate: int, seconds: float) -> int:
    """``rate`` book changes a second for ``seconds``; the number made."""
    updates = driver_updates(exchange)
    pending: list[asyncio.Future[dict[str, Any]]] = []
    made = 0
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        # A stalled loop does not catch up in one burst: an order and its cancellation in
        # one engine batch would change no level. It falls behind instead (``updates``).
        for _ in range(min(int(rate * elapsed) - made, RESTING // 2)):
            pending.append(exchange.runner.offer(next(updates)))
            made += 1
        await asyncio.sleep(min(0.005, 1 / rate))
    refused = [a["error"] for a in await asyncio.gather(*pending) if a.get("error")]
    if refused:
        raise RuntimeError(f"the driver's commands were refused: {refused[:3]}")
    return made


# ----------------------------------------------------------------- the whole run


def _measure(
    base_url: str,
    loads: int,
    start_drive: Callable[[], "Future[int]"],
    seconds: float,
    phase: Phase,
    tick: Tick,
) -> WebFigures:
    """Everything the browser does (in a worker thread: Playwright's sync API)."""
    url = f"{base_url}/trading/{MARKET}"
    load_average = os.getloadavg()[0]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            phase("JavaScript the trade page loads")
            chunks, _ = _scripts(browser, url)
            cold, warm = _loads(browser, url, loads, phase)
            phase(f"book updates for {seconds:g} s")
            delays, received, updates, elapsed = _book_delays(
                browser, url, start_drive, seconds, tick
            )
        finally:
            browser.close()
    return WebFigures(chunks, cold, warm, delays, received, updates, elapsed, load_average)


def web_dist_missing(web_dist: Path) -> bool:
    return not (web_dist / "index.html").is_file()


async def run_web_bench(
    database_url: str,
    *,
    loads: int = 5,
    seconds: float = 20,
    rate: int = 50,
    phase: Phase = lambda _: None,
    tick: Tick = lambda _done, _total: None,
    web_dist: Path = web.DIST,
) -> WebFigures:
    """The busy exchange on ``database_url`` (migrated, demo-seeded), serving the web app
    built in ``web_dist``, and the browser's measurements of its trade page (see the
    module's doc)."""
    async with busy_exchange(database_url, progress=phase, web_dist=web_dist) as exchange:
        loop = asyncio.get_running_loop()

        def start_drive() -> "Future[int]":
            return asyncio.run_coroutine_threadsafe(drive(exchange, rate, seconds), loop)

        return await asyncio.to_thread(
            _measure, exchange.base_url, loads, start_drive, seconds, phase, tick
        )
