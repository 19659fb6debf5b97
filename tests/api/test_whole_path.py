"""The whole path over HTTP only, as ``bursa up`` composes it (engine runner, candle writer,
API on a real PostgreSQL): two members sign up and confirm their email with the mailed
code; two admins fund them with an adjustment (one proposes, the other accepts); the
members trade, and the trade shows in their histories, the public trades, the ticker and
the k-line; cancelling gives every locked amount back; the ledger verifies and the audit
log shows who moved the money."""

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bursa.api.app import create_app
from bursa.db.session import create_engine, create_session_factory
from bursa.engine.runner import EngineRunner
from bursa.events.bus import InProcessBus
from bursa.identity.mail import Mail
from bursa.identity.service import Identity
from bursa.secrets.keystore import LocalKeyStore
from bursa.trading.candles import CandleWriter
from bursa.trading.market_data import Tickers
from bursa.trading.member_levels import MemberLevels
from bursa.trading.specs import load_specs
from tests.api.members import ACCOUNT, AGENT, MARKET, PASSWORD, Caller

IDENTITY = "/api/v2/barong/identity"
PUBLIC = "/api/v2/peatio/public"
ADMIN = "/api/v2/peatio/admin"


class Outbox:
    """A mailer that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.sent.append(mail)

    def code_for(self, address: str) -> str:
        for mail in reversed(self.sent):
            found = re.search(r"Your confirmation code is (\d{6})", mail.body)
            if mail.to == address and found:
                return found.group(1)
        raise AssertionError(f"no confirmation code mailed to {address}")


@dataclass
class Served:
    transport: httpx.ASGITransport
    identity: Identity
    outbox: Outbox
    clients: list[httpx.AsyncClient]

    def client(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=self.transport, base_url="http://bursa.test", headers=AGENT
        )
        self.clients.append(client)
        return client


@pytest.fixture
async def served(fresh_database_url: str, local_keystore: LocalKeyStore) -> AsyncIterator[Served]:
    bus = InProcessBus()
    runner = EngineRunner(fresh_database_url, bus, load_specs)
    await runner.start()
    engine = create_engine(fresh_database_url, pool_size=5)
    sessions = create_session_factory(engine)
    candles = CandleWriter(sessions, bus, poll_s=0.2)
    await candles.start()
    outbox = Outbox()
    identity = Identity(
        engine, outbox, local_keystore, session_ttl=timedelta(minutes=30), app_name="Bursa"
    )
    app = create_app(
        runner,
        sessions,
        identity,
        secure_cookies=False,
        tickers=Tickers(candles),
        member_levels=MemberLevels(deposit=1, withdraw=3, trading=1),
    )
    found = Served(
        httpx.ASGITransport(app=app, client=("198.51.100.4", 5000)), identity, outbox, []
    )
    try:
        yield found
    finally:
        for client in found.clients:
            await client.aclose()
        await candles.stop()
        await runner.stop()
        await engine.dispose()


async def sign_in(served: Served, email: str) -> Caller:
    client = served.client()
    login = await client.post(f"{IDENTITY}/sessions", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return Caller(client, login.json()["uid"], 0, csrf=login.json()["csrf_token"])


async def sign_up(served: Served, email: str) -> Caller:
    """A new member: signed up, email confirmed with the mailed code, signed in."""
    client = served.client()
    created = await client.post(f"{IDENTITY}/users", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "pending"
    confirmed = await client.post(
        f"{IDENTITY}/users/email/confirm_code",
        json={"email": email, "token": served.outbox.code_for(email)},
    )
    assert confirmed.status_code == 201, confirmed.text
    member = await sign_in(served, email)
    assert (member.uid, (await member.get(f"{ACCOUNT}/balances")).status_code) == (
        created.json()["uid"],
        200,
    )
    return member


async def fund(maker: Caller, checker: Caller, member: Caller, currency: str, amount: str) -> int:
    proposed = await maker.post(
        f"{ADMIN}/adjustments/new",
        {
            "reason": "Opening balance",
            "description": "Funds received off the platform",
            "category": "investment",
            "amount": amount,
            "currency_id": currency,
            "asset_account_code": 102,
            "receiving_account_code": 202,
            "receiving_member_uid": member.uid,
        },
    )
    assert proposed.status_code == 201, proposed.text
    number = int(proposed.json()["id"])
    accepted = await checker.post(f"{ADMIN}/adjustments/action", {"id": number, "action": "accept"})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["state"] == "accepted"
    return number


async def balances(member: Caller) -> dict[str, tuple[str, str]]:
    found = await member.get(f"{ACCOUNT}/balances", nonzero="true")
    assert found.status_code == 200, found.text
    return {a["currency"]: (a["balance"], a["locked"]) for a in found.json()}


async def place(member: Caller, side: str, volume: str, price: str) -> dict[str, Any]:
    placed = await member.post(
        f"{MARKET}/orders", {"market": "btcusdt", "side": side, "volume": volume, "price": price}
    )
    assert placed.status_code == 201, placed.text
    return dict(placed.json())


async def candle(client: httpx.AsyncClient) -> list[Any]:
    """The one-minute candle of the trade, once the candle writer has counted it."""
    for _ in range(100):
        found = await client.get(f"{PUBLIC}/markets/btcusdt/k-line", params={"period": 1})
        assert found.status_code == 200, found.text
        if found.json():
            return list(found.json()[-1])
        await asyncio.sleep(0.1)
    raise AssertionError("the candle writer never counted the trade")


async def test_sign_up_fund_trade_cancel_and_verify(served: Served) -> None:
    await served.identity.create_user("maker@example.com", PASSWORD, "admin")
    await served.identity.create_user("checker@example.com", PASSWORD, "superadmin")
    maker = await sign_in(served, "maker@example.com")
    checker = await sign_in(served, "checker@example.com")
    alice = await sign_up(served, "alice@example.com")
    bob = await sign_up(served, "bob@example.com")

    funding = [
        await fund(maker, checker, alice, "btc", "1"),
        await fund(maker, checker, bob, "usdt", "100000"),
    ]
    assert await balances(alice) == {"btc": ("1", "0")}
    assert await balances(bob) == {"usdt": ("100000", "0")}

    ask = await place(alice, "sell", "0.5", "30000")
    bid = await place(bob, "buy", "0.2", "31000")  # crosses: 0.2 at the resting 30000
    assert bid["state"] == "done"
    resting_bid = await place(bob, "buy", "0.1", "29000")

    alices = (await alice.get(f"{MARKET}/trades")).json()
    bobs = (await bob.get(f"{MARKET}/trades")).json()
    assert [(t["side"], t["price"], t["amount"], t["order_id"]) for t in alices] == [
        ("sell", "30000", "0.2", ask["id"])
    ]
    assert [(t["side"], t["amount"], t["fee_amount"], t["order_id"]) for t in bobs] == [
        ("buy", "0.2", "0.0004", bid["id"])
    ]
    assert alices[0]["id"] == bobs[0]["id"]
    shown = (await alice.get(f"{MARKET}/orders/{ask['id']}")).json()
    assert (shown["state"], shown["executed_volume"], shown["trades_count"]) == ("wait", "0.2", 1)
    assert [o["id"] for o in (await bob.get(f"{MARKET}/orders")).json()] == [
        resting_bid["id"],
        bid["id"],
    ]

    public = maker.client  # anyone may read the public API
    trades = (await public.get(f"{PUBLIC}/markets/btcusdt/trades")).json()
    assert [(t["id"], t["price"], t["amount"], t["taker_type"]) for t in trades] == [
        (alices[0]["id"], "30000", "0.2", "buy")
    ]
    point = await candle(public)
    assert [Decimal(str(v)) for v in point[1:]] == [
        Decimal(30000),
        Decimal(30000),
        Decimal(30000),
        Decimal(30000),
        Decimal("0.2"),
    ]
    ticker = (await public.get(f"{PUBLIC}/markets/btcusdt/tickers")).json()["ticker"]
    assert (Decimal(ticker["last"]), Decimal(ticker["amount"]), Decimal(ticker["volume"])) == (
        Decimal(30000),
        Decimal("0.2"),
        Decimal(6000),
    )

    cancelled = await alice.post(f"{MARKET}/orders/{ask['id']}/cancel")
    assert (cancelled.status_code, cancelled.json()["state"]) == (201, "cancel")
    everything = await bob.post(f"{MARKET}/orders/cancel")
    assert [o["id"] for o in everything.json()] == [resting_bid["id"]]
    assert await balances(alice) == {"btc": ("0.8", "0"), "usdt": ("5994", "0")}
    assert await balances(bob) == {"btc": ("0.1996", "0"), "usdt": ("94000", "0")}

    verified = (await checker.get(f"{ADMIN}/ledger/verification")).json()
    assert (verified["ok"], verified["problems"]) == (True, [])
    log = (await checker.get(f"{ADMIN}/audit", target_type="Adjustment")).json()
    assert sorted((e["action"], e["actor_uid"], int(e["target_id"])) for e in log) == sorted(
        [(f"adjustment.{a}", who.uid, n) for n in funding for a, who in (
            ("create", maker), ("accept", checker))]
    )  # fmt: skip
