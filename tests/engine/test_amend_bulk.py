"""Amending a resting order (in place or cancel-replace) and bulk order entry, example by
example, on the engine and the reference model side by side (``test_triggers.Exchange``)."""

from bursa.engine import errors
from bursa.engine.commands import AmendOrder, BulkOrders, PlaceOco
from bursa.engine.state import Order
from tests.engine.test_triggers import FUNDS, LOT, Exchange, taker_trades, trade_seqs


def bid_queue(x: Exchange) -> list[int]:
    return [o.id for o in x.engine.books["btcusd"].bids.orders_by_priority(100)]


def ask_queue(x: Exchange) -> list[int]:
    return [o.id for o in x.engine.books["btcusd"].asks.orders_by_priority(100)]


def fills(x: Exchange, order: Order) -> int:
    """Lots ``order`` has traded."""
    return order.origin_volume - order.volume


# ---------------------------------------------------------------------- amend


def test_shrinking_keeps_the_id_and_the_place_in_the_queue() -> None:
    x = Exchange()
    first = x.place(1, "buy", 10, 100, client_id="mine")
    second = x.place(2, "buy", 10, 100)
    result = x.send(AmendOrder, member_id=1, client_id="mine", volume=6)
    assert result.error is None and result.orders is None
    assert result.order is first
    assert (first.id, first.volume, first.origin_volume, first.locked) == (first.id, 6, 6, 600)
    assert x.account(1, "usd") == (FUNDS["usd"] - 600, 600)  # the difference went back
    assert bid_queue(x) == [first.id, second.id]

    x.place(3, "sell", 6, 100)  # a later taker fills the amended order first
    assert (first.state, fills(x, first), fills(x, second)) == ("done", 6, 0)


def test_growing_the_volume_is_a_new_order_at_the_back() -> None:
    x = Exchange()
    first = x.place(1, "buy", 10, 100, client_id="mine")
    second = x.place(2, "buy", 10, 100)
    result = x.send(AmendOrder, member_id=1, order_id=first.id, volume=12)
    assert result.error is None and result.order is not None and result.orders == [first]
    new = result.order
    assert new.id > second.id and new.client_id == "mine" and new.volume == 12
    assert first.state == "cancel"
    assert bid_queue(x) == [second.id, new.id]
    assert x.account(1, "usd") == (FUNDS["usd"] - 1200, 1200)

    x.place(3, "sell", 10, 100)
    assert (fills(x, second), fills(x, new)) == (10, 0)


def test_a_new_price_is_a_new_order_at_the_back_of_its_level() -> None:
    x = Exchange()
    first = x.place(1, "sell", 10, 101)
    second = x.place(2, "sell", 10, 100)
    result = x.send(AmendOrder, member_id=1, order_id=first.id, price=100)
    assert result.order is not None
    new = result.order
    assert (first.state, new.price, new.volume) == ("cancel", 100, 10)
    assert ask_queue(x) == [second.id, new.id]
    x.place(3, "buy", 10, 100)
    assert (fills(x, second), fills(x, new)) == (10, 0)


def test_a_new_price_that_crosses_trades_at_once() -> None:
    x = Exchange()
    ask = x.place(2, "sell", 4, 101)
    bid = x.place(1, "buy", 10, 100)
    result = x.send(AmendOrder, member_id=1, order_id=bid.id, price=101)
    assert result.order is not None
    new = result.order
    assert (new.state, fills(x, new), ask.state) == ("wait", 4, "done")
    assert (new.volume, new.locked) == (6, 606)
    assert x.account(1, "usd") == (FUNDS["usd"] - 404 - 606, 606)


def test_refused_amends_change_nothing() -> None:
    x = Exchange()
    x.trade_at(100)
    bid = x.place(1, "buy", 10, 100, post_only=True)
    x.place(2, "sell", 5, 103)
    stop = x.place(1, "sell", 1, 90, ord_type="stop_limit", trigger_price=95)
    oco = x.send(
        PlaceOco, member_id=1, market="btcusd", side="sell", volume=1, price=120, trigger_price=90
    )
    assert oco.orders is not None
    before = (x.engine.seq, x.account(1, "usd"), bid_queue(x), bid.volume, bid.price)

    def refused(**fields: int | str) -> str | None:
        return x.send(AmendOrder, member_id=1, **fields).error  # type: ignore[arg-type]

    assert refused(order_id=bid.id) == errors.AMEND_NOTHING
    assert refused(order_id=bid.id, price=100, volume=10) == errors.AMEND_NOTHING
    assert refused(order_id=stop.id, volume=1) == errors.AMEND_NOT_ALLOWED
    assert refused(order_id=oco.orders[0].id, price=121) == errors.AMEND_NOT_ALLOWED
    assert refused(order_id=10**6, price=99) == errors.ORDER_NOT_FOUND
    assert refused(order_id=bid.id, price=103) == errors.POST_ONLY_WOULD_MATCH  # post-only kept
    # The old order's lock counts as free: 10,000 lots at 100 is all the member has.
    assert refused(order_id=bid.id, volume=10_001) == errors.INSUFFICIENT_BALANCE
    assert (x.engine.seq - 7, x.account(1, "usd"), bid_queue(x), bid.volume, bid.price) == before
    other = x.send(AmendOrder, member_id=2, order_id=bid.id, price=99)
    assert other.error == errors.ORDER_NOT_FOUND  # another member's order
    assert bid.state == "wait"


def test_amending_with_the_whole_balance_locked_counts_the_old_lock_as_free() -> None:
    x = Exchange()
    everything = FUNDS["usd"] // 100  # lots at 100 that the whole balance pays for
    bid = x.place(1, "buy", everything, 100)
    assert x.account(1, "usd") == (0, FUNDS["usd"])
    result = x.send(AmendOrder, member_id=1, order_id=bid.id, price=99)
    assert result.error is None and result.order is not None
    assert x.account(1, "usd") == (everything * 1, everything * 99)


# ---------------------------------------------------------------------- bulk


def test_bulk_answers_each_item_and_commits_the_good_ones_in_one_sequence_number() -> None:
    x = Exchange()
    resting = x.place(1, "buy", 5, 90, client_id="old")
    other = x.place(2, "buy", 5, 91)
    seq = x.engine.seq
    good = {"market": "btcusd", "side": "sell", "volume": 2, "price": 110}
    result = x.send(
        BulkOrders,
        member_id=1,
        cancel=[
            {"client_id": "old"},
            {"order_id": other.id},  # another member's: not found
            {"order_id": 10**6},
            {"id": 1},  # malformed
        ],
        place=[
            good,
            good | {"volume": 0},  # refused: bad volume
            good | {"colour": "red"},  # malformed
            good | {"price": 111, "client_id": "old"},  # "old" was cancelled first
            {"market": "btcusd", "side": "sell", "volume": "2", "price": 110},  # wrong type
            good | {"side": "buy", "volume": 10**9},  # refused: balance
            good | {"price": 112, "client_id": "old"},  # duplicate of the item before
            good | {"ord_type": "stop_market", "price": 0, "trigger_price": 80},
        ],
        batch=False,
    )
    assert result.error is None and result.seq == seq + 1 == x.engine.seq
    assert result.items is not None
    assert [(i.kind, i.error) for i in result.items] == [
        ("cancel_order", None),
        ("cancel_order", errors.ORDER_NOT_FOUND),
        ("cancel_order", errors.ORDER_NOT_FOUND),
        ("cancel_order", errors.INVALID_BULK_ITEM),
        ("place_order", None),
        ("place_order", errors.INVALID_VOLUME_OR_PRICE),
        ("place_order", errors.INVALID_BULK_ITEM),
        ("place_order", None),
        ("place_order", errors.INVALID_BULK_ITEM),
        ("place_order", errors.INSUFFICIENT_BALANCE),
        ("place_order", errors.DUPLICATE_CLIENT_ID),
        ("place_order", None),
    ]
    assert all(i.seq == result.seq for i in result.items)
    placed = [i.order for i in result.items[4:] if i.order is not None]
    assert [o.id for o in placed] == list(range(other.id + 1, other.id + 4))  # no id wasted
    assert [o.state for o in placed] == ["wait", "wait", "trigger_wait"]
    assert resting.state == "cancel" and other.state == "wait"
    assert x.account(1, "btc") == (FUNDS["btc"] - 6 * LOT, 6 * LOT)
    assert x.account(1, "usd") == (FUNDS["usd"], 0)

    journal = x.engine.end_batch()  # one command in the log, every change in its batch
    assert [(seq, cmd.kind) for seq, cmd, _, _ in journal.commands] == [(result.seq, "bulk_orders")]
    assert {o.id for o in journal.orders.values()} == {resting.id} | {o.id for o in placed}


def test_a_bulk_item_trades_and_fires_triggers_as_the_single_command_would() -> None:
    x = Exchange()
    x.trade_at(100)
    stop = x.place(2, "sell", 3, ord_type="stop_market", trigger_price=97)
    x.place(3, "sell", 1, 97)
    x.place(4, "buy", 10, 96)
    result = x.send(
        BulkOrders,
        member_id=1,
        place=[
            {"market": "btcusd", "side": "buy", "volume": 1, "price": 97},  # crosses the stop
            {"market": "btcusd", "side": "buy", "volume": 1, "price": 97},
        ],
    )
    assert result.items is not None and [i.error for i in result.items] == [None, None]
    # The stop fired right after the first item (it sold to the bid at 96), before the
    # second item came to rest at 97.
    assert (stop.state, taker_trades(x, stop)) == ("done", [(96, 3)])
    assert trade_seqs(x, stop) == {result.seq}
    second = result.items[1].order
    assert second is not None and (second.state, second.trades_count) == ("wait", 0)


def test_too_many_items_refuse_the_whole_bulk() -> None:
    x = Exchange()
    resting = x.place(1, "buy", 5, 90)
    item = {"market": "btcusd", "side": "buy", "volume": 1, "price": 90}
    for place, cancel in (
        ([item] * 101, []),
        ([], [{"order_id": resting.id}] * 101),
        ([], []),
    ):
        result = x.send(BulkOrders, member_id=1, place=place, cancel=cancel)
        assert (result.error, result.items) == (errors.TOO_MANY_ORDERS, None)
    assert resting.state == "wait" and x.account(1, "usd") == (FUNDS["usd"] - 450, 450)
    full = x.send(
        BulkOrders, member_id=1, place=[item] * 100, cancel=[{"order_id": resting.id}] * 100
    )
    assert full.items is not None and len(full.items) == 200
    assert [i.error for i in full.items[:2]] == [None, errors.ORDER_NOT_FOUND]
    assert all(i.error is None for i in full.items[100:])
