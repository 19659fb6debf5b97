"""Order books as committed: immutable copies that readers may hold at any time.

The in-memory book runs ahead of the database while a batch commits, so a reader looking
at it could see orders that are never committed. The runner therefore copies the book of
each market a batch changed right after applying that batch (memory then holds exactly what
the batch will commit) and publishes the copies only once the batch has committed. Only the
best levels and orders are copied — as many as the public API may ask for — so the cost is
bounded per changed market, whatever the depth of the book.
"""

from dataclasses import dataclass

from bursa.engine.specs import MarketSpec
from bursa.engine.state import Book, BookSide, Order

LEVELS = 1000  # the most price levels a depth request may ask for
ORDERS = 200  # the most orders per side an order-book request may ask for


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """An order resting in the book, as it was when the snapshot was taken."""

    id: int
    market: str
    side: str
    ord_type: str
    state: str
    price: int
    origin_volume: int
    volume: int
    origin_locked: int
    locked: int
    funds_received: int
    maker_fee: int
    taker_fee: int
    trades_count: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """A market's best levels (price, volume; best first) and best resting orders
    (price-time priority), in engine integers, as of engine sequence ``seq``."""

    spec: MarketSpec
    seq: int
    asks: tuple[tuple[int, int], ...]
    bids: tuple[tuple[int, int], ...]
    ask_orders: tuple[RestingOrder, ...]
    bid_orders: tuple[RestingOrder, ...]


def _resting(order: Order) -> RestingOrder:
    return RestingOrder(
        order.id,
        order.market,
        order.side,
        order.ord_type,
        order.state,
        order.price,
        order.origin_volume,
        order.volume,
        order.origin_locked,
        order.locked,
        order.funds_received,
        order.maker_fee,
        order.taker_fee,
        order.trades_count,
        order.created_at,
        order.updated_at,
    )


def _orders(side: BookSide, limit: int) -> tuple[RestingOrder, ...]:
    return tuple(_resting(order) for order in side.orders_by_priority(limit))


def take(book: Book, seq: int, levels: int = LEVELS, orders: int = ORDERS) -> BookSnapshot:
    """Copy the best ``levels`` levels and ``orders`` orders of each side of ``book``."""
    return BookSnapshot(
        book.spec,
        seq,
        tuple(book.asks.depth(levels)),
        tuple(book.bids.depth(levels)),
        _orders(book.asks, orders),
        _orders(book.bids, orders),
    )
