"""The lowest KYC level that may deposit, withdraw and trade (Peatio's member levels)."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MemberLevels:
    """OpenDAX's defaults: a confirmed email deposits, a verified phone trades, a verified
    identity withdraws."""

    deposit: int = 1
    withdraw: int = 3
    trading: int = 2
