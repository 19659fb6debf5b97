"""The member's account API answers OpenDAX's shapes, over HTTP on a real engine and
PostgreSQL: ``transactions`` (deposits and withdrawals merged), ``withdraws/sums`` (two
sums in the platform currency), beneficiary pages open to every member, a deposit by
txid, the balance search, ``address_format``, and confirmations that are integers
wherever a deposit is shown. Every bad parameter answers its own code, and changes
nothing."""

import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.api.members import (
    ACCOUNT,
    MARKET,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

NOW = datetime.now(UTC).replace(microsecond=0)
WITHDRAW_LEVEL = 3  # the fixture's MemberLevels(withdraw=3)
AMOUNTS = ("amount", "fee", "sum")
DEPOSIT = {"currency_id": "btc", "type": "coin", "amount": "0.25", "fee": "0"}
WITHDRAW = {"currency_id": "btc", "type": "coin", "amount": "0.1", "fee": "0.001", "sum": "0.101"}


async def _record(
    exchange: Exchange, table: str, member: Caller, at: datetime, **values: Any
) -> None:
    """A deposit or withdrawal row as custody records it (nothing moves in the engine:
    these lists read the records)."""
    kind: dict[str, Any] = (
        DEPOSIT | {"transfer_type": "crypto", "state": "submitted"}
        if table == "deposits"
        else WITHDRAW | {"rid": "bc1qdestination", "state": "accepted"}
    )
    given = kind | {"tid": "TID" + secrets.token_hex(5).upper()} | values
    row = {k: Decimal(str(v)) if k in AMOUNTS else v for k, v in given.items()}
    row |= {"created_at": at, "updated_at": at}
    names = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(3, len(row) + 3))
    await exchange.sql(
        f"INSERT INTO {table} (member_id, uid, {names}) VALUES ($1, $2, {marks})",
        member.id,
        member.uid,
        *row.values(),
    )


async def _with_level(exchange: Exchange, email: str, level: int) -> Caller:
    member = await exchange.member(email)
    await exchange.sql("UPDATE users SET level = $1 WHERE id = $2", level, member.id)
    return member


# ---------------------------------------------------------------------- transactions


async def test_transactions_are_deposits_and_withdrawals_merged(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.sql(
        "INSERT INTO blockchains (key, name, client, height) VALUES ('bitcoin', 'B', 'bitcoin', 10)"
    )
    hour = timedelta(hours=1)
    await _record(  # a coin deposit in block 7, the scanner at 9: 3 confirmations
        exchange,
        "deposits",
        alice,
        NOW - 4 * hour,
        txid="ab12",
        txout=0,
        address="bc1qmine",
        blockchain_key="bitcoin",
        block_number=7,
        state="accepted",
    )
    await _record(
        exchange,
        "deposits",
        alice,
        NOW - 3 * hour,
        currency_id="usd",
        type="fiat",
        amount="99.5",
        fee="0.5",
        transfer_type="wire",
    )
    await _record(
        exchange,
        "withdraws",
        alice,
        NOW - 2 * hour,
        txid="cd34",
        blockchain_key="bitcoin",
        block_number=9,
        note="rent",
        state="confirming",
    )
    await _record(exchange, "withdraws", alice, NOW - hour, state="canceled")
    await _record(exchange, "deposits", bob, NOW, txid="ef56", txout=0)

    found = await alice.get(f"{ACCOUNT}/transactions")
    assert found.status_code == 200, found.text
    assert (found.headers["Total"], found.headers["Page"], found.headers["Per-Page"]) == (
        "4",
        "1",
        "100",
    )
    canceled, sent, fiat, coin = found.json()  # newest first
    assert sent == {
        "address": "bc1qdestination",
        "currency": "btc",
        "amount": "0.1",
        "fee": "0.001",
        "txid": "cd34",
        "state": "confirming",
        "note": "rent",
        "confirmations": 1,
        "created_at": (NOW - 2 * hour).isoformat(),
        "updated_at": (NOW - 2 * hour).isoformat(),
        "type": "Withdraw",
    }
    assert coin == {
        "address": "bc1qmine",
        "currency": "btc",
        "amount": "0.25",
        "fee": "0",
        "txid": "ab12",
        "state": "accepted",
        "note": None,
        "confirmations": 3,
        "created_at": (NOW - 4 * hour).isoformat(),
        "updated_at": (NOW - 4 * hour).isoformat(),
        "type": "Deposit",
    }
    assert (fiat["type"], fiat["amount"], fiat["confirmations"], fiat["address"]) == (
        "Deposit",
        "99.5",
        0,
        None,
    )
    assert (canceled["type"], canceled["state"], canceled["confirmations"]) == (
        "Withdraw",
        "canceled",
        0,
    )

    async def listed(**params: Any) -> list[tuple[str, str]]:
        answer = await alice.get(f"{ACCOUNT}/transactions", **params)
        assert answer.status_code == 200, answer.text
        return [(t["type"], t["state"]) for t in answer.json()]

    oldest_first = await listed(order_by="asc")
    assert oldest_first == [(t["type"], t["state"]) for t in reversed(found.json())]
    assert await listed(currency="USD") == [("Deposit", "submitted")]
    # Each state filter narrows its own kind only, as Peatio's do.
    assert await listed(deposit_state="accepted") == [
        ("Withdraw", "canceled"),
        ("Withdraw", "confirming"),
        ("Deposit", "accepted"),
    ]
    assert await listed(withdraw_state="confirming", deposit_state="rejected") == [
        ("Withdraw", "confirming")
    ]
    assert await listed(txid="ab12") == [("Deposit", "accepted")]
    assert await listed(txid="ef56") == []  # Bob's
    since = int((NOW - 150 * timedelta(minutes=1)).timestamp())
    until = int((NOW - 90 * timedelta(minutes=1)).timestamp())
    assert await listed(time_from=since, time_to=until) == [("Withdraw", "confirming")]
    paged = await alice.get(f"{ACCOUNT}/transactions", limit=3, page=2)
    assert [t["txid"] for t in paged.json()] == ["ab12"]
    assert (paged.headers["Total"], paged.headers["Page"], paged.headers["Per-Page"]) == (
        "4",
        "2",
        "3",
    )
    assert [t["txid"] for t in (await bob.get(f"{ACCOUNT}/transactions")).json()] == ["ef56"]

    for params, code in (
        ({"currency": "doge"}, "account.currency.doesnt_exist"),
        ({"deposit_state": "lost"}, "account.transactions.invalid_deposit_state"),
        ({"withdraw_state": "gone"}, "account.transactions.invalid_withdraw_state"),
        ({"order_by": "sideways"}, "account.transactions.invalid_order_by"),
        ({"limit": 0}, "account.transactions.invalid_limit"),
        ({"limit": 1001}, "account.transactions.invalid_limit"),
        ({"page": 0}, "account.transactions.non_positive_page"),
        ({"time_from": -1}, "account.transactions.invalid_time_from"),
        ({"txid": "x" * 129}, "account.transactions.invalid_txid"),
    ):
        assert_error(await alice.get(f"{ACCOUNT}/transactions", **params), 422, code)


# ---------------------------------------------------------------------- withdraws/sums


async def _trade_btc_at(exchange: Exchange, price: str) -> None:
    """One trade on btcusdt at ``price``: BTC's value in the platform currency (USDT)."""
    seller = await exchange.member("seller@example.com")
    buyer = await exchange.member("buyer@example.com")
    await exchange.credit(seller, "btc", "1")
    await exchange.credit(buyer, "usdt", "100000")
    for member, side in ((seller, "sell"), (buyer, "buy")):
        order = {"market": "btcusdt", "side": side, "volume": "0.1", "price": price}
        placed = await member.post(f"{MARKET}/orders", order)
        assert placed.status_code == 201, placed.text


async def test_withdraw_sums_are_two_values_in_the_platform_currency(exchange: Exchange) -> None:
    await _trade_btc_at(exchange, "30000")
    alice = await _with_level(exchange, "alice@example.com", WITHDRAW_LEVEL)
    await _record(exchange, "withdraws", alice, NOW - timedelta(hours=1), amount="0.01")
    await _record(exchange, "withdraws", alice, NOW - timedelta(days=10), amount="0.02")
    await _record(
        exchange, "withdraws", alice, NOW, currency_id="usdt", amount="50", state="succeed"
    )
    await _record(exchange, "withdraws", alice, NOW, amount="5", state="canceled")
    await _record(exchange, "withdraws", alice, NOW - timedelta(days=40), amount="7")

    sums = await alice.get(f"{ACCOUNT}/withdraws/sums")
    assert sums.status_code == 200, sums.text
    # 0.01 BTC x 30000 + 50 USDT today; 0.02 BTC more this month; canceled and older: none.
    assert sums.json() == {"last_24_hours": "350", "last_1_month": "950"}

    # The per-currency view lives on as a Bursa extension.
    limits = await alice.get(f"{ACCOUNT}/withdraws/limits", currency="btc")
    assert limits.status_code == 200, limits.text
    assert [(c["currency"], c["kyc_last_1_month"]) for c in limits.json()] == [("btc", "950")]

    nobody = await exchange.member("nobody@example.com")  # level 1
    assert_error(
        await nobody.get(f"{ACCOUNT}/withdraws/sums"), 403, "account.withdraw.not_permitted"
    )


# ---------------------------------------------------------------------- beneficiaries


async def test_beneficiaries_are_paged_and_listed_below_the_withdrawal_level(
    exchange: Exchange,
) -> None:
    await exchange.sql(
        "INSERT INTO blockchains (key, name, client) VALUES ('ethereum', 'Ethereum', 'ethereum')"
    )
    await exchange.sql("UPDATE currencies SET blockchain_key = 'ethereum' WHERE id = 'eth'")
    newcomer = await exchange.member("newcomer@example.com")  # level 1: no withdrawals
    empty = await newcomer.get(f"{ACCOUNT}/beneficiaries")
    assert empty.status_code == 200, empty.text
    assert empty.json() == []
    assert (empty.headers["Total"], empty.headers["Page"], empty.headers["Per-Page"]) == (
        "0",
        "1",
        "100",
    )
    made = await newcomer.post(
        f"{ACCOUNT}/beneficiaries",
        {"currency": "eth", "name": "cold", "data": {"address": "0x" + "1" * 40}},
    )
    assert_error(made, 403, "account.withdraw.not_permitted")  # adding one still needs it

    alice = await _with_level(exchange, "alice@example.com", WITHDRAW_LEVEL)
    for n in range(3):
        made = await alice.post(
            f"{ACCOUNT}/beneficiaries",
            {"currency": "eth", "name": f"cold {n}", "data": {"address": "0x" + str(n) * 40}},
        )
        assert made.status_code == 201, made.text
    first = await alice.get(f"{ACCOUNT}/beneficiaries", limit=2)
    second = await alice.get(f"{ACCOUNT}/beneficiaries", limit=2, page=2)
    assert [b["name"] for b in first.json()] == ["cold 2", "cold 1"]  # newest first
    assert [b["name"] for b in second.json()] == ["cold 0"]
    assert (second.headers["Total"], second.headers["Page"], second.headers["Per-Page"]) == (
        "3",
        "2",
        "2",
    )
    on_chain = await alice.get(f"{ACCOUNT}/beneficiaries", blockchain_key="ethereum")
    assert len(on_chain.json()) == 3
    assert (await alice.get(f"{ACCOUNT}/beneficiaries", state="active")).json() == []
    assert (await newcomer.get(f"{ACCOUNT}/beneficiaries")).json() == []  # only one's own

    for params, code in (
        ({"limit": 0}, "account.beneficiary.invalid_limit"),
        ({"limit": 1001}, "account.beneficiary.invalid_limit"),
        ({"limit": "ten"}, "account.beneficiary.non_integer_limit"),
        ({"page": 0}, "account.beneficiary.non_positive_page"),
        ({"page": "two"}, "account.beneficiary.non_integer_page"),
        ({"state": "archived"}, "account.beneficiary.invalid_state"),
        ({"currency": "doge"}, "account.currency.doesnt_exist"),
        ({"blockchain_key": "dogechain"}, "account.beneficiary.blockchain_key_doesnt_exist"),
    ):
        assert_error(await alice.get(f"{ACCOUNT}/beneficiaries", **params), 422, code)


# ---------------------------------------------------------------------- deposits


async def test_a_deposit_by_txid_and_integer_confirmations_everywhere(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    admin = await exchange.member("root@example.com", role="admin")
    await _record(exchange, "deposits", alice, NOW, txid="ab12", txout=0)  # not in a block yet
    await _record(exchange, "deposits", alice, NOW, currency_id="usd", type="fiat")

    found = await alice.get(f"{ACCOUNT}/deposits/ab12")
    assert found.status_code == 200, found.text
    shown = found.json()
    assert (shown["txid"], shown["currency"], shown["amount"], shown["confirmations"]) == (
        "ab12",
        "btc",
        "0.25",
        0,
    )
    assert_error(await bob.get(f"{ACCOUNT}/deposits/ab12"), 404, "record.not_found")
    assert_error(await alice.get(f"{ACCOUNT}/deposits/zz99"), 404, "record.not_found")
    assert_error(
        await alice.get(f"{ACCOUNT}/deposits/{'x' * 129}"), 422, "account.deposit.invalid_txid"
    )

    # A fiat deposit, and a coin one not yet in a block: 0, never "N/A".
    listed = await alice.get(f"{ACCOUNT}/deposits")
    assert [d["confirmations"] for d in listed.json()] == [0, 0]
    admins = await admin.get("/api/v2/peatio/admin/deposits")
    assert admins.status_code == 200, admins.text
    assert [d["confirmations"] for d in admins.json()] == [0, 0]


# ---------------------------------------------------------------------- balances, addresses


async def test_balances_search_by_code_or_name(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1")

    async def currencies(**params: Any) -> list[str]:
        answer = await alice.get(f"{ACCOUNT}/balances", **params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Total"] == str(len(answer.json()))
        return [a["currency"] for a in answer.json()]

    assert await currencies(**{"search[currency_code]": "BT"}) == ["btc"]
    assert await currencies(**{"search[currency_name]": "ethereum"}) == ["eth"]
    assert await currencies(search='{"currency_code": "us"}') == ["usdt", "usd"]
    either = {"search[currency_code]": "btc", "search[currency_name]": "dollar"}
    assert await currencies(**either) == ["btc", "usd"]
    assert await currencies(**{"search[currency_code]": "%"}) == []  # no wildcard
    assert await currencies(nonzero="true", **{"search[currency_code]": "u"}) == []

    for params in (
        {"search": "{not json"},
        {"search": "[1]"},
        {"search": '{"currency_code": 5}'},
        {"search[currency_code]": "b\x01"},
        {"search[currency_name]": "x" * 65},
    ):
        assert_error(
            await alice.get(f"{ACCOUNT}/balances", **params), 422, "account.balances.invalid_search"
        )
    assert_error(
        await alice.get(f"{ACCOUNT}/balances", page=0), 422, "account.balances.non_positive_page"
    )


async def test_address_format_is_refused_where_the_chain_has_none(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    path = f"{ACCOUNT}/deposit_address"
    for currency, address_format, code in (
        ("btc", "cash", "account.deposit_address.address_format_not_supported"),
        ("eth", "legacy", "account.deposit_address.address_format_not_supported"),
        ("btc", "segwit", "account.deposit_address.invalid_address_format"),
        ("doge", "cash", "account.currency.doesnt_exist"),
        ("usd", "legacy", "account.currency.deposit_disabled"),
    ):
        answer = await alice.get(f"{path}/{currency}", address_format=address_format)
        assert_error(answer, 422, code)
    assert (await exchange.sql("SELECT count(*) AS n FROM payment_addresses"))[0]["n"] == 0
