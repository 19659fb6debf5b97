"""The member's account API over HTTP on a real engine and PostgreSQL: balances, ledger
operations, deposits (the engine's credits), and the custody routes that are not enabled
yet."""

from datetime import UTC, datetime

from tests.api.members import (
    ACCOUNT,
    MARKET,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)


async def test_balances(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1.5")
    order = {"market": "btcusdt", "side": "sell", "volume": "0.25", "price": "30000"}
    assert (await alice.post(f"{MARKET}/orders", order)).status_code == 201

    listed = await alice.get(f"{ACCOUNT}/balances")
    assert listed.status_code == 200
    assert (listed.headers["Total"], listed.headers["Page"], listed.headers["Per-Page"]) == (
        "4",
        "1",
        "100",
    )
    assert listed.json() == [
        {"currency": "btc", "balance": "1.25", "locked": "0.25"},
        {"currency": "eth", "balance": "0", "locked": "0"},
        {"currency": "usdt", "balance": "0", "locked": "0"},
        {"currency": "usd", "balance": "0", "locked": "0"},
    ]
    nonzero = await alice.get(f"{ACCOUNT}/balances", nonzero="true")
    assert [a["currency"] for a in nonzero.json()] == ["btc"]
    second = await alice.get(f"{ACCOUNT}/balances", limit=2, page=2)
    assert [a["currency"] for a in second.json()] == ["usdt", "usd"]

    one = await alice.get(f"{ACCOUNT}/balances/BTC")
    assert one.json() == {"currency": "btc", "balance": "1.25", "locked": "0.25"}
    zero = await alice.get(f"{ACCOUNT}/balances/usd")
    assert zero.json() == {"currency": "usd", "balance": "0", "locked": "0"}
    assert_error(await alice.get(f"{ACCOUNT}/balances/doge"), 422, "account.currency.doesnt_exist")
    assert_error(
        await alice.get(f"{ACCOUNT}/balances", limit=1001), 422, "account.balances.invalid_limit"
    )
    assert_error(
        await alice.get(f"{ACCOUNT}/balances", nonzero="perhaps"),
        422,
        "account.balances.invalid_nonzero",
    )
    bob = await exchange.member("bob@example.com")  # sees only his own
    assert (await bob.get(f"{ACCOUNT}/balances", nonzero="true")).json() == []


async def test_transactions_are_ledger_operations(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1", fee="0.001")
    placed = await alice.post(
        f"{MARKET}/orders",
        {"market": "btcusdt", "side": "sell", "volume": "0.25", "price": "30000"},
    )
    order_id = placed.json()["id"]

    found = await alice.get(f"{ACCOUNT}/transactions")
    assert found.status_code == 200, found.text
    assert found.headers["Total"] == "3"
    lock_locked, lock_main, deposit = found.json()  # newest first
    assert set(deposit) == {
        "id",
        "code",
        "currency",
        "account_kind",
        "credit",
        "debit",
        "reference_type",
        "rid",
        "created_at",
    }
    assert {
        k: deposit[k] for k in ("code", "account_kind", "credit", "debit", "reference_type")
    } == {
        "code": 202,
        "account_kind": "main",
        "credit": "0.999",  # net of the fee, which is the exchange's revenue, not shown
        "debit": "0",
        "reference_type": "deposit",
    }
    assert (lock_main["account_kind"], lock_main["debit"]) == ("main", "0.25")
    assert (lock_locked["account_kind"], lock_locked["credit"]) == ("locked", "0.25")
    assert lock_main["rid"] == str(order_id)

    deposits_only = await alice.get(f"{ACCOUNT}/transactions", type="deposit", order_by="asc")
    assert [t["id"] for t in deposits_only.json()] == [deposit["id"]]
    assert (await alice.get(f"{ACCOUNT}/transactions", currency="usdt")).json() == []
    future = int(datetime.now(UTC).timestamp()) + 3600
    assert (await alice.get(f"{ACCOUNT}/transactions", time_from=future)).json() == []
    assert len((await alice.get(f"{ACCOUNT}/transactions", time_to=future)).json()) == 3
    assert_error(
        await alice.get(f"{ACCOUNT}/transactions", type="gift"),
        422,
        "account.transactions.invalid_type",
    )
    assert_error(
        await alice.get(f"{ACCOUNT}/transactions", currency="doge"),
        422,
        "account.currency.doesnt_exist",
    )


async def test_deposits_are_the_engines_credits(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1", fee="0.001")
    await exchange.credit(alice, "usdt", "250.5")

    found = await alice.get(f"{ACCOUNT}/deposits")
    assert found.status_code == 200, found.text
    assert found.headers["Total"] == "2"
    usdt, btc = found.json()
    assert btc | {"id": 0, "tid": "", "created_at": "", "completed_at": ""} == {
        "id": 0,
        "currency": "btc",
        "blockchain_key": None,
        "amount": "0.999",
        "fee": "0.001",
        "txid": None,
        "confirmations": "N/A",
        "state": "accepted",
        "transfer_type": "crypto",
        "created_at": "",
        "completed_at": "",
        "tid": "",
    }
    assert btc["tid"].startswith("dep-")
    assert (usdt["currency"], usdt["amount"], usdt["fee"]) == ("usdt", "250.5", "0")
    assert [
        d["currency"] for d in (await alice.get(f"{ACCOUNT}/deposits", currency="btc")).json()
    ] == ["btc"]
    assert (await alice.get(f"{ACCOUNT}/deposits", state="submitted")).json() == []
    assert_error(
        await alice.get(f"{ACCOUNT}/deposits", limit=101), 422, "account.deposit.invalid_limit"
    )
    bob = await exchange.member("bob@example.com")
    assert (await bob.get(f"{ACCOUNT}/deposits")).json() == []


async def test_custody_routes_answer_not_yet_enabled(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.sql("UPDATE users SET level = 3 WHERE id = $1", alice.id)
    for verb, path, code in (
        ("GET", "withdraws", "account.withdraw.disabled_api"),
        ("POST", "withdraws", "account.withdraw.disabled_api"),
        ("GET", "withdraws/sums", "account.withdraw.disabled_api"),
        ("GET", "deposit_address/btc", "account.currency.deposit_disabled"),
        ("GET", "beneficiaries", "account.beneficiary.disabled"),
        ("POST", "beneficiaries", "account.beneficiary.disabled"),
        ("GET", "beneficiaries/1", "account.beneficiary.disabled"),
        ("PATCH", "beneficiaries/1/activate", "account.beneficiary.disabled"),
        ("DELETE", "beneficiaries/1", "account.beneficiary.disabled"),
        ("GET", "internal_transfers", "account.internal_transfer.disabled"),
        ("POST", "internal_transfers", "account.internal_transfer.disabled"),
    ):
        response = await alice.client.request(
            verb, f"{ACCOUNT}/{path}", headers={"X-CSRF-Token": alice.csrf}
        )
        assert_error(response, 422, code)
    await exchange.sql("UPDATE users SET level = 1 WHERE id = $1", alice.id)
    assert_error(await alice.get(f"{ACCOUNT}/withdraws"), 403, "account.withdraw.not_permitted")
