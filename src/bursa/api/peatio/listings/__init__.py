"""Listing feeds in the formats CoinMarketCap and CoinGecko publish
(``/api/v2/peatio/coinmarketcap/...``, ``/api/v2/peatio/coingecko/...``): no
authentication, read from the market data services (``bursa.trading.listings``).

Shared here: the pair a request names, and an exact JSON writer. CoinMarketCap's spec
types prices and volumes as ``decimal`` and shows them as JSON numbers, so its feed writes
them as numbers; they are written from the exact decimals' text (never through a float).
"""

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson
from fastapi.responses import JSONResponse

from bursa.api.deps import Runner
from bursa.api.errors import NOT_FOUND, ApiError
from bursa.engine.snapshots import BookSnapshot
from bursa.formats import decimal_text
from bursa.trading import listings


def pair_book(runner: Runner, name: str) -> BookSnapshot:
    """The committed book of the tradable market named ``BASE_QUOTE``; 404 as Peatio's
    feeds (``record.not_found``) for any other name."""
    found = listings.find_pair(runner.committed_books(), name)
    if found is None:
        raise ApiError(404, NOT_FOUND)
    return found


def now_ms() -> int:
    """Unix milliseconds, from integer nanoseconds (no float)."""
    return time.time_ns() // 1_000_000


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(decimal_text(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(orjson.dumps(str(key)).decode())
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:  # str, int, bool, None
        out.append(orjson.dumps(value).decode())


class ExactJSONResponse(JSONResponse):
    """JSON whose ``Decimal`` values are numbers written from their exact text."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        out: list[str] = []
        _write(content, out)
        return "".join(out).encode()
