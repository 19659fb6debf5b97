"""The engine's ``Transfer``: balanced multi-leg movements between ledger accounts (Peatio's
management transfers), posted together or not at all."""

from typing import Any

from bursa.engine.commands import Transfer
from bursa.engine.core import Engine
from tests.engine.test_rejections import ALICE, BOB, BTC_1, CAROL, TS, USDT_1, build_world

BTC_MAIN, BTC_ASSET, BTC_REVENUE, BTC_EXPENSE = 202, 102, 302, 402


def leg(
    currency: str, amount: int, src: tuple[int, int | None], dst: tuple[int, int | None]
) -> Any:
    return {
        "currency": currency,
        "amount": amount,
        "src": src[0],
        "src_member": src[1],
        "dst": dst[0],
        "dst_member": dst[1],
    }


def balance(engine: Engine, member: int, currency: str) -> tuple[int, int]:
    account = engine.balances[member][currency]
    return account.balance, account.locked


def test_a_transfer_moves_balances_and_posts_both_sides_of_each_leg() -> None:
    engine = build_world().engine
    engine.end_batch()
    alice_btc, bob_btc = balance(engine, ALICE, "btc"), balance(engine, BOB, "btc")
    carol_usdt = balance(engine, CAROL, "usdt")
    command = Transfer(
        key="transfer:gift-1",
        reference="gift-1",
        legs=[
            leg("btc", BTC_1 // 2, (BTC_MAIN, ALICE), (BTC_MAIN, BOB)),
            # A refund of fees: revenue pays Carol.
            leg("usdt", 3 * USDT_1, (BTC_REVENUE, None), (BTC_MAIN, CAROL)),
            # Coins the platform received as an airdrop: expense side to assets.
            leg("btc", 7, (BTC_EXPENSE, None), (BTC_ASSET, None)),
        ],
    )

    result = engine.apply(command, TS + 5)

    assert result.error is None
    assert balance(engine, ALICE, "btc") == (alice_btc[0] - BTC_1 // 2, alice_btc[1])
    assert balance(engine, BOB, "btc") == (bob_btc[0] + BTC_1 // 2, bob_btc[1])
    assert balance(engine, CAROL, "usdt") == (carol_usdt[0] + 3 * USDT_1, carol_usdt[1])
    journal = engine.end_batch()
    seq = result.seq
    assert journal.postings == [
        (seq, 202, "btc", ALICE, "transfer", "gift-1", BTC_1 // 2, 0, TS + 5),
        (seq, 202, "btc", BOB, "transfer", "gift-1", 0, BTC_1 // 2, TS + 5),
        (seq, 302, "usdt", None, "transfer", "gift-1", 3 * USDT_1, 0, TS + 5),
        (seq, 202, "usdt", CAROL, "transfer", "gift-1", 0, 3 * USDT_1, TS + 5),
        (seq, 402, "btc", None, "transfer", "gift-1", 7, 0, TS + 5),
        (seq, 102, "btc", None, "transfer", "gift-1", 0, 7, TS + 5),
    ]
    assert {(a.member_id, a.currency) for a in journal.accounts} == {
        (ALICE, "btc"),
        (BOB, "btc"),
        (CAROL, "usdt"),
    }

    again = engine.apply(command, TS + 6)
    assert again is result
    assert balance(engine, BOB, "btc") == (bob_btc[0] + BTC_1 // 2, bob_btc[1])


def test_legs_are_netted_per_member_before_the_balance_check() -> None:
    """Carol may pass on what the same transfer gives her: all legs apply together."""
    engine = build_world().engine
    carol = balance(engine, CAROL, "btc")
    result = engine.apply(
        Transfer(
            key="transfer:relay",
            reference="relay",
            legs=[
                leg("btc", BTC_1, (BTC_MAIN, ALICE), (BTC_MAIN, CAROL)),
                leg("btc", BTC_1 + carol[0], (BTC_MAIN, CAROL), (BTC_MAIN, BOB)),
            ],
        ),
        TS + 1,
    )
    assert result.error is None
    assert balance(engine, CAROL, "btc") == (0, carol[1])
