"""AppLogic as it runs in ``bursa up``: withdrawals reach it as signed Event API events
(outbox → relay → bus → verified listener), not by a direct call."""

import asyncio
from collections.abc import Callable
from decimal import Decimal

from bursa.applogic.approvals import WithdrawalApprovals
from bursa.applogic.listener import listener_of
from bursa.events.bus import InProcessBus
from bursa.events.keys import EventKeys
from bursa.events.listener import BusListener, Verifier
from bursa.events.relay import BusSink, Relay
from tests.api.members import exchange  # noqa: F401 - fixture
from tests.applogic.serving import (  # noqa: F401
    APPLOGIC,
    Served,
    applogic,
    applogic_config,
    balance,
    served,
)
from tests.signing.keys import rsa_pem

KEYS = EventKeys.of_pems({"peatio": rsa_pem("peatio")[0], "barong": rsa_pem("barong")[0]})


async def until(check: Callable[[], object], within_s: float = 10.0) -> None:
    for _ in range(int(within_s / 0.05)):
        if await check():  # type: ignore[misc]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_withdrawals_reach_applogic_through_the_event_api(
    served: Served, applogic: WithdrawalApprovals
) -> None:
    exchange = served.exchange
    owner = await exchange.member("owner@example.com")
    approver = await exchange.member("approver@example.com")
    await exchange.credit(owner, "usd", "500")
    applogic.config = applogic_config(
        served, {"usd": {"threshold": "50", "approvers": [approver.uid], "required": 1}}
    )
    bus = InProcessBus()
    listener = BusListener(bus, listener_of(applogic), Verifier(KEYS.keychain()))
    await listener.start()
    relay = Relay(exchange.database_url, BusSink(bus), KEYS, poll_s=0.02)
    await relay.start()
    try:
        small = await served.withdraw(uid=owner.uid, currency="usd", amount="20", rid="IBAN")
        large = await served.withdraw(uid=owner.uid, currency="usd", amount="200", rid="IBAN")
        small_tid, large_tid = small.json()["tid"], large.json()["tid"]

        async def small_done() -> bool:
            return await served.state(small_tid) == "succeed"

        async def large_waits() -> bool:
            shown = await approver.get(APPLOGIC)
            return [w["tid"] for w in shown.json()] == [large_tid]

        await until(small_done)
        await until(large_waits)
        assert await served.state(large_tid) == "accepted"
        assert await balance(owner, "usd") == (Decimal(280), Decimal(200))

        voted = await approver.post(f"{APPLOGIC}/{large_tid}/approve")
        assert voted.status_code == 201, voted.text
        assert voted.json()["state"] == "executed"
        assert await served.state(large_tid) == "succeed"
        assert await balance(owner, "usd") == (Decimal(280), Decimal(0))
    finally:
        await relay.stop()
        await listener.stop()
    await served.ledger_ok()
