"""What the bots' runner needs of an exchange account, whichever driver talks to it.

``OpenDaxClient`` (Bursa, Peatio) and ``CcxtClient`` (any exchange ccxt knows) both keep
this contract; amounts are ``Decimal`` both ways, refusals raise ``ExchangeError`` with
the exchange's codes, and network trouble is retried inside the driver before it raises
``ExchangeError`` with ``bots.exchange_unreachable``.
"""

from decimal import Decimal
from typing import Protocol

from bursa.bots.drivers.opendax import Balance, Depth, Market, MyTrade, Order, PublicTrade


class Driver(Protocol):
    """One account on one exchange (public calls only when it has no key)."""

    async def close(self) -> None: ...

    async def markets(self) -> list[Market]: ...

    async def depth(self, market: str, limit: int = 300) -> Depth: ...

    async def public_trades(self, market: str, limit: int = 1000) -> list[PublicTrade]:
        """Newest first."""
        ...

    async def balances(self) -> dict[str, Balance]: ...

    async def open_orders(self, market: str) -> list[Order]: ...

    async def place(
        self,
        market: str,
        side: str,
        volume: Decimal,
        price: Decimal | None,
        ord_type: str = "limit",
        *,
        client_id: str | None = None,
        time_in_force: str | None = None,
    ) -> Order: ...

    async def cancel(self, order_id: int | str) -> Order: ...

    async def cancel_all(self, market: str | None = None) -> list[Order]: ...

    async def my_trades(self, market: str, *, since: int | None = None) -> list[MyTrade]:
        """Oldest first; from ``since`` (Unix seconds, inclusive) when given."""
        ...


__all__ = ["Balance", "Depth", "Driver", "Market", "MyTrade", "Order", "PublicTrade"]
