"""The built-in ``fixed`` strategy: its ladder, and the plan from what is already open."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from bursa.bots.config import parse_config
from bursa.bots.strategies.fixed import Fixed, FixedParams, desired_orders
from bursa.bots.strategy import Book, Market, NewOrder, OpenOrder, Plan, View, reconcile

BTCUSD = Market("btcusd", "btc", "usd", amount_precision=4, price_precision=2)


def params(**fields: object) -> FixedParams:
    base: dict[str, object] = {"price": "100", "spread": "0.02", "amount": "0.5"}
    return FixedParams.model_validate(base | fields)


def test_a_ladder_on_both_sides() -> None:
    orders = desired_orders(params(levels=3, step="0.01"), BTCUSD)
    D = Decimal
    assert orders == (
        NewOrder("sell", D("101.00"), D("0.5")),
        NewOrder("sell", D("102.00"), D("0.5")),
        NewOrder("sell", D("103.00"), D("0.5")),
        NewOrder("buy", D("99.00"), D("0.5")),
        NewOrder("buy", D("98.00"), D("0.5")),
        NewOrder("buy", D("97.00"), D("0.5")),
    )


def test_one_side_only() -> None:
    assert {o.side for o in desired_orders(params(side="asks"), BTCUSD)} == {"sell"}
    assert {o.side for o in desired_orders(params(side="bids"), BTCUSD)} == {"buy"}


def test_rounding_never_narrows_the_spread_nor_grows_an_order() -> None:
    orders = desired_orders(params(price="100.003", spread="0.0001", amount="0.12345"), BTCUSD)
    ask, bid = orders
    assert ask == NewOrder("sell", Decimal("100.01"), Decimal("0.1234"))  # 100.008 up
    assert bid == NewOrder("buy", Decimal("99.99"), Decimal("0.1234"))  # 99.997 down


def test_too_small_an_amount_places_nothing() -> None:
    assert desired_orders(params(amount="0.00001"), BTCUSD) == ()
    market = Market("btcusd", "btc", "usd", 4, 2, min_amount=Decimal(1))
    assert desired_orders(params(), market) == ()


def test_params_refuse_what_cannot_be_a_ladder() -> None:
    for fields in (
        {"spread": "0"},
        {"spread": "-0.1"},
        {"amount": "0"},
        {"levels": 0},
        {"levels": 2},  # step 0: the levels would coincide
        {"spread": "1.5", "levels": 2, "step": "0.5"},  # bids at or below zero
        {"side": "sideways"},
        {"colour": "red"},
    ):
        with pytest.raises(ValidationError):
            params(**fields)


def test_reconcile_keeps_matching_orders_and_replaces_the_rest() -> None:
    D = Decimal
    desired = [NewOrder("sell", D(101), D(1)), NewOrder("buy", D(99), D(1))]
    open_orders = [
        OpenOrder("1", "sell", D(101), D(1)),  # as wanted: kept
        OpenOrder("2", "buy", D(99), D("0.4")),  # partly filled: replaced by a full one
        OpenOrder("3", "buy", D(50), D(1)),  # not wanted: cancelled
    ]
    assert reconcile(desired, open_orders) == Plan(
        place=(NewOrder("buy", D(99), D(1)),), cancel=("2", "3")
    )
    assert reconcile([], []) == Plan()


async def test_tick_from_the_config_file() -> None:
    text = """
accounts:
  - {id: b, driver: bursa, host: http://127.0.0.1:8000, key_env: K, secret_env: S}
strategies:
  - id: f
    type: fixed
    params: {price: 100, spread: 0.02, amount: 0.5, side: bids}
    target: {account_id: b, market_id: btcusd}
"""
    (configured,) = parse_config(text, "bots.yml").strategies
    strategy = configured.build()
    assert isinstance(strategy, Fixed)
    view = View(BTCUSD, Book(), {}, open_orders=(OpenOrder("9", "sell", Decimal(1), Decimal(1)),))
    plan = await strategy.tick(view)
    assert plan == Plan(place=(NewOrder("buy", Decimal("99.00"), Decimal("0.5")),), cancel=("9",))
    again = View(
        BTCUSD, Book(), {}, open_orders=(OpenOrder("10", "buy", Decimal(99), Decimal("0.5")),)
    )
    assert await strategy.tick(again) == Plan()
