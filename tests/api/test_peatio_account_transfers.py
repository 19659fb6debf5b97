"""Members send funds to each other over HTTP (Peatio's internal transfers): by uid or
username, with a TOTP code, only what open orders leave free; the engine moves the money
once, the ledger verifies, an event goes out; bad requests change nothing."""

from decimal import Decimal

import httpx

from bursa.trading import internal_transfers as transfers
from tests.api.members import ACCOUNT, MARKET, Caller, Exchange, assert_error
from tests.api.members import exchange as exchange
from tests.custody.test_withdraw_requests import fresh_otp, send, withdrawer

TRANSFERS = f"{ACCOUNT}/internal_transfers"
ADMIN = "/api/v2/peatio/admin"


async def _usdt(member: Caller) -> tuple[Decimal, Decimal]:
    found = (await member.get(f"{ACCOUNT}/balances/usdt")).json()
    return Decimal(found["balance"]), Decimal(found["locked"])


async def _transfer(
    exchange: Exchange, sender: Caller, to: str, amount: object, currency: str = "usdt"
) -> httpx.Response:
    """``sender`` sends ``amount`` to ``to`` (a uid or username) with a fresh TOTP code."""
    body = {"currency": currency, "amount": amount, "username_or_uid": to}
    return await send(sender, "POST", TRANSFERS, {**body, "otp": await fresh_otp(exchange, sender)})


async def test_members_send_funds_by_uid_or_username(exchange: Exchange) -> None:
    alice = await withdrawer(exchange, "alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.sql("UPDATE users SET username = 'bobby' WHERE id = $1", bob.id)
    await exchange.credit(alice, "usdt", "100")
    order = {"market": "btcusdt", "side": "buy", "volume": "0.001", "price": "40000"}
    assert (await alice.post(f"{MARKET}/orders", order)).status_code == 201  # locks 40

    by_uid = await _transfer(exchange, alice, bob.uid, "12.5", "USDT")

    assert by_uid.status_code == 201, by_uid.text
    shown = by_uid.json()
    assert {k: v for k, v in shown.items() if k not in ("id", "created_at", "updated_at")} == {
        "currency": "usdt",
        "sender_username": None,
        "receiver_username": "bobby",
        "sender_uid": alice.uid,
        "receiver_uid": bob.uid,
        "direction": "out",
        "amount": "12.5",
        "status": "completed",
    }
    by_name = await _transfer(exchange, alice, "BOBBY", 7.5, "usdt")
    assert by_name.status_code == 201, by_name.text
    assert await _usdt(alice) == (Decimal(40), Decimal(40))
    assert await _usdt(bob) == (Decimal(20), Decimal(0))

    # The locked 40 belong to the order: 40.01 is more than is free.
    too_much = await _transfer(exchange, alice, bob.uid, "40.01", "usdt")
    assert_error(too_much, 422, "account.internal_transfer.insufficient_balance")
    assert await _usdt(alice) == (Decimal(40), Decimal(40))
    assert await _usdt(bob) == (Decimal(20), Decimal(0))

    theirs = await bob.get(TRANSFERS)
    assert theirs.status_code == 200
    assert theirs.headers["Total"] == "2"
    assert [(t["direction"], t["amount"], t["sender_uid"]) for t in theirs.json()] == [
        ("in", "7.5", alice.uid),
        ("in", "12.5", alice.uid),
    ]
    mine = (await alice.get(TRANSFERS, state="completed")).json()
    assert [t["direction"] for t in mine] == ["out", "out"]
    assert (await bob.get(TRANSFERS, sender=bob.uid)).json() == []
    assert len((await bob.get(TRANSFERS, sender=alice.uid, currency="usdt")).json()) == 2
    assert (await bob.get(TRANSFERS, currency="btc")).json() == []
    assert_error(await bob.get(TRANSFERS, currency="doge"), 422, "account.currency.doesnt_exist")

    admin = await exchange.member("admin@example.com", role="admin")
    support = await exchange.member("support@example.com", role="support")
    listed = await support.get(f"{ADMIN}/internal_transfers", sender=alice.uid, ordering="desc")
    assert listed.status_code == 200, listed.text
    assert [(t["amount"], t["state"], t["receiver_uid"]) for t in listed.json()] == [
        ("40.01", "failed", bob.uid),  # refused: nothing moved, kept for admins
        ("7.5", "completed", bob.uid),
        ("12.5", "completed", bob.uid),
    ]
    assert listed.json()[0]["error"] == "management.transfer.insufficient_balance"
    assert (await admin.get(f"{ADMIN}/internal_transfers", state="completed")).headers[
        "Total"
    ] == "2"
    assert (await bob.get(f"{ADMIN}/internal_transfers")).status_code in (401, 403)

    events = [e for e in await exchange.outbox() if e.get("name", "").startswith("model.internal")]
    assert [(e["name"], e["record"]["amount"]) for e in events] == [
        ("model.internal_transfer.created", "12.5"),
        ("model.internal_transfer.created", "7.5"),
    ]
    assert events[0]["record"]["sender_id"] == alice.id
    await exchange.ledger_ok()


async def test_bad_transfers_change_nothing(exchange: Exchange) -> None:
    alice = await withdrawer(exchange, "alice@example.com")
    bob = await exchange.member("bob@example.com")
    carol = await withdrawer(exchange, "carol@example.com", totp=False)
    await exchange.credit(alice, "usdt", "10")
    await exchange.credit(carol, "usdt", "10")

    def asked(**changes: object) -> dict[str, object]:
        return {"currency": "usdt", "amount": "1", "username_or_uid": bob.uid, "otp": "000000",
                **changes}  # fmt: skip

    cases = [
        (asked(otp=None), "account.internal_transfer.missing_otp"),
        (asked(otp="12ab"), "account.internal_transfer.non_integer_otp"),
        (asked(amount="-1"), "account.internal_transfer.non_positive_amount"),
        (asked(amount="lots"), "account.internal_transfer.non_decimal_amount"),
        (asked(amount="0.000000001"), "account.internal_transfer.invalid_amount"),
        (asked(amount="1" + "0" * 40), "account.internal_transfer.invalid_amount"),
        (asked(currency="doge"), "account.currency.doesnt_exist"),
        (asked(username_or_uid="IDNOBODY000"), "account.internal_transfer.receiver_not_found"),
        (asked(username_or_uid=alice.uid), "account.internal_transfer.can_not_tranfer_to_yourself"),
        (asked(), "account.internal_transfer.invalid_otp"),
    ]
    for body, code in cases:
        body = {k: v for k, v in body.items() if v is not None}
        if body.get("amount") == "0.000000001" or body.get("currency") == "doge":
            body["otp"] = await fresh_otp(exchange, alice)  # refused past the code check
        assert_error(await send(alice, "POST", TRANSFERS, body), 422, code)
    refused = await send(carol, "POST", TRANSFERS, asked(otp="123456"))
    assert_error(refused, 422, "account.internal_transfer.otp_not_enabled")
    assert await _usdt(alice) == (Decimal(10), Decimal(0))
    assert await _usdt(carol) == (Decimal(10), Decimal(0))
    assert await _usdt(bob) == (Decimal(0), Decimal(0))
    assert await exchange.sql("SELECT id FROM internal_transfers WHERE state <> 'failed'") == []


async def test_a_transfer_left_pending_by_a_crash_moves_once(exchange: Exchange) -> None:
    """One died before the engine saw it, one after: the sender's next transfer finishes
    both, from the engine's command log for the second (it is not sent again)."""
    alice = await withdrawer(exchange, "alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.credit(alice, "usdt", "10")
    for key, amount in (("before", "1"), ("after", "2")):
        await exchange.sql(
            "INSERT INTO internal_transfers (currency_id, amount, sender_id, receiver_id, state,"
            " engine_key) VALUES ('usdt', $1, $2, $3, 'pending', $4)",
            Decimal(amount),
            alice.id,
            bob.id,
            f"internal_transfer:{key}",
        )
    (after,) = await exchange.sql(
        "SELECT * FROM internal_transfers WHERE engine_key = 'internal_transfer:after'"
    )
    applied = await exchange.runner.submit(
        transfers._command(after, 2 * 10**8, "coin")  # the engine ran it, then the crash
    )
    assert applied["error"] is None
    assert await _usdt(bob) == (Decimal(2), Decimal(0))

    third = await _transfer(exchange, alice, bob.uid, "3", "usdt")

    assert third.status_code == 201, third.text
    assert await _usdt(bob) == (Decimal(6), Decimal(0))  # 1 + 2 + 3, each once
    assert await _usdt(alice) == (Decimal(4), Decimal(0))
    states = await exchange.sql("SELECT state FROM internal_transfers ORDER BY id")
    assert [r["state"] for r in states] == ["completed"] * 3
