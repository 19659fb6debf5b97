"""Trigger orders (stop-limit, stop-market) and OCO pairs, example by example.

Each example runs on the engine and on the reference model (``tests.engine.reference``)
side by side, which must agree on every command; the assertions state what a member would
check: which command (sequence number) a trigger fired in, in which order, what it traded,
what stays locked, and that an OCO never trades on both legs.

The market: BTC/USD with 2 amount decimals and whole-dollar prices, so a volume of 1 is
0.01 BTC (10**6 satoshis) and 1 lot at a price of 1 costs 1 cent; no fees.
"""

from typing import Any

import pytest

from bursa.engine import errors
from bursa.engine.commands import (
    CancelAll,
    CancelOrder,
    Command,
    Credit,
    PlaceOco,
    PlaceOrder,
)
from bursa.engine.core import Engine
from bursa.engine.specs import CurrencySpec, MarketSpec
from bursa.engine.state import Order, Result
from tests.engine.reference import Reference, RefMarket
from tests.engine.test_properties import T0, engine_order_state, outcome_of, result_orders

BTC = CurrencySpec("btc", "coin", 8)
USD = CurrencySpec("usd", "fiat", 2)
MARKET = MarketSpec("btcusd", BTC, USD, 2, 0, 1, 0, 1, 0, 0)
LOT = 10**6  # satoshis in one lot
FUNDS = {"btc": 10**8, "usd": 10**6}  # each member's deposit: 1 BTC, 10,000 USD


class Exchange:
    """The engine and the reference model, fed the same commands, one batch per command
    unless told otherwise; every order a result names is kept to be looked at later."""

    def __init__(self, members: int = 6) -> None:
        self.engine = Engine([BTC, USD], [MARKET])
        self.ref = Reference(
            {"btc": 8, "usd": 2},
            [RefMarket("btcusd", "btc", "usd", 8, 2, 2, 0, 1, 0, 1, 0, 0)],
            {"btc": "coin", "usd": "fiat"},
        )
        self.orders: dict[int, Order] = {}
        self.count = 0
        for member in range(1, members + 1):
            for currency, amount in FUNDS.items():
                self.send(
                    Credit, member_id=member, currency=currency, amount=amount, deposit_id="d"
                )

    def send(self, kind: type[Command], *, batch: bool = True, **fields: Any) -> Result:
        self.count += 1
        command = kind(key=f"k{self.count}", **fields)
        expected = self.ref.apply(command)
        result = self.engine.apply(command, T0 + self.count)
        assert outcome_of(result) == expected, command
        for order in result_orders(result):
            self.orders[order.id] = order
        assert {i: engine_order_state(o) for i, o in self.orders.items()} == {
            i: s for i, s in self.ref.orders_view().items() if i in self.orders
        }
        if batch:
            self.engine.end_batch()
        return result

    def place(self, member: int, side: str, volume: int, price: int = 0, **more: Any) -> Order:
        result = self.send(
            PlaceOrder,
            member_id=member,
            market="btcusd",
            side=side,
            volume=volume,
            price=price,
            **more,
        )
        assert result.error is None, result.error
        assert result.order is not None
        return result.order

    def trade_at(self, price: int, volume: int = 1) -> None:
        """Members 5 and 6 trade ``volume`` at ``price`` with each other (member 6 takes)."""
        self.place(5, "sell", volume, price)
        taker = self.place(6, "buy", volume, price)
        assert taker.state == "done", "the book had a better ask than the trade price"

    def trades(self) -> list[tuple[int, int, int, int]]:
        """(seq, price, volume, taker order) of every trade so far."""
        return [(t[0], t[2], t[3], t[6]) for t in self.ref.trades]

    def account(self, member: int, currency: str) -> tuple[int, int]:
        a = self.engine.balances[member][currency]
        return a.balance, a.locked


def taker_trades(x: Exchange, order: Order) -> list[tuple[int, int]]:
    """(price, volume) of the trades ``order`` took, from the engine's recent trades."""
    return [
        (t.price, t.volume)
        for t in x.engine.books["btcusd"].recent_trades
        if t.taker_order_id == order.id
    ]


def trade_seqs(x: Exchange, order: Order) -> set[int]:
    return {t.seq for t in x.engine.books["btcusd"].recent_trades if t.taker_order_id == order.id}


# ---------------------------------------------------------------------- stop orders


def test_stop_limit_waits_locked_and_fires_in_the_command_that_crosses_it() -> None:
    x = Exchange()
    x.trade_at(100)
    stop = x.place(1, "sell", 5, 95, ord_type="stop_limit", trigger_price=97)
    assert (stop.state, stop.trigger_condition) == ("trigger_wait", "below")
    assert x.account(1, "btc") == (FUNDS["btc"] - 5 * LOT, 5 * LOT)  # locked at placement
    assert x.engine.books["btcusd"].asks.best_price() is None  # not in the book
    x.place(2, "buy", 3, 96)  # where the fired stop will sell

    x.trade_at(98)
    assert stop.state == "trigger_wait"
    x.place(5, "sell", 1, 97)
    crossing = x.send(PlaceOrder, member_id=6, market="btcusd", side="buy", volume=1, price=97)
    assert stop.state == "wait"  # fired in the crossing command, rests with what is left
    assert taker_trades(x, stop) == [(96, 3)]
    assert trade_seqs(x, stop) == {crossing.seq}
    assert (stop.volume, stop.locked) == (2, 2 * LOT)
    assert x.engine.books["btcusd"].asks.best_price() == 95


def test_stop_market_buy_spends_at_most_its_trigger_price_lock() -> None:
    x = Exchange()
    x.trade_at(100)
    stop = x.place(1, "buy", 5, ord_type="stop_market", trigger_price=101)
    assert stop.trigger_condition == "above"
    assert x.account(1, "usd") == (FUNDS["usd"] - 505, 505)  # trigger price x volume
    x.place(2, "sell", 2, 101)
    x.place(2, "sell", 10, 103)
    x.place(6, "buy", 1, 101)  # trades at 101: crosses the trigger

    # It buys the other lot at 101, then what the 404 cents left pay for at 103 (3 lots),
    # and is cancelled with the rest; nothing stays locked.
    assert taker_trades(x, stop) == [(101, 1), (103, 3)]
    assert (stop.state, stop.volume, stop.locked) == ("cancel", 1, 0)
    assert x.account(1, "usd") == (FUNDS["usd"] - 101 - 309, 0)


def test_a_trigger_already_crossed_is_refused_and_changes_nothing() -> None:
    x = Exchange()
    x.trade_at(100)
    before = (x.engine.next_order_id, x.account(1, "usd"), x.account(1, "btc"))
    for side, trigger in (("buy", 100), ("buy", 99), ("sell", 100), ("sell", 101)):
        result = x.send(
            PlaceOrder,
            member_id=1,
            market="btcusd",
            side=side,
            volume=1,
            price=0,
            ord_type="stop_market",
            trigger_price=trigger,
        )
        assert result.error == errors.TRIGGER_ALREADY_CROSSED
    assert (x.engine.next_order_id, x.account(1, "usd"), x.account(1, "btc")) == before
    # With no trade yet in a market, nothing is crossed.
    fresh = Exchange()
    assert fresh.place(1, "buy", 1, ord_type="stop_market", trigger_price=1).state == (
        "trigger_wait"
    )


def test_a_cascade_fires_in_one_command_lowest_id_first_rechecking_after_each() -> None:
    x = Exchange()
    x.trade_at(100)
    x.place(2, "buy", 1, 99)
    x.place(2, "buy", 2, 97)
    x.place(2, "buy", 10, 96)
    low = x.place(1, "sell", 2, ord_type="stop_market", trigger_price=97)
    mid = x.place(3, "sell", 2, ord_type="stop_market", trigger_price=99)
    high = x.place(4, "sell", 1, ord_type="stop_market", trigger_price=99)
    assert low.id < mid.id < high.id

    crossing = x.send(PlaceOrder, member_id=5, market="btcusd", side="sell", volume=1, price=99)
    # The trade at 99 meets mid and high: mid (the lower id) fires first and sells at 97,
    # which now meets low too, whose id is lower than high's: low fires before high.
    takers = [t for t in x.engine.books["btcusd"].recent_trades if t.seq == crossing.seq]
    assert [(t.taker_order_id, t.price, t.volume) for t in takers] == [
        (crossing.order.id if crossing.order else 0, 99, 1),
        (mid.id, 97, 2),
        (low.id, 96, 2),
        (high.id, 96, 1),
    ]
    assert {o.state for o in (low, mid, high)} == {"done"}
    # Each fired once: a later trade at the same prices fires nothing more.
    x.place(5, "sell", 1, 96)
    assert len(trade_seqs(x, low) | trade_seqs(x, mid) | trade_seqs(x, high)) == 1


def test_trigger_orders_are_open_orders_of_the_member() -> None:
    x = Exchange()
    x.trade_at(100)
    stop = x.place(1, "sell", 5, 95, ord_type="stop_limit", trigger_price=97, client_id="s1")
    refused = x.send(
        PlaceOrder,
        member_id=1,
        market="btcusd",
        side="sell",
        volume=1,
        price=120,
        client_id="s1",
    )
    assert refused.error == errors.DUPLICATE_CLIENT_ID
    x.send(CancelOrder, member_id=1, client_id="s1")
    assert (stop.state, stop.locked) == ("cancel", 0)
    assert x.account(1, "btc") == (FUNDS["btc"], 0)
    x.trade_at(90)  # crossing it now fires nothing
    assert stop.trades_count == 0


def test_post_only_is_refused_on_a_stop_limit() -> None:
    x = Exchange()
    result = x.send(
        PlaceOrder,
        member_id=1,
        market="btcusd",
        side="sell",
        volume=1,
        price=95,
        ord_type="stop_limit",
        trigger_price=97,
        post_only=True,
    )
    assert result.error == errors.INVALID_POST_ONLY


# ---------------------------------------------------------------------- OCO


def place_oco(x: Exchange, **fields: Any) -> tuple[Order, Order]:
    result = x.send(PlaceOco, market="btcusd", **fields)
    assert result.error is None, result.error
    assert result.order is not None and result.orders is not None
    limit, stop = result.orders
    assert result.order is limit and (limit.oco_id, stop.oco_id) == (stop.id, limit.id)
    return limit, stop


def test_an_oco_locks_once_the_larger_of_its_legs() -> None:
    x = Exchange()
    x.trade_at(100)
    limit, stop = place_oco(x, member_id=1, side="buy", volume=5, price=95, trigger_price=105)
    assert (limit.ord_type, limit.state, limit.locked) == ("limit", "wait", 525)  # 105 x 5
    assert (stop.ord_type, stop.state, stop.locked) == ("stop_market", "trigger_wait", 0)
    assert x.account(1, "usd") == (FUNDS["usd"] - 525, 525)
    refused = x.send(
        PlaceOco,
        member_id=1,
        market="btcusd",
        side="buy",
        volume=5,
        price=105,
        trigger_price=95,
    )
    assert refused.error == errors.INVALID_OCO_PRICES


def test_the_limit_legs_first_trade_cancels_the_stop_leg_in_the_same_command() -> None:
    x = Exchange()
    x.trade_at(100)
    limit, stop = place_oco(
        x, member_id=1, side="sell", volume=5, price=105, trigger_price=95, stop_price=94
    )
    fill = x.send(
        PlaceOrder, member_id=2, market="btcusd", side="buy", volume=2, price=105, batch=False
    )
    # Before the batch is even committed, the stop leg is cancelled.
    assert (limit.state, limit.volume, limit.locked) == ("wait", 3, 3 * LOT)
    assert (stop.state, stop.locked) == ("cancel", 0)
    journal = x.engine.end_batch()
    assert {o.id: o.state for o in journal.orders.values()}.items() >= {
        (limit.id, "wait"),
        (stop.id, "cancel"),
    }
    assert {t.seq for t in journal.trades} == {fill.seq}
    x.trade_at(90)  # its trigger crossed: nothing fires, the limit leg still rests
    assert (stop.state, stop.trades_count, limit.state) == ("cancel", 0, "wait")


def test_the_stop_leg_firing_cancels_the_limit_leg_in_the_same_command() -> None:
    x = Exchange()
    x.trade_at(100)
    limit, stop = place_oco(x, member_id=1, side="sell", volume=5, price=105, trigger_price=95)
    x.place(2, "buy", 10, 94)
    x.place(5, "sell", 1, 95)
    crossing = x.send(PlaceOrder, member_id=6, market="btcusd", side="buy", volume=1, price=95)
    assert (limit.state, limit.locked, limit.trades_count) == ("cancel", 0, 0)
    assert (stop.state, stop.locked) == ("done", 0)
    assert taker_trades(x, stop) == [(94, 5)]
    assert trade_seqs(x, stop) == {crossing.seq}
    assert x.account(1, "btc") == (FUNDS["btc"] - 5 * LOT, 0)


def test_a_limit_leg_filled_at_placement_cancels_its_stop_leg_at_once() -> None:
    x = Exchange()
    x.trade_at(100)
    x.place(2, "buy", 5, 110)
    limit, stop = place_oco(x, member_id=1, side="sell", volume=5, price=105, trigger_price=95)
    assert (limit.state, stop.state) == ("done", "cancel")


@pytest.mark.parametrize("how", ["limit by id", "stop by id", "limit by client id", "all"])
def test_cancelling_either_leg_cancels_both(how: str) -> None:
    x = Exchange()
    x.trade_at(100)
    limit, stop = place_oco(
        x, member_id=1, side="sell", volume=5, price=105, trigger_price=95, client_id="oco"
    )
    if how == "limit by id":
        result = x.send(CancelOrder, member_id=1, order_id=limit.id)
    elif how == "stop by id":
        result = x.send(CancelOrder, member_id=1, order_id=stop.id)
    elif how == "limit by client id":
        result = x.send(CancelOrder, member_id=1, client_id="oco")
    else:
        result = x.send(CancelAll, member_id=1)
    assert result.error is None
    assert (limit.state, stop.state) == ("cancel", "cancel")
    assert x.account(1, "btc") == (FUNDS["btc"], 0)
    # The answer names both legs (the API tells the member both were cancelled).
    assert {o.id for o in result_orders(result)} == {limit.id, stop.id}


def test_an_oco_whose_limit_leg_self_trade_prevention_cancels_cancels_both() -> None:
    x = Exchange()
    x.trade_at(100)
    x.place(1, "buy", 5, 106)
    limit, stop = place_oco(x, member_id=1, side="sell", volume=5, price=105, trigger_price=95)
    assert (limit.state, stop.state) == ("cancel", "cancel")  # cancel_taker hit its own bid
    assert x.account(1, "btc") == (FUNDS["btc"], 0)
