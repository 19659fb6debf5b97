"""Peatio's Management API for withdrawals over a real server, engine and PostgreSQL: funds
held, settled and released exactly once, each step with its event, the ledger balanced."""

from decimal import Decimal

from bursa.engine.commands import SettleWithdrawal
from tests.api.members import exchange  # noqa: F401
from tests.applogic.serving import Served, balance, served  # noqa: F401


async def test_fiat_withdrawal_held_processed_and_canceled(served: Served) -> None:
    exchange = served.exchange
    owner = await exchange.member("payer@example.com")
    await exchange.credit(owner, "usd", "100")

    made = await served.withdraw(uid=owner.uid, currency="usd", amount="31", rid="IBAN-1", tid="W1")
    assert made.status_code == 201, made.text
    assert made.json() | {"created_at": None} == {
        "tid": "W1",
        "uid": owner.uid,
        "currency": "usd",
        "note": None,
        "type": "fiat",
        "amount": "30",
        "fee": "1",  # the currency's withdraw_fee, out of the 31 paid (Peatio's sum)
        "rid": "IBAN-1",
        "blockchain_key": None,
        "state": "accepted",
        "created_at": None,
        "blockchain_txid": None,
        "transfer_type": "fiat",
    }
    assert await balance(owner, "usd") == (Decimal(69), Decimal(31))

    # The same request again answers the first withdrawal and holds nothing more.
    again = await served.withdraw(
        uid=owner.uid, currency="usd", amount="31", rid="IBAN-1", tid="W1"
    )
    assert again.status_code == 201, again.text
    assert again.json() == made.json()
    other = await served.withdraw(
        uid=owner.uid, currency="usd", amount="32", rid="IBAN-1", tid="W1"
    )
    assert (other.status_code, other.json()) == (422, {"error": "management.withdraw.tid_taken"})
    assert await balance(owner, "usd") == (Decimal(69), Decimal(31))

    done = await served.management("PUT", "withdraws/action", tid="W1", action="process")
    assert (done.status_code, done.json()["state"]) == (200, "succeed")
    assert await balance(owner, "usd") == (Decimal(69), Decimal(0))
    repeated = await served.management("PUT", "withdraws/action", tid="W1", action="process")
    assert (repeated.status_code, repeated.json()["state"]) == (200, "succeed")
    late = await served.management("PUT", "withdraws/action", tid="W1", action="cancel")
    assert late.json() == {"error": "management.withdraw.cannot_cancel"}
    assert await balance(owner, "usd") == (Decimal(69), Decimal(0))

    kept = await served.withdraw(uid=owner.uid, currency="usd", amount="21", rid="IBAN-1", tid="W2")
    assert await balance(owner, "usd") == (Decimal(48), Decimal(21))
    assert kept.json()["state"] == "accepted"
    gone = await served.management("PUT", "withdraws/action", tid="W2", action="cancel")
    assert (gone.status_code, gone.json()["state"]) == (200, "canceled")
    assert await balance(owner, "usd") == (Decimal(69), Decimal(0))

    events = await served.events("W1")
    assert [(e["name"], e["record"]["state"]) for e in events] == [
        ("model.withdraw.created", "accepted"),
        ("model.withdraw.updated", "succeed"),
    ]
    assert events[0]["record"]["user"] == {"uid": owner.uid, "email": "payer@example.com"}
    assert events[0]["record"]["amount"] == "30"
    assert events[1]["changes"]["state"] == "accepted"
    await served.ledger_ok()


async def test_refusals_change_nothing(served: Served) -> None:
    exchange = served.exchange
    owner = await exchange.member("short@example.com")
    await exchange.credit(owner, "usd", "50")

    poor = await served.withdraw(uid=owner.uid, currency="usd", amount="51", rid="IBAN", tid="W9")
    assert (poor.status_code, poor.json()) == (
        422,
        {"error": "account.withdraw.insufficient_balance"},
    )
    missing = await served.management("POST", "withdraws/get", tid="W9")
    assert missing.status_code == 404
    assert await balance(owner, "usd") == (Decimal(50), Decimal(0))
    # Nothing was recorded: the tid can be used once the funds are there.
    fits = await served.withdraw(uid=owner.uid, currency="usd", amount="50", rid="IBAN", tid="W9")
    assert fits.json()["state"] == "accepted", fits.text

    bad = await served.withdraw(currency="usd", amount="-1", beneficiary_id=3)
    assert (bad.status_code, bad.json()) == (
        422,
        {
            "error": "uid is missing, amount must be positive, rid is missing, "
            "beneficiary_id is not supported yet, give rid"
        },
    )
    forged = await served.management(
        "POST", "withdraws/new", signed_by="intruder", uid=owner.uid, currency="usd", amount="1"
    )
    assert (forged.status_code, forged.json()) == (
        401,
        {"error": "Not enough signatures for the action."},
    )
    unknown = await served.withdraw(uid="ID0000000000", currency="usd", amount="10", rid="x")
    assert unknown.status_code == 404
    precise = await served.withdraw(uid=owner.uid, currency="usd", amount="10.001", rid="x")
    assert precise.json() == {"error": "account.withdraw.invalid_amount"}
    assert await balance(owner, "usd") == (Decimal(0), Decimal(50))
    await served.ledger_ok()


async def test_coin_withdrawal_waits_for_custody_and_lists(served: Served) -> None:
    exchange = served.exchange
    owner = await exchange.member("miner@example.com")
    await exchange.credit(owner, "btc", "1")

    sent = await served.withdraw(
        uid=owner.uid, currency="BTC", amount="0.1", rid="bc1qdest", action="process", note="n"
    )
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["state"], body["type"], body["fee"]) == ("processing", "coin", "0.0005")
    assert (body["blockchain_key"], body["transfer_type"]) == ("bitcoin", "crypto")
    assert body["tid"].startswith("TID")
    # Custody sends it later (issue 6): until then the funds stay locked.
    assert await balance(owner, "btc") == (Decimal("0.9"), Decimal("0.1"))
    stuck = await served.management("PUT", "withdraws/action", tid=body["tid"], action="cancel")
    assert stuck.json() == {"error": "management.withdraw.cannot_cancel"}

    listed = await served.management("POST", "withdraws", uid=owner.uid, state="processing")
    assert listed.status_code == 201, listed.text
    assert [w["tid"] for w in listed.json()] == [body["tid"]]
    assert listed.headers["Total"] == "1"
    none = await served.management("POST", "withdraws", currency="usd")
    assert none.json() == []
    await served.ledger_ok()


async def test_a_request_that_stopped_half_way_is_finished_by_asking_again(
    served: Served,
) -> None:
    """The engine held (or settled) but the row was not updated (the process died between
    the two): asking again brings the row up to the engine, and no money moves twice."""
    exchange = served.exchange
    owner = await exchange.member("crash@example.com")
    await exchange.credit(owner, "usd", "100")
    made = await served.withdraw(uid=owner.uid, currency="usd", amount="10", rid="IBAN", tid="C1")
    assert made.json()["state"] == "accepted"
    await exchange.sql("UPDATE withdraws SET state = 'prepared' WHERE tid = 'C1'")

    again = await served.withdraw(uid=owner.uid, currency="usd", amount="10", rid="IBAN", tid="C1")
    assert again.json()["state"] == "accepted"
    assert await balance(owner, "usd") == (Decimal(90), Decimal(10))  # held once

    [row] = await exchange.sql("SELECT id FROM withdraws WHERE tid = 'C1'")
    settled = await exchange.runner.submit(
        SettleWithdrawal(key="elsewhere", withdrawal_id=str(row["id"]), fee=100)
    )
    assert settled["error"] is None
    done = await served.management("PUT", "withdraws/action", tid="C1", action="process")
    assert done.json()["state"] == "succeed"
    assert await balance(owner, "usd") == (Decimal(90), Decimal(0))  # settled once
    assert [e["record"]["state"] for e in await served.events("C1")][-1] == "succeed"
    await served.ledger_ok()
