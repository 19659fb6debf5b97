"""AppLogic's multi-signature approval of withdrawals: the handler is given the
``model.withdraw.created`` event the Management API wrote to the outbox, and decides
through the Management API of a real server (over HTTP, signed with AppLogic's key)."""

from decimal import Decimal

from bursa.applogic.approvals import WithdrawalApprovals
from tests.api.members import Caller, Exchange, assert_error, exchange  # noqa: F401
from tests.applogic.serving import (  # noqa: F401
    APPLOGIC,
    Served,
    applogic,
    applogic_config,
    balance,
    served,
)


async def _people(exchange: Exchange) -> tuple[Caller, Caller, Caller, Caller]:
    owner = await exchange.member("owner@example.com")
    first = await exchange.member("first@example.com")
    second = await exchange.member("second@example.com")
    outsider = await exchange.member("outsider@example.com")
    await exchange.credit(owner, "usd", "500")
    return owner, first, second, outsider


async def _created(served: Served, service: WithdrawalApprovals, owner: Caller, amount: str) -> str:
    """A withdrawal made through the Management API, its created event handed to AppLogic."""
    made = await served.withdraw(uid=owner.uid, currency="usd", amount=amount, rid="IBAN")
    assert made.status_code == 201, made.text
    tid: str = made.json()["tid"]
    [created] = await served.events(tid)
    assert created["name"] == "model.withdraw.created"
    await service.on_event(created)
    return tid


async def test_two_of_three_approvals_process_a_large_withdrawal(
    served: Served,
    applogic: WithdrawalApprovals,
) -> None:
    owner, first, second, outsider = await _people(served.exchange)
    approvers = [first.uid, second.uid, owner.uid]
    rule = {"threshold": "50", "approvers": approvers, "required": 2}
    applogic.config = applogic_config(served, {"usd": rule})

    tid = await _created(served, applogic, owner, "100")
    assert await served.state(tid) == "accepted"  # waits, funds held
    assert await balance(owner, "usd") == (Decimal(400), Decimal(100))
    waiting = await first.get(APPLOGIC)
    assert waiting.status_code == 200, waiting.text
    [shown] = waiting.json()
    assert (shown["tid"], shown["amount"], shown["required"], shown["state"]) == (
        tid,
        "99",  # what leaves: the 100 paid less the 1 fee
        2,
        "pending",
    )
    assert_error(await outsider.get(APPLOGIC), 403, "applogic.withdraw.not_approver")

    assert_error(
        await outsider.post(f"{APPLOGIC}/{tid}/approve"), 403, "applogic.withdraw.not_approver"
    )
    assert_error(
        await owner.post(f"{APPLOGIC}/{tid}/approve"), 403, "applogic.withdraw.own_withdrawal"
    )
    one = await first.post(f"{APPLOGIC}/{tid}/approve")
    assert one.status_code == 201, one.text
    assert one.json()["state"] == "pending"
    assert [v["uid"] for v in one.json()["approvals"]] == [first.uid]
    assert_error(
        await first.post(f"{APPLOGIC}/{tid}/approve"), 422, "applogic.withdraw.already_approved"
    )
    assert await served.state(tid) == "accepted"  # one of two: not processed
    assert await balance(owner, "usd") == (Decimal(400), Decimal(100))

    two = await second.post(f"{APPLOGIC}/{tid}/approve")
    assert two.status_code == 201, two.text
    assert two.json()["state"] == "executed"
    assert await served.state(tid) == "succeed"
    assert await balance(owner, "usd") == (Decimal(400), Decimal(0))
    assert (await first.get(APPLOGIC)).json() == []

    # The event delivered again, a late vote: nothing is decided twice.
    await applogic.on_event((await served.events(tid))[0])
    assert_error(await first.post(f"{APPLOGIC}/{tid}/reject"), 422, "applogic.withdraw.not_pending")
    assert await served.state(tid) == "succeed"
    assert await balance(owner, "usd") == (Decimal(400), Decimal(0))
    await served.ledger_ok()


async def test_one_rejection_releases_the_funds(
    served: Served,
    applogic: WithdrawalApprovals,
) -> None:
    owner, first, second, _ = await _people(served.exchange)
    rule = {"threshold": "50", "approvers": [first.uid, second.uid], "required": 2}
    applogic.config = applogic_config(served, {"usd": rule})

    tid = await _created(served, applogic, owner, "200")
    assert (await first.post(f"{APPLOGIC}/{tid}/approve")).json()["state"] == "pending"
    refused = await second.post(f"{APPLOGIC}/{tid}/reject")
    assert refused.status_code == 201, refused.text
    assert (refused.json()["state"], refused.json()["rejected_by"]) == ("canceled", second.uid)
    assert await served.state(tid) == "canceled"
    assert await balance(owner, "usd") == (Decimal(500), Decimal(0))
    await served.ledger_ok()


async def test_a_small_withdrawal_is_processed_at_once(
    served: Served,
    applogic: WithdrawalApprovals,
) -> None:
    owner, first, second, _ = await _people(served.exchange)
    rule = {"threshold": "50", "approvers": [first.uid, second.uid], "required": 2}
    applogic.config = applogic_config(served, {"usd": rule})

    tid = await _created(served, applogic, owner, "50")
    assert await served.state(tid) == "succeed"
    assert await balance(owner, "usd") == (Decimal(450), Decimal(0))
    assert (await first.get(APPLOGIC)).json() == []
    # A currency without a rule is left for an admin.
    await served.exchange.credit(owner, "btc", "1")
    made = await served.withdraw(uid=owner.uid, currency="btc", amount="0.5", rid="bc1q")
    [created] = await served.events(made.json()["tid"])
    await applogic.on_event(created)
    assert await served.state(made.json()["tid"]) == "accepted"
    await served.ledger_ok()
