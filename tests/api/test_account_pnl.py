"""``GET account/stats/pnl`` over HTTP: two members trade through the engine, deposit and
withdraw, and each one's totals are checked against numbers worked out by hand."""

import uuid
from decimal import Decimal

import httpx

from bursa.engine.commands import HoldWithdrawal, SettleWithdrawal
from bursa.engine.units import to_units
from tests.api.members import (
    ACCOUNT,
    MARKET,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

PNL = f"{ACCOUNT}/stats/pnl"
PLACES = Decimal("1e-18")  # quotients are rounded half-even to 18 places


def q(value: Decimal) -> Decimal:
    return value.quantize(PLACES)


def text(value: Decimal) -> str:
    return format(value.normalize(), "f")


async def place(member: Caller, market: str, side: str, volume: str, price: str) -> int:
    placed = await member.post(
        f"{MARKET}/orders", {"market": market, "side": side, "volume": volume, "price": price}
    )
    assert placed.status_code == 201, placed.text
    return int(placed.json()["id"])


async def withdraw(exchange: Exchange, member: Caller, amount: str, fee: str) -> None:
    wid = f"wd-{uuid.uuid4().hex[:8]}"
    held = await exchange.runner.submit(
        HoldWithdrawal(
            key=f"test:{wid}:hold",
            member_id=member.id,
            currency="btc",
            amount=to_units(Decimal(amount), 8),
            withdrawal_id=wid,
        )
    )
    assert held["error"] is None, held
    settled = await exchange.runner.submit(
        SettleWithdrawal(key=f"test:{wid}:settle", withdrawal_id=wid, fee=to_units(Decimal(fee), 8))
    )
    assert settled["error"] is None, settled


async def pnl_of(member: Caller, **params: str) -> dict[str, dict[str, str | None]]:
    found = await member.get(PNL, **params)
    assert found.status_code == 200, found.text
    return {row["currency"]: row for row in found.json()}


async def test_pnl_of_two_traders(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.credit(alice, "btc", "1.001", fee="0.001")  # 1 BTC net, 0.001 fee
    await exchange.credit(alice, "eth", "2")  # never traded: no price, left out
    await exchange.credit(bob, "usdt", "100000")

    # 1) Alice sells 0.2 BTC at 30000 to Bob (Alice maker 0.1%, Bob taker 0.2%).
    ask = await place(alice, "btcusdt", "sell", "0.5", "30000")
    await place(bob, "btcusdt", "buy", "0.2", "31000")
    cancelled = await alice.post(f"{MARKET}/orders/{ask}/cancel")
    assert cancelled.status_code == 201, cancelled.text
    # 2) Bob sells 0.1 BTC at 40000 to Alice (Bob maker 0.1%, Alice taker 0.2%).
    await place(bob, "btcusdt", "sell", "0.1", "40000")
    await place(alice, "btcusdt", "buy", "0.1", "40000")
    # 3) Alice withdraws 0.1 BTC, of which 0.0005 is the fee.
    await withdraw(exchange, alice, "0.1", "0.0005")

    # Alice in USDT (the platform currency by default).
    # BTC: deposit 1 valued at the nearest btcusdt trade (the first, 30000): 30000;
    # sold 0.2 (value 6000); bought 0.1 - 0.0002 fee = 0.0998 at 40000 (value 3992);
    # withdrew 0.0995 + 0.0005 fee, valued with its fee at the last trade (40000): 4000.
    average_1 = Decimal(30000)  # after the deposit: 30000 / 1
    balance_value = Decimal(30000) - Decimal("0.2") * average_1  # 24000
    balance_value += Decimal(3992)  # 27992
    average_2 = q(balance_value / Decimal("0.8998"))  # balance 1 - 0.2 + 0.0998
    balance_value -= Decimal("0.1") * average_2
    mine = await pnl_of(alice)
    assert list(mine) == ["btc", "usdt"]  # by currency position; eth cannot be valued
    assert mine["btc"] == {
        "currency": "btc",
        "pnl_currency": "usdt",
        "total_credit": "1.0998",
        "total_credit_fees": "0.0012",  # 0.001 on the deposit, 0.0002 on the buy
        "total_credit_value": "33992",
        "total_debit": "0.2995",
        "total_debit_fees": "0.0005",
        "total_debit_value": "10000",
        "average_buy_price": text(q(Decimal(33992) / Decimal("1.0998"))),
        "average_sell_price": text(q(Decimal(10000) / Decimal("0.2995"))),
        "average_balance_price": text(average_2),
        "total_balance_value": text(balance_value),
    }
    # USDT, the PnL currency itself: received 6000 - 6 fee, paid 4000.
    assert mine["usdt"] == {
        "currency": "usdt",
        "pnl_currency": "usdt",
        "total_credit": "5994",
        "total_credit_fees": "6",
        "total_credit_value": "5994",
        "total_debit": "4000",
        "total_debit_fees": "0",
        "total_debit_value": "4000",
        "average_buy_price": "1",
        "average_sell_price": "1",
        "average_balance_price": "1",
        "total_balance_value": "1994",
    }
    # Received less debited (and its fees) is the balance.
    balances = {
        a["currency"]: Decimal(a["balance"]) + Decimal(a["locked"])
        for a in (await alice.get(f"{ACCOUNT}/balances", nonzero="true")).json()
    }
    for code in ("btc", "usdt"):
        row = mine[code]
        left = Decimal(str(row["total_credit"])) - Decimal(str(row["total_debit"]))
        assert left - Decimal(str(row["total_debit_fees"])) == balances[code]

    # Bob: bought 0.2 - 0.0004 fee at 30000, sold 0.1 at 40000. Realised profit:
    # total_debit_value - total_debit * average_buy_price = 4000 - 0.1 * 30000 = 1000.
    his = await pnl_of(bob, pnl_currency="usdt")
    assert {k: his["btc"][k] for k in his["btc"] if k != "pnl_currency"} == {
        "currency": "btc",
        "total_credit": "0.1996",
        "total_credit_fees": "0.0004",
        "total_credit_value": "5988",
        "total_debit": "0.1",
        "total_debit_fees": "0",
        "total_debit_value": "4000",
        "average_buy_price": "30000",
        "average_sell_price": "40000",
        "average_balance_price": "30000",
        "total_balance_value": "2988",  # 5988 - 0.1 * 30000
    }
    assert Decimal(str(his["btc"]["total_debit_value"])) - Decimal("0.1") * Decimal(
        str(his["btc"]["average_buy_price"])
    ) == Decimal(1000)
    assert (his["usdt"]["total_credit"], his["usdt"]["total_credit_fees"]) == ("103996", "4")
    assert his["usdt"]["total_debit"] == "6000"

    # In BTC: trades in btcusdt value USDT at their own price, inverted.
    in_btc = await pnl_of(alice, pnl_currency="BTC")
    assert list(in_btc) == ["btc", "usdt"]
    assert in_btc["btc"]["total_credit_value"] == "1.0998"
    assert in_btc["btc"]["average_balance_price"] == "1"
    usdt = in_btc["usdt"]
    average = q(Decimal("0.1998") / Decimal(5994))  # 5994 / 30000 = 0.1998 BTC
    assert (usdt["total_credit_value"], usdt["total_debit_value"]) == ("0.1998", "0.1")
    assert usdt["average_balance_price"] == text(average)
    assert usdt["total_balance_value"] == text(Decimal("0.1998") - 4000 * average)
    # In ETH: only ETH itself can be valued (no ETH market has traded).
    assert list(await pnl_of(alice, pnl_currency="eth")) == ["eth"]
    assert await pnl_of(await exchange.member("carol@example.com")) == {}

    assert_error(await alice.get(PNL, pnl_currency="xyz"), 422, "pnl.currency.doesnt_exist")
    assert_error(await alice.get(PNL, pnl_currency="b!c"), 422, "pnl.currency.doesnt_exist")
    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://x") as anon:
        assert (await anon.get(PNL)).status_code == 401
