"""The strategy's fills: each tick reads the account's trades on the target and on every
venue and keeps those of the strategy's orders.

Attribution: trades are read with ``my_trades`` from the start of the run (less
``START_SLACK_S``), later from the newest trade seen less ``FILL_OVERLAP_S``, and kept when
their order is the strategy's — an id it placed in this run or saw among its own open
orders — each handed to ``tick`` once (trade ids told are kept, a bounded set). After a
restart the fills of orders open before it are attributed (they are seen, marked); an order
placed before and filled entirely while the bot was down is not, nor a trade older than
the run. On an ``opendax`` venue (no client ids) only the orders placed in this run are
known.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bursa.bots.exchange import Exchange
from bursa.bots.strategy import Fill

FILL_OVERLAP_S = 10  # trades are re-read this far back (rows written late, clocks apart)
START_SLACK_S = 2  # and from this long before the start (the exchange's clock may lag)
TRADES_KEPT = 10_000  # trade ids told, per market read


class BoundedSet:
    """Keys remembered in the order last seen, the oldest forgotten beyond ``most``."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._keys: dict[object, None] = {}

    def add(self, key: object) -> None:
        self._keys.pop(key, None)
        self._keys[key] = None
        while len(self._keys) > self.most:
            del self._keys[next(iter(self._keys))]

    def __contains__(self, key: object) -> bool:
        return key in self._keys


@dataclass
class Place:
    """Where a strategy's orders go: the target, or one of its venues."""

    key: str  # "account_id/market_id"
    account_id: str
    market_id: str
    exchange: Exchange
    is_target: bool


class FillReader:
    """The new trades of the strategy's orders on one market (see the module's doc)."""

    def __init__(self, place: Place, since: int) -> None:
        self.place = place
        self.since = since
        self.told = BoundedSet(TRADES_KEPT)

    async def read(self, ours: Callable[[str, str], bool]) -> list[Fill]:
        place = self.place
        trades = await place.exchange.client.my_trades(place.market_id, since=self.since)
        fills = []
        for trade in trades:
            self.since = max(self.since, trade.created_at - FILL_OVERLAP_S)
            told = (trade.id, trade.order_id)  # a self-trade is one id with two sides
            if told in self.told or not ours(place.account_id, trade.order_id):
                continue
            self.told.add(told)
            side: Literal["buy", "sell"] = "buy" if trade.side == "buy" else "sell"
            fills.append(
                Fill(
                    trade.id,
                    place.key,
                    trade.order_id,
                    side,
                    trade.price,
                    trade.amount,
                    trade.created_at,
                )
            )
        return fills
