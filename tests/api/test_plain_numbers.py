"""Numbers from outside over HTTP: ids, nonces, codes and amounts written with Unicode
digits, spaces, underscores or exponents are refused with the field's own code (never a
500, never read as another number), change nothing, and a strange API-key nonce counts
against the failed-signature limit like any other bad nonce."""

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from bursa.identity import api_keys
from bursa.identity.limits import Rule
from tests.api.members import (
    ACCOUNT,
    MARKET,
    RESOURCE,
    Caller,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)
from tests.test_plain_input import STRANGE_AMOUNTS, STRANGE_DIGITS

ADMIN = "/api/v2/peatio/admin"
NOT_A_TIMESTAMP = "authz.nonce_not_valid_timestamp"
# Everything a refused request could have written.
TABLES = (
    "engine_commands",
    "orders",
    "admin_audit",
    "adjustments",
    "trading_fees",
    "withdraw_limits",
    "currencies",
    "markets",
    "withdraws",
    "deposits",
    "internal_transfers",
    "beneficiaries",
    "restrictions",
    "comments",
)


async def state(exchange: Exchange) -> list[Any]:
    """A digest of every table a refused request could have changed."""
    parts = ", ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {name} t)"
        for name in TABLES
    )
    return list((await exchange.sql(f"SELECT {parts}"))[0].values())


def path(text: str) -> str:
    return quote(text, safe="")


async def raw(member: Caller, verb: str, where: str, body: str) -> httpx.Response:
    """A JSON body exactly as written (a JSON number in exponent form)."""
    headers = {"Content-Type": "application/json", "X-CSRF-Token": member.csrf}
    return await member.client.request(verb, where, content=body, headers=headers)


async def send(member: Caller, verb: str, where: str, body: Any = None) -> httpx.Response:
    return await member.client.request(
        verb, where, json=body, headers={"X-CSRF-Token": member.csrf}
    )


async def test_members_strange_ids_and_amounts_are_refused(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.credit(alice, "usdt", "1000")
    order = {"market": "btcusdt", "side": "buy", "volume": "0.01", "price": "100"}
    placed = await alice.post(f"{MARKET}/orders", order)
    assert placed.status_code == 201, placed.text
    await exchange.sql("UPDATE users SET level = 3 WHERE id = $1", alice.id)
    before = await state(exchange)

    invalid_id = "market.order.invaild_id_or_uuid"  # sic, Peatio's
    for text in STRANGE_DIGITS:
        assert_error(await alice.get(f"{MARKET}/orders/{path(text)}"), 422, invalid_id)
        cancel = await alice.post(f"{MARKET}/orders/{path(text)}/cancel")
        assert_error(cancel, 422, invalid_id)
        withdraw = {"currency": "eth", "amount": "1", "beneficiary_id": text, "otp": "123456"}
        assert_error(
            await send(alice, "POST", f"{ACCOUNT}/withdraws", withdraw),
            422,
            "account.withdraw.non_integer_beneficiary_id",
        )
        pin = await send(alice, "PATCH", f"{ACCOUNT}/beneficiaries/1/activate", {"pin": text})
        assert_error(pin, 422, "account.beneficiary.non_integer_pin")
    for text in STRANGE_AMOUNTS:
        volume = await alice.post(f"{MARKET}/orders", order | {"volume": text})
        assert_error(volume, 422, "market.order.non_decimal_volume")
        price = await alice.post(f"{MARKET}/orders", order | {"price": text})
        assert_error(price, 422, "market.order.non_decimal_price")
        withdraw = {"currency": "eth", "amount": text, "beneficiary_id": "1", "otp": "123456"}
        assert_error(
            await send(alice, "POST", f"{ACCOUNT}/withdraws", withdraw),
            422,
            "account.withdraw.non_decimal_amount",
        )
        transfer = {"currency": "usdt", "amount": text, "username_or_uid": bob.uid}
        assert_error(
            await send(alice, "POST", f"{ACCOUNT}/internal_transfers", transfer | {"otp": "1"}),
            422,
            "account.internal_transfer.non_decimal_amount",
        )
    # A JSON number is read from its text: plain notation only.
    exponent = '{"market": "btcusdt", "side": "buy", "volume": 1e-2, "price": 1E2}'
    assert_error(
        await raw(alice, "POST", f"{MARKET}/orders", exponent),
        422,
        "market.order.non_decimal_volume",
        "market.order.non_decimal_price",
    )
    # A form is read the same way.
    form = await alice.client.post(
        f"{MARKET}/orders",
        data=order | {"volume": "1_0"},
        headers={"X-CSRF-Token": alice.csrf},
    )
    assert_error(form, 422, "market.order.non_decimal_volume")

    assert await state(exchange) == before
    # The plain forms still work.
    plain = await raw(alice, "POST", f"{MARKET}/orders", '{"market": "btcusdt", "side": "buy",'
                      ' "volume": 0.01, "price": 100}')  # fmt: skip
    assert plain.status_code == 201, plain.text
    assert (await alice.get(f"{MARKET}/orders/{placed.json()['id']}")).status_code == 200


async def test_admins_strange_ids_amounts_and_positions_are_refused(exchange: Exchange) -> None:
    alice = await exchange.member("alice@example.com")
    maker = await exchange.member("maker@example.com", role="admin")
    root = await exchange.member("root@example.com", role="superadmin")
    proposed = await send(
        maker,
        "POST",
        f"{ADMIN}/adjustments/new",
        {
            "reason": "r",
            "description": "d",
            "category": "refund",
            "amount": "5",
            "currency_id": "usd",
            "asset_account_code": 101,
            "receiving_account_code": 201,
            "receiving_member_uid": alice.uid,
        },
    )
    assert proposed.status_code == 201, proposed.text
    fee = await send(
        root,
        "POST",
        f"{ADMIN}/trading_fees/new",
        {"group": "vip", "market_id": "btcusdt", "maker": "0.001", "taker": "0.002"},
    )
    assert fee.status_code == 201, fee.text
    limit = await send(
        root,
        "POST",
        f"{ADMIN}/withdraw_limits",
        {"group": "any", "kyc_level": "3", "limit_24_hour": "10", "limit_1_month": "100"},
    )
    assert limit.status_code == 201, limit.text
    before = await state(exchange)

    def refused(
        verb: str, where: str, body: Any, status: int, *codes: str
    ) -> tuple[str, str, Any, int, tuple[str, ...]]:
        return verb, where, body, status, codes

    cases = []
    for text in STRANGE_DIGITS:
        p = path(text)
        cases += [
            refused("POST", f"{ADMIN}/adjustments/action", {"id": text, "action": "accept"},
                    422, "admin.adjustment.non_integer_id"),
            refused("GET", f"{ADMIN}/adjustments/{p}", None, 422,
                    "admin.adjustment.non_integer_id"),
            refused("POST", f"{ADMIN}/withdraws/actions", {"id": text, "action": "reject"},
                    422, "admin.withdraw.non_integer_id"),
            refused("GET", f"{ADMIN}/withdraws/{p}", None, 422, "admin.withdraw.non_integer_id"),
            refused("POST", f"{ADMIN}/deposits/actions", {"id": text, "action": "reject"},
                    422, "admin.deposit.non_integer_id"),
            refused("GET", f"{ADMIN}/deposits/{p}", None, 422, "admin.deposit.non_integer_id"),
            refused("POST", f"{ADMIN}/trading_fees/update", {"id": text, "maker": "0"},
                    422, "admin.trading_fee.invalid_id"),
            refused("POST", f"{ADMIN}/trading_fees/delete", {"id": text},
                    422, "admin.trading_fee.invalid_id"),
            refused("PUT", f"{ADMIN}/withdraw_limits", {"id": text, "limit_24_hour": "1"},
                    422, "admin.withdraw_limit.invalid_id"),
            refused("DELETE", f"{ADMIN}/withdraw_limits/{p}", None,
                    422, "admin.withdraw_limit.invalid_id"),
            refused("PUT", f"{ADMIN}/withdraw_limits",
                    {"id": limit.json()["id"], "kyc_level": text},
                    422, "admin.withdraw_limit.invalid_kyc_level"),
            refused("POST", f"{ADMIN}/orders/{p}/cancel", None, 422,
                    "admin.order.non_integer_id"),
            refused("POST", f"{ADMIN}/currencies/update", {"code": "usd", "position": text},
                    422, "admin.currency.invalid_position"),
            refused("POST", f"{ADMIN}/markets/update", {"id": "btcusdt", "position": text},
                    422, "admin.market.invalid_position"),
            refused("GET", f"{ADMIN}/orders?limit={p}", None, 422,
                    "admin.pagination.non_integer_limit"),
        ]  # fmt: skip
    for text in STRANGE_AMOUNTS:
        cases += [
            refused("POST", f"{ADMIN}/adjustments/new", {"amount": text, "reason": "r"},
                    422, "admin.adjustment.non_decimal_amount"),
            refused("POST", f"{ADMIN}/trading_fees/update",
                    {"id": fee.json()["id"], "maker": text},
                    422, "admin.trading_fee.invalid_maker"),
            refused("PUT", f"{ADMIN}/withdraw_limits",
                    {"id": limit.json()["id"], "limit_24_hour": text},
                    422, "admin.withdraw_limit.invalid_limit_24_hour"),
            refused("POST", f"{ADMIN}/currencies/update", {"code": "usd", "deposit_fee": text},
                    422, "admin.currency.invalid_deposit_fee"),
        ]  # fmt: skip
    for verb, where, body, status, codes in cases:
        answer = await send(root, verb, where, body)
        if verb == "POST" and where.endswith("adjustments/new"):  # the first code is enough
            assert answer.status_code == status and codes[0] in answer.json()["errors"], where
            continue
        assert (answer.status_code, answer.json()) == (status, {"errors": list(codes)}), (
            verb,
            where,
            body,
        )
    # Barong's admin bodies read whole numbers the same way.
    for text in (" 1 ", "1_0", "+1"):
        comment = await send(root, "PUT", "/api/v2/barong/admin/users/comments", {"id": text})
        assert comment.status_code == 422, comment.text
        restriction = {"scope": "ip", "value": "192.0.2.1", "category": "blacklist", "code": text}
        made = await send(root, "POST", "/api/v2/barong/admin/restrictions", restriction)
        assert made.status_code == 422, made.text

    assert await state(exchange) == before


async def test_a_strange_nonce_is_a_counted_refusal(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``²`` is ``str.isdigit()`` (a header is read as Latin-1): it was a 500, uncounted, on
    every API-key route and the gateway's authorization step (the websocket upgrade:
    ``test_ranger``)."""
    monkeypatch.setattr(api_keys, "API_KEY_FAILURES_PER_IP", Rule("apikey-fail-test", 6))
    member = await exchange.with_key(await exchange.member("kim@example.com"), "read")
    assert member.key is not None
    kid = member.key[0].encode()
    routes = (
        f"{ACCOUNT}/balances",
        f"{RESOURCE}/users/me",
        "/api/v2/auth/api/v2/peatio/account/balances",
    )
    nonces = [b"1700000000000\xb2"] * 3 + ["\u0661\u0667".encode(), b" 1700000000000"]
    for where, nonce in zip(routes * 2, nonces, strict=False):
        headers = {b"X-Auth-Apikey": kid, b"X-Auth-Nonce": nonce, b"X-Auth-Signature": b"0"}
        assert_error(await member.client.get(where, headers=headers), 422, NOT_A_TIMESTAMP)
    # A good nonce with a signature that is not hex text: refused, and counted, too.
    signed = {k.encode(): v.encode() for k, v in member._headers(False).items()}
    forged = signed | {b"X-Auth-Signature": "\u00b2".encode("latin-1") * 64}
    forgery = await member.client.get(f"{ACCOUNT}/balances", headers=forged)
    assert_error(forgery, 401, "authz.invalid_signature")
    # Six failures from this address: even a good signature is stopped now.
    assert (await member.get(f"{ACCOUNT}/balances")).status_code == 429
