"""Bursa's web app in a real browser against a real ``bursa up`` (issue 16): a member's
journey from sign-up to a withdrawal, trading live with a second member in another
browser, and the live data coming back after the server restarts.

One test, one server: under pytest-xdist's worksteal (``scripts/test``) two tests may land
on two workers, and each would start its own ``bursa up``; the steps are timed and named
in ``timings.txt`` instead.

Pages are driven through their ``data-testid``s (the web app's DOM contract), never
translated words, and what is asserted is what a person sees, with Playwright's waiting
``expect``; nothing reloads a page to see a change. Every page visited is saved as a
full-page screenshot in ``.e2e-artifacts/<test>/`` (``BURSA_E2E_ARTIFACTS``), with the
time each step took (``timings.txt``) and the browser's console errors (``console.log``).
"""

import contextlib
import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.api import (
    BENEFICIARY_CODE,
    CONFIRMATION_CODE,
    PASSWORD,
    PUBLIC,
    Caller,
    sign_up,
)
from tests.e2e.browser import (
    TIMEOUT_MS,
    Session,
    Totp,
    amount_spellings,
    any_of,
    decimal,
    node,
    step,
)
from tests.e2e.conftest import Stack
from tests.e2e.server import Mail

# Any test added here shares the server of its xdist worker; the group keeps them on one
# worker under --dist loadgroup (worksteal ignores it).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

MARKET = "btcusdt"
# Prices and amounts with their last decimal not zero read the same in a data attribute
# whether the page keeps the API's text or pads it to the market's precision.
PRICE, AMOUNT = "30123.45", "0.01"
OTHER_PRICE, OTHER_AMOUNT = "30999.99", "0.02"
LATER_PRICE, LATER_AMOUNT = "31234.56", "0.005"  # after the restart
# What the trade leaves: 0.01 BTC at 30123.45 is 301.2345 USDT; the seller (maker, 0.1 %)
# gets 300.9332655, the buyer pays 301.2345 of 100000.
SELLER_GETS, BUYER_KEEPS = "300.9332655", "99698.7655"
BTC_PRECISION = 8
WITHDRAW_AMOUNT, WITHDRAW_FEE = "0.0123", "0.0005"  # the demo seeds' BTC fee
ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"  # a well-formed mainnet address
# The app's websocket waits up to 10 s between reconnection attempts (web/src/lib/ranger.ts
# MAX_DELAY_MS): after a restart the state may take that long, and the connect, to be open.
RECONNECT_MS = 12_000
FAILED_WITHDRAW = re.compile(r"^(rejected|failed|canceled|errored)$")


def new_email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


# ---------------------------------------------------------------------- page steps


def sign_up_in_browser(browser: Session, page: Page, mail: Mail, email: str) -> None:
    """Sign-up form, then the code step with the mailed code: signed in."""
    page.goto("/signup")
    node(page, "signup-email").fill(email)
    node(page, "signup-password").fill(PASSWORD)
    node(page, "signup-password-confirm").fill(PASSWORD)
    node(page, "signup-terms").check()
    browser.shot(page, "signup")
    node(page, "signup-submit").click()
    code = node(page, "confirm-code")
    expect(code).to_be_visible()
    code.fill(mail.code(email, CONFIRMATION_CODE))
    browser.shot(page, "signup-code")
    node(page, "confirm-submit").click()
    expect(node(page, "signed-in-as")).to_have_text(email)


def sign_in_in_browser(browser: Session, page: Page, email: str) -> None:
    page.goto("/signin")
    node(page, "signin-email").fill(email)
    node(page, "signin-password").fill(PASSWORD)
    browser.shot(page, "signin")
    node(page, "signin-submit").click()
    expect(node(page, "signed-in-as")).to_have_text(email)


def enable_2fa(browser: Session, page: Page) -> Totp:
    """The security page's secret into an authenticator, its code back: 2FA on."""
    page.goto("/profile/security")
    state = node(page, "otp-state")
    expect(state).to_have_attribute("data-enabled", "false")
    secret = node(page, "otp-secret")
    expect(secret).to_have_text(re.compile(r"[A-Za-z2-7]{4}"))  # maybe in groups
    totp = Totp(re.sub(r"\s", "", secret.inner_text()).upper())
    node(page, "otp-code").fill(totp.fresh_code())
    node(page, "otp-enable-submit").click()
    expect(state).to_have_attribute("data-enabled", "true")
    browser.shot(page, "security-enabled")
    return totp


def open_trade_page(page: Page) -> None:
    page.goto(f"/trading/{MARKET}")
    expect(node(page, "trade-page")).to_have_attribute("data-ready", "true")
    expect(node(page, "connection-state")).to_have_attribute("data-state", "open")
    expect(node(page, "order-book")).to_be_visible()


def place_limit(page: Page, side: str, price: str, amount: str) -> None:
    node(page, f"order-side-{side}").click()
    node(page, "order-type").select_option("limit")
    node(page, "order-price").fill(price)
    node(page, "order-amount").fill(amount)
    node(page, "order-submit").click()


def dismiss_toasts(page: Page) -> None:
    """Closes the notices shown so far, so the next one is known to be new."""
    toasts = node(page, "toast")
    while toasts.count():
        with contextlib.suppress(PlaywrightTimeoutError):  # it faded meanwhile: fine
            toasts.first.get_by_role("button").click(timeout=1000)
    expect(toasts).to_have_count(0)


def uid_of(page: Page) -> str:
    """The signed-in member's uid, asked with the page's own session."""
    me = page.request.get("/api/v2/barong/resource/users/me")
    assert me.ok, me.text()
    return str(me.json()["uid"])


# ---------------------------------------------------------------------- API steps


def latest_trade(caller: Caller) -> int:
    trades = caller.get(f"{PUBLIC}/markets/{MARKET}/trades", limit=1)
    return int(trades[0]["id"]) if trades else 0


def trade_after(caller: Caller, before: int) -> int:
    """The id of the market's trade newer than ``before`` (waits for it)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while (latest := latest_trade(caller)) <= before:
        assert time.monotonic() < deadline, "no trade came of the crossing order"
        time.sleep(0.1)
    return latest


# ---------------------------------------------------------------------- the journey


class Journey:
    """Alice (in the browser from sign-up on) and Bob (signed up over the API, then in a
    browser of his own), step by step; each step starts where the last one left off."""

    def __init__(self, stack: Stack, browser: Session) -> None:
        self.stack = stack
        self.browser = browser
        self.alice = new_email("alice")
        self.a = browser.new_page("alice")
        self.totp: Totp | None = None
        self.bob: Caller | None = None
        self.b: Page | None = None

    def alice_signs_up_with_2fa(self) -> None:
        sign_up_in_browser(self.browser, self.a, self.stack.mail, self.alice)
        self.totp = enable_2fa(self.browser, self.a)

    def alice_is_funded(self) -> None:
        self.stack.admins.fund(uid_of(self.a), "btc", "1")

    def alice_sells(self) -> str:
        """Her limit sell in the book, her open orders, her available balance; its id."""
        a = self.a
        open_trade_page(a)
        place_limit(a, "sell", PRICE, AMOUNT)
        ask = node(a, "book-ask", data_price=PRICE)
        expect(ask).to_be_visible()
        expect(node(ask, "book-volume")).to_have_text(decimal(AMOUNT))
        node(a, "tab-open-orders").click()
        resting = node(node(a, "open-orders"), "open-order")
        expect(resting).to_have_count(1)
        expect(resting).to_have_attribute("data-state", "wait")
        expect(node(a, "order-available")).to_have_text(decimal("0.99"))  # 0.01 BTC locked
        self.browser.shot(a, "alice-sell-placed")
        sold = resting.get_attribute("data-order-id")
        assert sold
        return sold

    def bob_buys_it(self, sold: str) -> None:
        """Both see the trade (recent trades, trade history, a notice) and their balances
        change, on the pages they had open."""
        a, browser = self.a, self.browser
        bob_email = new_email("bob")
        self.bob = bob = sign_up(self.stack.url, self.stack.mail, bob_email)
        self.stack.admins.fund(bob.uid, "usdt", "100000")
        self.b = b = browser.new_page("bob")
        sign_in_in_browser(browser, b, bob_email)
        open_trade_page(b)
        wallet = browser.another_page(a, "alice-wallet")
        wallet.goto("/wallets")
        usdt = node(wallet, "balance-row", data_currency="usdt")
        expect(node(usdt, "balance-available")).to_have_text(decimal("0"))
        node(b, "order-side-buy").click()
        expect(node(b, "order-available")).to_have_text(decimal("100000"))
        dismiss_toasts(a)
        before = latest_trade(bob)
        place_limit(b, "buy", PRICE, AMOUNT)
        trade = str(trade_after(bob, before))
        for page in (a, b):
            expect(node(page, "toast").first).to_be_visible()  # before it fades
        for page in (a, b):
            expect(node(node(page, "recent-trades"), "trade-row", data_tid=trade)).to_be_visible()
            node(page, "tab-trade-history").click()
            expect(node(page, "history-trade", data_trade_id=trade)).to_be_visible()
        expect(node(usdt, "balance-available")).to_have_text(decimal(SELLER_GETS))
        expect(node(b, "order-available")).to_have_text(decimal(BUYER_KEEPS))
        expect(node(a, "book-ask", data_price=PRICE)).to_have_count(0)
        node(a, "tab-open-orders").click()
        expect(node(a, "open-order", data_order_id=sold)).to_have_count(0)
        node(a, "tab-order-history").click()
        expect(node(a, "history-order", data_order_id=sold)).to_have_attribute("data-state", "done")
        browser.shot(a, "alice-after-trade")
        browser.shot(b, "bob-after-trade")
        browser.shot(wallet, "alice-wallets-after-trade")
        wallet.close()

    def alice_cancels(self, sold: str) -> None:
        a = self.a
        place_limit(a, "sell", OTHER_PRICE, OTHER_AMOUNT)
        expect(node(a, "book-ask", data_price=OTHER_PRICE)).to_be_visible()
        node(a, "tab-open-orders").click()
        resting = node(node(a, "open-orders"), "open-order")
        expect(resting).to_have_count(1)
        cancelled = resting.get_attribute("data-order-id")
        assert cancelled and cancelled != sold
        node(resting, "cancel-order").click()
        expect(node(a, "open-order", data_order_id=cancelled)).to_have_count(0)
        expect(node(a, "book-ask", data_price=OTHER_PRICE)).to_have_count(0)
        node(a, "tab-order-history").click()
        expect(node(a, "history-order", data_order_id=cancelled)).to_have_attribute(
            "data-state", "cancel"
        )
        self.browser.shot(a, "alice-cancelled")

    def alice_withdraws(self) -> None:
        """A new beneficiary activated with the mailed code, then the withdrawal with a
        2FA code; it shows in her withdrawals."""
        a = self.a
        assert self.totp is not None
        a.goto("/wallets/btc/withdraw")
        node(a, "beneficiary-name").fill("Cold storage")
        node(a, "beneficiary-address").fill(ADDRESS)
        node(a, "beneficiary-add").click()
        node(a, "beneficiary-code").fill(self.stack.mail.code(self.alice, BENEFICIARY_CODE))
        node(a, "beneficiary-activate").click()
        expect(node(a, "beneficiary-row", data_state="active")).to_have_count(1)
        chooser = node(a, "withdraw-beneficiary")
        option = chooser.locator("option", has_text="Cold storage")
        expect(option).to_have_count(1)
        chooser.select_option(option.get_attribute("value"))
        node(a, "withdraw-amount").fill(WITHDRAW_AMOUNT)
        expect(node(a, "withdraw-fee")).to_have_text(decimal(WITHDRAW_FEE))
        node(a, "withdraw-otp").fill(self.totp.fresh_code())
        node(a, "withdraw-submit").click()
        spellings = amount_spellings(WITHDRAW_AMOUNT, BTC_PRECISION)
        row = any_of(a, "withdraw-row", "data-amount", spellings)
        expect(row).to_have_count(1)
        expect(row).not_to_have_attribute("data-state", FAILED_WITHDRAW)
        self.browser.shot(a, "withdraw-history")

    def server_goes_down(self) -> None:
        """Ctrl-C to ``bursa up``: Bob's trade page (open since he traded) says so."""
        assert self.b is not None
        assert self.stack.server.stop() == 0, self.stack.server.log_tail()
        expect(node(self.b, "connection-state")).not_to_have_attribute("data-state", "open")
        self.browser.shot(self.b, "bob-server-down")

    def bobs_page_reconnects(self) -> None:
        assert self.b is not None
        state = node(self.b, "connection-state")
        expect(state).to_have_attribute("data-state", "open", timeout=RECONNECT_MS)

    def trade_after_restart(self) -> None:
        """Bob sells and Alice buys in their browsers: Bob's page, never reloaded, shows
        the order in the book, then the trade in the market's and in his history."""
        a, b, bob = self.a, self.b, self.bob
        assert b is not None and bob is not None
        place_limit(b, "sell", LATER_PRICE, LATER_AMOUNT)
        ask = node(b, "book-ask", data_price=LATER_PRICE)
        expect(ask).to_be_visible()
        open_trade_page(a)
        before = latest_trade(bob)
        place_limit(a, "buy", LATER_PRICE, LATER_AMOUNT)
        trade = str(trade_after(bob, before))
        expect(node(node(b, "recent-trades"), "trade-row", data_tid=trade)).to_be_visible()
        expect(ask).to_have_count(0)
        node(b, "tab-trade-history").click()
        expect(node(b, "history-trade", data_trade_id=trade)).to_be_visible()
        self.browser.shot(b, "bob-after-restart")


def test_two_members_trade_live_and_ride_out_a_restart(stack: Stack, browser: Session) -> None:
    timings = browser.folder / "timings.txt"
    journey = Journey(stack, browser)
    with step(timings, "1 Alice signs up in the browser and enables 2FA"):
        journey.alice_signs_up_with_2fa()
    with step(timings, "2 an admin adjustment funds Alice"):
        journey.alice_is_funded()
    with step(timings, "3 Alice's limit sell shows in the book and her open orders"):
        sold = journey.alice_sells()
    with step(timings, "4 Bob's buy crosses it: both see the trade and balances live"):
        journey.bob_buys_it(sold)
    with step(timings, "5 Alice places another order and cancels it"):
        journey.alice_cancels(sold)
    with step(timings, "6 Alice withdraws with 2FA to a new beneficiary"):
        journey.alice_withdraws()
    try:
        with step(timings, "7a bursa up stopped (Ctrl-C): Bob's page says so"):
            journey.server_goes_down()
        with step(timings, "7b bursa up started again (same port and database)"):
            stack.server.start()
        with step(timings, "7c Bob's page reconnects by itself"):
            journey.bobs_page_reconnects()
    finally:
        if stack.server.process is None:  # any later test needs it, whatever failed here
            stack.server.start()
    with step(timings, "7d a new order and trade show on Bob's page without reloading"):
        journey.trade_after_restart()
