"""Choosing coins and sizing fees for Bitcoin payments (no node needed: pure arithmetic)."""

import pytest

from bursa.custody.chains.bitcoin_tx import (
    DUST_LIMIT,
    Coin,
    InsufficientFunds,
    plan_spend,
    transaction_vsize,
)

WPKH = bytes([0, 20]) + bytes(20)
RATE = 10


def coin(value: int, index: int = 0) -> Coin:
    return Coin("ab" * 32, index, value, WPKH, height=500, coinbase=False)


def test_sizes_are_virtual_sizes_with_the_longest_low_r_signature() -> None:
    # 10.5 vB of frame, 67.75 per P2WPKH input, 31 per P2WPKH output, 32 per P2SH one.
    assert transaction_vsize(1, [WPKH, WPKH]) == 141
    assert transaction_vsize(2, [WPKH]) == 177
    assert transaction_vsize(1, [bytes([0xA9, 20]) + bytes(20) + b"\x87"]) == 111


def test_the_largest_coins_pay_and_the_change_comes_back() -> None:
    coins = [coin(10_000, 0), coin(900_000, 1), coin(500_000, 2)]
    plan = plan_spend(coins, 1_000_000, WPKH, WPKH, RATE, subtract_fee=False)
    assert [c.vout for c in plan.coins] == [1, 2]
    fee = RATE * transaction_vsize(2, [WPKH, WPKH])
    assert (plan.amount, plan.change) == (1_000_000, 1_400_000 - 1_000_000 - fee)


def test_change_below_the_dust_limit_goes_to_the_fee() -> None:
    fee = RATE * transaction_vsize(1, [WPKH])
    plan = plan_spend(
        [coin(100_000 + fee + DUST_LIMIT - 1)], 100_000, WPKH, WPKH, RATE, subtract_fee=False
    )
    assert (plan.amount, plan.change) == (100_000, 0)


def test_a_sweep_pays_the_fee_out_of_the_amount() -> None:
    plan = plan_spend([coin(50_000), coin(25_000, 1)], 75_000, WPKH, WPKH, RATE, subtract_fee=True)
    assert len(plan.coins) == 2 and plan.change == 0
    assert plan.amount == 75_000 - RATE * transaction_vsize(2, [WPKH])


def test_too_little_money_says_how_much_is_missing() -> None:
    with pytest.raises(InsufficientFunds, match="60000 sat can be spent, 61410 sat needed"):
        plan_spend([coin(60_000)], 60_000, WPKH, WPKH, RATE, subtract_fee=False)
    with pytest.raises(InsufficientFunds, match="below the dust limit"):
        plan_spend([coin(1_500)], 1_500, WPKH, WPKH, RATE, subtract_fee=True)
    with pytest.raises(ValueError, match="must be positive"):
        plan_spend([coin(1_500)], 0, WPKH, WPKH, RATE, subtract_fee=False)
