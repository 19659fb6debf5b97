"""One account as the bots see it: its driver, its books and its markets' rules.

Drivers: ``bursa``/``opendax`` accounts use ``OpenDaxClient`` and a Ranger feed for their
books; ``ccxt`` accounts ``CcxtClient`` (books by REST depth). A book is the Ranger feed's
when it is synced, else REST ``depth``; a change seen on the feed wakes the strategies that
``watch`` that market.
"""

import asyncio
import contextlib
import logging
import random
from decimal import Decimal

import httpx

from bursa.bots.config import AccountConfig
from bursa.bots.drivers.base import Driver
from bursa.bots.drivers.opendax import ApiKey, ExchangeError, OpenDaxClient
from bursa.bots.drivers.opendax import Market as MarketRow
from bursa.bots.drivers.ranger_client import RangerFeed
from bursa.bots.strategy import Book, BookSide, Level, Market

log = logging.getLogger(__name__)

RANGER_PATH = "/api/v2/ranger"
BOOK_DEPTH = 50  # levels of each side a strategy sees


def market_rules(row: MarketRow) -> Market:
    """A market's rules as a strategy sees them."""
    return Market(
        row.id,
        row.base_unit,
        row.quote_unit,
        row.amount_precision,
        row.price_precision,
        row.min_amount,
    )


def _ccxt_client(account: AccountConfig, key: ApiKey | None, delay: float) -> tuple[Driver, bool]:
    """A ccxt account's driver and whether it takes client ids (imported here: only a file
    with a ccxt account needs ccxt)."""
    from bursa.bots.drivers.ccxt_driver import CcxtClient

    client = CcxtClient.from_account(account, key, delay=delay)
    return client, client.marks_orders


class Exchange:
    """One account: its driver, a Ranger feed for its books (``bursa``/``opendax`` only),
    and the markets' rules (read once, again after a failure). Strategies ``watch`` a
    market to be woken when the feed sees its book change."""

    def __init__(self, account: AccountConfig, key: ApiKey | None, markets: set[str]) -> None:
        low, high = account.delay
        delay = random.uniform(float(low), float(high))  # noqa: S311
        self.account = account
        self.has_key = key is not None
        self.client: Driver
        self.feed: RangerFeed | None = None
        if account.driver == "ccxt":
            self.client, self.marks_orders = _ccxt_client(account, key, delay)
        else:
            self.marks_orders = account.driver == "bursa"  # Bursa takes client ids
            source = account.source_address
            self.client = OpenDaxClient(
                str(account.host),
                key,
                delay=delay,
                transport=httpx.AsyncHTTPTransport(local_address=str(source)) if source else None,
            )
            ws = account.ws or (account.ws_url or "") + RANGER_PATH
            if markets:
                self.feed = RangerFeed(ws, sorted(markets), trades=False)
                self.feed.on_book_change = self._book_changed
        self._markets: dict[str, MarketRow] = {}
        self._drain: asyncio.Task[None] | None = None
        self._watchers: dict[str, list[asyncio.Event]] = {}

    def watch(self, market_id: str, wake: asyncio.Event) -> None:
        """Set ``wake`` whenever the feed sees ``market_id``'s book change."""
        self._watchers.setdefault(market_id, []).append(wake)

    def _book_changed(self, market_id: str) -> None:
        for wake in self._watchers.get(market_id, ()):
            wake.set()

    async def start(self, use_feed: bool) -> None:
        if use_feed and self.feed is not None:
            await self.feed.__aenter__()
            self._drain = asyncio.create_task(self._drain_events(self.feed))

    async def close(self) -> None:
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
        if self.feed is not None:
            await self.feed.__aexit__()
        await self.client.close()

    async def _drain_events(self, feed: RangerFeed) -> None:
        """Feed events are not needed (books are read from ``feed.books``, changes come
        through ``on_book_change``); reading them keeps the feed's bounded queue from
        dropping (and warning) and tells a feed that stopped: its books stay unsynced,
        and ``depth`` is used."""
        while True:
            try:
                await feed.next_event(wait_s=60)
            except TimeoutError:
                continue
            except ExchangeError as exc:
                log.warning("%s: ranger refused (%s); books from REST", self.account.id, exc)
                return

    async def market(self, market_id: str) -> MarketRow:
        if market_id not in self._markets:
            self._markets = {m.id: m for m in await self.client.markets()}
        found = self._markets.get(market_id)
        if found is None:
            raise ExchangeError(422, "bots.unknown_market", message=f"no market {market_id}")
        return found

    async def book(self, market_id: str) -> Book:
        local = self.feed.books.get(market_id) if self.feed is not None else None
        if local is not None and local.synced:
            return _book_of(local.ask_levels(BOOK_DEPTH), local.bid_levels(BOOK_DEPTH))
        depth = await self.client.depth(market_id, limit=BOOK_DEPTH)
        return _book_of(depth.asks, depth.bids)


def _book_of(asks: list[tuple[Decimal, Decimal]], bids: list[tuple[Decimal, Decimal]]) -> Book:
    return Book(
        BookSide(tuple(Level(p, v) for p, v in asks)), BookSide(tuple(Level(p, v) for p, v in bids))
    )
