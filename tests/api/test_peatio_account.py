"""The member's account API over HTTP on a real engine and PostgreSQL: balances, ledger
operations (Bursa's ``ledger``), deposits and deposit addresses. Peatio's shapes of
transactions, withdrawal sums, beneficiary pages and the rest are checked in
``test_peatio_account_contract``."""

from datetime import UTC, datetime
from decimal import Decimal

from bursa.custody import crediting
from bursa.custody.addresses import CURRENCY_NOT_FOUND, DEPOSIT_DISABLED, WALLET_NOT_FOUND
from bursa.trading import deposits as deposit_records
from tests.api.members import (
    ACCOUNT,
    MARKET,
    Caller,
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


async def test_ledger_lists_the_members_postings(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    await exchange.credit(alice, "btc", "1", fee="0.001")
    placed = await alice.post(
        f"{MARKET}/orders",
        {"market": "btcusdt", "side": "sell", "volume": "0.25", "price": "30000"},
    )
    order_id = placed.json()["id"]

    found = await alice.get(f"{ACCOUNT}/ledger")
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

    deposits_only = await alice.get(f"{ACCOUNT}/ledger", type="deposit", order_by="asc")
    assert [t["id"] for t in deposits_only.json()] == [deposit["id"]]
    assert (await alice.get(f"{ACCOUNT}/ledger", currency="usdt")).json() == []
    future = int(datetime.now(UTC).timestamp()) + 3600
    assert (await alice.get(f"{ACCOUNT}/ledger", time_from=future)).json() == []
    assert len((await alice.get(f"{ACCOUNT}/ledger", time_to=future)).json()) == 3
    assert_error(
        await alice.get(f"{ACCOUNT}/ledger", type="gift"),
        422,
        "account.ledger.invalid_type",
    )
    assert_error(
        await alice.get(f"{ACCOUNT}/ledger", currency="doge"),
        422,
        "account.currency.doesnt_exist",
    )


async def _fiat_deposit(exchange: Exchange, member: Caller, amount: str, fee: str) -> str:
    """A payment gateway's deposit, loaded through the engine as the Management API does."""
    async with exchange.app.state.session_factory() as session:
        async with session.begin():
            row, _ = await deposit_records.create(
                session,
                tid=deposit_records.new_tid(),
                member_id=member.id,
                uid=member.uid,
                currency_id="usd",
                type="fiat",
                amount=Decimal(amount),
                fee=Decimal(fee),
                transfer_type="wire",
            )
        accepted = await crediting.accept(session, exchange.runner.submit, row["tid"])
    tid: str = accepted["tid"]
    return tid


async def test_deposits_list_fiat_and_coin_deposits_with_their_confirmations(
    exchange: Exchange,
) -> None:
    alice = await exchange.member("alice@example.com")
    tid = await _fiat_deposit(exchange, alice, "99.5", "0.5")
    # A coin deposit the scanner recorded at height 7, with the scanner at height 9.
    await exchange.sql(
        "INSERT INTO blockchains (key, name, client, height) VALUES ('bitcoin', 'B', 'bitcoin', 10)"
    )
    await exchange.sql(
        "INSERT INTO deposits (tid, member_id, uid, currency_id, type, amount, fee,"
        " transfer_type, txid, txout, blockchain_key, block_number, state)"
        " VALUES ('TIDCOIN00001', $1, $2, 'btc', 'coin', 0.25, 0, 'crypto', 'ab12', 1,"
        " 'bitcoin', 7, 'submitted')",
        alice.id,
        alice.uid,
    )

    found = await alice.get(f"{ACCOUNT}/deposits")
    assert found.status_code == 200, found.text
    assert found.headers["Total"] == "2"
    coin, fiat = found.json()
    assert fiat | {"id": 0, "created_at": "", "completed_at": ""} == {
        "id": 0,
        "currency": "usd",
        "blockchain_key": None,
        "amount": "99.5",
        "fee": "0.5",
        "txid": None,
        "confirmations": 0,  # an integer, as Peatio specifies it
        "min_confirmations": None,
        "state": "accepted",
        "transfer_type": "wire",
        "created_at": "",
        "completed_at": "",
        "tid": tid,
    }
    assert fiat["completed_at"] is not None
    shown = ("currency", "amount", "txid", "confirmations", "min_confirmations", "state")
    assert {k: coin[k] for k in shown} == {
        "currency": "btc",
        "amount": "0.25",
        "txid": "ab12",
        "confirmations": 3,
        "min_confirmations": 6,  # the blockchain's (its default)
        "state": "submitted",
    }
    assert (await alice.get(f"{ACCOUNT}/balances/usd")).json()["balance"] == "99.5"
    by_currency = await alice.get(f"{ACCOUNT}/deposits", currency="usd")
    assert [d["tid"] for d in by_currency.json()] == [tid]
    submitted = await alice.get(f"{ACCOUNT}/deposits", state="submitted")
    assert [d["txid"] for d in submitted.json()] == ["ab12"]
    assert [d["tid"] for d in (await alice.get(f"{ACCOUNT}/deposits", txid="ab12")).json()] == [
        "TIDCOIN00001"
    ]
    assert_error(
        await alice.get(f"{ACCOUNT}/deposits", state="lost"), 422, "account.deposit.invalid_state"
    )
    assert_error(
        await alice.get(f"{ACCOUNT}/deposits", limit=101), 422, "account.deposit.invalid_limit"
    )
    bob = await exchange.member("bob@example.com")
    assert (await bob.get(f"{ACCOUNT}/deposits")).json() == []


async def test_deposit_addresses_need_a_coin_with_a_deposit_wallet(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    assert_error(await alice.get(f"{ACCOUNT}/deposit_address/doge"), 422, CURRENCY_NOT_FOUND)
    assert_error(await alice.get(f"{ACCOUNT}/deposit_address/usd"), 422, DEPOSIT_DISABLED)
    assert_error(await alice.get(f"{ACCOUNT}/deposit_address/btc"), 422, WALLET_NOT_FOUND)
    await exchange.sql("UPDATE currencies SET deposit_enabled = false WHERE id = 'btc'")
    assert_error(await alice.get(f"{ACCOUNT}/deposit_address/btc"), 422, DEPOSIT_DISABLED)
