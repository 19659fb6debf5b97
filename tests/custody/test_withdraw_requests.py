"""Members' beneficiaries and coin withdrawal requests over HTTP, on a real engine and a
real PostgreSQL, activation codes mailed through a real SMTP server (aiosmtpd): a
beneficiary is activated with the mailed code (kept only as a hash, its address sealed),
a withdrawal to it needs a fresh TOTP code, holds amount + fee in the engine and is
processed at once or left for review; every bad request is refused and changes nothing."""

import json
import logging
import re
import secrets
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from aiosmtpd.controller import Controller

from bursa.identity.mail import SmtpMailer
from tests.api.members import (
    ACCOUNT,
    RESOURCE,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)
from tests.identity.test_identity_api import free_port

BENEFICIARIES = f"{ACCOUNT}/beneficiaries"
WITHDRAWS = f"{ACCOUNT}/withdraws"
PIN = re.compile(r"activation code is (\d{6})")


class Inbox:
    """What the in-process SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def pins_for(self, address: str) -> list[str]:
        return [
            found.group(1)
            for message in self.messages
            if message["To"] == address and (found := PIN.search(message.get_payload()))
        ]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
async def desk(exchange: Exchange, inbox: tuple[Inbox, int]) -> Exchange:
    """The exchange mailing through the SMTP server, ETH on an Ethereum blockchain."""
    exchange.identity.mailer = SmtpMailer(f"smtp://127.0.0.1:{inbox[1]}", "Bursa <b@bursa.test>")
    await exchange.sql(
        "INSERT INTO blockchains (key, name, client) VALUES ('ethereum', 'Ethereum', 'ethereum')"
        " ON CONFLICT DO NOTHING"
    )
    await exchange.sql("UPDATE currencies SET blockchain_key = 'ethereum' WHERE id = 'eth'")
    return exchange


async def withdrawer(exchange: Exchange, email: str, *, totp: bool = True) -> Caller:
    """A member at the withdrawal level (3), with 2FA on unless ``totp`` is False."""
    member = await exchange.member(email)
    if totp:
        csrf = {"X-CSRF-Token": member.csrf}
        data = await member.client.post(f"{RESOURCE}/otp/generate_qrcode", headers=csrf)
        url = data.json()["data"]["url"]
        member.totp = pyotp.TOTP(parse_qs(urlsplit(url).query)["secret"][0])
        enabled = await member.client.post(
            f"{RESOURCE}/otp/enable", json={"code": member.totp.now()}, headers=csrf
        )
        assert enabled.status_code == 201, enabled.text
    await exchange.sql("UPDATE users SET level = 3 WHERE id = $1", member.id)
    return member


async def send(member: Caller, verb: str, path: str, body: Any = None) -> httpx.Response:
    return await member.client.request(verb, path, json=body, headers={"X-CSRF-Token": member.csrf})


def eth_address() -> str:
    return "0x" + secrets.token_hex(20)


async def fresh_otp(exchange: Exchange, member: Caller) -> str:
    """The current code, as if the last one used were a step ago (a code works once)."""
    await exchange.sql("UPDATE users SET otp_last_step = NULL WHERE id = $1", member.id)
    return str(member.totp.now())


async def active_beneficiary(
    exchange: Exchange, inbox: Inbox, member: Caller, address: str, currency: str = "eth"
) -> int:
    email = (await exchange.sql("SELECT email FROM users WHERE id = $1", member.id))[0]["email"]
    created = await send(
        member,
        "POST",
        BENEFICIARIES,
        {"currency": currency, "name": "cold", "data": {"address": address}},
    )
    assert created.status_code == 201, created.text
    pin = inbox.pins_for(email)[-1]
    activated = await send(
        member, "PATCH", f"{BENEFICIARIES}/{created.json()['id']}/activate", {"pin": pin}
    )
    assert activated.status_code == 200, activated.text
    return int(created.json()["id"])


async def test_beneficiary_is_activated_with_the_mailed_code_only(
    desk: Exchange, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mail, _ = inbox
    alice = await withdrawer(desk, "alice@example.com", totp=False)
    address = eth_address()
    created = await send(
        alice,
        "POST",
        BENEFICIARIES,
        {
            "currency": "ETH",
            "name": "  my ledger  ",
            "description": "hardware wallet",
            "data": json.dumps({"address": f" {address} "}),
        },
    )
    assert created.status_code == 201, created.text
    found = created.json()
    assert found["currency"] == "eth"
    assert found["name"] == "my ledger"
    assert found["state"] == "pending"
    assert found["data"] == {"address": address}
    pins = mail.pins_for("alice@example.com")
    assert len(pins) == 1
    pin = pins[0]

    # At rest: the address sealed, the code only as an argon2 hash.
    (row,) = await desk.sql("SELECT * FROM beneficiaries WHERE id = $1", found["id"])
    assert address.lower() not in row["data"].lower()
    assert row["pin_hash"].startswith("$argon2")
    assert pin not in " ".join(str(value) for value in row.values())

    path = f"{BENEFICIARIES}/{found['id']}"
    wrong = f"{(int(pin) + 1) % 10**6:06d}"
    assert_error(
        await send(alice, "PATCH", f"{path}/activate", {"pin": wrong}),
        422,
        "account.beneficiary.invalid_pin",
    )
    (row,) = await desk.sql(
        "SELECT pin_attempts, state FROM beneficiaries WHERE id = $1", found["id"]
    )
    assert (row["pin_attempts"], row["state"]) == (1, "pending")
    assert_error(
        await send(alice, "PATCH", f"{path}/activate", {"pin": "abc"}),
        422,
        "account.beneficiary.non_integer_pin",
    )
    assert_error(
        await send(alice, "PATCH", f"{path}/resend_pin"),
        422,
        "account.beneficiary.cant_resend_within_1_minute",
    )
    # A minute later a new code replaces the first one.
    await desk.sql(
        "UPDATE beneficiaries SET sent_at = now() - interval '2 minutes' WHERE id = $1",
        found["id"],
    )
    resent = await send(alice, "PATCH", f"{path}/resend_pin")
    assert resent.status_code == 204, resent.text
    new_pin = mail.pins_for("alice@example.com")[-1]
    if new_pin != pin:
        assert_error(
            await send(alice, "PATCH", f"{path}/activate", {"pin": pin}),
            422,
            "account.beneficiary.invalid_pin",
        )
    # Someone else cannot see it, let alone activate it.
    bob = await withdrawer(desk, "bob@example.com", totp=False)
    assert_error(await bob.get(path), 404, "account.beneficiary.doesnt_exist")
    assert_error(
        await send(bob, "PATCH", f"{path}/activate", {"pin": new_pin}),
        404,
        "account.beneficiary.doesnt_exist",
    )
    assert (await bob.get(BENEFICIARIES)).json() == []

    activated = await send(alice, "PATCH", f"{path}/activate", {"pin": int(new_pin)})
    assert activated.status_code == 200, activated.text
    assert activated.json()["state"] == "active"
    assert_error(
        await send(alice, "PATCH", f"{path}/activate", {"pin": new_pin}),
        422,
        "account.beneficiary.cant_activate",
    )
    assert_error(
        await send(alice, "PATCH", f"{path}/resend_pin"), 422, "account.beneficiary.cant_resend"
    )
    assert [b["id"] for b in (await alice.get(BENEFICIARIES, state="active")).json()] == [
        found["id"]
    ]
    assert (await alice.get(BENEFICIARIES, state="pending")).json() == []
    assert (await alice.get(BENEFICIARIES, currency="btc")).json() == []
    assert_error(
        await alice.get(BENEFICIARIES, state="archived"), 422, "account.beneficiary.invalid_state"
    )
    assert_error(await alice.get(f"{BENEFICIARIES}/abc"), 422, "account.beneficiary.non_integer_id")

    # The same address again is refused; deleting archives it (then it may come back).
    duplicate = {"currency": "eth", "name": "again", "data": {"address": address}}
    assert_error(
        await send(alice, "POST", BENEFICIARIES, duplicate),
        422,
        "account.beneficiary.duplicate_address",
    )
    deleted = await send(alice, "DELETE", path)
    assert deleted.status_code == 204, deleted.text
    assert_error(await alice.get(path), 404, "account.beneficiary.doesnt_exist")
    assert (await alice.get(BENEFICIARIES)).json() == []
    (row,) = await desk.sql("SELECT state FROM beneficiaries WHERE id = $1", found["id"])
    assert row["state"] == "archived"

    # No code ever reached the logs or the event outbox.
    codes = mail.pins_for("alice@example.com")
    outbox = json.dumps(await desk.outbox(), default=str)
    # (the test SMTP server's own debug log, "mail.log", is the inbox, not Bursa's logs)
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("mail.")
    )
    assert "activate" in logged  # the requests were logged (httpx), the codes were not
    for code in codes:
        assert code not in logged
        assert code not in outbox


async def test_code_expires_after_five_wrong_tries(
    desk: Exchange, inbox: tuple[Inbox, int]
) -> None:
    alice = await withdrawer(desk, "alice@example.com", totp=False)
    created = await send(
        alice,
        "POST",
        BENEFICIARIES,
        {"currency": "eth", "name": "x", "data": {"address": eth_address()}},
    )
    pin = inbox[0].pins_for("alice@example.com")[-1]
    path = f"{BENEFICIARIES}/{created.json()['id']}/activate"
    wrong = f"{(int(pin) + 1) % 10**6:06d}"
    for _ in range(5):
        assert_error(
            await send(alice, "PATCH", path, {"pin": wrong}), 422, "account.beneficiary.invalid_pin"
        )
    assert_error(
        await send(alice, "PATCH", path, {"pin": pin}), 422, "account.beneficiary.pin_expired"
    )


A40 = "0x" + "a" * 40
MISSING_ADDRESS = "account.beneficiary.missing_address_in_data"
FAILED = "account.beneficiary.failed_to_create"
TOO_LONG_NAME = "account.beneficiary.too_long_name"


def new(currency: str = "eth", name: str = "x", **rest: Any) -> dict[str, Any]:
    return {"currency": currency, "name": name, **rest}


BAD_BENEFICIARIES: list[tuple[dict[str, Any], str]] = [
    ({"name": "x", "data": {"address": A40}}, "account.beneficiary.missing_currency"),
    (new("doge", data={"address": "D9"}), "account.currency.doesnt_exist"),
    ({"currency": "eth", "data": {"address": A40}}, "account.beneficiary.missing_name"),
    (new(name="n" * 65, data={"address": A40}), TOO_LONG_NAME),
    (new(name="<b>", data={"address": A40}), TOO_LONG_NAME),
    (
        new(description="d" * 256, data={"address": A40}),
        "account.beneficiary.too_long_description",
    ),
    (new(), "account.beneficiary.missing_data"),
    (new(data="{not json"), "account.beneficiary.non_json_data"),
    (new(data={}), MISSING_ADDRESS),
    (new(data={"address": "  "}), MISSING_ADDRESS),
    (new(data={"address": "0x" + "a" * 39}), FAILED),
    (new(data={"address": "0x" + "g" * 40}), FAILED),
    (new("btc", data={"address": "bc1q'; drop"}), FAILED),
    (new("btc", data={"address": "b" * 129}), FAILED),
    (new("usd", data={"iban": "DE89"}), "account.beneficiary.missing_full_name_in_data"),
]


async def test_bad_beneficiaries_are_refused_and_nothing_is_mailed(
    desk: Exchange, inbox: tuple[Inbox, int]
) -> None:
    alice = await withdrawer(desk, "alice@example.com", totp=False)
    for body, code in BAD_BENEFICIARIES:
        assert_error(await send(alice, "POST", BENEFICIARIES, body), 422, code)
    assert await desk.sql("SELECT id FROM beneficiaries") == []
    assert inbox[0].messages == []


async def balance(member: Caller, currency: str) -> tuple[str, str]:
    found = (await member.get(f"{ACCOUNT}/balances/{currency}")).json()
    return found["balance"], found["locked"]


async def test_withdrawal_to_an_active_beneficiary_holds_amount_and_fee(
    desk: Exchange, inbox: tuple[Inbox, int]
) -> None:
    alice = await withdrawer(desk, "alice@example.com")
    await desk.credit(alice, "eth", "50")
    address = eth_address()
    beneficiary = await active_beneficiary(desk, inbox[0], alice, address)
    otp = await fresh_otp(desk, alice)
    ask = {"currency": "eth", "amount": "1.5", "beneficiary_id": beneficiary, "otp": otp}
    created = await send(alice, "POST", WITHDRAWS, ask | {"note": "to cold storage"})
    assert created.status_code == 201, created.text
    found = created.json()
    assert {k: found[k] for k in ("currency", "type", "amount", "fee", "rid", "state")} == {
        "currency": "eth",
        "type": "coin",
        "amount": "1.5",
        "fee": "0.005",
        "rid": address,
        "state": "processing",
    }
    assert found["note"] == "to cold storage"
    assert found["confirmations"] == 0
    assert found["transfer_type"] == "crypto"
    assert await balance(alice, "eth") == ("48.495", "1.505")
    # The same code again is refused: a TOTP code works once.
    assert_error(await send(alice, "POST", WITHDRAWS, ask), 422, "account.withdraw.invalid_otp")
    (row,) = await desk.sql("SELECT beneficiary_id, blockchain_key FROM withdraws")
    assert (row["beneficiary_id"], row["blockchain_key"]) == (beneficiary, "ethereum")

    # Above the currency's review threshold: held, accepted, waiting for approval.
    await desk.sql(
        'UPDATE currencies SET options = options || \'{"withdraw_review_above": "5"}\''
        " WHERE id = 'eth'"
    )
    ask["otp"] = await fresh_otp(desk, alice)
    reviewed = await send(alice, "POST", WITHDRAWS, ask | {"amount": "6"})
    assert reviewed.status_code == 201, reviewed.text
    assert reviewed.json()["state"] == "accepted"
    # A member labelled for review: every withdrawal waits.
    await desk.sql(
        "INSERT INTO labels (user_id, key, value, scope) VALUES ($1, 'withdraw_review',"
        " 'true', 'private')",
        alice.id,
    )
    ask["otp"] = await fresh_otp(desk, alice)
    labelled = await send(alice, "POST", WITHDRAWS, ask | {"amount": "0.5"})
    assert labelled.json()["state"] == "accepted"
    assert await balance(alice, "eth") == ("41.985", "8.015")

    listed = await alice.get(WITHDRAWS)
    assert listed.headers["Total"] == "3"
    assert [w["amount"] for w in listed.json()] == ["0.5", "6", "1.5"]
    assert [w["amount"] for w in (await alice.get(WITHDRAWS, state="processing")).json()] == ["1.5"]
    assert len((await alice.get(WITHDRAWS, rid=address, currency="ETH")).json()) == 3
    assert (await alice.get(WITHDRAWS, rid="0xother")).json() == []
    assert (await alice.get(WITHDRAWS, currency="btc")).json() == []
    assert_error(await alice.get(WITHDRAWS, state="bogus"), 422, "account.withdraw.invalid_state")
    assert_error(await alice.get(WITHDRAWS, limit=101), 422, "account.withdraw.invalid_limit")
    sums = (await alice.get(f"{WITHDRAWS}/limits", currency="eth")).json()
    assert sums == [
        {
            "currency": "eth",
            "last_24_hours": "8",
            "last_72_hours": "8",
            "limit_24_hours": "100",
            "limit_72_hours": "300",
            "platform_currency": "usdt",  # no KYC-level limit row: none in force
            "kyc_last_24_hours": None,  # ETH has not traded against USDT: no value
            "kyc_last_1_month": None,
            "kyc_limit_24_hour": "0",
            "kyc_limit_1_month": "0",
        }
    ]

    # Limits count this withdrawal too; a canceled one is not counted.
    await desk.sql("UPDATE currencies SET withdraw_limit_24h = 9 WHERE id = 'eth'")
    ask["otp"] = await fresh_otp(desk, alice)
    assert_error(
        await send(alice, "POST", WITHDRAWS, ask | {"amount": "1.01"}),
        422,
        "account.withdraw.limit_24h_exceeded",
    )
    await desk.sql("UPDATE currencies SET withdraw_limit_24h = 0, withdraw_limit_72h = 8.5")
    assert_error(
        await send(alice, "POST", WITHDRAWS, ask | {"amount": "0.6"}),
        422,
        "account.withdraw.limit_72h_exceeded",
    )
    await desk.sql("UPDATE withdraws SET state = 'canceled' WHERE amount = 6")
    allowed = await send(alice, "POST", WITHDRAWS, ask | {"amount": "0.6"})
    assert allowed.status_code == 201, allowed.text

    # Every event of these withdrawals names the beneficiary's address, never a code.
    events = [e for e in await desk.outbox() if str(e.get("name", "")).startswith("model.withdraw")]
    assert events
    assert all(address in json.dumps(e, default=str) for e in events)


async def test_bad_withdrawals_are_refused_and_change_nothing(
    desk: Exchange, inbox: tuple[Inbox, int]
) -> None:
    alice = await withdrawer(desk, "alice@example.com")
    bob = await withdrawer(desk, "bob@example.com")
    carol = await withdrawer(desk, "carol@example.com", totp=False)
    await desk.credit(alice, "eth", "2")
    await desk.credit(carol, "eth", "2")
    mine = await active_beneficiary(desk, inbox[0], alice, eth_address())
    bobs = await active_beneficiary(desk, inbox[0], bob, eth_address())
    carols = await active_beneficiary(desk, inbox[0], carol, eth_address())
    pending = (
        await send(
            alice,
            "POST",
            BENEFICIARIES,
            {"currency": "eth", "name": "p", "data": {"address": eth_address()}},
        )
    ).json()["id"]
    archived = await active_beneficiary(desk, inbox[0], alice, eth_address())
    assert (await send(alice, "DELETE", f"{BENEFICIARIES}/{archived}")).status_code == 204
    btc = await active_beneficiary(desk, inbox[0], alice, "bcrt1qexampleaddress0000", "btc")
    before = await desk.sql("SELECT count(*) AS n FROM event_outbox")

    good = {"currency": "eth", "amount": "1", "beneficiary_id": mine}
    used = await fresh_otp(desk, alice)
    g = {**good, "otp": used}
    bad: list[tuple[dict[str, Any], str]] = [
        ({**g, "amount": "-1"}, "account.withdraw.non_positive_amount"),
        ({**g, "amount": "abc"}, "account.withdraw.non_decimal_amount"),
        ({**g, "amount": True}, "account.withdraw.non_decimal_amount"),
        ({**g, "amount": "0.0000000000000000001"}, "account.withdraw.invalid_amount"),
        ({**g, "amount": "0.01"}, "account.withdraw.invalid_amount"),
        ({**g, "currency": "doge"}, "account.currency.doesnt_exist"),
        ({**g, "beneficiary_id": "x"}, "account.withdraw.non_integer_beneficiary_id"),
        ({**g, "beneficiary_id": bobs}, "account.beneficiary.doesnt_exist"),
        ({**g, "beneficiary_id": archived}, "account.beneficiary.doesnt_exist"),
        ({**g, "beneficiary_id": btc}, "account.beneficiary.doesnt_exist"),
        ({**g, "beneficiary_id": pending}, "account.beneficiary.invalid_state_for_withdrawal"),
        ({**good, "otp": "abc"}, "account.withdraw.non_integer_otp"),
        (good, "account.withdraw.missing_otp"),
        ({**g, "note": "n" * 257}, "account.withdraw.too_long_note"),
        ({**good, "otp": f"{(int(used) + 1) % 10**6:06d}"}, "account.withdraw.invalid_otp"),
        ({**g, "amount": "1.996"}, "account.withdraw.insufficient_balance"),
    ]
    for body, code in bad:
        assert_error(await send(alice, "POST", WITHDRAWS, body), 422, code)
    # The code just refused for the balance was used up: a replay is refused.
    assert_error(
        await send(alice, "POST", WITHDRAWS, {**good, "otp": used}),
        422,
        "account.withdraw.invalid_otp",
    )
    # Without 2FA a member may not withdraw at all.
    assert_error(
        await send(carol, "POST", WITHDRAWS, {**good, "beneficiary_id": carols, "otp": "123456"}),
        422,
        "account.withdraw.otp_not_enabled",
    )
    # Below the withdrawal level: not permitted.
    await desk.sql("UPDATE users SET level = 2 WHERE id = $1", alice.id)
    assert_error(
        await send(alice, "POST", WITHDRAWS, {**good, "otp": used}),
        403,
        "account.withdraw.not_permitted",
    )

    assert await desk.sql("SELECT id FROM withdraws") == []
    assert await desk.sql("SELECT * FROM withdrawal_holds") == []
    assert await balance(carol, "eth") == ("2", "0")
    await desk.sql("UPDATE users SET level = 3 WHERE id = $1", alice.id)
    assert await balance(alice, "eth") == ("2", "0")
    after = await desk.sql("SELECT count(*) AS n FROM event_outbox")
    assert after[0]["n"] == before[0]["n"]
