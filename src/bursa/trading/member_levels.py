"""The lowest KYC level that may deposit, withdraw and trade (Peatio's member levels)."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MemberLevels:
    """A confirmed email deposits and trades, a verified identity withdraws (OpenDAX asks
    a verified phone to trade: ``BURSA_MIN_TRADING_LEVEL=2``)."""

    deposit: int = 1
    withdraw: int = 3
    trading: int = 1
