"""Peatio's Management API for balances and ledger operations, signed with test keys."""

from tests.api.management import (
    Management,
    management,  # noqa: F401 - fixture
)
from tests.api.members import (
    MARKET,
    exchange,  # noqa: F401 - fixture
)


async def test_balances_and_operations(management: Management) -> None:
    exchange = management.exchange
    alice = await exchange.member("alice@example.com")
    bob = await exchange.member("bob@example.com")
    await exchange.member("carol@example.com")  # holds nothing: never listed
    await exchange.credit(alice, "btc", "1.5", fee="0.01")
    await exchange.credit(bob, "btc", "0.2")
    order = {"market": "btcusdt", "side": "sell", "volume": "0.25", "price": "30000"}
    assert (await alice.post(f"{MARKET}/orders", order)).status_code == 201

    one = await management.call("accounts/balance", {"uid": alice.uid, "currency": "BTC"})
    assert one.status_code == 201, one.text
    assert one.json() == {"uid": alice.uid, "balance": "1.24", "locked": "0.25"}
    empty = await management.call("accounts/balance", {"uid": bob.uid, "currency": "usd"})
    assert empty.json() == {"uid": bob.uid, "balance": "0", "locked": "0"}
    nobody = await management.call("accounts/balance", {"uid": "ID0000000000", "currency": "btc"})
    assert (nobody.status_code, nobody.json()) == (404, {"error": "Couldn't find record."})
    unknown = await management.call("accounts/balance", {"uid": bob.uid, "currency": "xyz"})
    assert unknown.status_code == 422

    every = await management.call("accounts/balances", {"currency": "btc"})
    assert every.json() == [
        {"uid": alice.uid, "balance": "1.24", "locked": "0.25"},
        {"uid": bob.uid, "balance": "0.2", "locked": "0"},
    ]
    paged = await management.call("accounts/balances", {"currency": "btc", "limit": 1, "page": 2})
    assert (paged.headers["Total"], [b["uid"] for b in paged.json()]) == ("2", [bob.uid])

    # read_operations needs the reporter's signature
    refused = await management.call("assets", {"currency": "btc"})
    assert refused.status_code == 401
    signed = ("applogic", "reporter")
    assets = await management.call("assets", {"currency": "btc"}, signers=signed)
    assert assets.status_code == 201, assets.text
    assert [(o["code"], o.get("credit"), o["reference_type"]) for o in assets.json()] == [
        (102, "0.2", "deposit"),
        (102, "1.5", "deposit"),
    ]
    revenues = await management.call("revenues", {}, signers=signed)
    assert [(o["code"], o["credit"], o["uid"]) for o in revenues.json()] == [
        (302, "0.01", alice.uid)
    ]
    expenses = await management.call("expenses", {}, signers=signed)
    assert expenses.json() == []
    mine = await management.call(
        "liabilities", {"uid": alice.uid, "reference_type": "order"}, signers=signed
    )
    assert sorted((o["code"], o.get("credit"), o.get("debit")) for o in mine.json()) == [
        (202, None, "0.25"),
        (212, "0.25", None),
    ]
    bad = await management.call("liabilities", {"reference_type": "gift"}, signers=signed)
    assert bad.status_code == 422
