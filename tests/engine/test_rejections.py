"""Every rejection reason the engine has, each from a realistic command.

A rejected command changes nothing but its own log entry (``core`` documents it): it takes
a sequence number and its result is remembered under its key, but balances, books, open
orders, client ids and withdrawal holds stay exactly as they were, and the batch journal
holds the command and nothing else. Over-precise decimals never become commands at all:
``units.to_units`` refuses them at the edge.
"""

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from bursa.engine import errors
from bursa.engine.commands import (
    BUY,
    CANCEL_MAKER,
    FOK,
    GTC,
    IOC,
    MARKET,
    SELL,
    Adjust,
    AmendOrder,
    BulkOrders,
    CancelAll,
    CancelOrder,
    Command,
    ConfigureCurrency,
    ConfigureMarket,
    Credit,
    HoldWithdrawal,
    PlaceOco,
    PlaceOrder,
    ReleaseWithdrawal,
    SetMemberGroup,
    SettleWithdrawal,
    SetTradingFee,
    Transfer,
)
from bursa.engine.core import Engine
from bursa.engine.persistence import command_payload
from bursa.engine.replay import check_replay
from bursa.engine.runner import EngineRunner
from bursa.engine.specs import COIN, FIAT, CurrencySpec, MarketSpec
from bursa.engine.state import CANCEL, WAIT, BookSide, Result
from bursa.engine.units import OverPrecise, to_units
from bursa.events.bus import InProcessBus
from bursa.trading.specs import load_specs

BTC = CurrencySpec("btc", COIN, 8)
USDT = CurrencySpec("usdt", COIN, 8)
ETH = CurrencySpec("eth", COIN, 18)
USD = CurrencySpec("usd", FIAT, 2)

# btcusdt: prices in cents (ticks of 0.01 USDT), volumes in lots of 0.000001 BTC; one tick
# times one lot is one USDT subunit, one lot is 100 satoshi.
BTCUSDT = MarketSpec(
    id="btcusdt",
    base=BTC,
    quote=USDT,
    amount_precision=6,
    price_precision=2,
    min_price=100,  # 1.00
    max_price=100_000_000,  # 1 000 000.00
    min_amount=100,  # 0.0001 BTC
    maker_fee=1_000,
    taker_fee=2_000,
)
ETHUSDT = MarketSpec(  # open, with an empty book
    id="ethusdt",
    base=ETH,
    quote=USDT,
    amount_precision=4,
    price_precision=2,
    min_price=1,
    max_price=0,
    min_amount=10,
    maker_fee=1_000,
    taker_fee=2_000,
)
BTCUSD = MarketSpec(  # configured but not tradable (state disabled or locked)
    id="btcusd",
    base=BTC,
    quote=USD,
    amount_precision=2,
    price_precision=0,
    min_price=1,
    max_price=0,
    min_amount=1,
    maker_fee=1_000,
    taker_fee=2_000,
    tradable=False,
)


BTC_1 = 100_000_000  # satoshi
USDT_1 = 100_000_000

ALICE, BOB, CAROL, DAVE = 1, 2, 3, 4  # DAVE has never had an account
TS = 1_700_000_000_000_000


def price(usdt: str) -> int:
    return to_units(usdt, BTCUSDT.price_precision)


def volume(btc: str) -> int:
    return to_units(btc, BTCUSDT.amount_precision)


@dataclass
class World:
    engine: Engine
    alice_bid: int  # resting, client id "alice-bid"
    bob_ask: int  # resting, client id "bob-ask"
    closed: int  # Alice's, cancelled
    alice_stop: int  # a stop-limit sell waiting for 35 000 (the last trade was at 40 000)


def _ok(engine: Engine, command: Command) -> Result:
    result = engine.apply(command, TS)
    assert result.error is None, (command, result.error)
    return result


def build_world() -> World:
    """Alice bids 0.5 BTC at 30 000, Bob asks 1 BTC at 50 000; Carol is nearly broke;
    Alice has one held, one settled and one released withdrawal, and a cancelled order."""
    engine = Engine([BTC, USDT, ETH, USD], [BTCUSDT, ETHUSDT, BTCUSD])
    funding = [
        (ALICE, "btc", 10 * BTC_1),
        (ALICE, "usdt", 100_000 * USDT_1),
        (BOB, "btc", 5 * BTC_1),
        (BOB, "usdt", 50_000 * USDT_1),
        (CAROL, "btc", BTC_1 // 1000),
        (CAROL, "usdt", 10 * USDT_1),
    ]
    for member, currency, amount in funding:
        _ok(
            engine,
            Credit(
                key=f"fund-{member}-{currency}",
                member_id=member,
                currency=currency,
                amount=amount,
                deposit_id=f"dep-{member}-{currency}",
            ),
        )
    # One trade at 40 000 gives the market a last price for trigger orders.
    _ok(
        engine,
        PlaceOrder(
            key="bob-first-ask",
            member_id=BOB,
            market="btcusdt",
            side=SELL,
            volume=volume("0.001"),
            price=price("40000"),
        ),
    )
    _ok(
        engine,
        PlaceOrder(
            key="alice-first-buy",
            member_id=ALICE,
            market="btcusdt",
            side=BUY,
            volume=volume("0.001"),
            price=price("40000"),
        ),
    )
    alice_stop = _ok(
        engine,
        PlaceOrder(
            key="alice-stop",
            member_id=ALICE,
            market="btcusdt",
            side=SELL,
            volume=volume("0.1"),
            price=price("34000"),
            ord_type="stop_limit",
            trigger_price=price("35000"),
        ),
    ).order
    assert alice_stop is not None
    alice_bid = _ok(
        engine,
        PlaceOrder(
            key="alice-bid",
            member_id=ALICE,
            market="btcusdt",
            side=BUY,
            volume=volume("0.5"),
            price=price("30000"),
            client_id="alice-bid",
        ),
    ).order
    bob_ask = _ok(
        engine,
        PlaceOrder(
            key="bob-ask",
            member_id=BOB,
            market="btcusdt",
            side=SELL,
            volume=volume("1"),
            price=price("50000"),
            client_id="bob-ask",
        ),
    ).order
    closed = _ok(
        engine,
        PlaceOrder(
            key="alice-closed",
            member_id=ALICE,
            market="btcusdt",
            side=SELL,
            volume=volume("0.1"),
            price=price("60000"),
            client_id="alice-closed",
        ),
    ).order
    assert alice_bid is not None
    assert bob_ask is not None
    assert closed is not None
    _ok(engine, CancelOrder(key="alice-cancel", member_id=ALICE, order_id=closed.id))
    for withdrawal in ("w-held", "w-settled", "w-released"):
        _ok(
            engine,
            HoldWithdrawal(
                key=f"hold-{withdrawal}",
                member_id=ALICE,
                currency="btc",
                amount=BTC_1,
                withdrawal_id=withdrawal,
            ),
        )
    _ok(engine, SettleWithdrawal(key="settle", withdrawal_id="w-settled", fee=50_000))
    _ok(engine, ReleaseWithdrawal(key="release", withdrawal_id="w-released"))
    assert (alice_bid.state, bob_ask.state, closed.state) == (WAIT, WAIT, CANCEL)
    engine.end_batch()
    return World(engine, alice_bid.id, bob_ask.id, closed.id, alice_stop.id)


def _side(side: BookSide) -> tuple[Any, ...]:
    return (
        list(side.keys),
        {
            price: (level.volume, [(o.id, o.volume, o.locked) for o in level.orders.values()])
            for price, level in side.levels.items()
        },
    )


def state_of(engine: Engine) -> dict[str, Any]:
    """Everything a command can change, as plain values (the sequence number aside)."""
    return {
        "balances": {
            (member, code): (account.balance, account.locked)
            for member, accounts in engine.balances.items()
            for code, account in accounts.items()
        },
        "books": {
            market: (
                _side(book.bids),
                _side(book.asks),
                [t.id for t in book.recent_trades],
                list(book.above),
                list(book.below),
            )
            for market, book in engine.books.items()
        },
        "open_orders": {
            order_id: (o.state, o.volume, o.locked, o.funds_received, o.trades_count, o.seq)
            for order_id, o in engine.open_orders.items()
        },
        "member_orders": {m: sorted(orders) for m, orders in engine.member_orders.items()},
        "client_orders": {key: o.id for key, o in engine.client_orders.items()},
        "holds": {
            wid: (h.member_id, h.currency, h.amount, h.state, h.seq, h.updated_at)
            for wid, h in engine.holds.items()
        },
        "next_ids": (engine.next_order_id, engine.next_trade_id),
        "currencies": dict(engine.currencies),
        "markets": dict(engine.markets),
        "specs": {market: book.spec for market, book in engine.books.items()},
        "fees": dict(engine.fees),
        "groups": dict(engine.member_groups),
    }


Build = Callable[[World], Command]


def case(name: str, code: str, build: Build) -> Any:
    return pytest.param(build, code, id=name)


def place(**fields: Any) -> Build:
    defaults: dict[str, Any] = {
        "member_id": ALICE,
        "market": "btcusdt",
        "side": BUY,
        "volume": volume("0.1"),
        "price": price("30000"),
    }
    return lambda w: PlaceOrder(key="rejected", **{**defaults, **fields})


def market_order(**fields: Any) -> Build:
    return place(**{"ord_type": MARKET, "price": 0, **fields})


def command(cls: type[Command], **fields: Any) -> Build:
    return lambda w: cls(key="rejected", **fields)


def credit(**fields: Any) -> Build:
    return command(
        Credit, **{"member_id": ALICE, "currency": "btc", "deposit_id": "dep-new", **fields}
    )


def hold(**fields: Any) -> Build:
    return command(
        HoldWithdrawal,
        **{"member_id": ALICE, "currency": "btc", "withdrawal_id": "w-new", **fields},
    )


def adjust(**fields: Any) -> Build:
    return command(
        Adjust, **{"member_id": ALICE, "currency": "btc", "reason": "ticket 42", **fields}
    )


def leg(**fields: Any) -> dict[str, Any]:
    """One transfer leg: by default 1 BTC satoshi from Alice's main account to Bob's."""
    base = {"currency": "btc", "amount": 1, "src": 202, "src_member": ALICE}
    return base | {"dst": 202, "dst_member": BOB} | fields


def transfer(*legs: dict[str, Any], reference: str = "tr-1") -> Build:
    return command(Transfer, reference=reference, legs=list(legs))


def configure_market(**fields: Any) -> Build:
    """ETHUSDT's rules, changed by ``fields``."""
    rules: dict[str, Any] = {
        "market": "ethusdt",
        "base": "eth",
        "quote": "usdt",
        "amount_precision": 4,
        "price_precision": 2,
        "min_price": 1,
        "max_price": 0,
        "min_amount": 10,
        "maker_fee": 1_000,
        "taker_fee": 2_000,
        "state": "enabled",
    }
    return command(ConfigureMarket, **{**rules, **fields})


def trading_fee(**fields: Any) -> Build:
    return command(
        SetTradingFee, **{"market": "btcusdt", "group": "vip-1", "maker": 0, "taker": 0, **fields}
    )


CASES = [
    # ----------------------------------------------------------------- the market
    case("unknown-market", errors.MARKET_NOT_AVAILABLE, place(market="dogeusdt")),
    case("disabled-market", errors.MARKET_NOT_AVAILABLE, place(market="btcusd", price=30_000)),
    case("empty-market-id", errors.MARKET_NOT_AVAILABLE, place(market="")),
    case(
        "cancel-all-unknown-market",
        errors.MARKET_NOT_AVAILABLE,
        command(CancelAll, member_id=ALICE, market="dogeusdt"),
    ),
    # ----------------------------------------------------------------- price and volume
    case("zero-price", errors.INVALID_VOLUME_OR_PRICE, place(price=0)),
    case("negative-price", errors.INVALID_VOLUME_OR_PRICE, place(price=-price("30000"))),
    case("price-below-min", errors.INVALID_VOLUME_OR_PRICE, place(price=price("0.99"))),
    case("price-above-max", errors.INVALID_VOLUME_OR_PRICE, place(price=price("1000000.01"))),
    case("zero-volume", errors.INVALID_VOLUME_OR_PRICE, place(volume=0)),
    case("negative-volume", errors.INVALID_VOLUME_OR_PRICE, place(volume=-volume("0.1"))),
    case("volume-below-min", errors.INVALID_VOLUME_OR_PRICE, place(volume=volume("0.000099"))),
    case("sell-volume-below-min", errors.INVALID_VOLUME_OR_PRICE, place(side=SELL, volume=1)),
    case("market-zero-volume", errors.INVALID_VOLUME_OR_PRICE, market_order(volume=0)),
    case("market-volume-below-min", errors.INVALID_VOLUME_OR_PRICE, market_order(volume=99)),
    case("market-order-with-price", errors.MARKET_ORDER_PRICE, market_order(price=1)),
    # ----------------------------------------------------------------- balances
    case(
        "limit-buy-beyond-balance",
        errors.INSUFFICIENT_BALANCE,
        place(member_id=CAROL, volume=volume("1")),
    ),
    case(
        "limit-sell-beyond-balance",
        errors.INSUFFICIENT_BALANCE,
        place(member_id=CAROL, side=SELL, volume=volume("0.0011"), price=price("60000")),
    ),
    case(
        # Alice has 100 000 USDT, 15 000 of them locked by her bid: 90 000 is too much.
        "limit-buy-needs-locked-funds",
        errors.INSUFFICIENT_BALANCE,
        place(volume=volume("2"), price=price("45000")),
    ),
    case("member-without-accounts", errors.INSUFFICIENT_BALANCE, place(member_id=DAVE)),
    case(
        "market-buy-without-quote",
        errors.INSUFFICIENT_BALANCE,
        market_order(member_id=DAVE, volume=volume("0.1")),
    ),
    case(
        "market-sell-beyond-balance",
        errors.INSUFFICIENT_BALANCE,
        market_order(member_id=CAROL, side=SELL, volume=volume("1")),
    ),
    case(
        "market-buy-no-asks",
        errors.INSUFFICIENT_LIQUIDITY,
        market_order(market="ethusdt", volume=100),
    ),
    case(
        "market-sell-no-bids",
        errors.INSUFFICIENT_LIQUIDITY,
        market_order(market="ethusdt", side=SELL, volume=100),
    ),
    # ----------------------------------------------------------------- order options
    case("side-unknown", errors.INVALID_SIDE, place(side="hold")),
    case("side-upper-case", errors.INVALID_SIDE, place(side="BUY")),
    case("side-empty", errors.INVALID_SIDE, place(side="")),
    case(
        "cancel-all-side-unknown",
        errors.INVALID_SIDE,
        command(CancelAll, member_id=ALICE, side="both"),
    ),
    case("type-unknown", errors.INVALID_TYPE, place(ord_type="stop_loss")),
    case("type-upper-case", errors.INVALID_TYPE, place(ord_type="LIMIT")),
    # ----------------------------------------------------------------- trigger orders
    case("trigger-on-limit", errors.TRIGGER_NOT_ALLOWED, place(trigger_price=price("31000"))),
    case(
        "trigger-condition-on-market",
        errors.TRIGGER_NOT_ALLOWED,
        market_order(trigger_condition="above"),
    ),
    case("stop-without-trigger", errors.INVALID_VOLUME_OR_PRICE, place(ord_type="stop_limit")),
    case(
        "stop-condition-unknown",
        errors.INVALID_TRIGGER_CONDITION,
        place(ord_type="stop_limit", trigger_price=price("31000"), trigger_condition="sideways"),
    ),
    case(
        "stop-post-only",
        errors.INVALID_POST_ONLY,
        place(ord_type="stop_limit", trigger_price=price("31000"), post_only=True),
    ),
    case(
        "stop-market-with-price",
        errors.MARKET_ORDER_PRICE,
        place(ord_type="stop_market", trigger_price=price("31000")),
    ),
    case(
        "stop-unaffordable",
        errors.INSUFFICIENT_BALANCE,
        place(ord_type="stop_limit", trigger_price=price("45000"), volume=volume("1000000")),
    ),
    case(
        "oco-sell-limit-below-stop",
        errors.INVALID_OCO_PRICES,
        command(
            PlaceOco,
            member_id=ALICE,
            market="btcusdt",
            side=SELL,
            volume=volume("0.1"),
            price=price("30000"),
            trigger_price=price("31000"),
        ),
    ),
    case(
        "oco-duplicate-client-id",
        errors.DUPLICATE_CLIENT_ID,
        command(
            PlaceOco,
            member_id=ALICE,
            market="btcusdt",
            side=SELL,
            volume=volume("0.1"),
            price=price("32000"),
            trigger_price=price("31000"),
            client_id="alice-bid",
        ),
    ),
    # ----------------------------------------------------------------- amend and bulk
    case(
        "amend-nothing",
        errors.AMEND_NOTHING,
        lambda w: AmendOrder(key="rejected", member_id=ALICE, order_id=w.alice_bid),
    ),
    case(
        "amend-other-members",
        errors.ORDER_NOT_FOUND,
        lambda w: AmendOrder(key="rejected", member_id=ALICE, order_id=w.bob_ask, volume=1),
    ),
    case(
        "amend-closed",
        errors.ORDER_NOT_FOUND,
        lambda w: AmendOrder(key="rejected", member_id=ALICE, order_id=w.closed, volume=1),
    ),
    case(
        "amend-unaffordable",
        errors.INSUFFICIENT_BALANCE,
        lambda w: AmendOrder(
            key="rejected", member_id=ALICE, order_id=w.alice_bid, volume=volume("1000000")
        ),
    ),
    case(
        "amend-price-out-of-bounds",
        errors.INVALID_VOLUME_OR_PRICE,
        lambda w: AmendOrder(key="rejected", member_id=ALICE, client_id="alice-bid", price=-5),
    ),
    case(
        "stop-already-crossed",
        errors.TRIGGER_ALREADY_CROSSED,
        place(ord_type="stop_limit", trigger_price=price("39000")),
    ),
    case(
        "amend-trigger-order",
        errors.AMEND_NOT_ALLOWED,
        lambda w: AmendOrder(key="rejected", member_id=ALICE, order_id=w.alice_stop, volume=1),
    ),
    case("bulk-empty", errors.TOO_MANY_ORDERS, command(BulkOrders, member_id=ALICE)),
    case(
        "bulk-over-100",
        errors.TOO_MANY_ORDERS,
        command(BulkOrders, member_id=ALICE, cancel=[{"order_id": 1}] * 101),
    ),
    case("tif-unknown", errors.INVALID_TIME_IN_FORCE, place(time_in_force="DAY")),
    case("tif-lower-case", errors.INVALID_TIME_IN_FORCE, place(time_in_force="gtc")),
    case("market-order-gtc", errors.INVALID_TIME_IN_FORCE, market_order(time_in_force=GTC)),
    case("post-only-ioc", errors.INVALID_POST_ONLY, place(post_only=True, time_in_force=IOC)),
    case("post-only-fok", errors.INVALID_POST_ONLY, place(post_only=True, time_in_force=FOK)),
    case("post-only-market", errors.INVALID_POST_ONLY, market_order(post_only=True)),
    case(
        "post-only-buy-at-ask",
        errors.POST_ONLY_WOULD_MATCH,
        place(post_only=True, price=price("50000")),
    ),
    case(
        "post-only-buy-through-ask",
        errors.POST_ONLY_WOULD_MATCH,
        place(post_only=True, price=price("55000")),
    ),
    case(
        "post-only-sell-at-bid",
        errors.POST_ONLY_WOULD_MATCH,
        place(member_id=BOB, side=SELL, post_only=True, price=price("30000")),
    ),
    case("stp-unknown", errors.INVALID_SELF_TRADE_PREVENTION, place(stp="cancel_none")),
    case("stp-empty", errors.INVALID_SELF_TRADE_PREVENTION, place(stp="")),
    case(
        "duplicate-client-id",
        errors.DUPLICATE_CLIENT_ID,
        place(client_id="alice-bid", price=price("29000")),
    ),
    case(
        "duplicate-client-id-other-side",
        errors.DUPLICATE_CLIENT_ID,
        place(client_id="alice-bid", side=SELL, price=price("70000"), stp=CANCEL_MAKER),
    ),
    # ----------------------------------------------------------------- cancelling
    case(
        "cancel-unknown-order",
        errors.ORDER_NOT_FOUND,
        command(CancelOrder, member_id=ALICE, order_id=999_999),
    ),
    case(
        "cancel-another-members-order",
        errors.ORDER_NOT_FOUND,
        lambda w: CancelOrder(key="rejected", member_id=BOB, order_id=w.alice_bid),
    ),
    case(
        "cancel-closed-order",
        errors.ORDER_NOT_FOUND,
        lambda w: CancelOrder(key="rejected", member_id=ALICE, order_id=w.closed),
    ),
    case(
        "cancel-closed-order-by-client-id",
        errors.ORDER_NOT_FOUND,
        command(CancelOrder, member_id=ALICE, client_id="alice-closed"),
    ),
    case(
        "cancel-unknown-client-id",
        errors.ORDER_NOT_FOUND,
        command(CancelOrder, member_id=ALICE, client_id="never-used"),
    ),
    case(
        "cancel-another-members-client-id",
        errors.ORDER_NOT_FOUND,
        command(CancelOrder, member_id=BOB, client_id="alice-bid"),
    ),
    case("cancel-without-id", errors.ORDER_NOT_FOUND, command(CancelOrder, member_id=ALICE)),
    # ----------------------------------------------------------------- deposits
    case("credit-unknown-currency", errors.CURRENCY_NOT_FOUND, credit(currency="doge", amount=1)),
    case("credit-currency-upper-case", errors.CURRENCY_NOT_FOUND, credit(currency="BTC", amount=1)),
    case("credit-zero", errors.DEPOSIT_INVALID_AMOUNT, credit(amount=0)),
    case("credit-negative", errors.DEPOSIT_INVALID_AMOUNT, credit(amount=-BTC_1)),
    case("credit-negative-fee", errors.DEPOSIT_INVALID_FEE, credit(amount=BTC_1, fee=-1)),
    case("credit-fee-is-amount", errors.DEPOSIT_INVALID_FEE, credit(amount=BTC_1, fee=BTC_1)),
    case("credit-fee-above-amount", errors.DEPOSIT_INVALID_FEE, credit(amount=1, fee=2)),
    # ----------------------------------------------------------------- withdrawals
    case("hold-unknown-currency", errors.CURRENCY_NOT_FOUND, hold(currency="doge", amount=1)),
    case("hold-zero", errors.WITHDRAW_INVALID_AMOUNT, hold(amount=0)),
    case("hold-negative", errors.WITHDRAW_INVALID_AMOUNT, hold(amount=-1)),
    case(
        "hold-beyond-balance",
        errors.WITHDRAW_INSUFFICIENT_BALANCE,
        hold(member_id=CAROL, amount=BTC_1),
    ),
    case(
        # Alice has 10 BTC, 2 of them held or settled: 8 BTC + 1 satoshi is too much.
        "hold-needs-locked-funds",
        errors.WITHDRAW_INSUFFICIENT_BALANCE,
        hold(amount=8 * BTC_1 + 1),
    ),
    case(
        "hold-member-without-accounts",
        errors.WITHDRAW_INSUFFICIENT_BALANCE,
        hold(member_id=DAVE, amount=1),
    ),
    case("hold-id-held", errors.WITHDRAW_DUPLICATE, hold(amount=1, withdrawal_id="w-held")),
    case("hold-id-settled", errors.WITHDRAW_DUPLICATE, hold(amount=1, withdrawal_id="w-settled")),
    case(
        "hold-id-released",
        errors.WITHDRAW_DUPLICATE,
        hold(member_id=BOB, amount=1, withdrawal_id="w-released"),
    ),
    case(
        "release-unknown",
        errors.WITHDRAW_NOT_FOUND,
        command(ReleaseWithdrawal, withdrawal_id="w-unknown"),
    ),
    case(
        "settle-unknown",
        errors.WITHDRAW_NOT_FOUND,
        command(SettleWithdrawal, withdrawal_id="w-unknown"),
    ),
    case(
        "release-settled",
        errors.WITHDRAW_NOT_HELD,
        command(ReleaseWithdrawal, withdrawal_id="w-settled"),
    ),
    case(
        "release-released",
        errors.WITHDRAW_NOT_HELD,
        command(ReleaseWithdrawal, withdrawal_id="w-released"),
    ),
    case(
        "settle-settled",
        errors.WITHDRAW_NOT_HELD,
        command(SettleWithdrawal, withdrawal_id="w-settled"),
    ),
    case(
        "settle-released",
        errors.WITHDRAW_NOT_HELD,
        command(SettleWithdrawal, withdrawal_id="w-released"),
    ),
    case(
        "settle-negative-fee",
        errors.WITHDRAW_INVALID_FEE,
        command(SettleWithdrawal, withdrawal_id="w-held", fee=-1),
    ),
    case(
        "settle-fee-above-amount",
        errors.WITHDRAW_INVALID_FEE,
        command(SettleWithdrawal, withdrawal_id="w-held", fee=BTC_1 + 1),
    ),
    # ----------------------------------------------------------------- adjustments
    case("adjust-unknown-currency", errors.CURRENCY_NOT_FOUND, adjust(currency="doge", amount=1)),
    case("adjust-empty-reason", errors.ADJUSTMENT_MISSING_REASON, adjust(amount=1, reason="")),
    case("adjust-blank-reason", errors.ADJUSTMENT_MISSING_REASON, adjust(amount=1, reason=" \n")),
    case("adjust-zero", errors.ADJUSTMENT_INVALID_AMOUNT, adjust(amount=0)),
    case(
        "adjust-below-zero",
        errors.ADJUSTMENT_INSUFFICIENT_BALANCE,
        adjust(member_id=CAROL, amount=-(BTC_1 // 1000) - 1),
    ),
    case(
        # Alice's 15 000 USDT locked by her bid cannot be adjusted away.
        "adjust-into-locked-funds",
        errors.ADJUSTMENT_INSUFFICIENT_BALANCE,
        adjust(currency="usdt", amount=-(85_000 * USDT_1) - 1),
    ),
    case(
        "adjust-member-without-accounts",
        errors.ADJUSTMENT_INSUFFICIENT_BALANCE,
        adjust(member_id=DAVE, amount=-1),
    ),
    # ----------------------------------------------------------------- transfers
    case("transfer-no-legs", errors.TRANSFER_INVALID, transfer()),
    case("transfer-no-reference", errors.TRANSFER_INVALID, transfer(leg(), reference="")),
    case("transfer-too-many-legs", errors.TRANSFER_INVALID, transfer(*[leg()] * 101)),
    case("transfer-leg-missing-field", errors.TRANSFER_INVALID, transfer({"currency": "btc"})),
    case("transfer-leg-not-a-mapping", errors.TRANSFER_INVALID, transfer(["btc"])),  # type: ignore[arg-type]
    case("transfer-unknown-currency", errors.CURRENCY_NOT_FOUND, transfer(leg(currency="doge"))),
    case("transfer-zero", errors.TRANSFER_INVALID_AMOUNT, transfer(leg(amount=0))),
    case("transfer-negative", errors.TRANSFER_INVALID_AMOUNT, transfer(leg(amount=-5))),
    case("transfer-not-integer", errors.TRANSFER_INVALID_AMOUNT, transfer(leg(amount="1"))),
    case("transfer-unknown-code", errors.TRANSFER_INVALID_ACCOUNT, transfer(leg(dst=203))),
    case(
        "transfer-fiat-code-for-coin",
        errors.TRANSFER_INVALID_ACCOUNT,
        transfer(leg(dst=201)),
    ),
    case(
        "transfer-member-account-without-member",
        errors.TRANSFER_INVALID_ACCOUNT,
        transfer(leg(dst_member=None)),
    ),
    case(
        "transfer-member-not-an-id",
        errors.TRANSFER_INVALID_ACCOUNT,
        transfer(leg(src_member="alice")),
    ),
    case(
        "transfer-from-locked",
        errors.TRANSFER_LOCKED_ACCOUNT,
        transfer(leg(currency="usdt", src=212)),
    ),
    case("transfer-to-locked", errors.TRANSFER_LOCKED_ACCOUNT, transfer(leg(dst=212))),
    case(
        # The platform's asset grows and a member's balance too: one side of the books.
        "transfer-asset-to-member",
        errors.TRANSFER_UNBALANCED,
        transfer(leg(src=102, src_member=None)),
    ),
    case(
        "transfer-unbalanced-across-currencies",
        errors.TRANSFER_UNBALANCED,
        transfer(
            leg(src=302, src_member=None, dst=102, dst_member=None),
            leg(currency="usdt", src=102, src_member=None, dst=302, dst_member=None),
        ),
    ),
    case(
        "transfer-beyond-balance",
        errors.TRANSFER_INSUFFICIENT_BALANCE,
        transfer(leg(src_member=CAROL, amount=BTC_1 // 1000 + 1)),
    ),
    case(
        # Alice's 15 000 USDT locked by her bid cannot be transferred away.
        "transfer-into-locked-funds",
        errors.TRANSFER_INSUFFICIENT_BALANCE,
        transfer(leg(currency="usdt", amount=85_000 * USDT_1 + 1)),
    ),
    case(
        # Each leg alone is covered; together they take more than Carol has.
        "transfer-legs-together-beyond-balance",
        errors.TRANSFER_INSUFFICIENT_BALANCE,
        transfer(
            leg(src_member=CAROL, amount=BTC_1 // 1000),
            leg(src_member=CAROL, dst=302, dst_member=None, amount=1),
        ),
    ),
    # ----------------------------------------------------------------- configuration
    case(
        "currency-unknown-type",
        errors.CURRENCY_INVALID,
        command(ConfigureCurrency, code="xrp", type="token", precision=6),
    ),
    case(
        "currency-precision-too-large",
        errors.CURRENCY_INVALID,
        command(ConfigureCurrency, code="xrp", type=COIN, precision=19),
    ),
    case(
        "currency-precision-change",
        errors.CURRENCY_IMMUTABLE,
        command(ConfigureCurrency, code="btc", type=COIN, precision=6),
    ),
    case(
        "currency-type-change",
        errors.CURRENCY_IMMUTABLE,
        command(ConfigureCurrency, code="usd", type=COIN, precision=2),
    ),
    case("market-unknown-state", errors.MARKET_INVALID_STATE, configure_market(state="open")),
    case(
        "market-unknown-currency",
        errors.MARKET_INVALID_CURRENCIES,
        configure_market(market="dogeusdt", base="doge"),
    ),
    case(
        "market-same-currencies",
        errors.MARKET_INVALID_CURRENCIES,
        configure_market(market="usdtusdt", base="usdt"),
    ),
    case("market-zero-min-price", errors.MARKET_INVALID_BOUNDS, configure_market(min_price=0)),
    case("market-zero-min-amount", errors.MARKET_INVALID_BOUNDS, configure_market(min_amount=0)),
    case(
        "market-max-below-min",
        errors.MARKET_INVALID_BOUNDS,
        configure_market(min_price=100, max_price=99),
    ),
    case("market-fee-above-half", errors.FEE_INVALID, configure_market(taker_fee=500_001)),
    case("market-negative-fee", errors.FEE_INVALID, configure_market(maker_fee=-1)),
    case(
        "market-precision-change",
        errors.MARKET_IMMUTABLE,
        configure_market(amount_precision=3),
    ),
    case(
        "market-quote-change",
        errors.MARKET_IMMUTABLE,
        configure_market(quote="usd"),
    ),
    case(
        "market-reverse-pair",
        errors.MARKET_REVERSE_PAIR,
        configure_market(market="usdtbtc", base="usdt", quote="btc"),
    ),
    case(
        "market-precision-beyond-quote",
        errors.MARKET_INVALID_PRECISION,
        configure_market(market="ethusd", quote="usd", amount_precision=2, price_precision=1),
    ),
    case(
        "market-negative-precision",
        errors.MARKET_INVALID_PRECISION,
        configure_market(market="ethusd", quote="usd", amount_precision=-1),
    ),
    case(
        # The engine writes the market's row: what its table cannot hold is refused first.
        "market-symbol-beyond-table",
        errors.MARKET_INVALID_SYMBOL,
        configure_market(market="eth" + "x" * 18),
    ),
    case(
        "market-min-price-beyond-table",
        errors.MARKET_INVALID_BOUNDS,
        configure_market(min_price=10**24),  # 10**22 USDT at 2 decimals: NUMERIC(40, 18)
    ),
    case(
        "market-position-beyond-table",
        errors.MARKET_INVALID_POSITION,
        configure_market(position=2**31),
    ),
    case("fee-unknown-market", errors.FEE_MARKET_NOT_FOUND, trading_fee(market="dogeusdt")),
    case("fee-bad-group", errors.INVALID_GROUP, trading_fee(group="VIP 1")),
    case("fee-above-half", errors.FEE_INVALID, trading_fee(maker=500_001)),
    case("fee-negative", errors.FEE_INVALID, trading_fee(taker=-2)),
    case("fee-remove-unknown", errors.FEE_NOT_FOUND, trading_fee(maker=-1, taker=-1)),
    case("group-any", errors.INVALID_GROUP, command(SetMemberGroup, member_id=ALICE, group="any")),
    case("group-empty", errors.INVALID_GROUP, command(SetMemberGroup, member_id=ALICE, group="")),
]


@pytest.mark.parametrize(("build", "code"), CASES)
def test_rejection_changes_nothing_but_the_log(build: Build, code: str) -> None:
    world = build_world()
    engine = world.engine
    before, seq = state_of(engine), engine.seq
    command = build(world)

    result = engine.apply(command, TS + 1)

    assert result.error == code
    assert not result.ok
    assert (result.seq, result.kind) == (seq + 1, command.kind)
    assert (result.order, result.orders, result.account) == (None, None, None)
    assert result.freeze() == {"seq": seq + 1, "kind": command.kind, "error": code}
    assert state_of(engine) == before
    assert engine.seq == seq + 1
    assert engine.results[command.key] is result
    journal = engine.end_batch()
    assert journal.commands == [(seq + 1, command, result, TS + 1)]
    assert not journal.orders
    assert not journal.trades
    assert not journal.postings
    assert not journal.accounts
    assert not journal.holds
    assert not journal.currencies
    assert not journal.markets
    assert not journal.fees
    assert not journal.groups


def test_every_reason_code_is_covered() -> None:
    declared = {
        value for name, value in vars(errors).items() if name.isupper() and isinstance(value, str)
    }
    covered = {param.values[1] for param in CASES}
    # Refuses one item of a bulk, never the command: see the test below.
    assert covered | {errors.INVALID_BULK_ITEM} == declared


def test_a_malformed_bulk_item_is_refused_alone() -> None:
    world = build_world()
    engine = world.engine
    result = engine.apply(
        BulkOrders(
            key="bulk",
            member_id=ALICE,
            cancel=[{"order_id": "1"}, {"client_id": "alice-bid"}],
            place=[
                {"market": "btcusdt", "side": SELL, "volume": 1.5},
                {"market": "btcusdt", "side": SELL, "volume": volume("0.1"), "colour": "red"},
                {"market": "btcusdt", "side": SELL, "volume": volume("0.1"), "price": True},
                {
                    "market": "btcusdt",
                    "side": SELL,
                    "volume": volume("0.1"),
                    "price": price("60000"),
                },
            ],
        ),
        TS + 1,
    )
    assert result.ok
    assert result.items is not None
    codes = [item.error for item in result.items]
    assert codes == [errors.INVALID_BULK_ITEM, None] + [errors.INVALID_BULK_ITEM] * 3 + [None]
    assert world.alice_bid not in engine.open_orders
    assert {item.seq for item in result.items} == {result.seq}


def test_every_command_kind_has_a_rejection() -> None:
    world = build_world()
    kinds = {param.values[0](world).kind for param in CASES}
    assert kinds == {
        "place_order",
        "place_oco",
        "amend_order",
        "bulk_orders",
        "cancel_order",
        "cancel_all",
        "credit",
        "hold_withdrawal",
        "release_withdrawal",
        "settle_withdrawal",
        "adjust",
        "transfer",
        "configure_currency",
        "configure_market",
        "set_trading_fee",
        "set_member_group",
    }


@pytest.mark.parametrize(
    ("value", "places"),
    [
        pytest.param("0.0000001", BTCUSDT.amount_precision, id="amount-one-decimal-too-many"),
        pytest.param("1.0000005", BTCUSDT.amount_precision, id="amount-half-lot"),
        pytest.param("1e-7", BTCUSDT.amount_precision, id="amount-exponent"),
        pytest.param("30000.001", BTCUSDT.price_precision, id="price-one-decimal-too-many"),
        pytest.param("-0.005", BTCUSDT.price_precision, id="negative-price-over-precise"),
        pytest.param("0.5", 0, id="whole-units-only"),
        pytest.param("NaN", 2, id="nan"),
        pytest.param("Infinity", 2, id="infinity"),
        pytest.param("-Infinity", 2, id="minus-infinity"),
        pytest.param("abc", 2, id="not-a-number"),
        pytest.param("", 2, id="empty"),
    ],
)
def test_over_precise_values_never_become_commands(value: str, places: int) -> None:
    """The edge converts decimals with ``to_units``, which refuses rather than rounds."""
    with pytest.raises(OverPrecise):
        to_units(value, places)


@pytest.mark.parametrize(
    ("value", "places", "units"),
    [
        ("30000.00", 2, 3_000_000),
        ("0.000001", 6, 1),
        ("1.500000000", 6, 1_500_000),
        ("-0.01", 2, -1),  # exact but negative: the engine rejects it, see CASES
        (Decimal("1E+2"), 0, 100),
        (7, 2, 700),
    ],
)
def test_exact_values_convert_without_rounding(value: Any, places: int, units: int) -> None:
    assert to_units(value, places) == units


def test_negative_and_zero_exact_values_reach_the_engine_and_are_rejected() -> None:
    world = build_world()
    engine = world.engine
    for text in ("0", "-0.01"):
        command = PlaceOrder(
            key=f"edge-{text}",
            member_id=ALICE,
            market="btcusdt",
            side=BUY,
            volume=volume("0.1"),
            price=to_units(text, BTCUSDT.price_precision),
        )
        assert engine.apply(command, TS).error == errors.INVALID_VOLUME_OR_PRICE


# ---------------------------------------------------------------------- idempotency


def test_repeated_key_returns_the_first_result_and_applies_nothing() -> None:
    engine = build_world().engine
    deposit = Credit(
        key="deposit-7", member_id=CAROL, currency="usdt", amount=USDT_1, deposit_id="d-7"
    )
    first = engine.apply(deposit, TS)
    assert first.ok
    engine.end_batch()
    after_first, seq = state_of(engine), engine.seq

    again = engine.apply(deposit, TS + 1)
    # The same key with another command is still "the same command": nothing happens.
    other = engine.apply(
        Adjust(key="deposit-7", member_id=CAROL, currency="usdt", amount=-USDT_1, reason="x"),
        TS + 2,
    )

    assert again is first
    assert other is first
    assert state_of(engine) == after_first
    assert engine.seq == seq
    assert engine.balances[CAROL]["usdt"].balance == 11 * USDT_1
    assert not engine.end_batch().commands


def test_repeated_order_key_places_one_order() -> None:
    engine = build_world().engine
    order = PlaceOrder(
        key="place-once",
        member_id=BOB,
        market="btcusdt",
        side=SELL,
        volume=volume("0.2"),
        price=price("55000"),
    )
    first = engine.apply(order, TS)
    before = state_of(engine)
    second = engine.apply(order, TS + 1)

    assert second is first
    assert first.order is not None
    assert first.order.state == WAIT
    assert state_of(engine) == before
    assert [o.id for o in engine.member_orders[BOB].values()].count(first.order.id) == 1
    assert len(engine.end_batch().commands) == 1


def test_repeated_key_of_a_rejection_stays_rejected() -> None:
    """Once rejected, a key stays rejected, even when the command would now succeed."""
    engine = build_world().engine
    withdrawal = HoldWithdrawal(
        key="carol-withdraws",
        member_id=CAROL,
        currency="usdt",
        amount=20 * USDT_1,
        withdrawal_id="w-carol",
    )
    first = engine.apply(withdrawal, TS)
    assert first.error == errors.WITHDRAW_INSUFFICIENT_BALANCE
    _ok(
        engine,
        Credit(
            key="carol-tops-up",
            member_id=CAROL,
            currency="usdt",
            amount=100 * USDT_1,
            deposit_id="d-carol",
        ),
    )
    before, seq = state_of(engine), engine.seq

    assert engine.apply(withdrawal, TS + 1) is first
    assert state_of(engine) == before
    assert engine.seq == seq
    assert "w-carol" not in engine.holds


# ---------------------------------------------------------------------- through the runner


async def _rows(conn: asyncpg.Connection, sql: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(sql)]


async def _tables(conn: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """The rows a command could change, the command log aside."""
    return {
        "accounts": await _rows(conn, "SELECT * FROM accounts ORDER BY member_id, currency_id"),
        "operations": await _rows(conn, "SELECT * FROM operations ORDER BY id"),
        "orders": await _rows(conn, "SELECT * FROM orders ORDER BY id"),
        "trades": await _rows(conn, "SELECT * FROM trades ORDER BY id"),
        "holds": await _rows(conn, "SELECT * FROM withdrawal_holds ORDER BY withdrawal_id"),
    }


@pytest.fixture
async def db(fresh_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(fresh_database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def _runner(url: str) -> EngineRunner:
    runner = EngineRunner(url, InProcessBus(), load_specs)
    await runner.start()
    return runner


# The demo seeds' btcusdt: prices in cents, volumes in millionths of a BTC.
REJECTED_THROUGH_RUNNER = [
    (
        PlaceOrder(
            key="r-order",
            member_id=ALICE,
            market="btcusdt",
            side=BUY,
            volume=1_000_000,
            price=3_000_000,
        ),
        errors.INSUFFICIENT_BALANCE,
    ),
    (
        PlaceOrder(
            key="r-post-only",
            member_id=BOB,
            market="btcusdt",
            side=BUY,
            volume=10_000,
            price=5_000_000,
            post_only=True,
        ),
        errors.POST_ONLY_WOULD_MATCH,
    ),
    (
        HoldWithdrawal(
            key="r-hold", member_id=ALICE, currency="usdt", amount=10**12, withdrawal_id="w-1"
        ),
        errors.WITHDRAW_INSUFFICIENT_BALANCE,
    ),
    (
        Adjust(key="r-adjust", member_id=ALICE, currency="usdt", amount=1, reason=" "),
        errors.ADJUSTMENT_MISSING_REASON,
    ),
    (CancelOrder(key="r-cancel", member_id=ALICE, order_id=1), errors.ORDER_NOT_FOUND),
    (
        Transfer(
            key="r-transfer",
            reference="tr-r",
            legs=[
                {
                    "currency": "usdt",
                    "amount": 10**15,
                    "src": 202,
                    "src_member": ALICE,
                    "dst": 202,
                    "dst_member": BOB,
                }
            ],
        ),
        errors.TRANSFER_INSUFFICIENT_BALANCE,
    ),
    (
        Credit(key="r-credit", member_id=ALICE, currency="doge", amount=1, deposit_id="d-x"),
        errors.CURRENCY_NOT_FOUND,
    ),
]


async def test_runner_logs_rejections_and_changes_no_rows(
    fresh_database_url: str, db: asyncpg.Connection
) -> None:
    runner = await _runner(fresh_database_url)
    try:
        funded = await runner.submit(
            Credit(
                key="fund", member_id=ALICE, currency="usdt", amount=100 * USDT_1, deposit_id="d1"
            )
        )
        assert funded["error"] is None
        await runner.submit(
            Credit(key="fund-bob", member_id=BOB, currency="btc", amount=BTC_1, deposit_id="d2")
        )
        ask = await runner.submit(
            PlaceOrder(
                key="ask",
                member_id=BOB,
                market="btcusdt",
                side=SELL,
                volume=10_000,
                price=5_000_000,
            )
        )
        assert ask["order"]["state"] == WAIT
        before = await _tables(db)
        seq = runner.committed_seq
        memory = state_of(runner.engine)

        with runner.bus.subscribe() as events:
            results = [await runner.submit(command) for command, _ in REJECTED_THROUGH_RUNNER]
            assert events.queue.empty()  # a rejection publishes no events

        for offset, ((command, code), result) in enumerate(
            zip(REJECTED_THROUGH_RUNNER, results, strict=True), start=1
        ):
            assert result == {"seq": seq + offset, "kind": command.kind, "error": code}
        assert runner.committed_seq == seq + len(REJECTED_THROUGH_RUNNER)
        assert await _tables(db) == before
        assert state_of(runner.engine) == memory

        logged = await db.fetch(
            "SELECT seq, idempotency_key, kind, payload::text AS payload, result::text AS result"
            " FROM engine_commands WHERE seq > $1 ORDER BY seq",
            seq,
        )
        assert [
            (
                r["seq"],
                r["idempotency_key"],
                r["kind"],
                json.loads(r["payload"]),
                json.loads(r["result"]),
            )
            for r in logged
        ] == [
            (seq + i, c.key, c.kind, command_payload(c), results[i - 1])
            for i, (c, _) in enumerate(REJECTED_THROUGH_RUNNER, start=1)
        ]

        # A repeated key answers the logged rejection and logs nothing new.
        command, code = REJECTED_THROUGH_RUNNER[0]
        assert await runner.submit(command) == results[0]
        assert await db.fetchval("SELECT max(seq) FROM engine_commands") == logged[-1]["seq"]
    finally:
        await runner.stop()

    # After a restart the key is still known (reloaded from the log), and a replay of the
    # log agrees with the tables.
    runner = await _runner(fresh_database_url)
    try:
        assert await runner.submit(REJECTED_THROUGH_RUNNER[2][0]) == results[2]
        assert runner.committed_seq == logged[-1]["seq"]
        assert await _tables(db) == before
        currencies, markets = await load_specs(db)
        report = await check_replay(db, currencies, markets)
        assert report.ok, report.differences
    finally:
        await runner.stop()


async def test_closed_withdrawal_ids_stay_closed_across_a_restart(
    fresh_database_url: str, db: asyncpg.Connection
) -> None:
    runner = await _runner(fresh_database_url)
    try:
        for command in (
            Credit(key="f", member_id=ALICE, currency="btc", amount=BTC_1, deposit_id="d"),
            HoldWithdrawal(
                key="h", member_id=ALICE, currency="btc", amount=BTC_1 // 2, withdrawal_id="w-9"
            ),
            SettleWithdrawal(key="s", withdrawal_id="w-9", fee=1000),
        ):
            assert (await runner.submit(command))["error"] is None
    finally:
        await runner.stop()
    before = await _tables(db)

    runner = await _runner(fresh_database_url)
    try:
        rejected = [
            (
                HoldWithdrawal(
                    key="h-again", member_id=ALICE, currency="btc", amount=1, withdrawal_id="w-9"
                ),
                errors.WITHDRAW_DUPLICATE,
            ),
            (ReleaseWithdrawal(key="r", withdrawal_id="w-9"), errors.WITHDRAW_NOT_HELD),
            (SettleWithdrawal(key="s-again", withdrawal_id="w-9"), errors.WITHDRAW_NOT_HELD),
        ]
        for refused, code in rejected:
            assert (await runner.submit(refused))["error"] == code
    finally:
        await runner.stop()
    assert await _tables(db) == before
    held = await db.fetchrow("SELECT state, amount FROM withdrawal_holds")
    assert (held["state"], held["amount"]) == ("settled", Decimal("0.5"))
