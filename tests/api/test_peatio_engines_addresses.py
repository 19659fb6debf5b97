"""Deposit addresses and engines through staff's doors, over HTTP.

Deposit addresses: the admin API's ``deposit_address`` and the Management API's
``deposit_address/new`` answer the member's own address (the one ``GET
account/deposit_address`` answers), made by the real Ethereum plugin (its keys are made
locally: the node, never contacted here, is not needed to make one). Engines: Bursa's one
engine listed and shown; adding one is refused, updating only answers what is so."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bursa.api.management_auth import ManagementPolicy
from bursa.custody.setup import NewBlockchain, NewWallet, add_blockchain, add_wallet
from tests.api.management import POLICY, Management
from tests.api.members import (
    ACCOUNT,
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

ADMIN = "/api/v2/peatio/admin"
SCOPES = ("write_payment_addresses", "read_engines", "write_engines")
UNUSED_NODE = "http://127.0.0.1:9"  # making an address needs no node
ENGINE = {"id": 1, "name": "bursa", "driver": "bursa", "state": "online"}


@pytest.fixture
async def management(exchange: Exchange) -> AsyncIterator[Management]:
    scopes = {
        name: {"permitted_signers": ["applogic"], "mandatory_signers": ["applogic"]}
        for name in SCOPES
    }
    known: dict[str, Any] = dict(POLICY["scopes"])  # type: ignore[call-overload]
    policy = POLICY | {"scopes": known | scopes}
    exchange.app.state.management = {"peatio": ManagementPolicy.from_mapping(policy)}
    async with httpx.AsyncClient(transport=exchange.transport, base_url="http://peatio") as http:
        yield Management(exchange, http)


async def _ethereum(exchange: Exchange) -> None:
    """Ether and a token on an Ethereum blockchain with a deposit wallet."""
    await exchange.sql(
        "UPDATE currencies SET blockchain_key = 'ethereum', deposit_enabled = true"
        " WHERE id IN ('eth', 'usdt')"
    )
    await exchange.sql(
        "UPDATE currencies SET options = jsonb_build_object('erc20_contract_address',"
        " '0x1111111111111111111111111111111111111111', 'decimals', 6) WHERE id = 'usdt'"
    )
    sessions = exchange.app.state.session_factory
    plugins = exchange.app.state.custody
    async with sessions() as session, session.begin():
        await add_blockchain(
            session,
            plugins.keystore,
            NewBlockchain("ethereum", "Ethereum", "ethereum", UNUSED_NODE),
        )
        await add_wallet(
            session, plugins, NewWallet("eth-deposits", "ethereum", "deposit", ("eth", "usdt"))
        )


async def test_staff_get_a_members_deposit_address(management: Management) -> None:
    exchange = management.exchange
    admin = await exchange.member("root@example.com", role="superadmin")
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    path = f"{ADMIN}/deposit_address"

    # before any wallet: a clear refusal, nothing made
    assert_error(
        await admin.post(path, {"uid": alice.uid, "currency": "eth"}),
        422,
        "admin.wallet.not_found",
    )
    try:
        await _ethereum(exchange)
        made = await admin.post(path, {"uid": alice.uid, "currency": "ETH"})
        assert made.status_code == 201, made.text
        address = made.json()["address"]
        assert made.json() == {
            "currencies": ["eth", "usdt"],
            "blockchain_key": "ethereum",
            "address": address,
            "state": "active",
        }
        assert address.startswith("0x") and len(address) == 42
        own = await alice.get(f"{ACCOUNT}/deposit_address/usdt")
        assert own.json()["address"] == address
        again = await admin.post(
            path, {"uid": alice.uid, "currency": "usdt", "blockchain_key": "ethereum"}
        )
        assert again.status_code == 201 and again.json()["address"] == address

        new = await management.call("deposit_address/new", {"uid": bob.uid, "currency": "eth"})
        assert new.status_code == 201, new.text
        bobs = new.json()["address"]
        assert new.json() == {
            "uid": bob.uid,
            "currencies": ["eth", "usdt"],
            "blockchain_key": "ethereum",
            "address": bobs,
            "state": "active",
            "remote": False,
        }
        assert bobs != address
        known = await management.call("deposit_address/new", {"uid": alice.uid, "currency": "eth"})
        assert known.status_code == 200 and known.json()["address"] == address
        assert (await bob.get(f"{ACCOUNT}/deposit_address/eth")).json()["address"] == bobs

        for body, status, code in (
            ({"uid": "ID0000000000", "currency": "eth"}, 422, "admin.user.doesnt_exist"),
            ({"uid": alice.uid}, 422, "admin.deposit_address.missing_currency"),
            ({"currency": "eth"}, 422, "admin.deposit_address.missing_uid"),
            ({"uid": alice.uid, "currency": "doge"}, 422, "admin.currency.doesnt_exist"),
            ({"uid": alice.uid, "currency": "usd"}, 422, "admin.currency.deposit_disabled"),
            (
                {"uid": alice.uid, "currency": "eth", "blockchain_key": "bitcoin"},
                422,
                "admin.blockchain_key.doesnt_exist",
            ),
            (
                {"uid": alice.uid, "currency": "eth", "address_format": "cash"},
                422,
                "admin.deposit_address.address_format_not_supported",
            ),
            (
                {"uid": alice.uid, "currency": "eth", "address_format": "segwit"},
                422,
                "admin.deposit_address.invalid_address_format",
            ),
        ):
            assert_error(await admin.post(path, body), status, code)
        for data, status, message in (
            ({"uid": "ID0000000000", "currency": "eth"}, 404, "Couldn't find record."),
            ({"uid": bob.uid, "currency": "usd"}, 422, "management.currency.deposit_disabled"),
            ({"uid": bob.uid, "currency": "doge"}, 422, "management.currency.doesnt_exist"),
            (
                {"uid": bob.uid, "currency": "eth", "remote": True},
                422,
                "management.deposit_address.remote_not_supported",
            ),
            ({"uid": bob.uid, "currency": "eth", "remote": "yes"}, 422, None),
            ({"currency": "eth"}, 422, None),
        ):
            answer = await management.call("deposit_address/new", data)
            assert answer.status_code == status, (data, answer.text)
            if message is not None:
                assert answer.json() == {"error": message}
        wrong = await management.call(
            "deposit_address/new", {"uid": bob.uid, "currency": "eth"}, signers=("reporter",)
        )
        assert wrong.status_code == 401, wrong.text

        refused = await alice.post(path, {"uid": alice.uid, "currency": "eth"})
        assert refused.status_code in (401, 403), refused.text
        rows = await exchange.sql("SELECT member_id FROM payment_addresses ORDER BY id")
        assert [r["member_id"] for r in rows] == [alice.id, bob.id]
        audited = await exchange.sql(
            "SELECT actor_role, target_id FROM admin_audit WHERE action = 'payment_address.create'"
            " ORDER BY id"
        )
        assert [(r["actor_role"], r["target_id"]) for r in audited] == [
            ("superadmin", str(alice.id)),
            ("management", str(bob.id)),
        ]
    finally:
        await exchange.app.state.custody.close()


async def test_bursas_one_engine(management: Management) -> None:
    exchange = management.exchange
    admin = await exchange.member("root@example.com", role="superadmin")
    alice = await exchange.member("alice@example.com")
    row = ENGINE | {"uid": None, "url": None}

    listed = await admin.get(f"{ADMIN}/engines")
    assert listed.status_code == 200, listed.text
    assert listed.json() == [row] and listed.headers["Total"] == "1"
    assert (await admin.get(f"{ADMIN}/engines", page=2)).json() == []
    assert (await admin.get(f"{ADMIN}/engines/1")).json() == row
    assert_error(await admin.get(f"{ADMIN}/engines/2"), 404, "record.not_found")
    assert_error(await admin.get(f"{ADMIN}/engines/x"), 422, "admin.engine.non_integer_id")
    assert_error(
        await admin.get(f"{ADMIN}/engines", order_by="key"),
        422,
        "admin.pagination.invalid_order_by",
    )
    assert_error(
        await admin.post(f"{ADMIN}/engines/new", {"name": "finex", "driver": "finex-spot"}),
        422,
        "admin.engine.only_one",
    )
    assert_error(
        await admin.post(f"{ADMIN}/engines/new", {"driver": "finex-spot"}),
        422,
        "admin.engine.missing_name",
    )
    same = await admin.post(f"{ADMIN}/engines/update", {"id": 1, "name": "bursa", "state": 1})
    assert same.status_code == 201 and same.json() == row
    for body, status, code in (
        ({"id": 1, "name": "other"}, 422, "admin.engine.not_changeable"),
        ({"id": 1, "state": 0}, 422, "admin.engine.not_changeable"),
        ({"id": 1, "key": "k", "secret": "s"}, 422, "admin.engine.not_changeable"),
        ({"id": 1, "state": 7}, 422, "admin.engine.invalid_state"),
        ({"id": 2, "name": "bursa"}, 404, "record.not_found"),
        ({"name": "bursa"}, 422, "admin.engine.missing_id"),
    ):
        assert_error(await admin.post(f"{ADMIN}/engines/update", body), status, code)
    for path in ("engines", "engines/1"):
        refused = await alice.get(f"{ADMIN}/{path}")
        assert refused.status_code in (401, 403), refused.text
    refused = await alice.post(f"{ADMIN}/engines/update", {"id": 1, "name": "bursa"})
    assert refused.status_code in (401, 403), refused.text

    got = await management.call("engines/get", {})
    assert got.status_code == 201, got.text
    assert got.json() == [ENGINE] and got.headers["Total"] == "1"
    assert (await management.call("engines/get", {"name": "BURSA"})).json() == [ENGINE]
    assert (await management.call("engines/get", {"name": "finex"})).json() == []
    same_again = await management.call("engines/update", {"id": 1, "driver": "bursa"})
    assert same_again.status_code == 201 and same_again.json() == ENGINE
    for path, data, status, message in (
        ("engines/new", {"name": "finex", "driver": "finex"}, 422, "management.engine.only_one"),
        ("engines/new", {"name": "finex"}, 422, None),
        ("engines/update", {"id": 1, "url": "http://x"}, 422, "management.engine.not_changeable"),
        ("engines/update", {"id": 9}, 404, "Couldn't find record."),
        ("engines/get", {"limit": 0}, 422, None),
        ("engines/get", {"order_by": "secret"}, 422, None),
    ):
        answer = await management.call(path, data)
        assert answer.status_code == status, (path, data, answer.text)
        if message is not None:
            assert answer.json() == {"error": message}
    wrong = await management.call("engines/get", {}, signers=("reporter",))
    assert wrong.status_code == 401, wrong.text
